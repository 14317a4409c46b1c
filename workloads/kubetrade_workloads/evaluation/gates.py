"""Promotion gates, judged from evaluation metrics. Pure: the operator and the
CLI both call it, so a model is promoted by the same rule everywhere."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..config.evaluation import Gates


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    message: str


def _number(metrics: Mapping[str, float], key: str) -> float | None:
    value = metrics.get(key)
    if value is None or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def evaluate(
    gates: Gates, metrics: Mapping[str, float], benchmark: Mapping[str, float]
) -> list[GateResult]:
    """One result per gate the spec sets. A metric that is undefined fails its gate."""
    results: list[GateResult] = []
    if gates.min_sharpe is not None:
        sharpe = _number(metrics, "sharpe")
        ok = sharpe is not None and sharpe >= gates.min_sharpe
        results.append(
            GateResult("minSharpe", ok, f"sharpe {_fmt(sharpe)} vs minimum {gates.min_sharpe:g}")
        )
    if gates.max_drawdown is not None:
        dd = _number(metrics, "maxDrawdown")
        ok = dd is not None and abs(dd) <= gates.max_drawdown
        results.append(
            GateResult(
                "maxDrawdown", ok, f"max drawdown {_fmt(dd)} vs limit {gates.max_drawdown:g}"
            )
        )
    if gates.must_beat_benchmark:
        mine, theirs = _number(metrics, "totalReturn"), _number(benchmark, "totalReturn")
        ok = mine is not None and theirs is not None and mine > theirs
        results.append(
            GateResult(
                "mustBeatBenchmark", ok, f"total return {_fmt(mine)} vs benchmark {_fmt(theirs)}"
            )
        )
    return results


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"
