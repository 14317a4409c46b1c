"""Calendars per symbol: the FX week, auto picked from the symbol and recorded,
completeness over each symbol's own span, off-calendar drops held to account."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.config.data import CleaningConfig, DataConfig, ValidationConfig
from kubetrade_workloads.data import calendars, pipeline, publish, stages, timestamps, validate
from kubetrade_workloads.data.clean import clean
from kubetrade_workloads.data.sources.synthetic import SyntheticSource
from kubetrade_workloads.market import cadence
from kubetrade_workloads.trading.hours import MarketHours

KEEP = CleaningConfig(outlier_action="keep")
NEW_YORK = "America/New_York"


@pytest.mark.parametrize(
    ("symbol", "market"),
    [
        ("BTC/USDT", cadence.Market.CRYPTO),
        ("BTC/USDT:USDT", cadence.Market.CRYPTO),
        ("ETH/BTC", cadence.Market.CRYPTO),
        ("BTC-USD", cadence.Market.CRYPTO),
        ("BTCUSDT", cadence.Market.CRYPTO),
        ("EURUSD", cadence.Market.FX),
        ("EUR/USD", cadence.Market.FX),
        ("EURUSD=X", cadence.Market.FX),
        ("JPY=X", cadence.Market.FX),  # Yahoo's USD/JPY
        ("XYZ=X", cadence.Market.EQUITIES),
        ("EUR_USD", cadence.Market.FX),
        ("usd-jpy", cadence.Market.FX),
        ("XAU/USD", cadence.Market.FX),  # spot gold: the FX dealers' week, not 24/7
        ("XAG_EUR", cadence.Market.FX),
        ("AAPL", cadence.Market.EQUITIES),
        ("BRK-B", cadence.Market.EQUITIES),
        ("BRK/B", cadence.Market.EQUITIES),
        ("VOD.L", cadence.Market.EQUITIES),
        ("USDUSD", cadence.Market.EQUITIES),  # one currency is no pair
        ("ABCDEF", cadence.Market.EQUITIES),  # six letters, not two ISO 4217 codes
    ],
)
def test_one_classifier_reads_the_market_from_the_symbol(
    symbol: str, market: cadence.Market
) -> None:
    assert cadence.market_of_symbol(symbol) == market


_FIAT = sorted(cadence.FIAT)


@settings(max_examples=60, deadline=None)
@given(
    pair=st.lists(st.sampled_from(_FIAT), min_size=2, max_size=2, unique=True),
    form=st.sampled_from(["{}{}", "{}/{}", "{}_{}", "{}-{}", "{}{}=X"]),
    crypto=st.sampled_from(["BTC", "ETH", "SOL", "USDT", "DOGE"]),
)
def test_any_two_fiat_codes_are_fx_and_a_crypto_base_is_crypto(
    pair: list[str], form: str, crypto: str
) -> None:
    assert cadence.market_of_symbol(form.format(*pair)) == cadence.Market.FX
    assert calendars.resolve("auto", form.format(*pair)) == "24/5"
    assert cadence.market_of_symbol(f"{crypto}/{pair[0]}") == cadence.Market.CRYPTO


@pytest.mark.parametrize(
    ("symbol", "calendar"),
    [
        ("AAPL", "XNYS"),
        ("BTC/USDT", "24/7"),
        ("EURUSD=X", "24/5"),
        ("EUR/USD", "24/5"),
        ("VOD.L", "XLON"),
        ("SAP.DE", "XETR"),
        ("7203.T", "XTKS"),
        ("BRK.B", "XNYS"),  # a share class, not an exchange suffix
    ],
)
def test_auto_picks_the_calendar_from_the_symbol(symbol: str, calendar: str) -> None:
    assert calendars.resolve("auto", symbol) == calendar
    assert calendars.resolve("XNYS", symbol) == "XNYS"  # named calendars are kept


def test_the_fx_week_runs_sunday_to_friday_at_five_in_new_york_across_dst() -> None:
    winter = calendars.expected(
        "24/5", "1h", pd.Timestamp("2021-01-08", tz="UTC"), pd.Timestamp("2021-01-16", tz="UTC")
    )
    summer = calendars.expected(
        "24/5", "1h", pd.Timestamp("2021-07-09", tz="UTC"), pd.Timestamp("2021-07-17", tz="UTC")
    )
    # Friday 17:00 New York closes the week: 22:00 UTC in winter, 21:00 in summer.
    assert winter[winter < pd.Timestamp("2021-01-09", tz="UTC")][-1].hour == 21
    assert summer[summer < pd.Timestamp("2021-07-10", tz="UTC")][-1].hour == 20
    # Sunday 17:00 New York opens it: 22:00 UTC in winter, 21:00 in summer.
    assert winter[winter.day_of_week == 6][0].hour == 22
    assert summer[summer.day_of_week == 6][0].hour == 21
    assert not (winter.day_of_week == 5).any() and not (summer.day_of_week == 5).any()


@settings(max_examples=40, deadline=None)
@given(
    day=st.dates(dt.date(2001, 1, 1), dt.date(2035, 12, 31)),
    interval=st.sampled_from(["1h", "15m", "1m"]),
)
def test_every_fx_week_holds_120_hours_of_bars(day: dt.date, interval: str) -> None:
    # From one Saturday to the next (New York), DST switch weeks included.
    saturday = day + dt.timedelta(days=(5 - day.weekday()) % 7)
    start = pd.Timestamp(saturday).tz_localize(NEW_YORK).tz_convert("UTC")
    end = pd.Timestamp(saturday + dt.timedelta(days=7)).tz_localize(NEW_YORK).tz_convert("UTC")
    slots = calendars.expected("24/5", interval, start, end)
    assert len(slots) == pd.Timedelta(hours=120) // pd.Timedelta(timestamps.FREQ[interval])
    local = slots.tz_convert(NEW_YORK)
    assert (local[0].day_of_week, local[0].hour) == (6, 17)
    assert (local[-1] + pd.Timedelta(timestamps.FREQ[interval])).hour == 17
    assert local[-1].day_of_week == 4


def test_daily_fx_bars_are_the_weekdays() -> None:
    days = calendars.expected(
        "24/5", "1d", pd.Timestamp("2021-12-20", tz="UTC"), pd.Timestamp("2022-01-02", tz="UTC")
    )
    assert len(days) == 10  # Christmas and New Year's Day trade (thinly) too
    assert (days.day_of_week < 5).all()


def test_hourly_fx_on_auto_keeps_every_bar_and_says_which_calendar() -> None:
    raw = bars(symbols=("EUR/USD",), interval="1h", start="2021-03-01", end="2021-04-30")
    result = clean(raw, KEEP, "1h")
    report = result.reports[0]
    assert report.calendar == "24/5" and report.as_dict()["calendar"] == "24/5"
    assert report.off_calendar == 0 and report.completeness == 1.0
    assert len(result.bars) == len(raw)


def test_a_calendar_that_drops_most_bars_fails_validation_by_name() -> None:
    raw = bars(symbols=("EUR/USD",), interval="1h", start="2021-03-01", end="2021-04-30")
    result = clean(raw, KEEP.model_copy(update={"calendar": "XNYS"}), "1h")
    report = result.reports[0]
    # NYSE has 7 of the FX day's 24 hours and no Sunday: about 70% of the bars go.
    assert report.off_calendar_ratio > 0.6
    assert report.completeness == 1.0  # every NYSE bar arrived: completeness alone hides it
    with pytest.raises(validate.ValidationFailed, match="check calendar: .* XNYS"):
        validate.check(result.reports, ValidationConfig(), ["EUR/USD"])


def test_completeness_counts_from_each_symbols_first_bar_to_its_last() -> None:
    raw = bars(symbols=("OLD", "IPO"), start="2021-01-04", end="2021-12-31")
    listed = raw[
        (raw["symbol"] == "OLD") | (raw["timestamp"] >= pd.Timestamp("2021-07-01", tz="UTC"))
    ]
    delisted = listed[
        (listed["symbol"] == "IPO") | (listed["timestamp"] <= pd.Timestamp("2021-09-30", tz="UTC"))
    ]
    result = clean(delisted, KEEP, "1d")
    for report in result.reports:
        assert report.gaps == 0 and report.completeness == 1.0, report
    ipo = next(r for r in result.reports if r.symbol == "IPO")
    assert ipo.expected == len(delisted[delisted["symbol"] == "IPO"])
    validate.check(result.reports, ValidationConfig(), ["OLD", "IPO"])


@settings(max_examples=25, deadline=None)
@given(
    listed=st.integers(0, 200),
    kept=st.integers(30, 200),
    symbol=st.sampled_from(["AAA", "EUR/USD", "BTC/USDT"]),
)
def test_a_listing_or_delisting_anywhere_is_no_gap(listed: int, kept: int, symbol: str) -> None:
    raw = bars(symbols=("FULL", symbol), start="2021-01-04", end="2021-12-31")
    own = raw[raw["symbol"] == symbol].iloc[listed : listed + kept]
    result = clean(pd.concat([raw[raw["symbol"] == "FULL"], own]), KEEP, "1d")
    report = next(r for r in result.reports if r.symbol == symbol)
    assert (report.expected, report.gaps, report.completeness) == (len(own), 0, 1.0)


def test_the_manifest_records_each_symbols_calendar() -> None:
    config = DataConfig.model_validate(
        {
            "source": {
                "symbols": ["AAPL", "EUR/USD", "BTC/USDT"],
                "start": "2021-01-01",
                "end": "2021-12-31",
            },
            "cleaning": {"outlierAction": "keep"},
        }
    )
    frame = SyntheticSource(7).fetch(
        config.source.symbols, "1d", config.source.start, config.source.end
    )
    manifest = pipeline.build(frame, config).manifest
    expected = {"AAPL": "XNYS", "EUR/USD": "24/5", "BTC/USDT": "24/7"}
    assert manifest["calendars"] == expected
    assert {s: q["calendar"] for s, q in manifest["qualityBySymbol"].items()} == expected
    assert cadence.market_of_dataset(manifest) == cadence.Market.CRYPTO  # the widest clock


def test_a_published_dataset_rechecked_names_the_calendar_it_was_cleaned_on(
    tmp_path: Path,
) -> None:
    config = DataConfig.model_validate(
        {"source": {"symbols": ["AAPL"], "start": "2021-01-01", "end": "2021-12-31"}}
    )
    frame = SyntheticSource(3).fetch(["AAPL"], "1d", config.source.start, config.source.end)
    saturday = frame.iloc[[10]].assign(timestamp=pd.Timestamp("2021-03-06", tz="UTC"))
    dataset = pipeline.build(pd.concat([frame, saturday], ignore_index=True), config)
    uri = f"file://{tmp_path}/ds"
    publish.write_dataset(uri, dataset.splits, dataset.manifest)
    assert dataset.manifest["qualityBySymbol"]["AAPL"]["offCalendar"] == 1
    stages.verify(uri)  # one stray bar in a year is within the default 5%
    with pytest.raises(validate.ValidationFailed, match="outside calendar XNYS"):
        stages.verify(uri, ValidationConfig(max_off_calendar_ratio=0.0))


def test_synthetic_fx_bars_lie_on_the_fx_week() -> None:
    frame = SyntheticSource(1).fetch(["EURUSD"], "1h", dt.date(2021, 3, 1), dt.date(2021, 3, 29))
    slots = calendars.expected("24/5", "1h", frame["timestamp"].min(), frame["timestamp"].max())
    assert pd.DatetimeIndex(frame["timestamp"]).equals(slots)


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ("2021-07-11 20:00", False),  # Sunday 16:00 New York
        ("2021-07-11 21:00", True),  # Sunday 17:00: the week opens
        ("2021-07-14 03:00", True),
        ("2021-07-16 20:00", True),  # Friday 16:00: the last hour
        ("2021-07-16 21:00", False),  # Friday 17:00: closed
        ("2021-07-17 12:00", False),  # Saturday
    ],
)
def test_an_fx_order_goes_out_inside_the_fx_week(when: str, is_open: bool) -> None:
    bar = pd.Timestamp(when, tz="UTC").to_pydatetime()
    assert MarketHours("1h").is_open("EUR/USD", bar) is is_open
    assert MarketHours("1h").is_open("BTC/USD", bar) is True
