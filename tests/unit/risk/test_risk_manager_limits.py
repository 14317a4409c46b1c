"""Each order limit in the ACTIVE state: resize to fit, or refuse with the reason."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kubetrade_testing.risk import FakeClock, manager, order, view
from kubetrade_workloads.config.risk import RiskConfig
from kubetrade_workloads.market.types import Side
from kubetrade_workloads.risk import limits
from kubetrade_workloads.risk.events import RiskEventKind
from kubetrade_workloads.risk.manager import RiskManager
from kubetrade_workloads.risk.var import portfolio_var


def test_position_weight_resizes_an_order_to_the_limit() -> None:
    m = manager(max_position_weight=0.2, max_gross_exposure=1.0)
    decision = m.check(order(quantity=500), view(100_000, {"AAA": 50}))
    assert decision.order is not None and decision.order.quantity == pytest.approx(150)
    assert "maxPositionWeight=0.2" in decision.reason
    assert m.drain_events()[-1].kind == RiskEventKind.ORDER_RESIZED


def test_position_weight_applies_to_shorts() -> None:
    m = manager(max_position_weight=0.2)
    decision = m.check(order(quantity=500, side=Side.SELL), view(100_000))
    assert decision.order is not None and decision.order.quantity == pytest.approx(200)


def test_a_full_position_refuses_more() -> None:
    m = manager(max_position_weight=0.2)
    decision = m.check(order(quantity=1), view(100_000, {"AAA": 200}))
    assert decision.order is None and "maxPositionWeight" in decision.reason
    assert m.drain_events()[-1].kind == RiskEventKind.ORDER_REFUSED


def test_gross_exposure_counts_the_other_positions() -> None:
    m = manager(max_position_weight=0.5, max_gross_exposure=1.0)
    v = view(100_000, {"BBB": -400, "CCC": 300}, {"AAA": 100.0, "BBB": 100.0, "CCC": 100.0})
    decision = m.check(order(quantity=1000), v)
    assert decision.order is not None and decision.order.quantity == pytest.approx(300)
    assert "maxGrossExposure=1" in decision.reason


def test_orders_that_shrink_always_pass() -> None:
    m = manager(max_position_weight=0.1, max_gross_exposure=0.2)
    v = view(100_000, {"AAA": 900})  # far over both limits after a rally
    assert m.check(order(quantity=100, side=Side.SELL), v).order is not None


def test_a_reversal_keeps_the_close_and_limits_the_new_side() -> None:
    m = manager(max_position_weight=0.2)
    decision = m.check(order(quantity=600, side=Side.SELL), view(100_000, {"AAA": 150}))
    assert decision.order is not None and decision.order.quantity == pytest.approx(350)


def test_an_order_without_a_price_is_refused() -> None:
    decision = manager().check(order("ZZZ"), view())
    assert decision.order is None and "no price for ZZZ" in decision.reason


def test_a_limit_price_stands_in_for_a_missing_mark() -> None:
    from dataclasses import replace

    limit_order = replace(order("ZZZ", quantity=1000), limit_price=50.0)
    decision = manager(max_position_weight=0.2).check(limit_order, view())
    assert decision.order is not None and decision.order.quantity == pytest.approx(400)


def test_quantity_step_rounds_resized_orders_down() -> None:
    config = RiskConfig.model_validate({"limits": {"maxPositionWeight": 0.2}})
    m = RiskManager(config, FakeClock(), quantity_step=1.0)
    decision = m.check(order(quantity=500), view(100_000, prices={"AAA": 300.0}))
    assert decision.order is not None and decision.order.quantity == 66


def _with_history(m: RiskManager, symbols: tuple[str, ...], bars: int = 40) -> None:
    rng = np.random.default_rng(5)
    paths = 100 * np.cumprod(1 + rng.normal(0, 0.02, (bars, len(symbols))), axis=0)
    for row in paths:
        m.on_bar(view(100_000, {}, dict(zip(symbols, map(float, row), strict=True))))


def test_var_limit_resizes_an_order_to_exactly_the_limit() -> None:
    m = manager(max_var=0.01, max_position_weight=1.0, max_gross_exposure=3.0)
    _with_history(m, ("AAA", "BBB"))
    prices = {"AAA": 100.0, "BBB": 100.0}
    v = view(100_000, {"BBB": 200}, prices)
    decision = m.check(order(quantity=900), v)
    assert decision.order is not None and "maxVar=0.01" in decision.reason
    # Rebuild the portfolio the resized order leads to and price its VaR.
    cov = m._history.covariance(["AAA", "BBB"], 20)  # noqa: SLF001 - the test checks the math
    assert cov is not None
    w = np.array([decision.order.quantity * 100 / 100_000, 0.2])
    assert portfolio_var(w, cov, 0.95) == pytest.approx(0.01, rel=1e-6)


def test_var_is_not_enforced_without_history_and_says_so() -> None:
    m = manager(max_var=0.001, max_position_weight=1.0)
    decision = m.check(order(quantity=100), view(100_000))
    assert decision.order is not None and decision.order.quantity == 100
    notes = [e for e in m.drain_events() if e.kind == RiskEventKind.VAR_UNAVAILABLE]
    assert len(notes) == 1 and "fewer than 20 bars" in notes[0].detail
    m.check(order(quantity=100), view(100_000))
    assert not [e for e in m.drain_events() if e.kind == RiskEventKind.VAR_UNAVAILABLE]


def test_warm_up_primes_the_history() -> None:
    import pandas as pd

    m = manager(max_var=0.005, max_position_weight=1.0)
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"AAA": 100 * np.cumprod(1 + rng.normal(0, 0.02, 30))})
    m.warm_up(frame)
    decision = m.check(order(quantity=900), view(100_000))
    assert decision.order is not None and decision.order.quantity < 900


@pytest.mark.parametrize(
    ("a", "b", "c", "expected"),
    [(1.0, 0.0, -4.0, 2.0), (1.0, 0.0, 1.0, -math.inf), (0.0, 0.0, -1.0, math.inf)],
)
def test_quadratic_bound(a: float, b: float, c: float, expected: float) -> None:
    assert limits.max_scale_quadratic(a, b, c) == expected


def test_cap_bound() -> None:
    assert limits.max_scale_for_cap(50, 100, 150) == 1.0
    assert limits.max_scale_for_cap(-50, -100, 100) == 0.5
    assert limits.shrinks(100, -100) and not limits.shrinks(100, -101)
    assert limits.crosses(-10, 11) and not limits.crosses(0, 5)
