"""Position sizing math, alone and through the manager."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kubetrade_testing.risk import FakeClock, view
from kubetrade_workloads.config.risk import RiskConfig
from kubetrade_workloads.risk import sizing
from kubetrade_workloads.risk.manager import RiskManager


def test_sizing_functions() -> None:
    assert sizing.fixed_fraction(0.1) == 0.1
    assert sizing.volatility_target(0.15, 0.30) == pytest.approx(0.5)
    assert sizing.volatility_target(0.15, 0.0) == math.inf
    assert sizing.kelly(0.001, 0.0001, 0.5) == pytest.approx(5.0)
    assert sizing.kelly(-0.001, 0.0001) == pytest.approx(-10.0)
    assert sizing.kelly(0.001, 0.0) == 0.0
    assert sizing.discrete_kelly(0.6, 1.0) == pytest.approx(0.2)
    assert sizing.discrete_kelly(0.55, 2.0, 0.5) == pytest.approx(0.5 * (0.55 - 0.45 / 2))
    assert sizing.discrete_kelly(0.3, 1.0) == 0.0
    with pytest.raises(ValueError):
        sizing.discrete_kelly(1.5, 1.0)
    with pytest.raises(ValueError):
        sizing.discrete_kelly(0.5, 0.0)


def _primed(method: str, returns: np.ndarray, **sizing_fields: float) -> RiskManager:
    config = RiskConfig.model_validate(
        {
            "profile": "aggressive",
            "limits": {"maxPositionWeight": 1.0, "maxGrossExposure": 3.0},
            "sizing": {"method": method, **sizing_fields},
        }
    )
    manager = RiskManager(config, FakeClock(), lookback=len(returns), min_history=20)
    prices = 100.0 * np.cumprod(np.concatenate([[1.0], 1.0 + returns]))
    for p in prices:
        manager.on_bar(view(prices={"AAA": float(p)}))
    return manager


def test_volatility_target_weight() -> None:
    r = np.tile([0.01, -0.01], 30)
    manager = _primed("volatility_target", r, targetVolatility=0.10)
    vol = r.std(ddof=1) * math.sqrt(252)
    assert manager.target_weight("AAA", 1.0) == pytest.approx(0.10 / vol)
    assert manager.target_weight("AAA", -0.5) == pytest.approx(-0.05 / vol)


def test_kelly_weight_follows_the_edge_and_never_bets_against_it() -> None:
    r = np.tile([0.012, -0.01], 30)
    manager = _primed("kelly", r, kellyFraction=0.5)
    full = r.mean() / r.var(ddof=1)
    assert manager.target_weight("AAA", 1.0) == pytest.approx(min(0.5 * full, 1.0))
    assert manager.target_weight("AAA", -1.0) == 0.0  # the edge is long


def test_fixed_fraction_and_the_fallback_before_history() -> None:
    manager = RiskManager(
        RiskConfig.model_validate({"sizing": {"method": "volatility_target", "fraction": 0.07}}),
        FakeClock(),
    )
    assert manager.target_weight("AAA", 1.0) == pytest.approx(0.07)  # no history yet
    assert manager.target_weight("AAA", 0.0) == 0.0
    assert manager.target_quantity("AAA", 1.0, view(prices={"AAA": 50.0})) == pytest.approx(140)
    assert manager.target_quantity("BBB", 1.0, view(prices={"AAA": 50.0})) == 0.0


def test_weights_are_capped_at_the_position_limit() -> None:
    manager = _primed("volatility_target", np.tile([0.0001, -0.0001], 30))
    assert manager.target_weight("AAA", 1.0) == pytest.approx(1.0)
    assert manager.target_weight("AAA", 3.0) == pytest.approx(1.0)
