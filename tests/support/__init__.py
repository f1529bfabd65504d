"""Helpers shared by the integration tests: real workers, real services."""
