"""Backtest benchmark: bars per second for a 30-asset daily and a one-asset one-minute
moving-average crossover, against vectorbt (and backtrader's event loop) in the same run.

    .venv/bin/python benchmarks/backtest_bench.py            # the figures in docs/BENCHMARKS.md
    .venv/bin/python benchmarks/backtest_bench.py --quick    # a smoke run, seconds

The strategy everywhere: long 1/N of equity in each symbol while its 10-bar
average close is above its 50-bar one, flat otherwise; decided on the close,
filled at the next bar's open, 1 bp commission, 2 bp slippage, 100,000 cash.

- kubetrade vectorised: `run_vectorized` end to end (targets, fills, equity,
  weights, benchmark curve), with every metric of the strategy and of the
  benchmark ("all metrics") and without them ("curves", what vectorbt's
  `value()` gives).
- kubetrade event-driven: `run_events`, the bar-by-bar engine behind the ports
  (a risk gate would sit here); timed on a prefix of the one-minute data.
- vectorbt: `vbt.MA` for the averages, `Portfolio.from_orders` with target
  percent sizes shifted one bar and the open as price (the same next-open
  fill), `cash_sharing` across symbols, then `value()`. Its numba functions are
  compiled in an untimed first run.
- backtrader: `order_target_percent` on SMA crossovers (market orders fill at
  the next open), percentage slippage and commission; timed on a prefix.

Each case runs once untimed, then `--repeat` times; the best run is reported
as wall-clock and CPU time (on a shared machine the wall clock also counts
other processes' turns on the core; CPU time does not). One core, one thread.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
FAST, SLOW = 10, 50
COMMISSION, SLIPPAGE, CASH = 1e-4, 2e-4, 100_000.0


def one_core() -> None:
    """One CPU and one math-library thread, set before numpy is imported."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


@dataclass(frozen=True)
class Timing:
    name: str
    bars: int
    assets: int
    wall_s: float
    cpu_s: float
    final_equity: float

    @property
    def bars_per_s(self) -> float:
        return self.bars / self.cpu_s

    @property
    def bars_per_s_wall(self) -> float:
        return self.bars / self.wall_s


def timed(name: str, run: Callable[[], float], bars: int, assets: int, repeat: int) -> Timing:
    """Best of `repeat` runs after one untimed warm-up run."""
    run()
    best: tuple[float, float, float] | None = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        equity = run()
        sample = (time.process_time() - cpu, time.perf_counter() - wall, equity)
        best = sample if best is None or sample[0] < best[0] else best
    assert best is not None
    return Timing(name, bars, assets, best[1], best[0], best[2])


def market(bars: int, assets: int, seed: int, freq: str) -> Any:
    """Random-walk OHLCV arrays (open near the previous close) as a History."""
    import numpy as np
    import pandas as pd

    from kubetrade_workloads.market.history import History

    rng = np.random.default_rng(seed)
    vol = 0.015 if freq == "B" else 0.0008
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, (bars, assets)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]]) * np.exp(rng.normal(0.0, vol / 4, (bars, assets)))
    return History(
        pd.date_range("2000-01-03", periods=bars, freq=freq).to_numpy(),
        [f"S{j:02d}" for j in range(assets)],
        {
            "open": open_,
            "high": np.maximum(open_, close),
            "low": np.minimum(open_, close),
            "close": close,
            "volume": np.full((bars, assets), 1e6),
        },
    )


def settings() -> Any:
    from kubetrade_workloads.backtest import BacktestSettings
    from kubetrade_workloads.market.costs import CostModel

    return BacktestSettings(initial_cash=CASH, costs=CostModel(COMMISSION * 1e4, SLIPPAGE * 1e4))


def ours(history: Any, vectorised: bool, metrics: bool = True) -> Callable[[], float]:
    from kubetrade_workloads.backtest import run_events, run_vectorized
    from kubetrade_workloads.strategies import MovingAverageCrossover

    strategy, setup = MovingAverageCrossover(FAST, SLOW), settings()
    engine = run_vectorized if vectorised else run_events

    def run() -> float:
        result = engine(history, strategy, setup)
        if metrics:  # computed on first access: touch both sets
            _ = result.metrics, result.benchmark
        return float(result.equity.iloc[-1])

    return run


def vectorbt(history: Any) -> Callable[[], float]:
    import numpy as np
    import pandas as pd

    vbt: Any = importlib.import_module("vectorbt")  # untyped

    index = pd.DatetimeIndex(history.times)
    close = pd.DataFrame(history.close, index=index, columns=list(history.symbols))
    open_ = pd.DataFrame(history.open, index=index, columns=list(history.symbols))
    share = 1.0 / close.shape[1]

    def run() -> float:
        fast = vbt.MA.run(close, FAST).ma.to_numpy()
        slow = vbt.MA.run(close, SLOW).ma.to_numpy()
        target = np.where(fast > slow, share, 0.0)
        changed = np.ones_like(target, dtype=bool)
        changed[1:] = target[1:] != target[:-1]
        size = np.where(changed, target, np.nan)
        # Decided on bar t's close, executed on bar t+1 at its open.
        size = np.vstack([np.full((1, size.shape[1]), np.nan), size[:-1]])
        pf = vbt.Portfolio.from_orders(
            close,
            size=pd.DataFrame(size, index=index, columns=close.columns),
            size_type="targetpercent",
            price=open_,
            fees=COMMISSION,
            slippage=SLIPPAGE,
            init_cash=CASH,
            cash_sharing=True,
            group_by=True,
            call_seq="auto",
            freq="1D",
        )
        return float(np.asarray(pf.value())[-1])

    return run


def backtrader(history: Any) -> Callable[[], float]:
    bt: Any = importlib.import_module("backtrader")  # untyped
    import pandas as pd

    index = pd.DatetimeIndex(history.times)
    frames = [
        pd.DataFrame(
            {
                "open": history.open[:, j],
                "high": history.high[:, j],
                "low": history.low[:, j],
                "close": history.close[:, j],
                "volume": history.volume[:, j],
            },
            index=index,
        )
        for j in range(len(history.symbols))
    ]
    share = 1.0 / len(frames)

    class Crossover(bt.Strategy):  # type: ignore[misc]  # subclassing an Any base
        def __init__(self) -> None:
            self.fast = [bt.ind.SMA(d.close, period=FAST) for d in self.datas]
            self.slow = [bt.ind.SMA(d.close, period=SLOW) for d in self.datas]

        def next(self) -> None:
            for data, fast, slow in zip(self.datas, self.fast, self.slow, strict=True):
                want = share if fast[0] > slow[0] else 0.0
                held = self.getposition(data).size != 0
                if (want > 0) != held:
                    self.order_target_percent(data, target=want)

    def run() -> float:
        cerebro = bt.Cerebro(stdstats=False)
        for frame in frames:
            cerebro.adddata(bt.feeds.PandasData(dataname=frame))
        cerebro.addstrategy(Crossover)
        cerebro.broker.setcash(CASH)
        cerebro.broker.setcommission(commission=COMMISSION)
        cerebro.broker.set_slippage_perc(SLIPPAGE)
        cerebro.run()
        return float(cerebro.broker.getvalue())

    return run


def versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("numpy", "pandas", "vectorbt", "numba", "backtrader"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def case(label: str, history: Any, prefix: int, repeat: int, peers: bool) -> list[Timing]:
    """Every engine on one data set; the slow event loops on its first `prefix` bars."""
    bars, assets = history.close.shape
    short = history.between(0, prefix)
    out = [
        timed("kubetrade vectorised, all metrics", ours(history, True), bars, assets, repeat),
        timed("kubetrade vectorised, curves", ours(history, True, False), bars, assets, repeat),
    ]
    if peers:
        out.append(timed("vectorbt", vectorbt(history), bars, assets, repeat))
    out.append(timed("kubetrade event-driven", ours(short, False), len(short), assets, repeat))
    if peers:
        try:
            out.append(timed("backtrader", backtrader(short), len(short), assets, 1))
        except ImportError:
            print("backtrader is not installed: skipped", file=sys.stderr)
    print(f"\n### {label}: {bars:,} bars x {assets} assets\n")
    print(
        "| engine | bars | bars/s (CPU) | bar-assets/s (CPU) | bars/s (wall) | vs vectorbt | final equity |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    reference = next((t for t in out if t.name == "vectorbt"), None)
    for t in out:
        ratio = f"{t.bars_per_s / reference.bars_per_s:.2f}x" if reference else "-"
        print(
            f"| {t.name} | {t.bars:,} | {t.bars_per_s:,.0f} | {t.bars_per_s * t.assets:,.0f} "
            f"| {t.bars_per_s_wall:,.0f} | {ratio} | {t.final_equity:,.2f} |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, one repeat")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-peers", action="store_true", help="kubetrade only")
    args = parser.parse_args()
    one_core()
    repeat = 1 if args.quick else args.repeat
    daily_bars, minute_bars = (600, 20_000) if args.quick else (252 * 20, 252 * 390 * 2)
    prefix = 2_000 if args.quick else 20_000
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores (pinned to 1), {platform.platform()}")
    print(f"load average at start: {os.getloadavg()}")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    peers = not args.no_peers
    case("30 assets, daily", market(daily_bars, 30, 1, "B"), daily_bars, repeat, peers)
    case("1 asset, 1-minute", market(minute_bars, 1, 2, "min"), prefix, repeat, peers)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
