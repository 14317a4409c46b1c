"""The cost model: basis points, volume-based slippage, one order or many."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrade_workloads.config.costs import CostConfig
from kubetrade_workloads.market.costs import CostModel


def test_buys_pay_up_and_sells_receive_less_by_the_slippage() -> None:
    costs = CostModel(commission_bps=10.0, slippage_bps=20.0)
    assert costs.fill_price(5.0, 100.0, 1e6) == pytest.approx(100.2)
    assert costs.fill_price(-5.0, 100.0, 1e6) == pytest.approx(99.8)
    assert costs.commission(-5.0, 99.8) == pytest.approx(5 * 99.8 * 0.001)


def test_volume_based_slippage_grows_with_participation_and_caps_at_full_volume() -> None:
    costs = CostModel(slippage_bps=1.0, impact_bps=100.0)
    assert costs.fill_price(10.0, 100.0, 1000.0) == pytest.approx(100.0 * (1 + 1e-4 + 0.01 * 0.01))
    assert costs.fill_price(5000.0, 100.0, 1000.0) == pytest.approx(100.0 * (1 + 1e-4 + 0.01))
    # A bar without volume counts as full participation, never a division by zero.
    assert costs.fill_price(1.0, 100.0, 0.0) == pytest.approx(100.0 * (1 + 1e-4 + 0.01))


def test_from_config_takes_the_typed_costs() -> None:
    config = CostConfig(commission_bps=3.0, slippage_bps=4.0, allow_short=True)
    assert CostModel.from_config(config, impact_bps=7.0) == CostModel(3.0, 4.0, 7.0, True)


@pytest.mark.parametrize("field", ["commission_bps", "slippage_bps", "impact_bps"])
@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
def test_negative_or_non_finite_costs_are_refused(field: str, value: float) -> None:
    values: dict[str, float] = {field: value}
    with pytest.raises(ValueError, match=field):
        CostModel(**values)  # type: ignore[arg-type]


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    quantity=finite,
    reference=st.floats(min_value=1e-3, max_value=1e5),
    volume=st.floats(min_value=0.0, max_value=1e7),
    commission=st.floats(min_value=0, max_value=100),
    slippage=st.floats(min_value=0, max_value=100),
    impact=st.sampled_from([0.0, 5.0, 250.0]),
)
def test_one_order_and_an_array_of_orders_agree_to_the_last_bit(
    quantity: float,
    reference: float,
    volume: float,
    commission: float,
    slippage: float,
    impact: float,
) -> None:
    costs = CostModel(commission, slippage, impact)
    one = costs.fill_price(quantity, reference, volume)
    many = costs.fill_prices(np.array([quantity]), np.array([reference]), np.array([volume]))
    assert one == many[0]
    assert costs.commission(quantity, one) == costs.commissions(np.array([quantity]), many)[0]
