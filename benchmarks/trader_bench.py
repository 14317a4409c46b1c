"""Trader benchmark: decision latency from bar arrival to order acknowledgement, and
the bars per second one trader sustains.

    .venv/bin/python benchmarks/trader_bench.py            # the figures in docs/BENCHMARKS.md
    .venv/bin/python benchmarks/trader_bench.py --quick    # a smoke run, seconds

Each case builds the trader a pod runs (`trading.assemble.build`: SQLite trade
store, risk manager, order router) on synthetic daily bars, warms it up, then
times `Trader.on_bar` bar by bar:

- latency: from the moment the bar reaches the trader (`Bar.received`) to the
  acknowledgement of its last order, the figure the trader's
  `kubetrade_trader_decision_latency_seconds` histogram records; every order
  is written to the store before it is sent (the exactly-once rule);
- bars/s: whole bars, including booking fills and closing the bar in the
  store (equity point, decision, risk events: one transaction).

Venues: `sim` (the simulated venue in-process) and `alpaca` (alpaca-py's
TradingClient against the local Alpaca server in its own process on
loopback, so the two do not share a GIL). Symbols: 1 and 30. Orders: a
strategy that moves one symbol's target every bar ("1 order/bar", what a
rebalancing model does on most bars) or every symbol's ("all": 30 orders in a
bar, sent one after another). Risk limits are wide so the gate resizes
nothing; the manager still checks every order. A `features` case gives the
trader what a model trained on a Dataset needs on a price feed: every bar, it
makes every catalogue feature of every symbol from its recent bars, each kernel
over the bars it needs (`LiveFeatures`, `data.features.catalog.PARTS`), on the
latency path, before the strategy is asked. A `drift` case adds the drift monitor a
model's trader runs (`monitoring.monitor.DriftMonitor`: four model features and the
bar's return into 250-bar windows after the bar's orders; PSI, KS and the decay
test when a report is due: every second by default, or every bar).

Two rows measure the model lifecycle against the plain bar of the same run
(sim venue, 1 order/bar): `promotion` swaps a new champion in before every
timed bar, the way the trading loop does between bars (`assemble.promote`:
fit the model to the running buffer, swap, one audit row in the store), so
every bar is "the bar on which a promotion happens" and its latency includes
the swap; `shadow` runs a challenger beside the champion on every bar (its
decision after the champion's orders are out, both paper books marked, and the
Sharpe-difference report the status carries computed each bar).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "hack")]

from kubetrade_testing.trading import ALPACA_KEYS, trade_job  # noqa: E402
from kubetrade_workloads.config.data import FeatureConfig  # noqa: E402
from kubetrade_workloads.data.features import ALL  # noqa: E402
from kubetrade_workloads.data.features.live import LiveFeatures  # noqa: E402
from kubetrade_workloads.envs.features import FeatureTransform  # noqa: E402
from kubetrade_workloads.market.history import FloatArray, History  # noqa: E402
from kubetrade_workloads.monitoring.monitor import DriftMonitor  # noqa: E402
from kubetrade_workloads.monitoring.reference import Expectation, capture  # noqa: E402
from kubetrade_workloads.trading import allocator  # noqa: E402
from kubetrade_workloads.trading.assemble import (  # noqa: E402
    Options,
    bar_buffer,
    build,
    promote,
    shadow,
)
from kubetrade_workloads.trading.model import LoadedModel, ModelPick  # noqa: E402

WIDE = {
    "limits": {
        "maxPositionWeight": 1.0,
        "maxGrossExposure": 2.0,
        "maxDailyLoss": 0.9,
        "maxDrawdown": 0.95,
        "maxVar": 0.99,
    },
    "breakers": {"marketDrop": 0.99, "consecutiveLosses": 1000},
}
FAKE_SERVER = """
import sys, time
sys.path[:0] = ["tests", "hack"]
from kubetrade_testing.fakes.alpaca_trading import AlpacaTradingFake
from kubetrade_testing.fakes.server import serve
with serve(AlpacaTradingFake(cash=1e7)) as url:
    print(url, flush=True)
    time.sleep(3600)
"""


class Flip:
    """Moves `per_bar` symbols' targets every bar between two weights: orders every bar."""

    lookback = 1

    def __init__(self, symbols: int, per_bar: int) -> None:
        self.n, self.per_bar, self.bar = symbols, per_bar, 0

    def target_weights(self, history: History, weights: FloatArray) -> FloatArray:
        base = np.full(self.n, 0.5 / self.n)
        moved = [(self.bar * self.per_bar + k) % self.n for k in range(self.per_bar)]
        base[moved] = (0.5 if self.bar % 2 else 0.8) / self.n
        self.bar += 1
        return base


@dataclass
class Result:
    venue: str
    symbols: int
    orders: str
    p50_ms: float
    p99_ms: float
    bars_per_s: float
    cpu_ms_per_bar: float
    orders_sent: int


def drift_monitor(history: History, report_every: float) -> DriftMonitor:
    """The monitor of a model on derived price features, its reference from `history`."""
    transform = FeatureTransform.fit(history)
    expectation = Expectation(bars=250, mean=0.0005, std=0.01)
    return DriftMonitor(transform, capture(history, transform), expectation, every=report_every)


def run_case(
    venue: str,
    url: str | None,
    symbols: int,
    per_bar: int,
    bars: int,
    features: bool = False,
    lifecycle: str = "",
    drift: float | None = None,
) -> Result:
    """One case; `drift`: with the drift monitor, reporting at most every `drift` seconds."""
    names = [f"S{i:02d}" for i in range(symbols)]
    broker = {"type": "alpaca", "url": url} if venue == "alpaca" else {"type": "sim"}
    with tempfile.TemporaryDirectory() as state:
        job = trade_job(
            Path(state),
            symbols=names,
            broker=broker,
            risk=WIDE,
            costs={"commissionBps": 0, "slippageBps": 0},
        )
        assembly = build(job, Options(credentials=ALPACA_KEYS))
        flip = Flip(symbols, per_bar)
        assembly.trader.p.strategy = flip
        if features:  # the buffer and warm-up `assemble` gives a model that reads them
            maker = LiveFeatures.of(ALL, FeatureConfig(), None)
            loaded = LoadedModel(flip, None, maker.names, maker)
            assembly.trader.p.buffer, assembly.warmup = bar_buffer(
                loaded, assembly.feed, tuple(names)
            )
        assembly.resume()
        if drift is not None:
            assembly.trader.p.monitor = drift_monitor(assembly.trader.p.buffer.window(), drift)
        if lifecycle == "shadow":
            challenger = LoadedModel(Flip(symbols, max(1, symbols // 2)), None)
            pick = ModelPick("bench://challenger", 2)
            assembly.trader.shadow = shadow(job, assembly, pick, challenger)
        latencies, started, cpu = [], 0.0, 0.0
        for i in range(bars + 20):
            bar = assembly.feed.next(1.0)
            assert bar is not None
            if i == 20:  # untimed warm-up bars: caches, connections, the first compiles
                started, cpu = time.perf_counter(), time.process_time()
            if lifecycle == "promotion":  # after the bar arrived: its latency counts the swap
                successor = Flip(symbols, per_bar)
                successor.bar = flip.bar
                flip = successor
                promote(assembly, LoadedModel(flip, None), ModelPick(f"bench://v{i}", i + 1))
            decision = assembly.trader.on_bar(bar)
            if assembly.trader.shadow is not None:
                assembly.trader.shadow.report()  # what each bar's status snapshot carries
            if i >= 20:
                latencies.append(decision.latency * 1000.0)
        elapsed = time.perf_counter() - started
        cpu_ms = (time.process_time() - cpu) * 1000.0 / bars
        sent = assembly.trader.p.router.counts.acknowledged
        assembly.close()
    q = statistics.quantiles(latencies, n=100)
    label = "1 order/bar" if per_bar == 1 else f"all ({per_bar})"
    label += f" + {len(ALL)} live features" if features else ""
    if drift is not None:
        label += " + drift monitor" + (", report every bar" if drift == 0 else "")
    label += {"promotion": ", promotion every bar", "shadow": ", challenger in shadow"}.get(
        lifecycle, ""
    )
    return Result(
        venue, symbols, label, statistics.median(latencies), q[98], bars / elapsed, cpu_ms, sent
    )


def _alpaca_case(symbols: int, per_bar: int, bars: int) -> Result:
    # A fresh account per case, in its own process (no GIL shared with the trader).
    server = subprocess.Popen(
        [sys.executable, "-c", FAKE_SERVER], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        url = server.stdout.readline().strip() if server.stdout else ""
        return run_case("alpaca", url, symbols, per_bar, bars)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="60 bars per case")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    allocator.keep_heap()  # as the trader process does (`python -m kubetrade_workloads trade`)
    bars = 60 if args.quick else args.bars
    cases = [(v, n, k) for v in ("sim", "alpaca") for n in (1, 30) for k in sorted({1, n})]
    results = [
        run_case(v, None, n, k, bars) if v == "sim" else _alpaca_case(n, k, bars)
        for v, n, k in cases
    ]
    results += [run_case("sim", None, n, 1, bars, features=True) for n in (1, 30)]
    results += [run_case("sim", None, n, 1, bars, drift=1.0) for n in (1, 30)]
    results.append(run_case("sim", None, 30, 1, bars, drift=0.0))
    results += [
        run_case("sim", None, n, 1, bars, lifecycle=kind)
        for n in (1, 30)
        for kind in ("", "promotion", "shadow")
    ]
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {bars} timed bars per case")
    print("| venue | symbols | orders | p50 ms | p99 ms | bars/s | trader CPU ms/bar | acked |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.venue} | {r.symbols} | {r.orders} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {r.bars_per_s:,.0f} | {r.cpu_ms_per_bar:.2f} | {r.orders_sent} |"
        )
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
