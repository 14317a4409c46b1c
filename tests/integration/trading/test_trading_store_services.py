"""The trade store on a real Postgres (TimescaleDB when installed, plain tables here),
and the live snapshot in a real Redis."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from kubetrade_testing.trading import local_runtime, trade_job
from kubetrade_workloads.market.types import Order, Side
from kubetrade_workloads.trading.cache import prefix
from kubetrade_workloads.trading.job import run
from kubetrade_workloads.trading.store import Purpose, TradeStore, open_engine
from kubetrade_workloads.trading.store.database import MIGRATIONS
from kubetrade_workloads.trading.store.schema import Base


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return str(ScriptDirectory.from_config(config).get_current_head())


HEAD = _head()
"""The newest migration shipped: an upgraded store is at it."""


def _timescale_available(url: str) -> bool:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")
        ).scalar_one()
    engine.dispose()
    return bool(found)


def _version(engine: sa.Engine) -> str:
    """The schema revision the store is at."""
    with engine.connect() as conn:
        version: str = conn.execute(
            sa.text("SELECT version_num FROM kubetrade_alembic_version")
        ).scalar_one()
    return version


def test_migrations_on_postgres_match_the_models_and_fall_back_without_timescaledb(
    postgres_url: str, tmp_path: Path
) -> None:
    engine, info = open_engine(postgres_url, tmp_path)
    try:
        assert info.dialect == "postgresql"
        # Here CREATE EXTENSION timescaledb fails (not installed): plain tables, same schema.
        assert info.timescale is _timescale_available(postgres_url)
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": "kubetrade_alembic_version"}
            )
            diff = compare_metadata(context, Base.metadata)
        assert diff == [] and _version(engine) == HEAD
    finally:
        engine.dispose()
    again, _ = open_engine(postgres_url, tmp_path)  # a restart: nothing to migrate
    try:
        assert _version(again) == HEAD
    finally:
        again.dispose()


def test_intents_on_postgres_are_written_once(postgres_url: str, tmp_path: Path) -> None:
    engine, _ = open_engine(postgres_url, tmp_path)
    store, now = TradeStore(engine), dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    try:
        first, second = (Order(f"pg-{i}", "AAA", Side.BUY, 1, now) for i in (1, 2))
        assert store.add_intents("pg", [(first, now, Purpose.REBALANCE)], now) == [True]
        batch = [(o, now, Purpose.REBALANCE) for o in (first, second, second)]
        assert store.add_intents("pg", batch, now) == [False, True, False]
        assert [r.client_order_id for r in store.orders("pg")] == ["pg-1", "pg-2"]
    finally:
        engine.dispose()


def test_a_session_on_postgres_resumes_where_it_stopped(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBETRADE_STORE_URL", postgres_url)
    job = trade_job(tmp_path)
    run(job, local_runtime(max_bars=30))
    out = run(job, local_runtime(max_bars=10))
    assert out.snapshot is not None and out.snapshot.reconciled
    assert not (tmp_path / "trades.sqlite").exists()
    engine, _ = open_engine(postgres_url, tmp_path)
    store = TradeStore(engine)
    curve = store.equity_curve(job.session_id)
    assert len(curve) == 40 and [t for t, _ in curve] == sorted({t for t, _ in curve})
    assert all(t.tzinfo is not None for t, _ in curve)
    fills = store.fills(job.session_id)
    assert fills and len({fid for fid, _ in fills}) == len(fills)
    engine.dispose()


def test_the_live_snapshot_and_heartbeat_land_in_redis(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBETRADE_REDIS_URL", redis_url)
    job = trade_job(tmp_path)
    client = redis.Redis.from_url(redis_url)
    updates = client.pubsub()
    updates.subscribe(f"{prefix(job.session_id)}:updates")
    out = run(job, local_runtime(max_bars=12))
    assert out.snapshot is not None
    raw = client.get(f"{prefix(job.session_id)}:snapshot")
    assert raw is not None
    snapshot = json.loads(raw)
    assert snapshot["sessionId"] == job.session_id
    assert snapshot["trading"]["equity"] == round(out.snapshot.equity, 2)
    assert snapshot["barTime"].startswith(out.snapshot.bar_time.date().isoformat())  # type: ignore[union-attr]
    assert 0 < client.ttl(f"{prefix(job.session_id)}:heartbeat") <= 60
    messages = [
        m for m in iter(lambda: updates.get_message(timeout=0.5), None) if m["type"] == "message"
    ]
    assert messages and json.loads(messages[-1]["data"])["sessionId"] == job.session_id
    updates.close()
    client.close()
