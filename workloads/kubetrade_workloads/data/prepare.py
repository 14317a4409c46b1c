"""Rows to keyed bars, the first two steps of cleaning (see `clean`): rows
without a symbol or a readable timestamp dropped, timestamps to UTC bar labels
(see `timestamps`), values numeric, duplicates dropped (the last one sent
kept), rows sorted; each counted per symbol.
"""

from __future__ import annotations

import pandas as pd

from ..config.data import CleaningConfig
from ..market.bars import COLUMNS, PRICE_COLUMNS, BarsError
from . import timestamps
from .quality import QualityReport

_VALUES = [*PRICE_COLUMNS, "volume"]


def _counts(frame: pd.DataFrame, column: str, symbols: pd.Index) -> pd.Series:
    return frame.groupby("symbol")[column].sum().reindex(symbols, fill_value=0).astype(int)


def prepare(
    bars: pd.DataFrame, interval: str, config: CleaningConfig
) -> tuple[pd.DataFrame, list[QualityReport], int]:
    """Keys readable, values numeric, duplicates dropped, rows sorted; counts per symbol.

    Timestamps go to UTC (naive ones in `config.timezone`) and become bar labels
    (bar starts; daily bars on their session date), see `timestamps`. Returns
    the bars, one report per symbol and the number of rows without a symbol;
    raises BarsError for a missing column or timestamps `timestamps` refuses.
    """
    missing = [c for c in COLUMNS if c not in bars.columns]
    if missing:
        raise BarsError(f"bar frame lacks columns {missing}")
    frame = bars.loc[:, list(COLUMNS)].reset_index(drop=True)
    owned = frame["symbol"].notna()
    frame = frame[owned].reset_index(drop=True)
    frame["symbol"] = frame["symbol"].astype(str)
    parsed = timestamps.to_utc(
        frame["timestamp"],
        config.timezone,
        symbols=frame["symbol"],
        daily=interval == timestamps.DAILY,
    )
    frame["timestamp"] = timestamps.labels(parsed, interval, str(config.bar_label))
    for col in _VALUES:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["rows_in"] = 1
    frame["invalid"] = frame["timestamp"].isna().astype(int)
    symbols = pd.Index(sorted(frame["symbol"].unique()))
    rows_in, invalid = _counts(frame, "rows_in", symbols), _counts(frame, "invalid", symbols)
    frame = frame[frame["invalid"] == 0]
    back = frame.groupby("symbol", sort=False)["timestamp"].diff() < pd.Timedelta(0)
    frame = frame.assign(
        unsorted=back.astype(int),
        duplicates=frame.duplicated(["symbol", "timestamp"], keep="last").astype(int),
    )
    unsorted, duplicates = (
        _counts(frame, "unsorted", symbols),
        _counts(frame, "duplicates", symbols),
    )
    reports = [
        QualityReport(
            symbol=sym,
            rows_in=int(rows_in[sym]),
            invalid_timestamps=int(invalid[sym]),
            naive_timestamps=int(rows_in[sym] - invalid[sym]) if parsed.naive else 0,
            unsorted=int(unsorted[sym]),
            duplicates=int(duplicates[sym]),
        )
        for sym in symbols
    ]
    frame = frame[frame["duplicates"] == 0].sort_values(["symbol", "timestamp"], kind="stable")
    return frame.loc[:, list(COLUMNS)].reset_index(drop=True), reports, int((~owned).sum())
