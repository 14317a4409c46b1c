"""The numbers of a report as rows of formatted text, shared by the HTML page,
the PDF and the terminal, so all three show the same thing the same way.

An undefined metric (NaN: a Sharpe ratio of a constant series, say) shows as
"n/a", never as a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import pandas as pd

from ..backtest.performance import Performance
from .analysis import Analysis


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    note: str = ""
    summary_rows: int = 0
    """How many of the last rows summarise the others (drawn apart)."""


def numeric_columns(table: Table) -> list[bool]:
    """Which columns hold numbers (right-aligned) rather than text (left-aligned)."""

    def number(cell: str) -> bool:
        bare = cell.replace("%", "").replace(",", "").split(" (")[0].strip()
        if bare in ("", "n/a"):
            return True
        try:
            float(bare)
        except ValueError:
            return False
        return True

    columns = range(len(table.header))
    return [i > 0 and all(number(row[i]) for row in table.rows) for i in columns]


def summary(analysis: Analysis) -> list[tuple[str, str]]:
    """The handful of figures a reader looks at first."""
    p, hist = analysis.performance, analysis.risk.estimates[0]
    return [
        ("Total return", pct(p.total_return)),
        ("CAGR", pct(p.annual_return)),
        ("Sharpe", ratio(p.sharpe)),
        ("Max drawdown", pct(p.max_drawdown)),
        (f"VaR {analysis.risk.confidence:.0%}", pct(hist.var)),
    ]


def pct(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage; n/a when undefined."""
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}%}"


def ratio(value: float | None) -> str:
    """A plain number with two decimals; n/a when undefined."""
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.2f}"


def count(value: float | None) -> str:
    """A whole number; n/a when undefined."""
    return "n/a" if value is None or not math.isfinite(value) else f"{int(value):d}"


Formatter = Callable[[float | None], str]
METRICS: dict[str, tuple[str, Formatter]] = {
    "total_return": ("Total return", pct),
    "annual_return": ("Annual return (CAGR)", pct),
    "annual_volatility": ("Annual volatility", pct),
    "sharpe": ("Sharpe ratio", ratio),
    "sortino": ("Sortino ratio", ratio),
    "calmar": ("Calmar ratio", ratio),
    "max_drawdown": ("Max drawdown", pct),
    "max_drawdown_duration": ("Longest drawdown (bars)", count),
    "recovery_time": ("Recovery time (bars)", count),
    "win_rate": ("Win rate (bars)", pct),
    "profit_factor": ("Profit factor", ratio),
    "expectancy": ("Expectancy per bar", lambda v: pct(v, 3)),
    "turnover": ("Turnover (per year)", ratio),
    "exposure": ("Time in market", pct),
    "gross_exposure": ("Mean gross exposure", ratio),
    "alpha": ("Alpha (annual)", pct),
    "beta": ("Beta", ratio),
    "bars": ("Bars", count),
}
_ALIASES = {"volatility": "annual_volatility", "cagr": "annual_return", "return": "total_return"}


def _key(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def metric_names(requested: str | Sequence[str] | None) -> list[str]:
    """Canonical metric keys for a comma list (aliases, camelCase and kebab-case welcome).

    Raises ValueError naming the unknown metrics and the known ones.
    """
    if requested is None:
        return list(METRICS)
    names = requested.split(",") if isinstance(requested, str) else list(requested)
    lookup = {_key(k): k for k in METRICS} | {_key(a): k for a, k in _ALIASES.items()}
    wanted = [n.strip() for n in names if n.strip()]
    unknown = [n for n in wanted if _key(n) not in lookup]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; known: {', '.join(METRICS)}")
    return [lookup[_key(n)] for n in wanted]


def performance(analysis: Analysis, names: Sequence[str] | None = None) -> Table:
    """Each metric for the strategy (and the benchmark, when there is one)."""
    mine, theirs = asdict(analysis.performance), _as_dict(analysis.benchmark)
    rows = []
    for key in names or list(METRICS):
        label, fmt = METRICS[key]
        row = (label, fmt(mine.get(key)))
        rows.append(row + ((fmt(theirs.get(key)),) if theirs else ()))
    header = ("Metric", "Strategy", "Benchmark") if theirs else ("Metric", "Strategy")
    return Table("Performance", header, rows)


def var_table(analysis: Analysis) -> Table:
    """VaR and ES by every method."""
    risk = analysis.risk
    rows = [(e.label, pct(e.var), pct(e.es)) for e in risk.estimates]
    note = (
        f"{risk.confidence:.1%} confidence, {risk.horizon}-bar horizon; losses as a fraction "
        "of equity. Historical and parametric VaR scale with the square root of the horizon; "
        "Monte Carlo compounds simulated paths."
    )
    return Table("Value at risk", ("Method", "VaR", "Expected shortfall"), rows, note)


def kupiec_table(analysis: Analysis) -> Table | None:
    """Kupiec's test of a rolling historical VaR, if the series was long enough."""
    k = analysis.risk.kupiec
    if k is None:
        return None
    verdict = "rejected" if k.rejected else "not rejected"
    rows = [
        ("Observations", str(k.observations)),
        ("Exceptions (expected)", f"{k.exceptions} ({k.expected:.1f})"),
        ("Exception rate", pct(k.rate)),
        ("Likelihood ratio", f"{k.lr:.3f}"),
        ("p-value", f"{k.p_value:.3f}"),
        (f"At {k.significance:.0%} significance", verdict),
    ]
    note = f"Rolling {analysis.risk.var_window}-bar historical VaR, each forecast out of sample."
    return Table("VaR backtest (Kupiec POF)", ("", ""), rows, note)


def stress_windows(analysis: Analysis) -> Table:
    """The worst historical windows."""
    s = analysis.stress
    rows = [(_day(w.start), _day(w.end), pct(w.total_return)) for w in s.windows]
    return Table(f"Worst {s.window}-bar windows", ("From", "To", "Return"), rows)


def scenarios(analysis: Analysis) -> Table:
    """The synthetic shocks."""
    rows = [
        (s.name, s.description, pct(s.loss), pct(s.base_var), pct(s.stressed_var))
        for s in analysis.stress.scenarios
    ]
    header = ("Scenario", "Shock", "Loss", "VaR before", "VaR after")
    note = f"VaR at {analysis.risk.confidence:.0%} over one bar, as a fraction of equity."
    return Table("Synthetic shocks", header, rows, note)


def folds(frame: pd.DataFrame | None) -> Table | None:
    """Per-fold walk-forward metrics, with their mean and spread across folds."""
    if frame is None or frame.empty:
        return None
    keys = [k for k in ("total_return", "sharpe", "sortino", "max_drawdown") if k in frame]
    numbers = frame[keys].apply(pd.to_numeric, errors="coerce")
    rows: list[tuple[str, ...]] = []
    for i, record in frame.iterrows():
        cells = [METRICS[k][1](_num(numbers.at[i, k])) for k in keys]
        rows.append(
            (str(record["fold"]), _day(record.get("start")), _day(record.get("end")), *cells)
        )
    for stat in ("mean", "std"):
        summary = getattr(numbers, stat)()
        rows.append((stat, "", "", *(METRICS[k][1](_num(summary[k])) for k in keys)))
    header = ("Fold", "From", "To", *(METRICS[k][0] for k in keys))
    note = "mean and std: spread of each metric across the folds"
    return Table("Walk-forward folds", header, rows, note, summary_rows=2)


def all_tables(analysis: Analysis, folds_frame: pd.DataFrame | None = None) -> list[Table]:
    """Every table of a report, in reading order."""
    tables = [performance(analysis), folds(folds_frame), var_table(analysis)]
    tables += [kupiec_table(analysis), stress_windows(analysis), scenarios(analysis)]
    return [t for t in tables if t is not None]


def _as_dict(perf: Performance | None) -> dict[str, float]:
    return asdict(perf) if perf is not None else {}


def _num(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _day(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(pd.Timestamp(value).date())  # type: ignore[arg-type]
