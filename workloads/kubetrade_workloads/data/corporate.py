"""Corporate actions: splits given or detected, dividends given, adjusted backward.

A split of ratio R (2 for 2:1, 0.1 for a 1:10 reverse split) at bar j divides
every price before j by R and multiplies every volume before j by R, so the
series reads as if the shares had always been today's shares; bar j and later
stay as the market printed them. A cash dividend D at ex-date bar j divides
earlier prices by c / (c - D), c being the raw close before j (the CRSP and
Yahoo convention); it leaves volumes alone.

Detection is causal: a bar is judged a split from its own open, the close
before it and the volumes before it, never from a later bar. It asks for an
overnight gap within `GAP_TOLERANCE` (in log terms) of a known ratio and a
volume that is not a surge: real crashes of a split's size (AAPL fell 52% on
2000-09-29) gap by an inexact ratio on many times the usual volume, while a
split day trades its usual turnover (in old shares, or R times it in new ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..config.data import Adjustment, CorporateAction
from ..market.bars import BarsError
from .outliers import Floats, Mask

# Forward splits seen on US and European exchanges, and their reverse splits.
_FORWARD = (1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 15.0, 20.0, 25.0, 50.0)
_REVERSE = (2.0, 3.0, 4.0, 5.0, 8.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 100.0)
RATIOS = np.array(sorted((*_FORWARD, *(1.0 / r for r in _REVERSE))))
_NARROWEST = float(np.abs(np.log(RATIOS)).min())
GAP_TOLERANCE = 0.04
"""How far (log) an open may sit from the previous close over a ratio: splits
of AAPL and MSFT in 2000-2005 gapped within 0.02, AAPL's 2000 crash by 0.052."""
VOLUME_TOLERANCE = float(np.log(4.0))
"""How far (log) a split day's volume may sit outside [1, R] times the usual."""
VOLUME_LOOKBACK = 20
_PRECEDENCE = 3
"""Bars either side of a given split where a detected one is not taken."""
_SOURCE_COLUMNS = ("split", "dividend")
_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Action:
    """One applied action: `ratio` for a split, `dividend` (cash) for a dividend."""

    symbol: str
    timestamp: pd.Timestamp
    origin: str  # "given" or "detected"
    ratio: float | None = None
    dividend: float | None = None
    session: int | None = None
    """The bar's session as a day number (`calendars.session_days`): its
    ex-date, which differs from the UTC date where a session opens before
    midnight UTC (Sydney)."""

    def as_dict(self) -> dict[str, object]:
        """The record the manifest keeps."""
        day = self.timestamp if self.session is None else pd.Timestamp(self.session * _DAY_NS)
        out: dict[str, object] = {
            "symbol": self.symbol,
            "date": day.date().isoformat(),
            "timestamp": self.timestamp.isoformat(),
            "kind": "split" if self.ratio is not None else "dividend",
            "origin": self.origin,
        }
        out |= {"ratio": self.ratio} if self.ratio is not None else {"dividend": self.dividend}
        return out


@dataclass(frozen=True)
class Given:
    """A given action of one symbol: its date, and a ratio or a dividend."""

    date: pd.Timestamp  # midnight UTC of the ex-date
    ratio: float | None = None
    dividend: float | None = None


def given(
    raw: pd.DataFrame, actions: Sequence[CorporateAction], adjustment: Adjustment
) -> dict[str, list[Given]]:
    """The given actions per symbol: the spec's, then the source's `split` and
    `dividend` columns (yfinance's "Stock Splits" and "Dividends": 0 means none).

    The spec wins over the source on the same symbol, date and kind (a split
    and a dividend on one ex-date are both kept). Dividends are kept only under
    `adjustment: all`; nothing is kept under `none`.
    """
    if adjustment == Adjustment.NONE:
        return {}
    out: dict[str, dict[tuple[pd.Timestamp, str], Given]] = {}
    for column in _SOURCE_COLUMNS:
        if column not in raw.columns or "symbol" not in raw.columns:
            continue
        value = pd.to_numeric(raw[column], errors="coerce").to_numpy(dtype=np.float64)
        rows = np.flatnonzero(np.isfinite(value) & (value > 0) & (value != 1.0))
        when = pd.to_datetime(raw["timestamp"].iloc[rows], utc=True, errors="coerce")
        for row, stamp in zip(rows.tolist(), when, strict=True):
            if pd.isna(stamp):
                continue
            day = stamp.normalize()
            kind = {"ratio": value[row]} if column == "split" else {"dividend": value[row]}
            out.setdefault(str(raw["symbol"].iat[row]), {})[day, column] = Given(day, **kind)
    for action in actions:
        day = pd.Timestamp(action.date, tz="UTC")
        column = "split" if action.ratio is not None else "dividend"
        out.setdefault(action.symbol, {})[day, column] = Given(day, action.ratio, action.dividend)
    keep_dividends = adjustment == Adjustment.ALL
    return {
        symbol: [g for _, g in sorted(days.items()) if g.ratio is not None or keep_dividends]
        for symbol, days in out.items()
    }


def place(
    days: npt.NDArray[np.int64], valid: Mask, actions: Sequence[Given]
) -> list[tuple[int, Given]]:
    """Each action at the first valid bar of a session on or after its date, if one
    lies after the first valid bar (an action before the data, or after it,
    adjusts nothing). `days` is each bar's session as a day number."""
    rows = np.flatnonzero(valid)
    if len(rows) < 2:
        return []
    sessions = days[rows]
    placed = []
    for action in actions:
        k = int(np.searchsorted(sessions, action.date.value // _DAY_NS))
        if 0 < k < len(rows):
            placed.append((int(rows[k]), action))
    return placed


def detect(
    values: Floats, valid: Mask, days: npt.NDArray[np.int64] | None = None
) -> tuple[list[int], list[float]]:
    """Bars whose gap from the previous valid close is a split; their ratios.

    `values` are (n, 5) OHLCV rows, `valid` the rows with values, `days` each
    row's session (`calendars.session_days`; None: every bar its own): a split
    happens only at a session's first bar, whose volume is judged against
    earlier sessions' first bars (an opening minute trades many times a midday
    one). A gap that takes back half or more of the bar before's own move is
    that bar's bad print coming back, not a split. Each bar reads only itself
    and bars before it.
    """
    rows = np.flatnonzero(valid)
    if len(rows) < 2:
        return [], []
    o, c, v = values[rows, 0], values[rows, 3], values[rows, 4]
    gap = np.log(c[:-1] / o[1:])  # bar k+1's gap: > 0 when the price fell
    into = np.r_[0.0, np.log(c[1:-1] / c[:-2])]  # bar k's move from the close before
    opening = np.ones(len(rows), dtype=bool)
    if days is not None:
        opening[1:] = days[rows][1:] != days[rows][:-1]
    # Only gaps as wide as the narrowest split's can be one: few, so the
    # comparison with every ratio, and the volume's, runs on a handful of bars.
    wide = np.flatnonzero((np.abs(gap) >= _NARROWEST - GAP_TOLERANCE) & opening[1:])
    logs = np.log(RATIOS)
    nearest = np.abs(gap[wide, None] - logs[None, :]).argmin(axis=1)
    near = np.abs(gap[wide] - logs[nearest]) <= GAP_TOLERANCE
    found: tuple[list[int], list[float]] = ([], [])
    for k, j in zip(wide[near].tolist(), nearest[near].tolist(), strict=True):
        ratio = float(RATIOS[j])
        if into[k] * gap[k] > 0 and abs(into[k]) >= abs(gap[k]) / 2:
            continue  # it takes back half the bar before's move or more: a bad print's return
        before = v[: k + 1][opening[: k + 1]][-VOLUME_LOOKBACK:]
        before = before[before > 0]
        if len(before) and v[k + 1] > 0:
            surge = float(np.log(v[k + 1] / np.median(before)))
            lo = min(0.0, np.log(ratio)) - VOLUME_TOLERANCE
            hi = max(0.0, np.log(ratio)) + VOLUME_TOLERANCE
            if not lo <= surge <= hi:
                continue
        # No volume to judge by (FX, a zero-volume bar): the gap alone decides.
        found[0].append(int(rows[k + 1]))
        found[1].append(ratio)
    return found


def factors(
    n: int, values: Floats, valid: Mask, placed: Sequence[tuple[int, float | None, float | None]]
) -> tuple[Floats, Floats]:
    """Backward price and volume factors of `placed` (row, ratio, dividend) actions.

    Bar t's price factor is the product, over actions after t, of the split
    ratio or the dividend's c / (c - D); prices are divided by it. The volume
    factor has the splits only; volumes are multiplied by it.
    """
    price, volume = np.ones(n), np.ones(n)
    rows = np.flatnonzero(valid)
    for row, ratio, dividend in placed:
        if ratio is not None:
            price[row] *= ratio
            volume[row] *= ratio
            continue
        before = rows[rows < row][-1]
        last = values[before, 3]
        if dividend is None or dividend >= last:
            raise BarsError(
                f"a dividend of {dividend} at row {row} is not below the close before it ({last})"
            )
        price[row] *= last / (last - dividend)
    # Bar t takes the actions at bars after t: a reversed cumulative product, shifted.
    return _after(price), _after(volume)


def _after(per_bar: Floats) -> Floats:
    out = np.ones_like(per_bar)
    out[:-1] = np.cumprod(per_bar[::-1])[::-1][1:]
    return out


def near(rows: Sequence[int], taken: Sequence[int]) -> list[bool]:
    """Whether each of `rows` lies within a few bars of a row in `taken`."""
    if not taken:
        return [False] * len(rows)
    given_rows = np.asarray(taken)
    return [bool((np.abs(given_rows - r) <= _PRECEDENCE).any()) for r in rows]
