"""Features benchmark: symbol-years per minute for the full indicator set on one
core, on daily and on one-minute bars, with peak memory; and in the same run the
same indicators computed by a pandas-only peer, pandas-ta-classic.

    .venv/bin/python benchmarks/features_bench.py            # the figures in docs/BENCHMARKS.md
    .venv/bin/python benchmarks/features_bench.py --quick    # a smoke run, seconds
    .venv/bin/python benchmarks/features_bench.py --only pipeline   # the pipeline row alone

A symbol-year is 252 daily bars, or 252 x 390 = 98,280 one-minute bars (a year
of NYSE regular sessions). Each case runs one untimed batch first, then times
every batch; it reports wall-clock and CPU time (on a shared machine the wall
clock also counts other processes' turns on the core; CPU time does not).
Targets (issue 3): 100,000 symbol-years/min daily, 100 on one-minute bars.

The pipeline row (pipeline_rows.py) times the whole data workload, collect ->
clean -> features -> publish, in the same units and against the same peer.

pandas-ta (the peer the issue names) needs Python >= 3.12 and this project runs
3.11; pandas-ta-classic, its maintained fork with the same functions, stands in.
It is called with talib=False: it would otherwise hand the work to TA-Lib.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pipeline_rows

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
TARGET_DAILY = 100_000
TARGET_MINUTE = 100
DAY_BARS = 252
MINUTE_BARS = 252 * 390


def one_core() -> int | None:
    """Pin this process to one CPU and every math library to one thread.

    Runs before NumPy is imported, so the libraries read the variables.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


@dataclass(frozen=True)
class Case:
    name: str
    interval: str
    symbols: int
    bars: int
    batch: int
    """Symbols per call of features.compute."""

    @property
    def symbol_years(self) -> float:
        per_year = DAY_BARS if self.interval == "1d" else MINUTE_BARS
        return self.symbols * self.bars / per_year


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float
    symbol_years: float

    @property
    def per_minute_wall(self) -> float:
        return self.symbol_years / self.wall_s * 60

    @property
    def per_minute_cpu(self) -> float:
        return self.symbol_years / self.cpu_s * 60


def synthetic(case: Case, first: int, count: int) -> Any:
    """`count` symbols of random-walk bars, long form, canonical order."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(first)
    if case.interval == "1d":
        times = pd.date_range("2000-01-03", periods=case.bars, freq="B", tz="UTC", unit="ns")
    else:
        days = pd.date_range(
            "2020-01-02", periods=-(-case.bars // 390), freq="B", tz="UTC", unit="ns"
        )
        minutes = pd.to_timedelta(np.arange(390), unit="min") + pd.Timedelta(hours=14, minutes=30)
        times = pd.DatetimeIndex(
            (days.values[:, None] + minutes.values[None, :]).ravel()[: case.bars], tz="UTC"
        )
    vol = 0.01 if case.interval == "1d" else 0.0006
    frames = []
    for j in range(first, first + count):
        close = 100 * np.exp(np.cumsum(rng.normal(0, vol, case.bars)))
        open_ = close * np.exp(rng.normal(0, vol / 4, case.bars))
        high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, vol / 2, case.bars)))
        low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, vol / 2, case.bars)))
        volume = np.round(rng.lognormal(10, 0.5, case.bars))
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": times,
                    "symbol": f"S{j:05d}",
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": volume,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)


def batches(case: Case) -> Iterator[Any]:
    for first in range(0, case.symbols, case.batch):
        yield synthetic(case, first, min(case.batch, case.symbols - first))


def timed(case: Case, work: Callable[[Any], object]) -> Timing:
    """One untimed batch, then every batch timed (data generation excluded)."""
    work(synthetic(case, 10**6, min(case.batch, case.symbols)))
    wall = cpu = 0.0
    for frame in batches(case):
        w, c = time.perf_counter(), time.process_time()
        work(frame)
        wall += time.perf_counter() - w
        cpu += time.process_time() - c
    return Timing(wall, cpu, case.symbol_years)


def peak_mib(case: Case, work: Callable[[Any], object]) -> float:
    """Peak traced allocation (NumPy and pandas buffers included) for one batch."""
    frame = synthetic(case, 0, min(case.batch, case.symbols))
    tracemalloc.start()
    work(frame)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


# Our names for the indicators both libraries compute, and the peer's calls for
# them (one call may give several, as TA-Lib's do).
COMMON = (
    "sma_10", "sma_20", "sma_50", "ema_10", "ema_20", "ema_50", "wma_20", "dema_20",
    "tema_20", "trima_20", "kama_20", "t3_5", "midpoint_14", "midprice_14", "linearreg_14",
    "linearreg_slope_14", "tsf_14", "sar", "adx_14", "plus_di_14", "minus_di_14",
    "aroon_up_14", "aroon_down_14", "aroonosc_14", "macd", "macd_signal", "macd_hist",
    "rsi_7", "rsi_14", "rsi_28", "stoch_k", "stoch_d", "stochrsi_k", "stochrsi_d", "cci_14",
    "mom_10", "roc_10", "ppo", "apo", "bop", "ultosc", "trix_15", "natr_5", "natr_14",
    "trange", "bb_upper", "bb_lower", "bb_width", "bb_percent", "stddev_20", "obv_slope_14",
    "ad_slope_14", "adosc", "mfi_14", "cmf_20", "force_index_13", "return_skew",
    "return_kurt", "zscore",
)  # fmt: skip


def peer_indicators(frame: Any) -> list[object]:
    """The COMMON indicators of one symbol with pandas-ta-classic's own code."""
    import numpy as np
    import pandas_ta_classic as pta  # type: ignore[import-untyped]

    o, h, lo, c, v = (frame[k] for k in ("open", "high", "low", "close", "volume"))
    r = np.log(c).diff()
    no = {"talib": False}
    return [
        *(pta.sma(c, n, **no) for n in (10, 20, 50)),
        *(pta.ema(c, n, **no) for n in (10, 20, 50)),
        pta.wma(c, 20, **no), pta.dema(c, 20, **no), pta.tema(c, 20, **no),
        pta.trima(c, 20, **no), pta.kama(c, 20, **no), pta.t3(c, 5, **no),
        pta.midpoint(c, 14, **no), pta.midprice(h, lo, 14, **no), pta.linreg(c, 14, **no),
        pta.linreg(c, 14, slope=True, **no), pta.linreg(c, 14, tsf=True, **no),
        pta.psar(h, lo, c, **no), pta.adx(h, lo, c, 14, **no), pta.aroon(h, lo, 14, **no),
        pta.macd(c, **no), *(pta.rsi(c, n, **no) for n in (7, 14, 28)),
        pta.stoch(h, lo, c, 14, 3, 3, **no), pta.stochrsi(c, 5, 14, 3, 3, **no),
        pta.cci(h, lo, c, 14, **no), pta.mom(c, 10, **no), pta.roc(c, 10, **no),
        pta.ppo(c, **no), pta.apo(c, **no), pta.bop(o, h, lo, c, **no), pta.uo(h, lo, c, **no),
        pta.trix(c, 15, **no), pta.natr(h, lo, c, 5, **no), pta.natr(h, lo, c, 14, **no),
        pta.true_range(h, lo, c, **no), pta.bbands(c, 20, 2, **no), pta.stdev(c, 20, **no),
        pta.obv(c, v, **no), pta.ad(h, lo, c, v, **no), pta.adosc(h, lo, c, v, **no),
        pta.mfi(h, lo, c, v, 14, **no), pta.cmf(h, lo, c, v, length=20, **no),
        pta.efi(c, v, 13, **no), pta.skew(r, 30, **no), pta.kurtosis(r, 30, **no),
        pta.zscore(c, 30, **no),
    ]  # fmt: skip


def peer(frame: Any) -> None:
    """The peer's way: per symbol, a pandas frame, one call per indicator."""
    for _, one in frame.groupby("symbol", sort=False):
        peer_indicators(one.reset_index(drop=True))


def cases(quick: bool) -> dict[str, Case]:
    scale = 20 if quick else 1
    return {
        "daily, 20-year histories": Case(
            "daily-20y", "1d", 500 // scale, 20 * DAY_BARS, 100 // scale
        ),
        "daily, 1-year histories": Case("daily-1y", "1d", 2000 // scale, DAY_BARS, 500 // scale),
        "1-minute, 1-year histories": Case(
            "minute-1y", "1m", 4 if not quick else 1, MINUTE_BARS // (1 if not quick else 8), 1
        ),
    }


def peer_cases(quick: bool) -> dict[str, Case]:
    return {
        "daily, 20-year histories": Case("peer-daily", "1d", 2 if quick else 5, 20 * DAY_BARS, 1),
        "1-minute, 1-year histories": Case(
            "peer-minute", "1m", 1, MINUTE_BARS // (32 if quick else 4), 1
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only", choices=("features", "pipeline"), help="one table: the features or the pipeline"
    )
    args = parser.parse_args(argv)
    cpu = one_core()

    warnings.simplefilter("ignore")  # the peer's pandas deprecation warnings, not ours
    import numpy as np
    import pandas as pd
    import pandas_ta_classic
    import talib

    from kubetrade_workloads.config.data import FeatureConfig
    from kubetrade_workloads.data import features

    full, common = FeatureConfig(), FeatureConfig(indicators=list(COMMON))
    load = os.getloadavg()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, pinned to CPU {cpu}; load average {load[0]:.1f}"
    )
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, TA-Lib {talib.__version__}, pandas-ta-classic {pandas_ta_classic.version}"
    )
    print(
        f"features: {len(features.ALL)} in the full set; {len(COMMON)} computed by both libraries\n"
    )

    if args.only != "pipeline":
        features_rows(args.quick, full, common)
    if args.only != "features":
        pipeline_rows.report(args.quick, peer_indicators)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS {rss:,.0f} MiB; load average now {os.getloadavg()[0]:.1f}")
    return 0


def features_rows(quick: bool, full: Any, common: Any) -> None:
    """The features table and the peer's (markdown)."""
    from kubetrade_workloads.data import features

    print(
        "| case | symbol-years | full set, CPU | full set, wall | same 59 as peer, CPU | peak traced | target | met (CPU, wall) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    ours: dict[str, Timing] = {}
    for label, case in cases(quick).items():
        t_full = timed(case, lambda f: features.compute(f, full))
        t_common = timed(case, lambda f: features.compute(f, common))
        mem = peak_mib(case, lambda f: features.compute(f, full))
        ours[label] = t_common
        target = TARGET_DAILY if case.interval == "1d" else TARGET_MINUTE
        met = ", ".join(
            "yes" if r >= target else "no" for r in (t_full.per_minute_cpu, t_full.per_minute_wall)
        )
        print(
            f"| {label} ({case.batch} symbol{'s' if case.batch > 1 else ''} a call) | {case.symbol_years:g} | "
            f"{t_full.per_minute_cpu:,.0f}/min | {t_full.per_minute_wall:,.0f}/min | "
            f"{t_common.per_minute_cpu:,.0f}/min | {mem:,.0f} MiB | {target:,}/min | {met} |"
        )

    print(
        "\n| peer: pandas-ta-classic, talib=False | symbol-years | peer, CPU | peer, wall | kubetrade, same indicators, CPU | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, case in peer_cases(quick).items():
        t_peer = timed(case, peer)
        mine = ours[label].per_minute_cpu
        print(
            f"| {label} | {case.symbol_years:g} | {t_peer.per_minute_cpu:,.1f}/min | "
            f"{t_peer.per_minute_wall:,.1f}/min | {mine:,.0f}/min | {mine / t_peer.per_minute_cpu:,.0f}x |"
        )


if __name__ == "__main__":
    sys.exit(main())
