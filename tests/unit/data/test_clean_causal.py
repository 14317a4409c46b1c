"""Cleaning is causal: publishing bars up to k and up to k + m gives the same
bars, returns and features on every row the two share, whatever the source,
interval, options and faults in the bars.

The one thing a later bar may change is the price level before a corporate
action that arrives with it (history is adjusted backward): then the shared
rows differ by that action's factor, the raw prices (price x adjustment) stay
the same, and returns and features, being scale-free, agree to rounding.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.config.data import CleaningConfig, CorporateAction, FeatureConfig
from kubetrade_workloads.data import features, outliers
from kubetrade_workloads.data.clean import Cleaned, clean
from kubetrade_workloads.data.sources.synthetic import SyntheticSource

PRICES = ["open", "high", "low", "close"]
FEATURES = FeatureConfig(window=10, groups=["returns", "trend", "volume", "statistics"])
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SPANS = {
    "1d": ("2021-01-04", "2022-03-31"),
    "1h": ("2021-03-01", "2021-05-28"),
    "1m": ("2021-03-01", "2021-03-04"),
}


def _source(name: str, interval: str, seed: int) -> pd.DataFrame:
    start, end = SPANS[interval]
    if name == "frames":
        return bars(symbols=("AAA", "BTC/USD"), start=start, end=end, interval=interval, seed=seed)
    fetched = SyntheticSource(seed).fetch(
        ["AAA", "BTC/USD"], interval, dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    )
    return fetched.reset_index(drop=True)


@st.composite
def faults(draw: st.DrawFn) -> dict[str, object]:
    """Where the bad and the real events fall, as fractions of AAA's bars."""
    at = st.floats(0.1, 0.98)
    return {
        "split": draw(st.none() | st.tuples(at, st.sampled_from([2.0, 3.0, 0.1, 1.5]))),
        "given": draw(st.booleans()),
        "spike": draw(st.none() | st.tuples(at, st.sampled_from([4.0, 0.3]))),
        "stale": draw(st.none() | at),
        "gap": draw(st.none() | st.tuples(at, st.integers(1, 8))),
        "impossible": draw(st.none() | at),
        "jump": draw(st.none() | at),
    }


def _inject(frame: pd.DataFrame, spec: dict[str, object]) -> tuple[pd.DataFrame, list[object]]:
    out = frame.copy()
    rows = out.index[out["symbol"] == "AAA"]
    pick = lambda f: rows[min(int(f * len(rows)), len(rows) - 1)]  # noqa: E731
    given_actions = []
    if spec["split"] is not None:
        f, ratio = spec["split"]  # type: ignore[misc]
        before = rows[rows < pick(f)]
        out.loc[before, PRICES] *= ratio
        out.loc[before, "volume"] /= ratio
        if spec["given"]:
            day = out.loc[pick(f), "timestamp"].date()
            given_actions.append(CorporateAction(symbol="AAA", date=day, ratio=ratio))
    if spec["jump"] is not None:
        later = rows[rows >= pick(spec["jump"])]
        out.loc[later, PRICES] *= 1.3
        out.loc[later[0], "volume"] *= 20
    if spec["spike"] is not None:
        f, size = spec["spike"]  # type: ignore[misc]
        out.loc[pick(f), PRICES] *= size
    if spec["stale"] is not None:
        row = pick(spec["stale"])
        previous = rows[rows < row]
        if len(previous):
            out.loc[row, [*PRICES, "volume"]] = out.loc[
                previous[-1], [*PRICES, "volume"]
            ].to_numpy()
    if spec["impossible"] is not None:
        out.loc[pick(spec["impossible"]), "low"] = -1.0
    if spec["gap"] is not None:
        f, size = spec["gap"]  # type: ignore[misc]
        start = list(rows).index(pick(f))
        out = out.drop(index=rows[start : start + size])
    return out.reset_index(drop=True), given_actions


def _symbol(cleaned: Cleaned, symbol: str) -> pd.DataFrame:
    part = cleaned.bars[cleaned.bars["symbol"] == symbol]
    return part.sort_values("timestamp").reset_index(drop=True)


def _returns(frame: pd.DataFrame) -> np.ndarray:
    return np.diff(np.log(frame["close"].to_numpy()))


@SETTINGS
@given(
    st.sampled_from(["frames", "synthetic"]),
    st.sampled_from(["1d", "1h", "1m"]),
    faults(),
    st.sampled_from(["ffill", "none"]),
    st.integers(0, 6),
    st.sampled_from(["keep", "clip", "drop"]),
    st.sampled_from(["auto", "splits", "all", "none"]),
    st.floats(0.55, 0.97),
    st.integers(1, 60),
    st.integers(0, 2**16),
)
def test_publishing_later_bars_changes_no_earlier_bar(
    source: str,
    interval: str,
    spec: dict[str, object],
    fill: str,
    limit: int,
    action: str,
    adjustment: str,
    cut: float,
    more: int,
    seed: int,
) -> None:
    frame, given_actions = _inject(_source(source, interval, seed), spec)
    config = CleaningConfig(
        fill_method=fill,
        fill_limit=limit,
        outlier_action=action,
        outlier_z=6.0,
        adjustment=adjustment,
        corporate_actions=given_actions,
    )
    times = np.sort(frame["timestamp"].unique())
    k = int(cut * len(times))
    short_end, long_end = times[k], times[min(k + more, len(times) - 1)]
    short = clean(frame[frame["timestamp"] <= short_end], config, interval)
    long = clean(frame[frame["timestamp"] <= long_end], config, interval)
    for symbol in ("AAA", "BTC/USD"):
        a, b = _symbol(short, symbol), _symbol(long, symbol)
        # The shorter publication is a prefix of the longer one.
        assert (a["timestamp"].to_numpy() == b["timestamp"].to_numpy()[: len(a)]).all()
        b = b.iloc[: len(a)]
        news = {str(x) for r in long.reports for x in r.actions} - {
            str(x) for r in short.reports for x in r.actions
        }
        raw_a = a[PRICES].to_numpy() * a[["adjustment"]].to_numpy()
        raw_b = b[PRICES].to_numpy() * b[["adjustment"]].to_numpy()
        np.testing.assert_allclose(raw_a, raw_b, rtol=1e-12)
        np.testing.assert_allclose(_returns(a), _returns(b), rtol=0, atol=1e-12)
        if not news:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
    news = {str(x) for r in long.reports for x in r.actions} != {
        str(x) for r in short.reports for x in r.actions
    }
    _same_features(short, long, exact=not news)


def _same_features(short: Cleaned, long: Cleaned, exact: bool) -> None:
    try:
        fa = features.compute(short.bars, FEATURES).frame
    except features.FeatureError:
        return  # too few bars for any row of features: nothing to compare
    fb = features.compute(long.bars, FEATURES).frame
    keys = ["symbol", "timestamp"]
    joined = fa.merge(fb, on=keys, suffixes=("_a", "_b"), validate="one_to_one")
    assert len(joined) == len(fa)
    names = [c for c in fa.columns if c not in ("symbol", "timestamp", *PRICES, "volume")]
    left = joined[[f"{n}_a" for n in names]].to_numpy(dtype=np.float64)
    right = joined[[f"{n}_b" for n in names]].to_numpy(dtype=np.float64)
    if exact:
        np.testing.assert_array_equal(left, right)
    else:  # the same features of bars scaled by a factor: equal to rounding
        np.testing.assert_allclose(left, right, rtol=1e-4, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1200), st.integers(1, 400), st.floats(0.0, 0.9), st.integers(0, 2**16))
def test_the_scale_a_bar_is_judged_by_reads_only_earlier_returns(
    n: int, cut: int, zeros: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    returns = rng.standard_t(3, n) * 0.01
    returns[rng.random(n) < zeros] = 0.0  # flat stretches: the mean stands in for the median
    changed = returns.copy()
    changed[cut:] = rng.normal(0, 1.0, max(n - cut, 0))
    np.testing.assert_array_equal(
        outliers.trailing_scale(returns)[:cut], outliers.trailing_scale(changed)[:cut]
    )
    # And it is the robust sigma of the LOOKBACK returns before the bar's block.
    for t in rng.integers(0, max(n, 1), 5).tolist() if n else []:
        start = t - t % outliers.REFRESH
        seen = np.abs(returns[1:start])[-outliers.LOOKBACK :]
        got = outliers.trailing_scale(returns)[t]
        if len(seen) < outliers.MIN_HISTORY or n < outliers.MIN_HISTORY + 2:
            assert np.isnan(got)
            continue
        median = float(np.median(seen))
        want = 1.4826 * median if median > 0 else 1.2533 * float(seen.mean())
        assert got == pytest.approx(want, rel=1e-12) if want > 0 else np.isnan(got)
