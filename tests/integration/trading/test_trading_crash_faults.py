"""Kill the trader at random points of a paper session against the local Alpaca
server while it also answers 429s, 500s and late replies: no order is doubled,
no fill is lost, and positions reconcile after every restart.

Most kills are in-process (a `SimulatedCrash` raised at a random failpoint
drops the trader, its store connection and its venue client mid-flight, like
a kill -9 would); a few are real SIGKILLs of `python -m kubetrade_workloads
trade` processes.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubetrade_testing.fakes.alpaca_trading import AlpacaTradingFake, Chaos
from kubetrade_testing.trading import ALPACA_KEYS, trade_job
from kubetrade_workloads.config import TradeJob
from kubetrade_workloads.trading.assemble import Assembly, Options, build, fit
from kubetrade_workloads.trading.brokers import BrokerUnavailable
from kubetrade_workloads.trading.failpoints import POINTS, RandomCrashes, SimulatedCrash
from kubetrade_workloads.trading.model import ModelPick, load_model
from kubetrade_workloads.trading.orders import RetryPolicy
from kubetrade_workloads.trading.store import OrderState, TradeStore, open_engine

SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN"]
QUICK = RetryPolicy(attempts=6, base_delay=0.002, max_delay=0.01)
CHAOS = {"rate_429": 0.05, "rate_500": 0.05, "rate_timeout": 0.02, "delay": 0.4}


def _session(tmp_path: Path, url: str) -> TradeJob:
    return trade_job(
        tmp_path,
        symbols=SYMBOLS,
        broker={"type": "alpaca", "url": url},
        risk={"limits": {"maxPositionWeight": 0.3, "maxDrawdown": 0.5, "maxDailyLoss": 0.3}},
    )


def _trade_some(assembly: Assembly, fake: AlpacaTradingFake, bars: int) -> int:
    """Resume and trade up to `bars` bars; the venue fills at each bar's close."""
    assembly.resume()
    done = 0
    while done < bars and not assembly.feed.exhausted:
        bar = assembly.feed.next(1.0)
        if bar is None:
            continue
        fake.prices.update(zip(assembly.symbols, map(float, bar.field("close")), strict=True))
        assembly.trader.on_bar(bar)
        done += 1
    return done


def _check_exactly_once(fake: AlpacaTradingFake, store: TradeStore, session: str) -> dict[str, int]:
    """Every venue order is a stored decision made once; every venue fill is stored."""
    ours = {o.client_order_id: o for o in store.orders(session)}
    decisions = collections.Counter((o.bar_time, o.symbol, o.purpose) for o in ours.values())
    assert max(decisions.values()) == 1
    filled = collections.defaultdict(float)
    for _, fill in store.fills(session):
        filled[fill.client_order_id] += fill.quantity
    for coid, order in fake.by_client_id.items():
        assert coid in ours, f"the venue holds {coid}, which the store never wrote"
        assert ours[coid].filled_quantity == pytest.approx(order.filled_qty, abs=1e-9)
        assert filled[coid] == pytest.approx(order.filled_qty, abs=1e-9), (
            f"fills of {coid} lost or doubled"
        )
    held = {s: p.quantity for s, p in store.state(session).positions.items()}  # type: ignore[union-attr]
    venue = {s: q for s, (q, _) in fake.positions.items()}
    booked: dict[str, float] = collections.defaultdict(float)
    for _, fill in store.fills(session):
        booked[fill.symbol] += fill.signed_quantity
    assert held.keys() == venue.keys(), (held, venue, dict(booked))
    for symbol, quantity in venue.items():
        assert held[symbol] == pytest.approx(quantity, abs=1e-6)
    return {"venue_orders": len(fake.by_client_id), "stored_orders": len(ours)}


def _calm_run_and_check(
    job: TradeJob, options: Options, fake: AlpacaTradingFake, crashes: RandomCrashes
) -> tuple[int, dict[str, int]]:
    """A calm final run settles what the last crash left open; then the exactly-once
    check. Closes the shared store engine."""
    crashes.armed = False
    fake.chaos = Chaos()
    assembly = build(job, options)
    bars = _trade_some(assembly, fake, bars=3)
    assert assembly.trader.reconciled, assembly.trader.reconcile_message
    # Requests the crashed traders left in flight may still land (a late reply's
    # lookup completes a partial fill at the venue): let them, then settle.
    time.sleep(CHAOS["delay"] * 2)
    assembly.trader.p.router.sync()
    counts = _check_exactly_once(fake, assembly.store, job.session_id)
    assembly.close()
    assert options.store is not None
    options.store[0].dispose()
    return bars, counts


def test_a_hundred_random_crashes_double_no_order_and_lose_no_fill(
    alpaca_trading: tuple[AlpacaTradingFake, str], tmp_path: Path
) -> None:
    fake, url = alpaca_trading
    fake.fill = "partial"
    fake.chaos = Chaos(**CHAOS, seed=11)
    job = _session(tmp_path, url)
    crashes = RandomCrashes(rate=0.08, seed=5)
    # One engine for all the "processes": a kill drops the trader, its venue client and
    # its open transaction, while compiled SQL survives (it would cost most of a restart).
    store = open_engine(None, tmp_path)
    options = Options(
        failpoints=crashes, retry=QUICK, broker_timeout=0.25, credentials=ALPACA_KEYS, store=store
    )
    restarts = reconciled = unavailable = bars = 0
    while sum(crashes.crashes.values()) < 100:
        try:
            assembly = build(job, options)
        except BrokerUnavailable:  # the account read met a 429: the pod would restart
            unavailable += 1
            continue
        try:
            bars += _trade_some(assembly, fake, bars=8)
        except SimulatedCrash:
            restarts += 1
        finally:
            if assembly.trader.reconciled is not None:
                assert assembly.trader.reconciled, assembly.trader.reconcile_message
                reconciled += 1
            assembly.close()
    bars_calm, counts = _calm_run_and_check(job, options, fake, crashes)
    bars += bars_calm
    report = {
        "crashes": dict(crashes.crashes),
        "restarts": restarts,
        "reconciled_starts": reconciled,
        "bars": bars,
        "venue_faults": fake.faults,
        "duplicate_posts_refused": fake.duplicates,
        **counts,
    }
    print("crash-fault report:", json.dumps(report))
    assert restarts >= 100 and reconciled >= 90  # a start may itself be cut short
    assert set(crashes.crashes) <= set(POINTS) and len(crashes.crashes) >= 4
    assert fake.faults["429"] and fake.faults["500"] and fake.faults["timeout"]


def test_swaps_of_the_model_between_crashes_double_no_order(
    alpaca_trading: tuple[AlpacaTradingFake, str], tmp_path: Path
) -> None:
    """The champion changes between bars, then the trader dies mid-bar: restarted on
    the new champion (the operator's `status.model`), it redoes the bar with that
    model's decisions under the same client order ids, and nothing is doubled."""
    fake, url = alpaca_trading
    fake.chaos = Chaos(**CHAOS, seed=17)
    job = _session(tmp_path, url)
    models = ["baseline:ma-crossover?fast=3&slow=8", "baseline:momentum?window=5&top=1"]
    crashes = RandomCrashes(rate=0.06, seed=8)
    store = open_engine(None, tmp_path)
    options = Options(
        failpoints=crashes, retry=QUICK, broker_timeout=0.25, credentials=ALPACA_KEYS, store=store
    )
    swaps = crashed_after_swap = 0
    while sum(crashes.crashes.values()) < 30:
        champion = models[swaps % 2]
        try:
            assembly = build(job.model_copy(update={"model_uri": champion}), options)
        except BrokerUnavailable:
            continue
        swapped = False
        try:
            assembly.resume()
            for i in range(6):
                if i == 2:  # between bars: the operator promoted the other model
                    loaded = load_model(models[(swaps + 1) % 2])
                    buffer = fit(loaded, assembly.trader.p.buffer, assembly.feed.features)
                    assembly.trader.swap(
                        loaded.strategy, buffer, ModelPick(models[(swaps + 1) % 2], swaps + 2)
                    )
                    swaps, swapped = swaps + 1, True
                bar = assembly.feed.next(1.0)
                assert bar is not None
                fake.prices.update(
                    zip(assembly.symbols, map(float, bar.field("close")), strict=True)
                )
                assembly.trader.on_bar(bar)
        except SimulatedCrash:
            crashed_after_swap += swapped
        finally:
            assembly.close()
    champion = job.model_copy(update={"model_uri": models[swaps % 2]})
    _, counts = _calm_run_and_check(champion, options, fake, crashes)
    print(
        "swap-crash report:",
        json.dumps({"swaps": swaps, "crashed_after_swap": crashed_after_swap, **counts}),
    )
    assert swaps >= 5 and crashed_after_swap >= 5 and counts["venue_orders"] > 10


def _subprocess_job(tmp_path: Path, url: str) -> Path:
    job = _session(tmp_path / "state", url)
    path = tmp_path / "job.json"
    path.write_text(
        json.dumps(job.to_wire() | {"trading": job.trading.to_wire() | {"barSeconds": 0.02}})
    )
    return path


def test_sigkilled_traders_resume_without_doubles(
    alpaca_trading: tuple[AlpacaTradingFake, str], tmp_path: Path
) -> None:
    fake, url = alpaca_trading
    fake.chaos = Chaos(**CHAOS, seed=3)
    config = _subprocess_job(tmp_path, url)
    env = os.environ | {
        "KUBETRADE_API_KEY": ALPACA_KEYS["apiKey"],
        "KUBETRADE_API_SECRET": ALPACA_KEYS["apiSecret"],
        "KUBETRADE_CREDENTIALS_DIR": str(tmp_path / "no-secret"),
    }
    rng = random.Random(7)  # noqa: S311 - kill timing, not crypto
    kills = 0
    for _ in range(3):
        before = len(fake.requests)
        process = subprocess.Popen(
            [sys.executable, "-m", "kubetrade_workloads", "trade", "--config", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        # Kill once it is trading: a random number of venue calls into the session.
        target = before + rng.randint(15, 40)
        while (
            len(fake.requests) < target and process.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        process.stderr.close() if process.stderr else None
        kills += 1
    fake.chaos = Chaos()
    engine, _ = open_engine(None, tmp_path / "state")
    store = TradeStore(engine)
    job = TradeJob.model_validate_json(config.read_text())
    assembly = build(job, Options(retry=QUICK, credentials=ALPACA_KEYS))
    assembly.resume()
    assert assembly.trader.reconciled, assembly.trader.reconcile_message
    counts = _check_exactly_once(fake, store, job.session_id)
    pending = [o for o in store.orders(job.session_id) if o.status == OrderState.PENDING]
    assert not pending
    assembly.close()
    engine.dispose()
    print("sigkill report:", json.dumps({"kills": kills, "venue_faults": fake.faults, **counts}))
    assert counts["venue_orders"] > 0
