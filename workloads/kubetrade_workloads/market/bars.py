"""The one OHLCV frame every source returns and every consumer reads.

Long form, one row per (timestamp, symbol): UTC timestamps, float prices and
volume, sorted by timestamp then symbol.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")


class BarsError(ValueError):
    """A frame that is not a valid bar frame; the message names the problem."""


def empty() -> pd.DataFrame:
    """An empty bar frame with the right columns and dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS})
    frame["timestamp"] = pd.Series(dtype="datetime64[ns, UTC]")
    frame["symbol"] = pd.Series(dtype="object")
    return frame[list(COLUMNS)]


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in canonical order and dtype, timestamps in UTC, rows sorted.

    Raises BarsError naming the missing columns; does not repair bad values
    (cleaning does that, and counts each repair).
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise BarsError(f"bar frame lacks columns {missing}")
    out = frame.loc[:, list(COLUMNS)].copy()
    ts = pd.to_datetime(out["timestamp"], utc=True)
    out["timestamp"] = ts
    out["symbol"] = out["symbol"].astype(str)
    for col in (*PRICE_COLUMNS, "volume"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    return out.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)


def wide(frame: pd.DataFrame, column: str = "close") -> pd.DataFrame:
    """One column per symbol, indexed by timestamp (the shape vectorised code wants)."""
    return frame.pivot(index="timestamp", columns="symbol", values=column).sort_index()
