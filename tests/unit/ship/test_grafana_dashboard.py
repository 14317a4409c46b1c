"""The Grafana dashboard is a valid dashboard, and every metric it queries is one
the operator registers or one the trader metrics list (deploy/grafana/README.md)
documents."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.metrics_core import Metric

import kubetrade_operator.metrics as operator_metrics

GRAFANA = Path(__file__).resolve().parents[3] / "deploy" / "grafana"
DASHBOARD: dict[str, Any] = json.loads((GRAFANA / "kubetrade.json").read_text())
METRIC = re.compile(r"\bkubetrade_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}


def exposed(families: list[Metric]) -> set[str]:
    """Sample names Prometheus sees for these metric families."""
    return {f.name + suffix for f in families for suffix in SUFFIXES.get(f.type, ("",))}


def documented(section: str) -> dict[str, str]:
    """Metric → type from the README table under the line starting with `section`."""
    text = (GRAFANA / "README.md").read_text().split(f"\n{section}", 1)[1]
    table = text.split("\n\n", 2)[1]
    return dict(re.findall(r"^\| `(kubetrade_[a-z0-9_]+)` \| (\w+) \|", table, flags=re.M))


def _as_families(docs: dict[str, str]) -> list[Metric]:
    # prometheus_client names a counter family without its `_total` suffix.
    return [
        Metric(name.removesuffix("_total") if kind == "counter" else name, "", kind)
        for name, kind in docs.items()
    ]


def panels() -> list[dict[str, Any]]:
    out = []
    for panel in DASHBOARD["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def queried() -> set[str]:
    exprs = [t["expr"] for p in panels() for t in p.get("targets", [])]
    exprs += [str(v.get("definition", "")) for v in DASHBOARD["templating"]["list"]]
    return {m for e in exprs for m in METRIC.findall(e)}


def test_dashboard_is_well_formed() -> None:
    assert DASHBOARD["uid"] == "kubetrade" and DASHBOARD["title"]
    assert isinstance(DASHBOARD["schemaVersion"], int)
    ids = [p["id"] for p in panels()]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    variables = {v["name"] for v in DASHBOARD["templating"]["list"]}
    assert {"datasource", "namespace", "pod"} <= variables
    for panel in panels():
        grid = panel["gridPos"]
        assert grid["w"] <= 24 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel.get("description"), panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs))
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]
            used = set(re.findall(r"\$(\w+)", target["expr"])) - {"__rate_interval", "__range"}
            assert used <= variables, (panel["title"], used)


def test_operator_and_trader_panels_exist() -> None:
    metrics = queried()
    for name in (
        "kubetrade_reconcile_total",
        "kubetrade_reconcile_errors_total",
        "kubetrade_reconcile_duration_seconds_bucket",
        "kubetrade_children_created_total",
        "kubetrade_trader_equity",
        "kubetrade_trader_pnl_total",
        "kubetrade_trader_drawdown",
        "kubetrade_trader_orders_total",
        "kubetrade_trader_decision_latency_seconds_bucket",
    ):
        assert name in metrics, name


def test_every_queried_metric_exists() -> None:
    assert operator_metrics.RECONCILES  # registered on import
    operator = exposed([f for f in REGISTRY.collect() if f.name.startswith("kubetrade_")])
    assert documented("Operator") and exposed(_as_families(documented("Operator"))) <= operator
    trader = exposed(_as_families(documented("Trader")))
    unknown = queried() - operator - trader
    assert not unknown, f"queried but neither registered nor documented: {sorted(unknown)}"


def test_documented_trader_metrics_match_the_trader() -> None:
    trading = pytest.importorskip("kubetrade_workloads.trading.metrics")
    registry = CollectorRegistry()
    trading.TraderMetrics(registry=registry)
    actual = exposed(list(registry.collect()))
    assert exposed(_as_families(documented("Trader"))) == actual
