"""Alembic migrations of the trade store, shipped in the package and run on start."""
