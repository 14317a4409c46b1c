"""Opening the trade store: the engine, the migrations, and what the database offers.

With no URL the store is SQLite in the pod's state volume (WAL journal: a
killed trader loses nothing it committed). A URL (from the Secret named by
`store.urlSecretRef`, as KUBETRADE_STORE_URL) selects any SQLAlchemy database;
Postgres is what the tests run, and TimescaleDB is used when installed.
Migrations run on every start, under Alembic, before the trader reads a row.
"""

from __future__ import annotations

import logging
import threading
import weakref
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
    # No checkpoint inside a commit: SQLite's automatic one fsyncs in whichever
    # commit crosses 1000 WAL pages, which made one bar in fifty take 15-20 ms
    # instead of 3. WalCheckpointer does it from a thread of its own.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


CHECKPOINT_EVERY = 2.0
"""Seconds between background WAL checkpoints of a SQLite store."""


class WalCheckpointer:
    """Copies a SQLite store's write-ahead log into the database file, off the
    trading thread, until the engine is disposed.

    PASSIVE checkpoints never wait for the writer and the writer never waits
    for them; sqlite3 releases the GIL while it syncs the file.
    """

    def __init__(self, engine: Engine, every: float = CHECKPOINT_EVERY) -> None:
        # A weak reference: an engine dropped without dispose() ends the thread too.
        self._engine, self.every = weakref.ref(engine), every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        sa.event.listen(engine, "engine_disposed", lambda _engine: self.stop())
        self._thread.start()

    def checkpoint(self) -> bool:
        """One PASSIVE checkpoint now; False once the engine is gone."""
        engine = self._engine()
        if engine is None:
            return False
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self.checkpoint():
                    return
            except sa.exc.SQLAlchemyError as err:  # a busy database: the next round will do
                log.warning("WAL checkpoint failed: %s", err)

    def stop(self) -> None:
        """Stop the thread (the last connection to close checkpoints what is left)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=self.every + 5.0)


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
    url: str | None, state_dir: str | Path, checkpoint_every: float | None = CHECKPOINT_EVERY
) -> tuple[Engine, StoreInfo]:
    """An engine on the migrated store, and what it is.

    A SQLite store gets a WalCheckpointer every `checkpoint_every` seconds (None:
    none, the WAL then grows until the last connection closes).
    """
    resolved = url or default_url(state_dir)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(resolved)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        if checkpoint_every is not None:
            WalCheckpointer(engine, checkpoint_every)
    else:
        engine = sa.create_engine(resolved, pool_pre_ping=True)
    migrate(engine)
    info = StoreInfo(
        parsed.render_as_string(hide_password=True), engine.dialect.name, _hypertables(engine)
    )
    log.info("trade store %s (%s, hypertables: %s)", info.url, info.dialect, info.timescale)
    return engine, info
