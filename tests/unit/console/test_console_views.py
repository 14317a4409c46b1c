"""The console's pure parts: inline SVG charts, lineage, caller identity headers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from kubetrade_console.charts import HEIGHT, PAD, bar_chart, line_chart, number_text
from kubetrade_console.kube import Identity
from kubetrade_console.lineage import Edge, lineage


def _points(svg: str) -> list[tuple[float, float]]:
    found = re.search(r'points="([^"]+)"', svg)
    assert found
    return [(float(x), float(y)) for x, y in (p.split(",") for p in found.group(1).split())]


def test_a_line_chart_is_well_formed_svg_with_the_peak_on_top() -> None:
    svg = line_chart("Equity <USD>", [1.0, 3.0, 2.0])
    root = ET.fromstring(svg)  # noqa: S314 (our own markup)
    assert root.tag.endswith("svg") and root.attrib["aria-label"] == "Equity <USD>"
    (x0, y0), (x1, y1), (x2, y2) = _points(svg)
    assert x0 < x1 < x2
    assert y1 == PAD and y0 == HEIGHT - PAD and y0 > y2 > y1  # SVG's y grows downwards


def test_a_flat_or_empty_series_still_draws() -> None:
    assert len({y for _, y in _points(line_chart("flat", [5.0, 5.0]))}) == 1
    assert "no data yet" in line_chart("empty", []) and "<polyline" not in line_chart("e", [])


def test_bars_scale_to_the_largest_and_negative_ones_are_red() -> None:
    svg = bar_chart("Sharpe", [("v1", 2.0), ("v2", -1.0), ("<v3>", 0.5)])
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', svg)]
    assert widths[0] == 2 * widths[1] == 4 * widths[2]
    assert svg.count('fill="#dc2626"') == 1 and "&lt;v3&gt;" in svg


def test_labels_write_thousands_in_full_and_never_minus_zero() -> None:
    assert [number_text(v) for v in (10_590.4, -1234.5, 0.7, -0.1234567, -0.0, 0.0)] == [
        "10,590",
        "-1,234",
        "0.7",
        "-0.1235",
        "0",
        "0",
    ]
    assert ">0</text>" in line_chart("Drawdown", [-0.0, -0.12])


def _obj(name: str, **spec: object) -> dict[str, object]:
    return {"metadata": {"name": name}, "spec": spec}


def test_lineage_follows_spec_references() -> None:
    edges = lineage(
        {
            "datasets": [_obj("ds")],
            "trainingruns": [_obj("tr", datasetRef={"name": "ds"})],
            "models": [
                _obj("m", datasetRef={"name": "ds"}, trainingRunRef={"name": "tr"}),
                _obj("by-hand", datasetRef={"name": "ds"}),
            ],
            "tradingsessions": [_obj("ts", modelRef={"name": "m", "version": 2}), _obj("bare")],
        }
    )
    assert edges == [
        Edge("datasets/ds", "trainingruns/tr"),
        Edge("trainingruns/tr", "models/m"),
        Edge("datasets/ds", "models/by-hand"),
        Edge("models/m", "tradingsessions/ts"),
    ]


def test_impersonation_names_the_user_and_every_group() -> None:
    who = Identity("alice", uid="u-1", groups=("dev", "system:authenticated"))
    assert who.impersonate() == [
        ("Impersonate-User", "alice"),
        ("Impersonate-Group", "dev"),
        ("Impersonate-Group", "system:authenticated"),
    ]
