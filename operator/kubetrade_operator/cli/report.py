"""`trading-cli report`: an HTML or PDF report of a backtest or a return series.

trading-cli report --format pdf --include-charts --input result.json --out report.pdf
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer


class Format(StrEnum):
    HTML = "html"
    PDF = "pdf"


def report(
    input_file: Path = typer.Option(
        ..., "--input", "-i", help="Returns CSV/Parquet or backtest JSON."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    fmt: Format | None = typer.Option(
        None, "--format", help="html or pdf (default: from --out's suffix)."
    ),
    include_charts: bool = typer.Option(
        True, "--include-charts/--no-charts", help="Embed the charts."
    ),
    title: str | None = typer.Option(None, help="Report title."),
    confidence: float = typer.Option(0.95, min=0.8, max=0.999, help="VaR confidence."),
    periods_per_year: float | None = typer.Option(
        None, help="Bars per year (inferred from the input when omitted)."
    ),
) -> None:
    """Write a self-contained HTML page or a PDF: metrics, risk, stress, folds, charts."""
    from kubetrade_workloads.reporting.analysis import analyze
    from kubetrade_workloads.reporting.inputs import load

    chosen = fmt or (Format.PDF if out.suffix.lower() == ".pdf" else Format.HTML)
    try:
        data = load(input_file, periods=periods_per_year, title=title)
        result = analyze(data, confidence=confidence)
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    if chosen == Format.PDF:
        from kubetrade_workloads.reporting.pdf import render_pdf

        out.write_bytes(render_pdf(data, result, include_charts=include_charts))
    else:
        from kubetrade_workloads.reporting.html import render_html

        text = render_html(data, result, include_charts=include_charts)
        out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {chosen.value} report to {out}")
