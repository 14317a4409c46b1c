"""A paper session's drift monitor: bars unlike the model's training split make the
report drift (and the operator's verdict True); bars like it do not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from kubetrade_operator.api import TradingSessionSpec
from kubetrade_operator.builders.drift import drift_verdict
from kubetrade_testing.trading import trade_job
from kubetrade_workloads.data.sources.synthetic import SyntheticSource
from kubetrade_workloads.envs.features import FeatureTransform
from kubetrade_workloads.monitoring.monitor import DriftMonitor
from kubetrade_workloads.monitoring.reference import (
    DriftReference,
    Expectation,
    feature_reference,
    model_features,
)
from kubetrade_workloads.trading.assemble import build
from kubetrade_workloads.trading.feeds.base import aligned
from kubetrade_workloads.trading.job import drift_monitor

SYMBOLS = ("AAPL", "MSFT")
BARS = 80
NOW = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)


def _training_split(seed: int) -> tuple[FeatureTransform, np.ndarray]:
    """A model's transform and its unscaled features on another stretch of synthetic market."""
    frame = SyntheticSource(seed).fetch(
        list(SYMBOLS), "1d", dt.date(2015, 1, 5), dt.date(2017, 1, 5)
    )
    history = aligned(frame, SYMBOLS)
    transform = FeatureTransform.fit(history)
    return transform, model_features(history, transform)[transform.warmup :]


def _reference(values: np.ndarray, names: tuple[str, ...], scale: float) -> DriftReference:
    """The reference a model trained on `values` x `scale` would carry (scale < 1: calmer)."""
    refs = {n: feature_reference(values[..., j].ravel() * scale) for j, n in enumerate(names)}
    return DriftReference(features={n: r for n, r in refs.items() if r is not None})


def _trade(tmp_path: Path, monitor: DriftMonitor) -> dict[str, Any]:
    """Trade BARS synthetic bars with `monitor`; the drift report the status carries."""
    assembly = build(trade_job(tmp_path, symbols=list(SYMBOLS)))
    trader = assembly.trader
    trader.p.monitor = monitor
    try:
        assembly.resume()
        for _ in range(BARS):
            bar = assembly.feed.next(5.0)
            assert bar is not None
            trader.on_bar(bar)
        status = trader.snapshot().status()
    finally:
        assembly.close()
    report: dict[str, Any] = status["trading"]["drift"]
    return report


SPEC = TradingSessionSpec.model_validate({"modelRef": {"name": "m"}, "drift": {"minBars": 60}})


def test_bars_from_a_shifted_market_drift_and_the_report_carries_it(tmp_path: Path) -> None:
    transform, values = _training_split(seed=3)
    calm = _reference(values, transform.names, scale=0.25)  # trained on a quarter of the moves
    # It promised 1% a bar with a tiny spread; a moving-average crossover earns ~0.
    promise = Expectation(bars=250, mean=0.01, std=0.001)
    report = _trade(tmp_path, DriftMonitor(transform, calm, promise, window=60, every=0.0))
    assert report["bars"] == BARS
    assert report["maxPsi"] > 0.25 and report["maxPsiFeature"] in transform.names
    assert report["decay"]["pValue"] < 0.01 and report["decay"]["bars"] == 60  # the window
    cond, _ = drift_verdict(SPEC, {"trading": {"drift": report}}, training_run=None, now=NOW)
    assert (cond.status, cond.reason) == ("True", "FeatureDriftAndDecay")


def test_bars_like_the_training_split_do_not(tmp_path: Path) -> None:
    transform, values = _training_split(seed=3)
    like = _reference(values, transform.names, scale=1.0)
    report = _trade(tmp_path, DriftMonitor(transform, like, None, window=60, every=0.0))
    assert report["maxPsi"] < 0.25 and report["decay"] is None
    cond, _ = drift_verdict(SPEC, {"trading": {"drift": report}}, training_run=None, now=NOW)
    assert (cond.status, cond.reason) == ("False", "NoDrift")


def test_a_baseline_session_reports_bars_without_features(tmp_path: Path) -> None:
    job = trade_job(tmp_path, symbols=list(SYMBOLS), drift={"window": 30})
    assembly = build(job)
    monitor = drift_monitor(job, assembly.trader.p.strategy)
    assembly.close()
    assert (monitor.window, monitor.transform, monitor.expectation) == (30, None, None)
