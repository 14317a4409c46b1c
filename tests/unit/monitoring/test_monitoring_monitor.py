"""The monitor the trader feeds: bounded windows, a report computed only when asked
(and cached in between), and a clean start on the model a swap brings in."""

from __future__ import annotations

import numpy as np
import pytest

from kubetrade_testing.histories import history
from kubetrade_workloads.envs.features import FeatureTransform
from kubetrade_workloads.market.history import History
from kubetrade_workloads.monitoring.monitor import DriftMonitor, Ring
from kubetrade_workloads.monitoring.reference import DriftReference, Expectation, capture


def _prices(n: int, vol: float, seed: int) -> History:
    """Two symbols of random-walk bars whose moves have standard deviation `vol`."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, size=(n, 2)), axis=0))
    open_ = close * np.exp(rng.normal(0.0, vol / 2, size=(n, 2)))
    return history(close, open_=open_, volume=rng.lognormal(13.0, 0.3, size=(n, 2)))


def test_the_ring_keeps_the_newest_rows() -> None:
    ring = Ring(3, (2,))
    for i in range(5):
        ring.push(np.array([i, -i]))
    assert len(ring) == 3 and sorted(ring.values()[:, 0]) == [2.0, 3.0, 4.0]


def _monitor(reference_vol: float, window: int = 200) -> tuple[DriftMonitor, History]:
    calm = _prices(600, reference_vol, seed=1)
    transform = FeatureTransform.fit(calm)
    reference = capture(calm, transform)
    expectation = Expectation(bars=250, mean=0.002, std=0.001)
    return DriftMonitor(transform, reference, expectation, window=window, every=0.0), calm


def _feed(monitor: DriftMonitor, live: History, equity: np.ndarray) -> None:
    for t in range(1, len(live)):
        monitor.observe(live.upto(t, monitor.lookback), float(equity[t]))


def test_a_calm_reference_sees_a_wild_market_drift_and_its_losses_decay() -> None:
    monitor, _ = _monitor(0.002)
    live = _prices(150, 0.03, seed=2)
    _feed(monitor, live, 1e5 * np.cumprod(np.full(len(live), 0.999)))
    report = monitor.report()
    assert report is not None and report["bars"] == len(live) - 1
    assert report["maxPsi"] > 1.0 and report["maxPsiFeature"] in {"log_return", "range"}
    assert set(report["features"]) == {"log_return", "range", "body", "volume_change"}
    decay = report["decay"]
    assert decay["pValue"] < 1e-6 and decay["realisedMean"] == pytest.approx(-0.001)


def test_the_same_market_reads_calm() -> None:
    monitor, _ = _monitor(0.01)
    live = _prices(300, 0.01, seed=3)
    rng = np.random.default_rng(4)
    _feed(monitor, live, 1e5 * np.cumprod(1 + rng.normal(0.002, 0.001, len(live))))
    report = monitor.report()
    assert report is not None
    assert report["maxPsi"] < 0.1 and report["decay"]["pValue"] > 0.01


def test_the_report_is_recomputed_after_a_bar_at_most_every_so_often() -> None:
    monitor, _ = _monitor(0.01)
    monitor.every = 3600.0
    live = _prices(100, 0.01, seed=5)
    _feed(monitor, live, np.full(len(live), 1e5))
    first = monitor.report()
    assert first is not None and first["bars"] == 1  # computed after the first bar only
    monitor.observe(live.upto(50, 2), 1e5)
    assert monitor.report() is first  # within `every`: the last report as it was
    assert monitor.refresh()["bars"] == len(live)  # type: ignore[index]
    assert monitor.report()["bars"] == len(live)  # type: ignore[index]


def test_a_reset_starts_over_on_the_new_models_reference() -> None:
    monitor, calm = _monitor(0.002)
    _feed(monitor, _prices(100, 0.03, seed=6), np.full(100, 1e5))
    assert monitor.report()["maxPsi"] > 1.0  # type: ignore[index]
    wild = _prices(600, 0.03, seed=7)
    transform = FeatureTransform.fit(wild)
    monitor.reset(transform, capture(wild, transform), None)
    assert monitor.report() is None and monitor.bars == 0
    _feed(monitor, _prices(100, 0.03, seed=8), np.full(100, 1e5))
    report = monitor.report()
    assert report is not None and report["maxPsi"] < 0.25 and report["decay"] is None


def test_a_baseline_strategy_is_watched_for_returns_only() -> None:
    monitor = DriftMonitor(None, None, Expectation(bars=100, mean=0.0, std=0.01), every=0.0)
    assert monitor.lookback == 1
    live = _prices(60, 0.01, seed=9)
    _feed(monitor, live, 1e5 * np.cumprod(np.full(60, 1.001)))
    report = monitor.report()
    assert report is not None and report["features"] == {}
    assert report["maxPsi"] is None and report["maxPsiFeature"] is None
    assert report["decay"]["pValue"] > 0.5  # earning more than expected is no decay


def test_a_card_without_a_reference_feature_is_skipped() -> None:
    monitor, calm = _monitor(0.01)
    only = DriftReference(features={"range": monitor.reference.features["range"]})  # type: ignore[union-attr]
    monitor.reset(monitor.transform, only, None)
    _feed(monitor, _prices(80, 0.01, seed=10), np.full(80, 1e5))
    assert set(monitor.report()["features"]) == {"range"}  # type: ignore[index]


def test_after_a_swap_what_the_old_model_reported_is_nulled_for_the_merge_patch() -> None:
    monitor, _ = _monitor(0.002)
    _feed(monitor, _prices(100, 0.03, seed=13), np.full(100, 1e5))
    assert monitor.report()["maxPsi"] > 1.0  # type: ignore[index]
    monitor.reset(None, None, None)  # a baseline strategy: nothing to compare features with
    _feed(monitor, _prices(40, 0.03, seed=14), np.full(40, 1e5))
    report = monitor.report()
    assert report is not None and report["bars"] == 39
    gone = dict.fromkeys(("log_return", "range", "body", "volume_change"))
    assert report["features"] == gone  # null deletes each key from the stored status
    assert (report["maxPsi"], report["maxPsiFeature"], report["decay"]) == (None, None, None)


def test_the_windows_hold_at_most_window_bars() -> None:
    monitor, _ = _monitor(0.01, window=40)
    live = _prices(200, 0.01, seed=12)
    _feed(monitor, live, np.full(200, 1e5))
    report = monitor.report()
    assert report is not None and report["bars"] == 199
    # 40 bars x 2 symbols of values per feature, the newest ones.
    assert monitor._features is not None and len(monitor._features) == 40
