"""Alembic's entry point: migrate the connection the trader hands over.

The trader runs migrations itself at start-up (`database.migrate`), passing its
open connection in `config.attributes["connection"]`; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

from kubetrade_workloads.trading.store.schema import Base

VERSION_TABLE = "kubetrade_alembic_version"
# A table name of our own: a shared database may hold other applications' Alembic history.

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic command line
    raise RuntimeError("run migrations through kubetrade_workloads.trading.store.database.migrate")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
