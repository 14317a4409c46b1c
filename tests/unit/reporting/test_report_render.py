"""Charts are PNGs, the HTML page is self-contained, the PDF is a PDF with pages."""

from __future__ import annotations

import base64
import re
import struct
from html.parser import HTMLParser

import pandas as pd
import pytest

from kubetrade_testing.reports import returns_frame
from kubetrade_workloads.reporting import charts
from kubetrade_workloads.reporting.analysis import Analysis, analyze
from kubetrade_workloads.reporting.html import render_html
from kubetrade_workloads.reporting.inputs import ReportData, from_frame
from kubetrade_workloads.reporting.pdf import render_pdf

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report() -> tuple[ReportData, Analysis]:
    data = from_frame(returns_frame(bars=400))
    folds = pd.DataFrame(
        [
            {"fold": "fold-1", "start": "2021-01-04", "end": "2021-06-30", "sharpe": 0.8},
            {"fold": "fold-2", "start": "2021-07-01", "end": "2021-12-31", "sharpe": -0.2},
        ]
    )
    data = ReportData(data.returns, 252.0, data.benchmark, folds, title="Test <report>")
    return data, analyze(data)


@pytest.fixture(scope="module")
def pngs(report: tuple[ReportData, Analysis]) -> dict[str, bytes]:
    return charts.all_pngs(*report)


def _size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG)
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    return int(width), int(height)


def test_every_chart_is_a_png_of_a_sensible_size(pngs: dict[str, bytes]) -> None:
    assert list(pngs) == ["equity", "drawdown", "rolling_sharpe", "distribution", "monthly"]
    for name, png in pngs.items():
        width, height = _size(png)
        assert width == 880, name  # 8 inches at 110 dpi
        assert 150 < height < 600, name


def test_charts_survive_a_flat_or_tiny_series() -> None:
    index = pd.bdate_range("2024-01-01", periods=3, tz="UTC")
    data = from_frame(pd.DataFrame({"timestamp": index, "returns": 0.0}))
    for fig in charts.all_charts(data, analyze(data)).values():
        assert charts.png(fig).startswith(PNG)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values["src"] or "")
        if tag == "table":
            self.tables += 1
        if tag in ("link", "script", "a"):
            self.links.append(tag)


def test_html_is_self_contained(
    report: tuple[ReportData, Analysis], pngs: dict[str, bytes]
) -> None:
    page = render_html(*report, pngs=pngs)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    parser = _Collect()
    parser.feed(page)
    assert len(parser.images) == 5 and parser.links == []
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert parser.tables == 6  # performance, folds, VaR, Kupiec, worst windows, shocks
    assert "Test &lt;report&gt;" in page and "<report>" not in page
    assert "Walk-forward folds" in page and "fold-2" in page


def test_html_without_charts(report: tuple[ReportData, Analysis]) -> None:
    assert "<img" not in render_html(*report, include_charts=False)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_pdf_has_a_header_pages_and_an_end(
    report: tuple[ReportData, Analysis], pngs: dict[str, bytes]
) -> None:
    pdf = render_pdf(*report, pngs=pngs)
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    assert _pages(pdf) >= 3
    assert pdf.count(b"/Subtype /Image") >= 5  # the PNGs, plus their alpha masks
    text_only = render_pdf(*report, include_charts=False)
    assert 1 <= _pages(text_only) < _pages(pdf)
    assert b"/Subtype /Image" not in text_only
