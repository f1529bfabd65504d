"""What a worker says about itself: log lines (with their request's correlation id) and the
dashboard's live figures."""
