"""Report charts, drawn with matplotlib's object API on the Agg canvas.

No pyplot: figures are plain objects, so rendering is thread-safe, leaves no
global state behind and never needs a display. Every chart function returns
a Figure; `png` turns one into bytes.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from ..backtest.metrics import drawdown_series
from .analysis import Analysis, RiskSection
from .inputs import ReportData
from .series import growth, monthly_returns, rolling_sharpe

STRATEGY, BENCHMARK, LOSS, GRID = "#1f5fa8", "#8c8c8c", "#c0392b", "#e6e6e6"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _figure(height: float = 3.0) -> tuple[Figure, Axes]:
    # Styled per axes rather than through rcParams: no global state to leak.
    fig = Figure(figsize=(8.0, height), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8, color="#555555")
    return fig, ax


def _title(ax: Axes, text: str) -> None:
    ax.set_title(text, loc="left", fontsize=11, fontweight="bold")


def _dates(ax: Axes) -> None:
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (Agg, picked by format; no pyplot)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def equity_chart(data: ReportData) -> Figure:
    """Growth of one unit: the strategy against its benchmark."""
    fig, ax = _figure()
    if data.benchmark is not None:  # drawn first, so the strategy's line stays on top
        ax.plot(growth(data.benchmark), color=BENCHMARK, linewidth=1.1, label="Benchmark")
    ax.plot(growth(data.returns), color=STRATEGY, linewidth=1.6, label="Strategy")
    ax.axhline(1.0, color="#555555", linewidth=0.8)
    _title(ax, "Equity curve (growth of 1)")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    _dates(ax)
    return fig


def drawdown_chart(data: ReportData) -> Figure:
    """Fall from the running peak, bar by bar."""
    fig, ax = _figure(2.4)
    clean = data.returns.dropna()
    dd = pd.Series(drawdown_series(clean.to_numpy()), index=clean.index)
    ax.fill_between(dd.index, dd.to_numpy(), 0.0, color=LOSS, alpha=0.35, linewidth=0)
    ax.plot(dd, color=LOSS, linewidth=1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(top=0.0)
    _title(ax, f"Drawdown (deepest {dd.min():.1%})")
    _dates(ax)
    return fig


def rolling_sharpe_chart(data: ReportData, window: int | None = None) -> Figure:
    """Annualised Sharpe ratio over a trailing window (a quarter of bars by default,
    a third of the series when that is shorter)."""
    bars = int(data.returns.notna().sum())
    window = window or max(2, min(round(data.periods_per_year / 4), bars // 3))
    fig, ax = _figure(2.4)
    sharpe = rolling_sharpe(data.returns, window, data.periods_per_year)
    _title(ax, f"Rolling Sharpe ratio ({window} bars)")
    if sharpe.notna().any():
        ax.plot(sharpe, color=STRATEGY, linewidth=1.2)
        ax.axhline(0.0, color="#555555", linewidth=0.8)
        _dates(ax)
    else:  # an empty axis would show dates from 1970
        message = "undefined: too few bars, or no volatility"
        ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", color="#777777")
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def distribution_chart(data: ReportData, risk: RiskSection) -> Figure:
    """Histogram of returns with each method's VaR and the historical ES marked."""
    values = data.returns.dropna().to_numpy()
    fig, ax = _figure(3.0)
    bins = int(min(80, max(10, math.sqrt(values.size) * 2)))
    ax.hist(values, bins=bins, color=STRATEGY, alpha=0.55, edgecolor="white", linewidth=0.4)
    styles = {
        "historical": ("-", "#2c3e50"),
        "parametric": ("--", "#e67e22"),
        "cornish_fisher": ("-.", "#8e44ad"),
        "monte_carlo": (":", "#16a085"),
    }
    for est in risk.estimates:
        style, color = styles.get(est.method, ("-", "black"))
        label = f"VaR {est.label} {est.var:.2%}"
        ax.axvline(-est.var / math.sqrt(risk.horizon), linestyle=style, color=color, label=label)
    historical = risk.estimates[0]
    es = historical.es / math.sqrt(risk.horizon)
    ax.axvline(-es, color=LOSS, linewidth=1.6, label=f"ES historical {historical.es:.2%}")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    _title(
        ax,
        f"Return distribution, {risk.confidence:.0%} VaR ({risk.horizon}-bar horizon)",
    )
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    return fig


def monthly_heatmap(data: ReportData) -> Figure:
    """Compounded return of each month, years down, months across."""
    table = monthly_returns(data.returns.dropna())
    height = 1.2 + 0.34 * max(len(table), 1)
    fig = Figure(figsize=(8.0, height), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    values = table.to_numpy(dtype=np.float64)
    bound = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.01
    norm = TwoSlopeNorm(vmin=-bound - 1e-12, vcenter=0.0, vmax=bound + 1e-12)
    ax.imshow(np.ma.masked_invalid(values), cmap="RdYlGn", norm=norm, aspect="auto")
    for (row, col), value in np.ndenumerate(values):
        if np.isfinite(value):
            label = f"{value:.1%}" if abs(value) >= 0.0005 else "0.0%"  # no "-0.0%"
            ink = "white" if abs(value) > 0.6 * bound else "#222222"
            ax.text(col, row, label, ha="center", va="center", fontsize=7.5, color=ink)
    ax.set_xticks(range(12), MONTHS)
    ax.set_yticks(range(len(table)), [str(y) for y in table.index])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    _title(ax, "Monthly returns")
    return fig


def all_charts(data: ReportData, analysis: Analysis) -> dict[str, Figure]:
    """Every chart of a report, by name, in reading order."""
    return {
        "equity": equity_chart(data),
        "drawdown": drawdown_chart(data),
        "rolling_sharpe": rolling_sharpe_chart(data),
        "distribution": distribution_chart(data, analysis.risk),
        "monthly": monthly_heatmap(data),
    }


def all_pngs(data: ReportData, analysis: Analysis) -> dict[str, bytes]:
    """Every chart rendered to PNG, to share between an HTML page and a PDF."""
    return {name: png(fig) for name, fig in all_charts(data, analysis).items()}
