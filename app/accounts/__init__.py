"""Accounts: sign-up, subscription, payment, preferences (commands and their events), user ids."""
