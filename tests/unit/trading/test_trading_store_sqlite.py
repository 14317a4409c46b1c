"""The trade store on SQLite: migrations, write-ahead orders, fills booked once, bars."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kubetrade_workloads.market.types import Fill, Order, Position, Side
from kubetrade_workloads.risk.events import RiskEvent, RiskEventKind, TradingState
from kubetrade_workloads.trading.store import (
    BarClose,
    Booking,
    OrderState,
    Purpose,
    StatusChange,
    TradeStore,
    open_engine,
)
from kubetrade_workloads.trading.store.schema import Base

T = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


@pytest.fixture
def store(tmp_path: Path) -> TradeStore:
    engine, info = open_engine(None, tmp_path / "state")
    assert info.dialect == "sqlite" and not info.timescale
    assert (tmp_path / "state" / "trades.sqlite").exists()
    trades = TradeStore(engine)
    trades.create_account("s", "sim", 1_000.0, T, baseline={"AAA": 2.0})
    return trades


def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    engine, _ = open_engine(None, tmp_path)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": "kubetrade_alembic_version"}
        )
        assert compare_metadata(context, Base.metadata) == []
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_intents_are_written_once(store: TradeStore) -> None:
    order = Order("kt-1", "AAA", Side.BUY, 3, T)
    assert store.add_intents("s", [(order, T, Purpose.REBALANCE)], T) == [True]
    assert store.add_intents(
        "s",
        [
            (order, T, Purpose.REBALANCE),
            (Order("kt-2", "BBB", Side.SELL, 1, T), T, Purpose.FLATTEN),
        ],
        T,
    ) == [False, True]
    again = Order("kt-3", "CCC", Side.BUY, 1, T)  # one id twice in a batch: new once
    assert store.add_intents(
        "s", [(again, T, Purpose.REBALANCE), (again, T, Purpose.REBALANCE)], T
    ) == [True, False]
    assert store.add_intents("s", [], T) == []
    store.update_order("kt-3", OrderState.CANCELED, T)
    records = store.orders("s", open_only=True)
    assert [(r.client_order_id, r.status, r.purpose) for r in records] == [
        ("kt-1", OrderState.PENDING, Purpose.REBALANCE),
        ("kt-2", OrderState.PENDING, Purpose.FLATTEN),
    ]
    store.update_order("kt-2", OrderState.REJECTED, T, broker_order_id="b-2", reason="no")
    assert store.order("kt-2").reason == "no"  # type: ignore[union-attr]
    with pytest.raises(KeyError):
        store.update_order("kt-none", OrderState.NEW, T)
    assert store.orders_since("s", T) == 3


def test_fills_are_booked_with_their_positions_and_cash_at_once(store: TradeStore) -> None:
    store.add_intents("s", [(Order("kt-1", "AAA", Side.BUY, 3, T), T, Purpose.REBALANCE)], T)
    fill = Fill("kt-1", "AAA", Side.BUY, 3, 10.0, 0.03, T)
    booking = Booking(
        "kt-1:3", fill, OrderState.FILLED, 3.0, 10.0, 0.03, "b-1", Position("AAA", 3, 10.0)
    )
    store.record("s", [booking], [], (969.97, 0.0, 0.03), T)
    assert store.known_fills(["kt-1:3", "kt-1:4"]) == {"kt-1:3"}
    with pytest.raises(sa.exc.IntegrityError):
        store.record("s", [booking], [], (0.0, 0.0, 0.0), T)  # a fill twice writes nothing
    state = store.state("s")
    assert state is not None
    assert state.cash == pytest.approx(969.97) and state.positions["AAA"].quantity == 3
    assert state.baseline == {"AAA": 2.0} and state.open_orders == []
    assert store.order("kt-1").broker_order_id == "b-1"  # type: ignore[union-attr]
    close = Booking(
        "kt-1:close", replace(fill, side=Side.SELL), OrderState.FILLED, 3.0, 10.0, 0.0, "b-1", None
    )
    store.record(
        "s",
        [close],
        [StatusChange("kt-1", OrderState.FILLED, reason="done")],
        (1_000.0, 0.0, 0.03),
        T,
    )
    assert store.state("s").positions == {}  # type: ignore[union-attr]
    assert len(store.fills("s")) == 2
    with pytest.raises(KeyError):
        store.record("s", [], [StatusChange("kt-none", OrderState.CANCELED)], None, T)
    # A batch of changes with one unknown id writes none of them.
    batch = [
        StatusChange("kt-1", OrderState.CANCELED),
        StatusChange("kt-none", OrderState.CANCELED),
    ]
    with pytest.raises(KeyError, match="kt-none"):
        store.record("s", [], batch, None, T)
    assert store.order("kt-1").status == OrderState.FILLED  # type: ignore[union-attr]


def test_a_bar_moves_the_resume_point_with_its_records(store: TradeStore) -> None:
    event = RiskEvent(
        T, RiskEventKind.LIMIT_BREACHED, "maxVar: VaR 5% above 4%", TradingState.REDUCING
    )
    bar = BarClose(
        T,
        1_010.0,
        500.0,
        0.5,
        0.01,
        10.0,
        10.0,
        1_020.0,
        T.date(),
        1_000.0,
        "REDUCING",
        {"AAA": 0.5},
        1,
        0,
        2.5,
    )
    store.close_bar("s", bar, [event], T)
    state = store.state("s")
    assert state is not None and state.last_bar_time == T and state.peak_equity == 1_020.0
    assert store.equity_curve("s") == [(T, 1_010.0)]
    assert store.last_targets("s") == {"AAA": 0.5}
    assert store.risk_events("s")[0]["kind"] == "LimitBreached"
    assert store.decisions("s")[0]["latency_ms"] == 2.5
    store.add_config_change("s", "spec.risk", "maxVar 0.04 -> 0.02", {"a": 1}, {"a": 2}, T)
    assert store.config_changes("s")[0]["after"] == {"a": 2}
    assert store.state("other") is None


def _wal_bytes_after_commits(state: Path, checkpoint_every: int | None) -> int:
    engine, _ = open_engine(None, state, manual_checkpoints=True)
    with engine.connect() as connection:
        # No commit checkpoints by itself (that stalled one bar in fifty).
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
    trades = TradeStore(engine)
    for i in range(150):
        trades.create_account(f"s{i}", "sim", 1_000.0, T, baseline={"AAA": float(i)})
        if checkpoint_every and i % checkpoint_every == 0:
            trades.checkpoint()  # what the trader does between bars
    size = (state / "trades.sqlite-wal").stat().st_size
    engine.dispose()
    return size


def test_with_manual_checkpoints_the_wal_is_folded_only_between_bars(tmp_path: Path) -> None:
    unattended = _wal_bytes_after_commits(tmp_path / "a", checkpoint_every=None)
    checkpointed = _wal_bytes_after_commits(tmp_path / "b", checkpoint_every=10)
    # A fully checkpointed WAL is reused from its start, so it stays small.
    assert checkpointed * 4 < unattended, (checkpointed, unattended)
    engine, _ = open_engine(None, tmp_path / "a")
    with engine.connect() as connection:  # other users keep SQLite's automatic checkpoint
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
        # Nothing was lost while the log grew.
        assert connection.exec_driver_sql("SELECT count(*) FROM accounts").scalar_one() == 150
    engine.dispose()
