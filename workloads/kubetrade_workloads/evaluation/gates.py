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
        results.append(_at_least("minSharpe", metrics, "sharpe", gates.min_sharpe, "sharpe {}"))
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
        results.append(
            _at_least("minTestBars", metrics, "bars", gates.min_test_bars, "test window {} bars")
        )
    if gates.min_probabilistic_sharpe is not None:
        results.append(
            _at_least(
                "minProbabilisticSharpe",
                metrics,
                "probabilisticSharpe",
                gates.min_probabilistic_sharpe,
                "probabilistic sharpe {}",
            )
        )
    if gates.min_deflated_sharpe is not None:
        results.append(
            _at_least(
                "minDeflatedSharpe",
                metrics,
                "deflatedSharpe",
                gates.min_deflated_sharpe,
                "deflated sharpe {}",
            )
        )
    if gates.min_fold_sharpe is not None:
        results.append(_fold_sharpe(gates.min_fold_sharpe, metrics, fold_sample))
    return results


def _at_least(
    name: str, metrics: Mapping[str, float], key: str, minimum: float, what: str
) -> GateResult:
    """Passes when metric `key` is defined and at least `minimum`; `what` names it."""
    value = _number(metrics, key)
    ok = value is not None and value >= minimum
    return GateResult(name, ok, f"{what.format(_fmt(value))} vs minimum {minimum:g}")


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
