"""The console's chart snapshots in docs/console/ (`make console-snapshots`) stay
pictures: each is an SVG document with something drawn in it, and every one the
docs show is there."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs"
SNAPSHOTS = sorted((DOCS / "console").glob("*.svg"))
SVG = "{http://www.w3.org/2000/svg}"


def _drawn(root: ET.Element) -> bool:
    """A line of two points or more, or a bar of some width."""
    lines = [p.get("points", "").split() for p in root.iter(f"{SVG}polyline")]
    bars = [float(r.get("width", "0")) for r in root.iter(f"{SVG}rect")]
    paths = [p.get("d", "") for p in root.iter(f"{SVG}path")]
    return any(len(points) >= 2 for points in lines) or any(bars) or any(paths)


def test_there_are_snapshots_and_the_docs_show_only_those() -> None:
    shown = set(re.findall(r"\(console/([\w-]+\.svg)\)", (DOCS / "console.md").read_text()))
    assert shown and shown <= {p.name for p in SNAPSHOTS}


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.name)
def test_a_snapshot_is_an_svg_with_a_drawing(path: Path) -> None:
    root = ET.fromstring(path.read_text())  # noqa: S314 (a file of this repository)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") and root.get("width") and root.get("height")
    assert _drawn(root), f"{path.name} draws nothing"
