"""The viewing side's rules, pure and unit-tested: catalogue titles, heartbeats, sessions,
trending, recommendations. ``docs/viewing.md`` tells the story; the board every worker
reads trending from is Kafka's (:mod:`app.kafka.trending_board`)."""
