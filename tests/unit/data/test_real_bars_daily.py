"""Real daily US stocks 2000-2013 through the public pipeline (issue 12).

The bars are Quandl WIKI's unadjusted prints as bokeh-sampledata ships them
(kubetrade_testing.real_bars): AAPL's two 2:1 splits and MSFT's, AAPL's real
-52% day, GOOG listing mid-range, IBM's quarterly dividends. With default
options, what reaches a model must be the market's moves on today's share
count: real moves kept, splits adjusted backward, nothing decided by a bar
that came later.
"""

from __future__ import annotations

import warnings

import exchange_calendars as xc
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kubetrade_testing import real_bars
from kubetrade_workloads.config import DataConfig
from kubetrade_workloads.config.data import CleaningConfig, FeatureConfig
from kubetrade_workloads.data import clean, features, pipeline

SYMBOLS = ("AAPL", "GOOG", "IBM", "MSFT")


def _config(symbols: tuple[str, ...]) -> DataConfig:
    return DataConfig.model_validate(
        {"source": {"symbols": list(symbols), "start": "2000-03-01", "end": "2013-03-02"}}
    )


@pytest.fixture(scope="module")
def cleaned() -> clean.Cleaned:
    return clean.clean(real_bars.stocks(*SYMBOLS), CleaningConfig(), "1d")


@pytest.fixture(scope="module")
def built() -> pipeline.Dataset:
    return pipeline.build(real_bars.stocks(*SYMBOLS), _config(SYMBOLS))


def _closes(frame: pd.DataFrame, symbol: str) -> pd.Series:
    one = frame[frame["symbol"] == symbol]
    return one.set_index("timestamp")["close"].sort_index()


def _published(built: pipeline.Dataset) -> pd.DataFrame:
    return pd.concat(built.splits.values(), ignore_index=True)


def _day(day: str) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC")


def test_a_real_crash_keeps_its_real_return(cleaned: clean.Cleaned) -> None:
    close = _closes(cleaned.bars, "AAPL")
    crash = close[_day(real_bars.AAPL_CRASH)] / close[_day("2000-09-28")] - 1
    assert crash == pytest.approx(25.75 / 53.50 - 1, rel=1e-12)  # -51.9%, as printed


def test_cleaned_prices_are_the_prints_times_the_adjustment(cleaned: clean.Cleaned) -> None:
    raw = real_bars.stocks(*SYMBOLS).set_index(["symbol", "timestamp"])
    out = cleaned.bars.set_index(["symbol", "timestamp"])
    common = out.index.intersection(raw.index)
    assert len(common) >= 0.99 * len(raw)
    for column in ("open", "high", "low", "close"):
        restored = out.loc[common, column] * out.loc[common, clean.ADJUSTMENT]
        np.testing.assert_allclose(restored, raw.loc[common, column], rtol=1e-12)


def test_buy_and_hold_on_the_published_dataset_is_the_real_one(built: pipeline.Dataset) -> None:
    for symbol in ("AAPL", "MSFT", "IBM", "GOOG"):
        published = _closes(_published(built), symbol)
        real = real_bars.split_adjusted_close(symbol).reindex(published.index)
        assert real.notna().sum() >= 0.99 * len(published)  # published rows are real bars
        real, published = real.dropna(), published[real.notna()]
        growth = published.iloc[-1] / published.iloc[0]
        assert growth == pytest.approx(real.iloc[-1] / real.iloc[0], rel=1e-9), symbol
        # and every close in between, not just the ends: one constant factor
        np.testing.assert_allclose(published / real, 1.0, rtol=1e-9)


def test_the_three_splits_are_detected_listed_and_nothing_else(built: pipeline.Dataset) -> None:
    splits = {
        (a["symbol"], a["date"]): a["ratio"]
        for a in built.manifest["corporateActions"]
        if a.get("kind", "split") == "split"
    }
    assert set(splits) == set(real_bars.SPLITS)  # the crash and IBM's dividends are not splits
    for key, ratio in real_bars.SPLITS.items():
        assert splits[key] == pytest.approx(ratio, rel=1e-9), key
    by_symbol = built.manifest["qualityBySymbol"]
    assert (by_symbol["AAPL"]["splits"], by_symbol["MSFT"]["splits"]) == (2, 1)
    assert (by_symbol["IBM"]["splits"], by_symbol["GOOG"]["splits"]) == (0, 0)


def test_split_days_show_the_market_move_not_the_share_count(cleaned: clean.Cleaned) -> None:
    for (symbol, day), ratio in real_bars.SPLITS.items():
        close = _closes(cleaned.bars, symbol)
        raw = real_bars.stocks(symbol).set_index("timestamp")["close"]
        move = close[_day(day)] / close[close.index < _day(day)].iloc[-1] - 1
        expected = raw[_day(day)] / (raw[raw.index < _day(day)].iloc[-1] / ratio) - 1
        assert move == pytest.approx(expected, rel=1e-9), (symbol, day)
        assert abs(move) < 0.15, (symbol, day)
    returns = cleaned.bars.groupby("symbol")["close"].pct_change()
    halved = cleaned.bars.loc[returns < -0.4, ["symbol", "timestamp"]]
    assert halved.values.tolist() == [["AAPL", _day(real_bars.AAPL_CRASH)]]


def test_adjusted_returns_match_the_sources_own_adjustment_between_dividends(
    cleaned: clean.Cleaned,
) -> None:
    for symbol in ("AAPL", "MSFT", "IBM"):
        raw = real_bars.stocks(symbol, adj_close=True).set_index("timestamp")
        ours = _closes(cleaned.bars, symbol).reindex(raw.index)
        factor = raw["adj_close"] / raw["close"]
        step = (factor / factor.shift()).to_numpy()
        split_day = np.isclose(step, 2.0, rtol=1e-6)
        quiet = np.isclose(step, 1.0, rtol=1e-9) | split_day  # no dividend between the bars
        mine = ours.pct_change().to_numpy()
        theirs = raw["adj_close"].pct_change().to_numpy()
        assert quiet.sum() > 0.95 * len(raw)
        np.testing.assert_allclose(mine[quiet], theirs[quiet], atol=1e-6)
        assert split_day.sum() == sum(s == symbol for s, _ in real_bars.SPLITS)


def test_a_stock_listing_mid_range_counts_completeness_from_its_first_bar(
    built: pipeline.Dataset,
) -> None:
    goog = built.manifest["qualityBySymbol"]["GOOG"]
    sessions = _xnys_sessions(real_bars.GOOG_LISTING, "2013-03-01")
    assert goog["expected"] == sessions
    assert goog["completeness"] >= 0.99
    assert built.manifest["qualityBySymbol"]["AAPL"]["expected"] > sessions  # listed earlier
    first = _published(built).groupby("symbol")["timestamp"].min()
    assert first["GOOG"] > _day(real_bars.GOOG_LISTING)  # published after GOOG's own warm-up


def _xnys_sessions(first: str, last: str) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exchange-calendars' pandas deprecations
        calendar = xc.get_calendar("XNYS", start="2000-01-01", end="2014-12-31")
        return len(calendar.sessions_in_range(first, last))


@pytest.mark.parametrize(
    ("cut", "later"),
    [("2004-06-30", "2004-12-31"), ("2008-09-12", "2008-10-31")],
    ids=["quiet", "crisis"],
)
def test_cleaning_and_features_on_real_bars_do_not_look_ahead(cut: str, later: str) -> None:
    """Bars up to `cut` and up to `later` (no split between) give the same bars
    and features on every row the shorter run publishes."""
    config = CleaningConfig()
    short = clean.clean(real_bars.stocks("AAPL", "MSFT", end=cut), config, "1d").bars
    long = clean.clean(real_bars.stocks("AAPL", "MSFT", end=later), config, "1d").bars
    keys = ["symbol", "timestamp"]
    assert len(short) >= 2 * len(real_bars.stocks("AAPL", end=cut)) - 4  # at most the newest held
    merged = short.merge(long, on=keys, suffixes=("", "_later"), validate="one_to_one")
    assert len(merged) == len(short)
    for column in ("open", "high", "low", "close", "volume", clean.ADJUSTMENT):
        np.testing.assert_array_equal(merged[column], merged[f"{column}_later"], err_msg=column)
    made_short = features.compute(short, FeatureConfig())
    made_long = features.compute(long, FeatureConfig())
    both = made_short.frame.merge(made_long.frame, on=keys, suffixes=("", "_later"))
    assert len(both) == len(made_short.frame) > 0
    for name in made_short.names:
        np.testing.assert_allclose(
            both[name], both[f"{name}_later"], rtol=1e-9, atol=1e-12, err_msg=name
        )


def test_a_split_arriving_later_rescales_history_but_keeps_returns_and_prints() -> None:
    """AAPL's 2005-02-28 split arrives between the two runs: prices before it are
    halved in the longer one, the returns and the prints (price x adjustment) are not."""
    config = CleaningConfig()
    short = clean.clean(real_bars.stocks("AAPL", end="2005-01-31"), config, "1d").bars
    long = clean.clean(real_bars.stocks("AAPL", end="2005-06-30"), config, "1d").bars
    merged = short.merge(long, on=["symbol", "timestamp"], suffixes=("", "_later"))
    assert len(merged) == len(short)
    np.testing.assert_allclose(merged["close"] / merged["close_later"], 2.0, rtol=1e-12)
    np.testing.assert_allclose(
        merged["close"] * merged[clean.ADJUSTMENT],
        merged["close_later"] * merged[f"{clean.ADJUSTMENT}_later"],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        merged["close"].pct_change().iloc[1:],
        merged["close_later"].pct_change().iloc[1:],
        rtol=1e-9,
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(100, 3200), more=st.integers(1, 400))
@example(cut=148, more=10)  # the crash is the newest bar, then it is not
@example(cut=742, more=3)  # MSFT's split arrives
@example(cut=1253, more=60)  # AAPL's 2005 split arrives
def test_any_cut_of_real_history_agrees_with_a_longer_one(cut: int, more: int) -> None:
    """Anywhere in AAPL's and MSFT's history (the splits and the crash included),
    bars up to a day and up to a later day agree on every row the shorter run
    publishes: returns and prints always, prices up to the ratio of a split that
    arrived in between, and every feature of a symbol none arrived for."""
    days = real_bars.stocks("AAPL")["timestamp"]
    end = days.iloc[cut].date().isoformat()
    later = days.iloc[min(cut + more, len(days) - 1)].date().isoformat()
    keys = ["symbol", "timestamp"]
    config = CleaningConfig()
    short = clean.clean(real_bars.stocks("AAPL", "MSFT", end=end), config, "1d").bars
    long = clean.clean(real_bars.stocks("AAPL", "MSFT", end=later), config, "1d").bars
    merged = short.merge(long, on=keys, suffixes=("", "_later"), validate="one_to_one")
    assert len(merged) == len(short) >= 2 * cut
    prints = merged["close"] * merged[clean.ADJUSTMENT]
    np.testing.assert_allclose(
        prints, merged["close_later"] * merged[f"{clean.ADJUSTMENT}_later"], rtol=1e-12
    )
    unsplit = []
    for symbol, one in merged.groupby("symbol"):
        np.testing.assert_allclose(
            one["close"].pct_change().iloc[1:],
            one["close_later"].pct_change().iloc[1:],
            rtol=1e-9,
            err_msg=str(symbol),
        )
        # a split arriving in between divides the earlier prices by its ratio, no more
        factor = np.ones(len(one))
        for (sym, day), ratio in real_bars.SPLITS.items():
            # (a split on the newest bar waits, like any big move, for the next bar)
            if sym == symbol and end < day < later:
                factor[(one["timestamp"] < _day(day)).to_numpy()] *= ratio
        np.testing.assert_allclose(one["close"] / one["close_later"], factor, rtol=1e-12)
        unsplit += [symbol] if (factor == 1).all() else []
    made_short = features.compute(short, FeatureConfig()).frame
    made_long = features.compute(long, FeatureConfig())
    both = made_short.merge(made_long.frame, on=keys, suffixes=("", "_later"))
    assert len(both) == len(made_short)
    both = both[both["symbol"].isin(unsplit)]  # levels of a rescaled history differ, by design
    for name in made_long.names:
        np.testing.assert_allclose(
            both[name], both[f"{name}_later"], rtol=1e-9, atol=1e-12, err_msg=name
        )
