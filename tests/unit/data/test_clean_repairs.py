"""By default cleaning never changes a real price: only bars that cannot be real
(a one-bar spike the next bar takes back, a stale repeated tick) are repaired,
and each is listed."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kubetrade_testing.bar_frames import bars, one
from kubetrade_workloads.config.data import CleaningConfig
from kubetrade_workloads.data.clean import Cleaned, clean
from kubetrade_workloads.market.bars import COLUMNS

DEFAULT = CleaningConfig()
PRICES = ["open", "high", "low", "close"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _report(result: Cleaned, symbol: str = "AAA") -> dict[str, float]:
    return next(r for r in result.reports if r.symbol == symbol).as_dict()


def _unchanged(result: Cleaned, raw: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        result.bars[list(COLUMNS)].reset_index(drop=True), raw, check_dtype=False
    )


def _apart(jumps: list[tuple[int, float]]) -> bool:
    """Jumps at least three bars apart, so none undoes another: bars 233 and 234 once
    passed the old check (a bucket of three by index) and made a one-bar -53%/+112%
    round trip, a bad print that reverts, which the cleaner rightly repaired."""
    at = sorted(j[0] for j in jumps)
    return all(b - a >= 3 for a, b in zip(at, at[1:], strict=False))


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(30, 340), st.floats(-1.2, 1.2).filter(lambda x: abs(x) > 0.05)),
        min_size=1,
        max_size=4,
        unique_by=lambda j: j[0],
    ).filter(_apart),
    st.integers(0, 2**16),
)
def test_real_moves_of_any_size_stay_as_printed(jumps: list[tuple[int, float]], seed: int) -> None:
    # A jump that stays (an earnings day, a crash on heavy volume) is the market.
    raw = one(bars(symbols=("AAA",), seed=seed), "AAA")
    for at, size in jumps:
        raw.loc[at:, PRICES] *= np.exp(size)
        # News trades: 25 times the usual (median) volume, a surge no split comes with.
        # Relative to the bar's own volume, a quiet bar's 25x could sit within a
        # 3:1 split's volume band (seed 118: a 68% drop taken for a split).
        raw.loc[at, "volume"] = 25 * raw["volume"].iloc[max(0, at - 20) : at].median()
    result = clean(raw, DEFAULT, "1d")
    _unchanged(result, raw)
    report = _report(result)
    assert report["spikes"] == report["stale"] == report["splits"] == 0
    assert (result.bars["adjustment"] == 1.0).all()


def test_overnight_gaps_at_the_first_minute_bar_stay() -> None:
    raw = one(bars(symbols=("AAA",), interval="1m", start="2021-01-04", end="2021-01-08"), "AAA")
    opens = raw.index[raw["timestamp"].dt.strftime("%H:%M") == "14:30"][1:]
    for at, size in zip(opens, (0.12, -0.2, 0.3), strict=False):
        raw.loc[at:, PRICES] *= np.exp(size)
    result = clean(raw, DEFAULT, "1m")
    _unchanged(result, raw)
    assert _report(result)["spikes"] == 0


@SETTINGS
@given(st.integers(25, 300), st.sampled_from([5.0, 0.2, 1.5, 0.7]), st.integers(0, 2**16))
def test_a_bad_print_that_reverts_is_repaired_and_listed(at: int, size: float, seed: int) -> None:
    raw = one(bars(symbols=("AAA",), seed=seed), "AAA")
    # The market's own move across the print must be one the revert tolerance
    # takes (seed 55698 moved 4.5% over bars 250-252: no spike, by design).
    across = np.log(raw["close"].iloc[at + 1] / raw["close"].iloc[at - 1])
    assume(abs(across) < 0.05 * abs(np.log(size)))
    bad = raw.copy()
    bad.loc[at, PRICES] *= size
    result = clean(bad, DEFAULT, "1d")
    report = _report(result)
    assert report["spikes"] == 1 and report["filled"] == 1
    repairs = next(r for r in result.reports if r.symbol == "AAA").repairs
    assert repairs == (
        {"symbol": "AAA", "timestamp": raw["timestamp"].iloc[at].isoformat(), "what": "spike"},
    )
    out = result.bars
    flat = out.loc[at, ["open", "high", "low", "close", "volume"]].tolist()
    assert flat == [raw["close"].iloc[at - 1]] * 4 + [0.0]
    # Every other bar is the market's, bit for bit.
    others = out.index != at
    _unchanged(Cleaned(out[others], ()), raw[others].reset_index(drop=True))


def test_two_bad_prints_a_bar_apart_leave_the_good_bar_between() -> None:
    # Up, back, up, back: bars 150 and 152 are bad prints. Bar 151 is the
    # market's, though its move (taking back 150's) is reverted by 152's.
    raw = one(bars(symbols=("AAA",)), "AAA")
    bad = raw.copy()
    bad.loc[[150, 152], PRICES] *= 1.5
    result = clean(bad, DEFAULT, "1d")
    assert [r["timestamp"] for r in result.reports[0].repairs] == [
        raw["timestamp"].iloc[150].isoformat(),
        raw["timestamp"].iloc[152].isoformat(),
    ]
    others = ~result.bars.index.isin([150, 152])
    _unchanged(Cleaned(result.bars[others], ()), raw[others].reset_index(drop=True))


def test_the_newest_bar_waits_for_the_next_to_be_judged() -> None:
    raw = one(bars(symbols=("AAA",)), "AAA")
    moved = raw.copy()
    moved.loc[len(raw) - 2, PRICES] *= 3.0  # the newest bar but one: the newest reverts it
    moved = moved.iloc[:-1]
    held = clean(moved, DEFAULT, "1d")
    assert _report(held)["withheld"] == 1 and len(held.bars) == len(moved) - 1
    assert _report(held)["spikes"] == 0
    # The next bar takes the move back: a spike, repaired.
    reverted = raw.copy()
    reverted.loc[len(raw) - 2, PRICES] *= 3.0
    judged = clean(reverted, DEFAULT, "1d")
    assert _report(judged)["spikes"] == 1 and _report(judged)["withheld"] == 0
    # The next bar stays up: the move was real and is published as printed.
    real = raw.copy()
    real.loc[len(raw) - 2 :, PRICES] *= 3.0
    real.loc[len(raw) - 2, "volume"] *= 25  # news volume: no reverse split
    kept = clean(real, DEFAULT, "1d")
    assert _report(kept)["spikes"] == 0 and _report(kept)["withheld"] == 0
    _unchanged(kept, real)


def test_a_stale_repeated_bar_is_repaired_and_listed() -> None:
    raw = one(bars(symbols=("AAA",)), "AAA")
    stale = raw.copy()
    stale.loc[51, ["open", "high", "low", "close", "volume"]] = raw.loc[
        50, ["open", "high", "low", "close", "volume"]
    ].to_numpy()
    result = clean(stale, DEFAULT, "1d")
    report = _report(result)
    assert report["stale"] == 1 and report["filled"] == 1
    assert result.bars.loc[51, "volume"] == 0.0
    assert result.bars.loc[51, "close"] == raw["close"].iloc[50]
    assert result.reports[0].repairs[0]["what"] == "stale"
    # A flat bar without volume (an illiquid symbol) is real, not stale.
    quiet = stale.copy()
    quiet.loc[[50, 51], "volume"] = 0.0
    for col in ("open", "high", "low"):
        quiet.loc[[50, 51], col] = quiet.loc[50, "close"]
    quiet.loc[51, "close"] = quiet.loc[50, "close"]
    assert _report(clean(quiet, DEFAULT, "1d"))["stale"] == 0


def test_impossible_bars_are_listed_with_what_was_wrong() -> None:
    raw = one(bars(symbols=("AAA",)), "AAA")
    raw.loc[10, "open"] = -1.0
    raw.loc[12, "close"] = np.inf
    raw.loc[14, "high"] = raw.loc[14, ["open", "close"]].mean()
    listed = clean(raw, DEFAULT, "1d").reports[0].repairs
    assert [(r["timestamp"], r["what"]) for r in listed] == [
        (raw["timestamp"].iloc[10].isoformat(), "impossible"),
        (raw["timestamp"].iloc[12].isoformat(), "nonFinite"),
        (raw["timestamp"].iloc[14].isoformat(), "inconsistent"),
    ]
