"""Splits are found (or taken as given) and history adjusted backward; each
action is listed; the `adjustment` column maps every bar back to raw prices."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kubetrade_testing.bar_frames import bars, one
from kubetrade_workloads.config.data import CleaningConfig, CorporateAction
from kubetrade_workloads.data import corporate
from kubetrade_workloads.data.clean import Cleaned, clean
from kubetrade_workloads.data.sources.file import FileSource

PRICES = ["open", "high", "low", "close"]
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COMMON = [2.0, 3.0, 1.5, 4.0, 0.1, 0.5, 7.0, 20.0, 1 / 3]


def _unadjust(truth: pd.DataFrame, at: int, ratio: float) -> pd.DataFrame:
    """Raw bars of a split of `ratio` at bar `at`: earlier bars in the old shares."""
    raw = truth.copy()
    raw.loc[: at - 1, PRICES] *= ratio
    raw.loc[: at - 1, "volume"] /= ratio
    return raw


def _actions(result: Cleaned) -> list[dict[str, object]]:
    return [a for r in result.reports for a in r.actions]


@SETTINGS
@given(st.sampled_from(COMMON), st.integers(25, 350), st.integers(0, 2**16))
def test_a_split_is_detected_and_history_adjusted_backward(
    ratio: float, at: int, seed: int
) -> None:
    truth = one(bars(symbols=("AAA",), seed=seed), "AAA")
    # Detection reads the overnight gap: a split day that also gapped by more
    # than the tolerance (seed 2367 opened 4.0% down) is taken for a real move,
    # the documented limit; `corporateActions` gives such a split.
    overnight = np.log(truth["open"].iloc[at] / truth["close"].iloc[at - 1])
    assume(abs(overnight) < corporate.GAP_TOLERANCE)
    raw = _unadjust(truth, at, ratio)
    result = clean(raw, CleaningConfig(), "1d")
    out = result.bars
    np.testing.assert_allclose(out[PRICES].to_numpy(), truth[PRICES].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(out["volume"], truth["volume"], rtol=1e-12)
    # The column maps each bar back to the price the market printed.
    np.testing.assert_allclose(
        (out[PRICES].to_numpy().T * out["adjustment"].to_numpy()).T, raw[PRICES], rtol=1e-12
    )
    assert (out["adjustment"].iloc[:at] == ratio).all() and (out["adjustment"].iloc[at:] == 1).all()
    assert _actions(result) == [
        {
            "symbol": "AAA",
            "date": truth["timestamp"].iloc[at].date().isoformat(),
            "timestamp": truth["timestamp"].iloc[at].isoformat(),
            "kind": "split",
            "origin": "detected",
            "ratio": ratio,
        }
    ]
    assert result.reports[0].splits == 1


def test_raw_and_given_only_modes_detect_nothing() -> None:
    truth = one(bars(symbols=("AAA",)), "AAA")
    raw = _unadjust(truth, 200, 2.0)
    for mode in ("none", "splits"):
        result = clean(raw, CleaningConfig(adjustment=mode), "1d")
        np.testing.assert_array_equal(result.bars["close"], raw["close"])
        assert _actions(result) == [] and (result.bars["adjustment"] == 1).all()


def test_a_given_split_takes_precedence_over_detection() -> None:
    truth = one(bars(symbols=("AAA",)), "AAA")
    raw = _unadjust(truth, 200, 2.0)
    day = truth["timestamp"].iloc[200].date()
    spec = [CorporateAction(symbol="AAA", date=day, ratio=2.0)]
    for mode in ("auto", "splits"):
        result = clean(raw, CleaningConfig(adjustment=mode, corporate_actions=spec), "1d")
        np.testing.assert_allclose(result.bars["close"], truth["close"], rtol=1e-12)
        assert [(a["origin"], a["ratio"]) for a in _actions(result)] == [("given", 2.0)]


def test_the_sources_split_column_is_taken_as_given() -> None:
    truth = one(bars(symbols=("AAA",)), "AAA")
    raw = _unadjust(truth, 120, 0.1).assign(split=0.0)  # yfinance: 0 is no split
    raw.loc[120, "split"] = 0.1
    result = clean(raw, CleaningConfig(adjustment="splits"), "1d")
    np.testing.assert_allclose(result.bars["close"], truth["close"], rtol=1e-12)
    assert [(a["origin"], a["ratio"]) for a in _actions(result)] == [("given", 0.1)]


def test_dividends_adjust_prices_only_when_all_is_asked() -> None:
    raw = one(bars(symbols=("AAA",)), "AAA")
    before = raw["close"].iloc[149]
    day = raw["timestamp"].iloc[150].date()
    spec = [CorporateAction(symbol="AAA", date=day, dividend=before * 0.02)]
    auto = clean(raw, CleaningConfig(corporate_actions=spec), "1d")
    np.testing.assert_array_equal(auto.bars["close"], raw["close"])
    every = clean(raw, CleaningConfig(adjustment="all", corporate_actions=spec), "1d")
    out = every.bars
    np.testing.assert_allclose(out["close"].iloc[:150], raw["close"].iloc[:150] * 0.98)
    np.testing.assert_array_equal(out["close"].iloc[150:], raw["close"].iloc[150:])
    np.testing.assert_array_equal(out["volume"], raw["volume"])
    assert every.reports[0].dividends == 1
    assert _actions(every)[0]["kind"] == "dividend"


def test_a_crash_of_a_splits_size_on_heavy_volume_is_no_split() -> None:
    # AAPL on 2000-09-29: close 53.50, open 28.19 (a gap of 0.641 in log
    # terms, 0.052 from a 2:1 split's), on 22 times its usual volume.
    raw = one(bars(symbols=("AAA",)), "AAA")
    raw.loc[148:, PRICES] *= 28.19 / 53.50 * raw["close"].iloc[147] / raw["open"].iloc[148]
    raw.loc[148, "volume"] *= 22
    result = clean(raw, CleaningConfig(), "1d")
    assert _actions(result) == []
    np.testing.assert_array_equal(result.bars["close"], raw["close"])
    # The same gap, exactly a split's and on ordinary volume, is one.
    split = _unadjust(one(bars(symbols=("AAA",)), "AAA"), 148, 2.0)
    assert len(_actions(clean(split, CleaningConfig(), "1d"))) == 1


def test_detection_reads_no_later_bar() -> None:
    truth = one(bars(symbols=("AAA",)), "AAA")
    raw = _unadjust(truth, 200, 2.0)
    values = raw[[*PRICES, "volume"]].to_numpy()
    valid = np.ones(len(raw), dtype=bool)
    rows, ratios = corporate.detect(values, valid)
    later = values.copy()
    later[201:] = np.nan  # whatever follows the split bar
    assert corporate.detect(later, valid & ~np.isnan(later).any(axis=1)) == (rows, ratios)
    assert (rows, ratios) == ([200], [2.0])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of ratio and dividend"),
        ({"ratio": 2.0, "dividend": 0.5}, "exactly one of ratio and dividend"),
        ({"ratio": 1.0}, "changes nothing"),
        ({"ratio": -2.0}, "greater than 0"),
    ],
)
def test_a_corporate_action_needs_one_meaningful_kind(
    fields: dict[str, float], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        CorporateAction(symbol="AAA", date=dt.date(2021, 6, 1), **fields)


def test_a_split_in_minute_bars_is_found_at_the_session_open() -> None:
    truth = one(bars(symbols=("AAA",), interval="1m", start="2021-01-04", end="2021-01-08"), "AAA")
    opens = truth.index[truth["timestamp"].dt.strftime("%H:%M") == "14:30"]
    truth.loc[opens, "volume"] *= 12  # an opening minute trades many times a midday one
    at = int(opens[3])
    result = clean(_unadjust(truth, at, 2.0), CleaningConfig(), "1m")
    np.testing.assert_allclose(result.bars["close"], truth["close"], rtol=1e-12)
    assert [(a["timestamp"], a["ratio"]) for a in _actions(result)] == [
        (truth["timestamp"].iloc[at].isoformat(), 2.0)
    ]
    # The same jump in the middle of a session is no split: prices stay as printed.
    midday = at + 200
    raw = _unadjust(truth, midday, 2.0)
    assert _actions(clean(raw, CleaningConfig(), "1m")) == []


def test_a_files_stock_splits_and_dividends_columns_are_taken_as_given(tmp_path: Path) -> None:
    # yfinance's history(actions=True) written with to_csv: Date index, then the columns.
    truth = one(bars(symbols=("AAA",)), "AAA")
    raw = _unadjust(truth, 180, 4.0)
    table = pd.DataFrame(
        {
            "Date": raw["timestamp"].dt.strftime("%Y-%m-%d"),
            "Open": raw["open"],
            "High": raw["high"],
            "Low": raw["low"],
            "Close": raw["close"],
            "Volume": raw["volume"],
            "Dividends": 0.0,
            "Stock Splits": 0.0,
        }
    )
    table.loc[180, "Stock Splits"] = 4.0
    table.loc[90, "Dividends"] = 0.5
    path = tmp_path / "AAA.csv"
    table.to_csv(path, index=False)
    fetched = FileSource(str(path)).fetch(["AAA"], "1d", dt.date(2021, 1, 1), None)
    result = clean(fetched, CleaningConfig(adjustment="all"), "1d")
    assert [(a["origin"], a["kind"]) for a in _actions(result)] == [
        ("given", "dividend"),
        ("given", "split"),
    ]
    after = result.bars.iloc[90:]
    np.testing.assert_allclose(after["close"], truth["close"].iloc[90:], rtol=1e-12)
    assert (result.bars["adjustment"].iloc[:90] > 4.0).all()


def test_a_split_and_a_dividend_on_one_day_are_both_applied() -> None:
    # The source's columns and the spec each give one kind on the ex-date; one
    # kind on a day does not replace the other.
    truth = one(bars(symbols=("AAA",)), "AAA")
    raw = _unadjust(truth, 120, 2.0).assign(split=0.0, dividend=0.0)
    raw.loc[120, ["split", "dividend"]] = [2.0, 0.5]
    day = raw["timestamp"].iloc[120].date()
    spec = [CorporateAction(symbol="AAA", date=day, dividend=0.25)]
    for config in (
        CleaningConfig(adjustment="all"),
        CleaningConfig(adjustment="all", corporate_actions=spec),
    ):
        result = clean(raw, config, "1d")
        kinds = sorted((str(a["kind"]), str(a["origin"])) for a in _actions(result))
        assert kinds == [("dividend", "given"), ("split", "given")]
        dividend = 0.5 if not config.corporate_actions else 0.25
        c = raw["close"].iloc[119]
        np.testing.assert_allclose(
            result.bars["adjustment"].iloc[:120], 2.0 * c / (c - dividend), rtol=1e-12
        )


@pytest.mark.parametrize("size", [1.5, 2.5])
def test_a_bad_print_coming_back_is_no_split(size: float) -> None:
    # Bar 251 printed at 1.5 or 2.5 times the market (no reverse split's
    # ratio, so no split there); bar 252 opened back at the market and moved
    # 15% by its close, so its close does not take 251's move back (no spike):
    # its open gaps like a 3:2 or 5:2 split, but history is not rescaled by it.
    truth = one(bars(symbols=("AAA",)), "AAA")
    truth.loc[252:, PRICES] *= np.exp(0.15)
    truth.loc[252, "open"] = truth["close"].iloc[250]
    truth.loc[252, "low"] = min(truth["low"].iloc[252], truth["open"].iloc[252])
    bad = truth.copy()
    bad.loc[251, PRICES] *= size
    result = clean(bad, CleaningConfig(), "1d")
    assert _actions(result) == []
    assert (result.bars["adjustment"] == 1.0).all()
