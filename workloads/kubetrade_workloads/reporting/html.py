"""A self-contained HTML report: one file, inline CSS, charts as base64 PNGs.

Nothing is loaded from anywhere when the page opens, so it can be mailed,
attached to a ticket or stored as an artifact and still show everything.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from html import escape

from .analysis import Analysis
from .charts import all_pngs
from .inputs import ReportData
from .tables import Table, all_tables, numeric_columns, summary

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222;margin:0;background:#f6f7f9}
main{max-width:900px;margin:0 auto;padding:24px 28px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #1f5fa8;padding-bottom:4px}
.meta{color:#666;font-size:13px;margin-bottom:16px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{flex:1 1 130px;border:1px solid #e1e4e8;border-radius:6px;padding:10px 12px}
.card b{display:block;font-size:20px}.card span{color:#666;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{padding:5px 8px;border-bottom:1px solid #eceef1}
.num{text-align:right}.txt{text-align:left}th{background:#f0f3f7;font-weight:600}
table.narrow{width:auto;min-width:55%}
tr.summary td{font-style:italic;background:#fafbfc}tr.first td{border-top:1.5px solid #8899aa}
.note{color:#666;font-size:12px;margin:2px 0 10px}
img{width:100%;height:auto;margin:8px 0}
"""

# Which charts follow which table, so each number sits next to its picture.
_AFTER = {
    "Performance": ("equity", "drawdown", "rolling_sharpe", "monthly"),
    "Value at risk": ("distribution",),
}


def render_html(
    data: ReportData,
    analysis: Analysis,
    *,
    include_charts: bool = True,
    pngs: Mapping[str, bytes] | None = None,
) -> str:
    """The whole report as one HTML document (`pngs`: charts already rendered)."""
    images = {}
    if include_charts:
        rendered = pngs if pngs is not None else all_pngs(data, analysis)
        images = {name: _img(name, picture) for name, picture in rendered.items()}
    body = [_header(data, analysis), _cards(analysis)]
    for table in all_tables(analysis, data.folds):
        body.append(_table(table))
        body += [images[name] for name in _AFTER.get(table.title, ()) if name in images]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(data.title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _header(data: ReportData, analysis: Analysis) -> str:
    r = data.returns.dropna()
    facts = [
        f"{r.index[0].date()} to {r.index[-1].date()}",
        f"{len(r)} bars ({data.periods_per_year:g} a year)",
        "benchmark" if data.benchmark is not None else "no benchmark",
        *(f"{k}: {v}" for k, v in data.details.items()),
        f"generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
    ]
    source = f"<br>source: {escape(data.source)}" if data.source else ""
    return f"<h1>{escape(data.title)}</h1><div class=meta>{escape(' · '.join(facts))}{source}</div>"


def _cards(analysis: Analysis) -> str:
    inner = "".join(
        f"<div class=card><b>{v}</b><span>{escape(k)}</span></div>" for k, v in summary(analysis)
    )
    return f"<div class=cards>{inner}</div>"


def _table(table: Table) -> str:
    align = ["num" if n else "txt" for n in numeric_columns(table)]
    head = "".join(
        f"<th class={a}>{escape(h)}</th>" for a, h in zip(align, table.header, strict=True)
    )
    first_summary = len(table.rows) - table.summary_rows
    rows = "".join(
        _row_tag(i, first_summary)
        + "".join(f"<td class={a}>{escape(c)}</td>" for a, c in zip(align, row, strict=True))
        + "</tr>"
        for i, row in enumerate(table.rows)
    )
    note = f"<p class=note>{escape(table.note)}</p>" if table.note else ""
    thead = f"<thead><tr>{head}</tr></thead>" if any(table.header) else ""
    width = " class=narrow" if len(table.header) <= 3 else ""
    return f"<h2>{escape(table.title)}</h2><table{width}>{thead}<tbody>{rows}</tbody></table>{note}"


def _row_tag(index: int, first_summary: int) -> str:
    if index < first_summary:
        return "<tr>"
    return "<tr class='summary first'>" if index == first_summary else "<tr class=summary>"


def _img(name: str, data: bytes) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{escape(name)} chart" src="data:image/png;base64,{encoded}">'
