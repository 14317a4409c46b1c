"""Shared test helpers and pytest fixtures for kubetrade's test suites."""
