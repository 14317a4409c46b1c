"""The synthetic source: deterministic, realistic enough to train on, on the right grid."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kubetrade_workloads.config import SourceConfig
from kubetrade_workloads.data import calendars
from kubetrade_workloads.data.sources import SourceError, get_source
from kubetrade_workloads.data.sources.synthetic import SyntheticSource, generate
from kubetrade_workloads.market import bars

DAY = dt.date


def _returns(frame: pd.DataFrame) -> pd.DataFrame:
    close = bars.wide(frame, "close")
    return close.apply(np.log).diff().dropna()


def test_same_seed_same_bars_other_seed_other_bars() -> None:
    config = SourceConfig(symbols=["A", "B"], start=DAY(2021, 1, 1), end=DAY(2021, 6, 1), seed=3)
    first = generate(config)
    assert first.equals(generate(config))
    assert not first.equals(generate(config.model_copy(update={"seed": 4})))


def test_bars_are_canonical_and_consistent() -> None:
    frame = SyntheticSource(1).fetch(["A", "B", "BTC/USDT"], "1h", DAY(2022, 3, 1), DAY(2022, 4, 1))
    assert list(frame.columns) == list(bars.COLUMNS)
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame.equals(bars.conform(frame).astype({"timestamp": "datetime64[ns, UTC]"}))
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame[["open", "high", "low", "close"]] > 0).all().all()
    assert (frame["volume"] >= 0).all() and np.isfinite(frame[list(bars.PRICE_COLUMNS)]).all().all()
    assert not frame.duplicated(["timestamp", "symbol"]).any()


# `calendars.expected` reaches exchange-calendars' `minutes_in_range`, which
# reads `DatetimeIndex.values` (deprecated in pandas 3.1) for intraday grids.
@pytest.mark.filterwarnings("ignore:DatetimeIndex.values returning an ndarray:DeprecationWarning")
@pytest.mark.parametrize("interval", ["1m", "5m", "15m", "1h", "1d"])
def test_grid_is_the_one_cleaning_expects(interval: str) -> None:
    start, end = DAY(2020, 11, 23), DAY(2020, 12, 1)  # Thanksgiving and its early close
    frame = SyntheticSource(2).fetch(["SPY", "BTC/USDT"], interval, start, end)
    last = pd.Timestamp(end, tz="UTC") - pd.Timedelta(1)
    for symbol, calendar in (("SPY", "XNYS"), ("BTC/USDT", "24/7")):
        stamps = pd.DatetimeIndex(frame.loc[frame["symbol"] == symbol, "timestamp"])
        expected = calendars.expected(calendar, interval, pd.Timestamp(start, tz="UTC"), last)
        assert stamps.equals(expected)


def test_equities_trade_in_sessions_crypto_around_the_clock() -> None:
    frame = SyntheticSource(2).fetch(
        ["SPY", "BTC/USDT"], "1m", DAY(2020, 11, 25), DAY(2020, 11, 30)
    )
    spy = frame.loc[frame["symbol"] == "SPY", "timestamp"].dt.tz_convert("America/New_York")
    minutes = spy.dt.hour * 60 + spy.dt.minute
    assert minutes.min() == 9 * 60 + 30 and minutes.max() == 15 * 60 + 59
    assert set(spy.dt.date.astype(str)) == {"2020-11-25", "2020-11-27"}  # holiday, weekend skipped
    assert spy[spy.dt.date.astype(str) == "2020-11-27"].max().hour == 12  # closes at 13:00
    btc = frame.loc[frame["symbol"] == "BTC/USDT", "timestamp"]
    assert len(btc) == 5 * 24 * 60


def test_symbols_move_together_and_regimes_switch() -> None:
    frame = SyntheticSource(5).fetch(
        ["A", "B", "C", "BTC/USDT", "ETH/USDT"], "1d", DAY(2015, 1, 1), DAY(2023, 1, 1)
    )
    equities = _returns(frame[~frame["symbol"].str.contains("/")])
    crypto = _returns(frame[frame["symbol"].str.contains("/")])
    corr = equities.corr().to_numpy()[np.triu_indices(3, 1)]
    assert (corr > 0.2).all()
    assert float(crypto.corr().to_numpy()[0, 1]) > 0.2
    vol = equities["A"].rolling(40).std().dropna().to_numpy()
    assert np.quantile(vol, 0.95) > 2 * np.quantile(vol, 0.05)  # calm and volatile spells
    assert float(equities["A"].to_frame().kurt().iloc[0]) > 1.0  # jumps fatten the tails
    yearly = float(crypto["BTC/USDT"].std()) * 365**0.5, float(equities["A"].std()) * 252**0.5
    assert yearly[0] > 1.5 * yearly[1]


def test_intraday_volume_has_a_u_shape() -> None:
    frame = SyntheticSource(6).fetch(["A"], "5m", DAY(2021, 1, 1), DAY(2021, 4, 1))
    local = frame["timestamp"].dt.tz_convert("America/New_York")
    minute = local.dt.hour * 60 + local.dt.minute - 570
    edges = frame.loc[(minute < 30) | (minute >= 360), "volume"].mean()
    midday = frame.loc[(minute >= 150) & (minute < 240), "volume"].mean()
    assert edges > 1.5 * midday


def test_a_symbol_does_not_change_when_others_are_added() -> None:
    source = SyntheticSource(9)
    alone = source.fetch(["A"], "1d", DAY(2021, 1, 1), DAY(2022, 1, 1))
    together = source.fetch(["A", "B", "C"], "1d", DAY(2021, 1, 1), DAY(2022, 1, 1))
    pd.testing.assert_frame_equal(alone, together[together["symbol"] == "A"].reset_index(drop=True))


def test_open_end_means_three_years_and_bad_intervals_are_refused() -> None:
    frame = get_source(SourceConfig(symbols=["A"])).fetch(["A"], "1d", DAY(2020, 1, 1), None)
    assert frame["timestamp"].max() < pd.Timestamp("2023-01-02", tz="UTC")
    assert frame["timestamp"].max() > pd.Timestamp("2022-12-20", tz="UTC")
    with pytest.raises(SourceError, match="unknown interval '2h'"):
        SyntheticSource(1).fetch(["A"], "2h", DAY(2020, 1, 1), DAY(2020, 2, 1))
