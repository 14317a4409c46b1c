"""Opening the trade store: the engine, the migrations, and what the database offers.

With no URL the store is SQLite in the pod's state volume (WAL journal: a
killed trader loses nothing it committed). A URL (from the Secret named by
`store.urlSecretRef`, as KUBETRADE_STORE_URL) selects any SQLAlchemy database;
Postgres is what the tests run, and TimescaleDB is used when installed.
Migrations run on every start, under Alembic, before the trader reads a row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine, make_url

from .schema import TIME_SERIES

log = logging.getLogger(__name__)
SQLITE_FILE = "trades.sqlite"
MIGRATIONS = "kubetrade_workloads.trading.store:migrations"


@dataclass(frozen=True)
class StoreInfo:
    """Where the store lives (password hidden) and whether time series are hypertables."""

    url: str
    dialect: str
    timescale: bool


def default_url(state_dir: str | Path) -> str:
    """The SQLite file in `state_dir` (created if missing)."""
    folder = Path(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / SQLITE_FILE}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer, and a commit survives a killed process.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _manual_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's automatic checkpoint fsyncs inside whichever commit crosses 1000
    # WAL pages: one bar in about fifty waited 15-20 ms for it, in the middle
    # of sending orders. The trader checkpoints after a bar instead (`checkpoint`).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def checkpoint(engine: Engine) -> None:
    """Copy a SQLite store's write-ahead log into the database file (PASSIVE: it
    never waits for a reader); nothing for other databases."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision shipped with this package."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _hypertables(engine: Engine) -> bool:
    if engine.dialect.name != "postgresql":
        return False
    query = sa.text(
        "SELECT count(*) FROM pg_extension e WHERE e.extname = 'timescaledb' "
        "AND EXISTS (SELECT 1 FROM timescaledb_information.hypertables h "
        "WHERE h.hypertable_name = :table)"
    )
    with engine.connect() as connection:
        has_extension = connection.execute(
            sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
        ).scalar_one()
        if not has_extension:
            return False
        found = [connection.execute(query, {"table": t}).scalar_one() for t in TIME_SERIES]
    return all(found)


def open_engine(
    url: str | None, state_dir: str | Path, *, manual_checkpoints: bool = False
) -> tuple[Engine, StoreInfo]:
    """An engine on the migrated store, and what it is.

    With `manual_checkpoints` a SQLite store's log is checkpointed only when the
    owner calls `checkpoint` (and when its last connection closes).
    """
    resolved = url or default_url(state_dir)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(resolved)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        if manual_checkpoints:
            sa.event.listen(engine, "connect", _manual_checkpoints)
    else:
        engine = sa.create_engine(resolved, pool_pre_ping=True)
    migrate(engine)
    info = StoreInfo(
        parsed.render_as_string(hide_password=True), engine.dialect.name, _hypertables(engine)
    )
    log.info("trade store %s (%s, hypertables: %s)", info.url, info.dialect, info.timescale)
    return engine, info
