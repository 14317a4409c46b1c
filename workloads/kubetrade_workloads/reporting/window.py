"""A report's window: only the last days of a return series (`analyze performance --days`)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from .inputs import InputError, ReportData


def last_days(data: ReportData, days: float) -> ReportData:
    """Only the bars of the last `days` days of the series: those after its last
    timestamp less `days` (a window that ends where the data ends, so a finished
    session or an old file gives its last days, not an empty window).

    The engine's own metrics describe the whole run, so they are dropped and the
    window's are computed from its returns; walk-forward folds are kept as they are.
    """
    if not days > 0:
        raise InputError(f"the window must be a positive number of days (got {days})")
    index = data.returns.index
    start = index.max() - pd.Timedelta(days=days)
    keep = index > start
    returns = data.returns[keep]
    if len(returns.dropna()) < 2:  # the last bar is always in: one return says nothing
        raise InputError(
            f"{data.source or 'input'}: {len(returns.dropna())} bar in the last {days:g} "
            "days; a longer window is needed for performance figures"
        )
    benchmark = data.benchmark[keep] if data.benchmark is not None else None
    details = data.details | {"window": f"last {days:g} days from {returns.index[0]:%Y-%m-%d}"}
    return replace(
        data,
        returns=returns,
        benchmark=benchmark,
        metrics=None,
        benchmark_metrics=None,
        details=details,
    )
