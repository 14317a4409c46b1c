"""Lineage of a namespace's resources: Dataset → TrainingRun → Model → TradingSession.

Pure: lists of objects in, edges out, so the overview page and the API agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Edge:
    """`source` (kind/name) feeds `target` (kind/name)."""

    source: str
    target: str


def _ref(obj: dict[str, Any], field: str) -> str | None:
    ref = obj.get("spec", {}).get(field)
    return str(ref["name"]) if isinstance(ref, dict) and ref.get("name") else None


def _name(obj: dict[str, Any]) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


def lineage(objects: dict[str, list[dict[str, Any]]]) -> list[Edge]:
    """The edges between the namespace's objects, by their spec references."""
    edges: list[Edge] = []
    for run in objects.get("trainingruns", []):
        if ds := _ref(run, "datasetRef"):
            edges.append(Edge(f"datasets/{ds}", f"trainingruns/{_name(run)}"))
    for model in objects.get("models", []):
        if run_name := _ref(model, "trainingRunRef"):
            edges.append(Edge(f"trainingruns/{run_name}", f"models/{_name(model)}"))
        elif ds := _ref(model, "datasetRef"):
            edges.append(Edge(f"datasets/{ds}", f"models/{_name(model)}"))
    for session in objects.get("tradingsessions", []):
        if m := _ref(session, "modelRef"):
            edges.append(Edge(f"models/{m}", f"tradingsessions/{_name(session)}"))
    return edges
