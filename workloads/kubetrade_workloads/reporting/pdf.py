"""A PDF report with reportlab's platypus: the same tables and charts as the
HTML page, laid out on A4 with a running footer."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from . import tables
from .analysis import Analysis
from .charts import all_pngs
from .inputs import ReportData

_WIDTH = A4[0] - 3.6 * cm
_BLUE = colors.HexColor("#1f5fa8")
_RULE = colors.HexColor("#dde1e6")
_STYLES = getSampleStyleSheet()
_TITLE = ParagraphStyle("title", parent=_STYLES["Title"], alignment=0, fontSize=20, spaceAfter=4)
_H2 = ParagraphStyle("h2", parent=_STYLES["Heading2"], textColor=_BLUE, spaceBefore=10)
_META = ParagraphStyle("meta", parent=_STYLES["Normal"], textColor=colors.grey, fontSize=8.5)
_NOTE = ParagraphStyle("note", parent=_META, fontSize=7.5, spaceBefore=2)
_CELL = ParagraphStyle("cell", parent=_STYLES["Normal"], fontSize=8.5, leading=10)
_AFTER = {
    "Performance": ("equity", "drawdown", "rolling_sharpe", "monthly"),
    "Value at risk": ("distribution",),
}


def render_pdf(
    data: ReportData,
    analysis: Analysis,
    *,
    include_charts: bool = True,
    pngs: Mapping[str, bytes] | None = None,
) -> bytes:
    """The whole report as PDF bytes (`pngs`: charts already rendered)."""
    images: Mapping[str, bytes] = {}
    if include_charts:
        images = pngs if pngs is not None else all_pngs(data, analysis)
    story: list[Flowable] = [Paragraph(escape(data.title), _TITLE), _meta(data), Spacer(1, 6)]
    story.append(_summary(analysis))
    for table in tables.all_tables(analysis, data.folds):
        story.append(KeepTogether(_table(table)))
        story += [_image(images[n]) for n in _AFTER.get(table.title, ()) if n in images]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.6 * cm,
        title=data.title,
        author="kubetrade",
    )
    footer = f"{data.title} · generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
    doc.build(story, onFirstPage=_footer(footer), onLaterPages=_footer(footer))
    return buffer.getvalue()


def _meta(data: ReportData) -> Paragraph:
    r = data.returns.dropna()
    facts = [
        f"{r.index[0].date()} to {r.index[-1].date()}",
        f"{len(r)} bars ({data.periods_per_year:g} a year)",
        "with benchmark" if data.benchmark is not None else "no benchmark",
        *(f"{k}: {v}" for k, v in data.details.items()),
    ]
    if data.source:
        facts.append(f"source: {data.source}")
    return Paragraph(escape(" · ".join(facts)), _META)


def _table(table: tables.Table) -> list[Flowable]:
    header: list[list[Any]] = [list(table.header)] if any(table.header) else []
    body: list[list[Any]] = [
        [Paragraph(escape(c), _CELL) if len(c) > 28 else c for c in row] for row in table.rows
    ]
    grid = Table(header + body, repeatRows=len(header), hAlign="LEFT", colWidths=_widths(table))
    style: list[Any] = [
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        *(
            ("ALIGN", (i, 0), (i, -1), "RIGHT")
            for i, numeric in enumerate(tables.numeric_columns(table))
            if numeric
        ),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, _RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if table.summary_rows:
        first = len(header) + len(body) - table.summary_rows
        style += [
            ("LINEABOVE", (0, first), (-1, first), 0.8, colors.HexColor("#8899aa")),
            ("FONTNAME", (0, first), (-1, -1), "Helvetica-Oblique"),
        ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ]
    grid.setStyle(TableStyle(style))
    out: list[Flowable] = [Paragraph(escape(table.title), _H2), grid]
    if table.note:
        out.append(Paragraph(escape(table.note), _NOTE))
    return out


def _widths(table: tables.Table) -> list[float]:
    # Columns as wide as their longest cell (within bounds); small tables stay narrow.
    n = len(table.header)
    longest = [max(len(table.header[i]), *(len(row[i]) for row in table.rows)) for i in range(n)]
    weights = [max(7, min(length, 44)) for length in longest]
    width = min(_WIDTH, sum(weights) * 0.21 * cm + n * 0.6 * cm)
    return [width * w / sum(weights) for w in weights]


def _summary(analysis: Analysis) -> Table:
    figures = tables.summary(analysis)
    cells = [[v for _, v in figures], [k for k, _ in figures]]
    grid = Table(cells, colWidths=[_WIDTH / len(figures)] * len(figures), hAlign="LEFT")
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, 0), 13),
                ("FONTSIZE", (0, 1), (-1, 1), 7.5),
                ("TEXTCOLOR", (0, 1), (-1, 1), colors.grey),
                ("BOX", (0, 0), (-1, -1), 0.4, _RULE),
                ("INNERGRID", (0, 0), (-1, -1), 0.4, _RULE),
                ("LINEBELOW", (0, 0), (-1, 0), 0, colors.white),
                ("TOPPADDING", (0, 0), (-1, 0), 6),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 5),
            ]
        )
    )
    return grid


def _image(data: bytes) -> Image:
    picture = Image(io.BytesIO(data))
    scale = _WIDTH / picture.drawWidth
    picture.drawWidth, picture.drawHeight = _WIDTH, picture.drawHeight * scale
    return picture


def _footer(text: str) -> Callable[[Canvas, SimpleDocTemplate], None]:
    def draw(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(1.8 * cm, 1.0 * cm, text)
        canvas.drawRightString(A4[0] - 1.8 * cm, 1.0 * cm, f"page {doc.page}")
        canvas.restoreState()

    return draw
