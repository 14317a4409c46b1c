"""The pro-forma exposure: judging a decision's orders against one `Exposure` that
books each allowed order gives what judging each against a view rebuilt with the
earlier orders filled gives (the trader's rule), for every limit and state."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubetrade_testing.risk import FakeClock, manager, order, view
from kubetrade_workloads.market.ports import PortfolioView
from kubetrade_workloads.market.types import Position, Side
from kubetrade_workloads.risk.exposure import Exposure
from kubetrade_workloads.risk.manager import RiskManager

SYMBOLS = ["AAA", "BBB", "CCC", "DDD"]


def _rebuilt(base: PortfolioView, held: dict[str, Position]) -> PortfolioView:
    """`base` with `held` as its positions, the difference paid from cash at the marks."""
    cash = base.cash
    for symbol, position in held.items():
        before = base.positions.get(symbol)
        cash -= (position.quantity - (before.quantity if before else 0.0)) * base.prices[symbol]
    return dataclasses.replace(base, cash=cash, positions=dict(held))


def _shape(reason: str) -> str:
    """A reason without its figures or the name of the binding limit.

    The two ways of summing weights differ in the last bit: a figure printed
    at two decimals can round the other way, and where two limits bind at
    exactly the same size (a position at its cap while gross exposure is at
    its own) either may be named. The decision itself is the same, and the
    quantities are compared on their own.
    """
    return re.sub(r"\d+(\.\d+)?(e-?\d+)?", "#", reason.split(": limit ")[0])


def _at_an_edge(allowed: float, asked: float) -> bool:
    """Whether an allowed quantity is within float noise of none or all of the order:
    there the last bit decides between refused, resized and passed."""
    return min(abs(allowed), abs(asked - allowed)) <= 1e-9 * max(asked, 1.0)


def _warmed(returns: np.ndarray, limits: dict[str, float]) -> RiskManager:
    m = manager(FakeClock(), **limits)
    prices = 100.0 * np.cumprod(1.0 + returns, axis=0)
    m.warm_up(pd.DataFrame(prices, columns=SYMBOLS))
    return m


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    held=st.lists(st.integers(-300, 300), min_size=4, max_size=4),
    orders=st.lists(
        st.tuples(st.sampled_from(SYMBOLS), st.integers(-600, 600).filter(bool)),
        min_size=1,
        max_size=12,
    ),
    max_var=st.sampled_from([0.005, 0.02, 0.5]),
    max_gross=st.sampled_from([0.3, 0.8, 2.0]),
)
def test_booking_into_one_exposure_judges_as_rebuilt_views_do(
    seed: int,
    held: list[int],
    orders: list[tuple[str, int]],
    max_var: float,
    max_gross: float,
) -> None:
    returns = np.random.default_rng(seed).normal(0.0, 0.02, (40, len(SYMBOLS)))
    limits = {"max_position_weight": 0.3, "max_gross_exposure": max_gross, "max_var": max_var}
    prices = dict(zip(SYMBOLS, [100.0, 50.0, 20.0, 250.0], strict=True))
    base = view(100_000.0, dict(zip(SYMBOLS, map(float, held), strict=True)), prices)
    rebuilt, booked = _warmed(returns, limits), _warmed(returns, limits)
    pro_forma = dict(base.positions)
    exposure = Exposure(base)
    for k, (symbol, signed) in enumerate(orders):
        side = Side.BUY if signed > 0 else Side.SELL
        o = dataclasses.replace(order(symbol, abs(signed), side), client_order_id=f"o{k}")
        want = rebuilt.check(o, _rebuilt(base, pro_forma))
        got = booked.check(o, base, exposure)
        want_q = want.order.quantity if want.order is not None else 0.0
        got_q = got.order.quantity if got.order is not None else 0.0
        assert got_q == pytest.approx(want_q, rel=1e-9, abs=1e-9), (want, got)
        if not _at_an_edge(got_q, abs(signed)):
            assert _shape(want.reason) == _shape(got.reason)
        assert rebuilt.state == booked.state
        assert rebuilt.var == pytest.approx(booked.var, rel=1e-9, abs=1e-12)
        if got.order is not None:
            delta = got.order.signed_quantity
            old = pro_forma.get(symbol)
            pro_forma[symbol] = Position(
                symbol, (old.quantity if old else 0.0) + delta, old.average_price if old else 0.0
            )
            exposure.add(symbol, delta)
        assert exposure.gross() == pytest.approx(
            sum(abs(p.quantity * prices[s]) for s, p in pro_forma.items()) / base.equity
        )


def test_a_symbol_without_price_or_position_joins_sorted_with_no_weight() -> None:
    exposure = Exposure(view(100_000.0, {"BBB": 100.0, "DDD": -50.0}, {"BBB": 10.0, "DDD": 20.0}))
    names, weights = exposure.held(plus="CCC")
    assert names == ["BBB", "CCC", "DDD"]
    assert weights.tolist() == pytest.approx([0.01, 0.0, -0.01])
    exposure.add("AAA", 5.0)  # no price anywhere: held, marked at 0
    names, weights = exposure.held()
    assert names == ["AAA", "BBB", "DDD"] and weights.tolist() == pytest.approx([0.0, 0.01, -0.01])
    assert exposure.quantity("AAA") == 5.0 and exposure.booked


def test_gross_leaves_out_the_symbol_asked() -> None:
    exposure = Exposure(view(10_000.0, {"AAA": 10.0, "BBB": -20.0}, {"AAA": 100.0, "BBB": 50.0}))
    assert exposure.gross() == pytest.approx(0.2)
    assert exposure.gross(exclude="BBB") == pytest.approx(0.1)
    exposure.add("BBB", 40.0)  # -20 -> +20: the weight flips sign, gross stays
    assert exposure.gross() == pytest.approx(0.2)
    assert exposure.gross(exclude="ZZZ") == pytest.approx(0.2)
