"""Fixtures of the tuning integration tests: a real Postgres for the study."""

from kubetrade_testing.postgres import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]
