"""Promotion gates, judged from evaluation metrics. Pure: the operator and the
CLI both call it, so a model is promoted by the same rule everywhere."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..config.evaluation import FoldSample, Gates


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
    gates: Gates,
    metrics: Mapping[str, float],
    benchmark: Mapping[str, float],
    fold_sample: FoldSample | str | None = None,
) -> list[GateResult]:
    """One result per gate the spec sets. A metric that is undefined fails its gate,
    and so does a fold metric that is not out-of-sample (`fold_sample`)."""
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
    if gates.min_test_bars is not None:
        bars = _number(metrics, "bars")
        ok = bars is not None and bars >= gates.min_test_bars
        results.append(
            GateResult(
                "minTestBars", ok, f"test window {_fmt(bars)} bars vs minimum {gates.min_test_bars}"
            )
        )
    if gates.min_probabilistic_sharpe is not None:
        psr = _number(metrics, "probabilisticSharpe")
        ok = psr is not None and psr >= gates.min_probabilistic_sharpe
        text = f"probabilistic sharpe {_fmt(psr)} vs minimum {gates.min_probabilistic_sharpe:g}"
        results.append(GateResult("minProbabilisticSharpe", ok, text))
    if gates.min_fold_sharpe is not None:
        results.append(_fold_sharpe(gates.min_fold_sharpe, metrics, fold_sample))
    return results


def _fold_sharpe(
    minimum: float, metrics: Mapping[str, float], fold_sample: FoldSample | str | None
) -> GateResult:
    mean = _number(metrics, "foldSharpeMean")
    text = f"fold sharpe mean {_fmt(mean)} vs minimum {minimum:g}"
    if fold_sample != FoldSample.OUT_OF_SAMPLE:
        # The model trained on those folds: a high score there is memory, not skill.
        kind = fold_sample or "unlabelled"
        return GateResult(
            "minFoldSharpe", False, f"{text}, but the fold metrics are {kind}, not out-of-sample"
        )
    ok = mean is not None and mean >= minimum
    return GateResult("minFoldSharpe", ok, text)


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4g}"
