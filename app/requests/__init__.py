"""What every request is: shared field rules, signed correlation ids, the event envelope,
the outcome that answers it and the status that outcome gives (imports only the base modules)."""
