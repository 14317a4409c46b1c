"""`trading-cli status`: the kubetrade resources of a namespace, with phase and key figures.

trading-cli status                    # the current kubeconfig context's namespace
trading-cli status -n trading -o yaml
trading-cli status -A -o json | jq '.[] | select(.phase == "Failed")'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import typer

from .api_access import cluster, resource
from .output import OUTPUT_OPTION, Output, render

COLUMNS = [
    ("kind", "KIND"),
    ("name", "NAME"),
    ("phase", "PHASE"),
    ("age", "AGE"),
    ("figures", "FIGURES"),
    ("message", "MESSAGE"),
]


def _get(data: Mapping[str, Any] | None, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def figures(kind: str, status: Mapping[str, Any]) -> dict[str, Any]:
    """The few numbers that say how a resource is doing (absent ones left out)."""
    if kind == "Dataset":
        symbols = status.get("symbols")
        found = {
            "rows": status.get("rows"),
            "symbols": len(symbols) if symbols else None,
            "features": status.get("features"),
        }
    elif kind == "TrainingRun":
        search = status.get("search") or {}
        trials = search.get("trials")
        found = {
            "progress": _get(status, "progress", "percent"),
            "meanReward": _get(status, "progress", "meanReward"),
            "model": status.get("modelName"),
            # A sweep: how far it got (pruned and failed trials count) and its best.
            "trials": f"{trials} ({search.get('pruned') or 0} pruned)" if trials else None,
            "best": search.get("bestValue"),
        }
    elif kind == "Model":
        gates = status.get("gates") or []
        passed = f"{sum(1 for g in gates if g.get('passed'))}/{len(gates)}" if gates else None
        found = {
            "version": status.get("latestVersion"),
            "ready": status.get("readyVersion"),
            "sharpe": _get(status, "metrics", "sharpe"),
            "maxDrawdown": _get(status, "metrics", "maxDrawdown"),
            "gates": passed,
        }
    else:
        found = {
            "equity": _get(status, "trading", "equity"),
            "pnl": _get(status, "trading", "totalPnl"),
            "drawdown": _get(status, "trading", "drawdown"),
            "state": _get(status, "trading", "tradingState"),
        }
    return {k: v for k, v in found.items() if v is not None}


def age(created: str | None, now: dt.datetime) -> str:
    """kubectl's AGE: the largest whole unit (s, m, h, d)."""
    if not created:
        return ""
    seconds = int((now - dt.datetime.fromisoformat(created.replace("Z", "+00:00"))).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def summarize(obj: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """One resource as a status record."""
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    kind = str(obj.get("kind"))
    current = status.get("observedGeneration") == meta.get("generation")
    return {
        "kind": kind,
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "phase": status.get("phase") or "Unknown",
        "observed": current,
        "age": age(meta.get("creationTimestamp"), now),
        "figures": figures(kind, status),
        "message": status.get("message") or "",
    }


def _cell(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def table_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records flattened for the table: figures as `key=value`, long messages cut."""
    rows = []
    for r in records:
        phase = r["phase"] if r["observed"] else f"{r['phase']} (stale)"
        message = r["message"] if len(r["message"]) <= 60 else r["message"][:57] + "..."
        rows.append(
            {
                **r,
                "phase": phase,
                "message": message,
                "figures": " ".join(f"{k}={_cell(v)}" for k, v in r["figures"].items()),
            }
        )
    return rows


def _plain(obj: Any) -> dict[str, Any]:
    return dict(obj.to_dict())


def fetch(namespace: str | None, all_namespaces: bool) -> list[dict[str, Any]]:
    """Every kubetrade resource in the namespace (or all), from the current kubeconfig;
    a cluster that cannot answer ends the command (exit 1)."""
    from lightkube import ALL_NS

    from ..api import KINDS

    found = []
    with cluster() as client:
        where = ALL_NS if all_namespaces else (namespace or client.namespace)
        for kind in KINDS:
            for obj in client.list(resource(kind.kind, kind.plural), namespace=where):
                found.append({**_plain(obj), "kind": kind.kind})
    return found


def status(
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", help="Namespace; the kubeconfig context's by default."
    ),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Every namespace."),
    output: Output = OUTPUT_OPTION,
) -> None:
    """Datasets, TrainingRuns, Models and TradingSessions with phase and key figures."""
    objects = fetch(namespace, all_namespaces)
    records = [summarize(o, dt.datetime.now(dt.UTC)) for o in objects]
    columns = [("namespace", "NAMESPACE"), *COLUMNS] if all_namespaces else COLUMNS
    if output == Output.TABLE and not records:
        typer.echo("No kubetrade resources found.", err=True)
        return
    typer.echo(render(records, output, columns, table_rows(records)), nl=False)
