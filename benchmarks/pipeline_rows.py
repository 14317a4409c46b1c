"""The pipeline row of the features benchmark: collect -> clean -> features -> publish.

kubetrade's side is the data workload as a Dataset's pod runs it (`job.run`):
the file source reads a Parquet file of bars, then cleaning against the XNYS
calendar, validation, the full feature set, splits, selection, normalisation,
and Parquet splits plus the manifest written to a local folder. The peer does
the same stages the way a pandas-ta-classic user would: read the file with
pandas, drop duplicates, sort and forward-fill per symbol, the 59 common
indicators per symbol, one Parquet file out.

Bars sit on the exchange's own sessions and minutes (from exchange-calendars,
not from the code under test), so the pipeline finds them complete, as it
would real bars, and the figures of two commits compare like with like.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DAY_BARS = 252
MINUTE_BARS = 252 * 390


@dataclass(frozen=True)
class PipelineCase:
    interval: str
    symbols: int
    days: int
    """Calendar days from 2001-01-02 (365 a year)."""

    @property
    def end(self) -> Any:
        import pandas as pd

        return pd.Timestamp("2001-01-02") + pd.Timedelta(days=self.days)

    def times(self) -> Any:
        """The XNYS bar labels of the span: sessions, or minutes."""
        import warnings

        import exchange_calendars as xc
        import pandas as pd

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # exchange-calendars' pandas deprecations
            cal = xc.get_calendar("XNYS", start="2000-01-01", end="2031-12-31")
            first, last = pd.Timestamp("2001-01-02"), self.end - pd.Timedelta(days=1)
            if self.interval == "1d":
                return pd.DatetimeIndex(cal.sessions_in_range(first, last)).tz_localize("UTC")
            return pd.DatetimeIndex(cal.minutes_in_range(first, self.end))


def bars_file(case: PipelineCase, folder: Path) -> tuple[Path, float]:
    """Random-walk bars of `case` written as Parquet; the file and its symbol-years."""
    import numpy as np
    import pandas as pd

    times = case.times().as_unit("ns")
    n = len(times)
    rng = np.random.default_rng(7)
    vol = 0.01 if case.interval == "1d" else 0.0006
    frames = []
    for j in range(case.symbols):
        close = 50 * np.exp(np.cumsum(rng.normal(0, vol, n)))
        open_ = close * np.exp(rng.normal(0, vol / 4, n))
        high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, vol / 2, n)))
        low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, vol / 2, n)))
        volume = np.round(rng.lognormal(10, 0.5, n))
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": times,
                    "symbol": f"S{j:04d}",
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": volume,
                }
            )
        )
    path = folder / f"{case.interval}-{case.symbols}x{case.days}d.parquet"
    pd.concat(frames, ignore_index=True).to_parquet(path, index=False)
    per_year = DAY_BARS if case.interval == "1d" else MINUTE_BARS
    return path, case.symbols * n / per_year


def ours(case: PipelineCase, path: Path, out: Path) -> None:
    """The data workload end to end, as the Dataset's pod runs it."""
    from kubetrade_workloads.config import DataConfig, DataJob, OwnerRef
    from kubetrade_workloads.data import job

    source = {
        "type": "file",
        "uri": str(path),
        "symbols": [f"S{j:04d}" for j in range(case.symbols)],
        "interval": case.interval,
        "start": "2001-01-01",
        "end": case.end.date().isoformat(),
    }
    work = DataJob(
        owner=OwnerRef(api_version="local", kind="Dataset", name="b", namespace="b", uid="b"),
        output_uri=f"file://{out}",
        data=DataConfig.model_validate({"source": source, "cache": {"enabled": False}}),
    )
    job.run(work)


def peer(path: Path, out: Path, indicators: Callable[[Any], list[object]]) -> None:
    """The same stages with pandas and pandas-ta-classic."""
    import pandas as pd

    frame = pd.read_parquet(path)
    made = []
    for _, one in frame.groupby("symbol", sort=False):
        one = one.drop_duplicates("timestamp", keep="last").sort_values("timestamp")
        one = one.ffill(limit=5).reset_index(drop=True)
        values = indicators(one)
        columns = [v if isinstance(v, pd.DataFrame) else pd.Series(v).to_frame() for v in values]
        made.append(pd.concat([one, *columns], axis=1))
    whole = pd.concat(made, ignore_index=True)
    whole.columns = [f"{c}#{i}" for i, c in enumerate(whole.columns)]  # the peer repeats names
    whole.to_parquet(out / "peer.parquet", index=False)


@dataclass(frozen=True)
class Rate:
    wall_s: float
    cpu_s: float
    symbol_years: float

    def per_minute(self, cpu: bool) -> float:
        return self.symbol_years / (self.cpu_s if cpu else self.wall_s) * 60


def measure(case: PipelineCase, run: Callable[[Path, Path], None], repeats: int = 2) -> Rate:
    """The best of `repeats` timed runs after one untimed run (imports, calendars, numba)."""
    best: Rate | None = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, symbol_years = bars_file(case, folder)
        for k in range(repeats + 1):
            target = folder / f"out{k}"
            target.mkdir()
            if k == 0:
                run(path, target)
                continue
            w, c = time.perf_counter(), time.process_time()
            run(path, target)
            rate = Rate(time.perf_counter() - w, time.process_time() - c, symbol_years)
            if best is None or rate.cpu_s < best.cpu_s:
                best = rate
    assert best is not None
    return best


def cases(quick: bool) -> dict[str, tuple[PipelineCase, PipelineCase]]:
    """Label -> (kubetrade's case, the peer's smaller case of the same shape)."""
    year = 365
    if quick:
        return {
            "daily, 20-year histories": (
                PipelineCase("1d", 5, 20 * year),
                PipelineCase("1d", 1, 20 * year),
            ),
            "1-minute, 6-week histories": (
                PipelineCase("1m", 1, year // 8),
                PipelineCase("1m", 1, year // 32),
            ),
        }
    return {
        "daily, 20-year histories": (
            PipelineCase("1d", 50, 20 * year),
            PipelineCase("1d", 5, 20 * year),
        ),
        "1-minute, 3-month histories": (
            PipelineCase("1m", 1, year // 4),
            PipelineCase("1m", 1, year // 16),
        ),
    }


def report(quick: bool, indicators: Callable[[Any], list[object]]) -> None:
    """Print the pipeline table (markdown)."""
    print(
        "\n| pipeline: collect -> clean -> features -> publish | symbol-years | kubetrade, CPU | kubetrade, wall | peer symbol-years | peer, CPU | peer, wall | ratio (CPU) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, (mine, theirs) in cases(quick).items():
        a = measure(mine, lambda p, o, c=mine: ours(c, p, o))  # type: ignore[misc]
        b = measure(theirs, lambda p, o: peer(p, o, indicators), repeats=1)
        print(
            f"| {label} | {a.symbol_years:g} | {a.per_minute(True):,.0f}/min | "
            f"{a.per_minute(False):,.0f}/min | {b.symbol_years:g} | {b.per_minute(True):,.1f}/min | "
            f"{b.per_minute(False):,.1f}/min | {a.per_minute(True) / b.per_minute(True):,.1f}x |"
        )
