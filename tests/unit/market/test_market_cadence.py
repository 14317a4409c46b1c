"""One annualisation per calendar, read the same way by metrics, risk and reports."""

from __future__ import annotations

import pandas as pd
import pytest

from kubetrade_workloads.backtest import metrics
from kubetrade_workloads.backtest.dataset import Dataset
from kubetrade_workloads.data import calendars
from kubetrade_workloads.market import cadence
from kubetrade_workloads.reporting.inputs import infer_periods
from kubetrade_workloads.trading.assemble import _cadence

Market = cadence.Market


@pytest.mark.parametrize(
    ("interval", "market", "periods"),
    [
        ("1d", Market.EQUITIES, 252),
        ("1h", Market.EQUITIES, 252 * 7),
        ("1m", Market.EQUITIES, 252 * 390),
        ("1d", Market.FX, 260),
        ("1h", Market.FX, 260 * 24),
        ("5m", Market.FX, 260 * 288),
        ("1d", Market.CRYPTO, 365),
        ("1h", Market.CRYPTO, 365 * 24),
    ],
)
def test_bars_per_year_by_market(interval: str, market: Market, periods: int) -> None:
    assert cadence.periods_per_year(interval, market) == periods
    assert metrics.periods_per_year(interval, market) == periods


def test_an_unknown_interval_is_a_metrics_error_naming_it() -> None:
    with pytest.raises(metrics.MetricsError, match="'2h'"):
        metrics.periods_per_year("2h", Market.FX)


def test_the_fx_year_is_the_bars_its_calendar_has() -> None:
    # 2019-2023 hold 1,305 weekdays: 261 a year, which 260 rounds (holidays aside).
    slots = calendars.expected(
        "24/5", "1h", pd.Timestamp("2019-01-01", tz="UTC"), pd.Timestamp("2023-12-31", tz="UTC")
    )
    per_year = len(slots) / 5
    assert abs(per_year - cadence.periods_per_year("1h", Market.FX)) / per_year < 0.01


@pytest.mark.parametrize(
    ("symbols", "market"),
    [
        (("AAPL", "MSFT"), Market.EQUITIES),
        (("EUR/USD", "USDJPY"), Market.FX),
        (("BTC/USDT",), Market.CRYPTO),
        (("AAPL", "EURUSD"), Market.FX),  # a mix runs on the widest clock
        (("EURUSD", "ETH-USD"), Market.CRYPTO),
        ((), Market.EQUITIES),
    ],
)
def test_a_set_of_symbols_follows_the_widest_clock(
    symbols: tuple[str, ...], market: Market
) -> None:
    assert cadence.market_of(symbols) == market


def test_risk_annualises_fx_over_its_own_year_not_crypto_s() -> None:
    # Hourly EUR/USD was 24 x 365 before: risk and metrics now agree.
    assert _cadence(("EUR/USD",), "1h") == (24.0, 260 * 24)
    assert _cadence(("BTC/USDT",), "1h") == (24.0, 365 * 24)
    assert _cadence(("AAPL",), "1d") == (1.0, 252)


@pytest.mark.parametrize(
    ("manifest", "market"),
    [
        ({"symbols": ["EURUSD"], "calendars": {"EURUSD": "24/5"}}, Market.FX),
        ({"symbols": ["EURUSD"]}, Market.FX),  # older manifests: from the symbols
        ({"symbols": ["AAPL"], "calendars": {"AAPL": "24/7"}}, Market.CRYPTO),  # as cleaned
        ({"symbols": ["VOD.L"], "calendars": {"VOD.L": "XLON"}}, Market.EQUITIES),
        ({"symbols": ["EUR/USD"], "source": {"type": "ccxt"}}, Market.CRYPTO),  # a crypto venue
    ],
)
def test_a_published_dataset_is_annualised_by_its_recorded_calendars(
    manifest: dict[str, object], market: Market
) -> None:
    assert Dataset("file:///nowhere", manifest).market == market


@pytest.mark.parametrize(
    ("calendar", "periods"),
    [("24/5", 260 * 24), ("24/7", 365 * 24), ("XNYS", 252 * 7)],
)
def test_reports_infer_the_year_from_the_bar_clock(calendar: str, periods: int) -> None:
    slots = calendars.expected(
        calendar, "1h", pd.Timestamp("2021-03-01", tz="UTC"), pd.Timestamp("2021-04-30", tz="UTC")
    )
    assert infer_periods(pd.DatetimeIndex(slots)) == periods
