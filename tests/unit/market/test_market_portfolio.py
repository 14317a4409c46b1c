"""Portfolio accounting: average price, realised and unrealised PnL, shorting."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrade_workloads.market.portfolio import Portfolio, ShortingError
from kubetrade_workloads.market.types import Fill, Side

T0 = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)


def fill(quantity: float, price: float, commission: float = 0.0, symbol: str = "AAA") -> Fill:
    """A fill of a signed quantity."""
    side = Side.BUY if quantity > 0 else Side.SELL
    return Fill(f"id-{quantity}-{price}", symbol, side, abs(quantity), price, commission, T0)


def test_buys_average_and_a_partial_sell_realises_against_the_average() -> None:
    book = Portfolio(10_000.0)
    book.apply(fill(10, 100.0, 1.0))
    book.apply(fill(10, 110.0, 1.0))
    assert book.positions["AAA"].average_price == pytest.approx(105.0)
    book.apply(fill(-5, 120.0, 1.0))
    assert book.realised_pnl == pytest.approx(5 * 15.0)
    assert book.positions["AAA"].quantity == 15
    assert book.positions["AAA"].average_price == pytest.approx(105.0)
    assert book.cash == pytest.approx(10_000 - 1000 - 1100 + 600 - 3)
    assert book.commissions == pytest.approx(3.0)
    assert book.unrealised_pnl({"AAA": 100.0}) == pytest.approx(15 * -5.0)


def test_selling_everything_closes_the_position() -> None:
    book = Portfolio(1000.0)
    book.apply(fill(3, 10.0))
    book.apply(fill(-3, 12.0))
    assert book.positions == {}
    assert book.realised_pnl == pytest.approx(6.0)
    assert book.equity({"AAA": 50.0}) == pytest.approx(1006.0)


def test_crossing_zero_opens_the_remainder_at_the_fill_price() -> None:
    book = Portfolio(1000.0, allow_short=True)
    book.apply(fill(2, 10.0))
    book.apply(fill(-5, 12.0))
    assert book.realised_pnl == pytest.approx(4.0)
    assert book.positions["AAA"].quantity == -3
    assert book.positions["AAA"].average_price == 12.0
    book.apply(fill(1, 11.0))  # covering a short at a lower price gains
    assert book.realised_pnl == pytest.approx(5.0)


def test_shorting_is_refused_when_not_allowed_and_nothing_is_booked() -> None:
    book = Portfolio(1000.0)
    book.apply(fill(2, 10.0))
    with pytest.raises(ShortingError, match="shorting is off"):
        book.apply(fill(-3, 10.0))
    assert book.quantity("AAA") == 2
    assert book.cash == pytest.approx(980.0)


def test_the_view_carries_what_a_risk_gate_judges() -> None:
    book = Portfolio(1000.0)
    book.apply(fill(2, 10.0))
    view = book.view({"AAA": 15.0}, peak_equity=1200.0, day_start_equity=990.0)
    assert view.equity == pytest.approx(1010.0)
    assert view.cash == pytest.approx(980.0)
    assert view.positions["AAA"].quantity == 2
    assert (view.peak_equity, view.day_start_equity) == (1200.0, 990.0)
    assert book.gross_exposure({"AAA": 15.0}) == pytest.approx(30.0)


trades = st.lists(
    st.tuples(
        st.sampled_from(["AAA", "BBB"]),
        st.floats(min_value=-50, max_value=50, allow_nan=False).filter(lambda q: abs(q) > 1e-6),
        st.floats(min_value=1.0, max_value=500.0),
        st.floats(min_value=0.0, max_value=5.0),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(trades=trades, marks=st.tuples(st.floats(1.0, 500.0), st.floats(1.0, 500.0)))
def test_equity_change_is_realised_plus_unrealised_minus_commissions(
    trades: list[tuple[str, float, float, float]], marks: tuple[float, float]
) -> None:
    book = Portfolio(100_000.0, allow_short=True)
    for symbol, quantity, price, commission in trades:
        book.apply(fill(quantity, price, commission, symbol))
    prices = {"AAA": marks[0], "BBB": marks[1]}
    gained = book.equity(prices) - book.initial_cash
    explained = book.realised_pnl + book.unrealised_pnl(prices) - book.commissions
    assert gained == pytest.approx(explained, rel=1e-9, abs=1e-6)
