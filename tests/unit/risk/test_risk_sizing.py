"""Position sizing math, alone and through the manager."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kubetrade_testing.risk import FakeClock, view
from kubetrade_workloads.config.risk import RiskConfig, SizingMethod
from kubetrade_workloads.risk import sizing
from kubetrade_workloads.risk.history import PriceHistory
from kubetrade_workloads.risk.manager import RiskManager
from kubetrade_workloads.risk.sizing import Vector


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


def _sized(method: SizingMethod, stats: tuple[Vector, Vector, Vector]) -> Vector:
    """Two symbols with a full long signal, sized at a 7% fraction or 10% volatility."""
    return sizing.sized_weights(
        np.ones(2),
        stats,
        method=method,
        fraction=0.07,
        target_volatility=0.10,
        kelly_fraction=0.5,
        cap=1.0,
        periods_per_year=252.0,
        min_history=20,
    )


def test_the_estimate_takes_over_at_exactly_min_history_returns() -> None:
    count, mean, variance = np.array([19.0, 20.0]), np.zeros(2), np.full(2, 0.01**2)
    weights = _sized(SizingMethod.VOLATILITY_TARGET, (count, mean, variance))
    assert weights == pytest.approx([0.07, 0.10 / (0.01 * math.sqrt(252))])


def test_a_price_that_never_moved_is_not_sized_as_riskless() -> None:
    # A halted or stale quote: no variance over the window. Volatility targeting
    # would put it at the position limit; it keeps the fixed fraction instead.
    stats = (np.array([40.0, 40.0]), np.zeros(2), np.array([0.0, 0.01**2]))

    def sized(method: SizingMethod) -> list[float]:
        return [float(w) for w in _sized(method, stats)]

    volatility = 0.01 * math.sqrt(252)
    assert sized(SizingMethod.VOLATILITY_TARGET) == pytest.approx([0.07, 0.10 / volatility])
    assert sized(SizingMethod.KELLY) == [0.0, 0.0]  # no edge either way


def test_weights_are_capped_at_the_position_limit() -> None:
    manager = _primed("volatility_target", np.tile([0.0001, -0.0001], 30))
    assert manager.target_weight("AAA", 1.0) == pytest.approx(1.0)
    assert manager.target_weight("AAA", 3.0) == pytest.approx(1.0)


def test_without_a_method_targets_pass_as_they_are() -> None:
    manager = RiskManager(RiskConfig(), FakeClock())  # the profiles name no method
    targets = np.array([0.6, -2.0, 0.0])
    assert manager.size(["AAA", "BBB", "CCC"], targets) is targets


def test_each_symbol_is_sized_on_its_own_history() -> None:
    # BBB lists 40 bars after AAA: fewer than min_history returns, so the fixed fraction.
    manager = RiskManager(
        RiskConfig.model_validate(
            {
                "limits": {"maxPositionWeight": 1.0, "maxGrossExposure": 3.0},
                "sizing": {"method": "volatility_target", "fraction": 0.07},
            }
        ),
        FakeClock(),
        min_history=20,
    )
    swings = np.tile([0.01, -0.01], 30)
    prices = 100.0 * np.cumprod(np.concatenate([[1.0], 1.0 + swings]))
    for k, p in enumerate(prices):
        manager.on_bar(view(prices={"AAA": float(p)} | ({"BBB": 50.0} if k > 40 else {})))
    sized = manager.size(["AAA", "BBB", "NEW"], np.array([1.0, -1.0, 0.5]))
    vol = swings.std(ddof=1) * math.sqrt(252)
    assert sized == pytest.approx([0.15 / vol, -0.07, 0.035])  # moderate's target: 0.15
    assert manager.target_weight("AAA", 1.0) == pytest.approx(sized[0])  # one code path


signals = arrays(np.float64, st.integers(1, 8), elements=st.floats(-3.0, 3.0))
moments = st.tuples(st.integers(0, 60), st.floats(-0.01, 0.01), st.floats(0.0, 0.01))


@example(  # a subnormal variance: Kelly's mean / variance overflows, and is capped
    signal=np.array([1.0, 0.0]),
    stats=(40, 0.0078125, 5e-324),
    method=SizingMethod.KELLY,
    fraction=1.0,
    cap=1.0,
)
@given(
    signal=signals,
    stats=moments,
    method=st.sampled_from(list(SizingMethod)),
    fraction=st.floats(0.01, 1.0),
    cap=st.floats(0.01, 1.0),
)
def test_sized_weights_follow_the_signal_and_respect_the_cap(
    signal: np.ndarray,
    stats: tuple[int, float, float],
    method: SizingMethod,
    fraction: float,
    cap: float,
) -> None:
    count, mean, variance = (np.full(signal.shape, float(v)) for v in stats)
    sized = sizing.sized_weights(
        signal,
        (count, mean, variance),
        method=method,
        fraction=fraction,
        target_volatility=0.15,
        kelly_fraction=0.5,
        cap=cap,
        periods_per_year=252.0,
        min_history=20,
    )
    assert np.isfinite(sized).all()
    assert (np.abs(sized) <= cap + 1e-12).all()
    assert (sized * signal >= 0.0).all()  # never against the signal
    assert (np.abs(sized) <= np.abs(signal) * cap + 1e-12).all()  # conviction scales it
    if method == SizingMethod.FIXED_FRACTION or stats[0] < 20:
        expected = np.clip(signal, -1.0, 1.0) * min(fraction, cap)
        np.testing.assert_allclose(sized, expected)


@given(
    gaps=arrays(np.bool_, (25, 3)),
    moves=arrays(np.float64, (25, 3), elements=st.floats(-0.05, 0.05)),
)
def test_history_moments_are_each_symbols_own(gaps: np.ndarray, moves: np.ndarray) -> None:
    history = PriceHistory(lookback=30)
    prices = 100.0 * np.cumprod(1.0 + moves, axis=0)
    for row, missing in zip(prices, gaps, strict=True):
        history.record({s: float(p) for s, p, m in zip("ABC", row, missing, strict=True) if not m})
    count, mean, variance = history.moments(["A", "B", "C", "Z"])
    assert count[3] == 0.0  # never seen
    for j, symbol in enumerate("ABC"):
        r = history.returns([symbol])[:, 0]
        assert count[j] == r.size
        if r.size >= 1:
            assert mean[j] == pytest.approx(r.mean(), abs=1e-15)
        if r.size >= 2:
            assert variance[j] == pytest.approx(r.var(ddof=1), rel=1e-9, abs=1e-18)
