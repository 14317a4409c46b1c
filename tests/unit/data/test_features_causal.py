"""Every feature is causal: its value at a bar never depends on a later bar.

Two proofs for every feature in the catalog, at several cut points: changing
everything from the cut on leaves every earlier value bit for bit the same,
and computing on the bars before the cut alone gives those same values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.config.data import FeatureConfig, FeatureGroup
from kubetrade_workloads.data import features
from kubetrade_workloads.data.features import catalog

CONFIG = FeatureConfig(window=20)
CUTS = (90, 200, 371)  # bar positions of AAA: just past the warm-up, the middle, the last bar
NAMES = list(catalog.ALL)
PRICE_BLIND = set(catalog.GROUPS[FeatureGroup.CALENDAR][1])


def _perturb_from(frame: pd.DataFrame, symbol: str, cut: int, seed: int) -> pd.DataFrame:
    """`frame` with every bar of `symbol` from position `cut` on replaced by other valid bars."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    rows = out.index[out["symbol"] == symbol][cut:]
    factor = np.exp(rng.normal(0, 0.05, len(rows)))
    for col in ("open", "high", "low", "close"):
        out.loc[rows, col] = out.loc[rows, col] * factor
    out.loc[rows, "open"] *= np.exp(rng.normal(0, 0.01, len(rows)))
    body = out.loc[rows, ["open", "close"]]
    out.loc[rows, "high"] = np.maximum(out.loc[rows, "high"], body.max(axis=1))
    out.loc[rows, "low"] = np.minimum(out.loc[rows, "low"], body.min(axis=1))
    out.loc[rows, "high"] *= 1 + rng.uniform(0, 0.02, len(rows))
    out.loc[rows, "low"] *= 1 - rng.uniform(0, 0.02, len(rows))
    out.loc[rows, "volume"] = rng.lognormal(12, 1.0, len(rows)).round()
    return out


def _values(made: features.Features, symbol: str, before: pd.Timestamp) -> pd.DataFrame:
    frame = made.frame
    return frame[(frame["symbol"] == symbol) & (frame["timestamp"] < before)].reset_index(drop=True)


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return bars(symbols=("AAA", "BBB"), start="2021-01-04", end="2022-06-30", seed=11)


@pytest.fixture(scope="module")
def made(base: pd.DataFrame) -> features.Features:
    return features.compute(base, CONFIG)


@pytest.mark.parametrize("cut", CUTS)
def test_changing_the_future_changes_no_earlier_value(
    base: pd.DataFrame, made: features.Features, cut: int
) -> None:
    when = base.loc[base["symbol"] == "AAA", "timestamp"].iloc[cut]
    changed = features.compute(_perturb_from(base, "AAA", cut, seed=cut), CONFIG)
    before, after = _values(made, "AAA", when), _values(changed, "AAA", when)
    assert len(before) == len(after) > 0
    leaks = [n for n in NAMES if not np.array_equal(before[n], after[n], equal_nan=True)]
    assert leaks == []
    # The other symbol is untouched, before and after the cut alike.
    other = made.frame["symbol"] == "BBB"
    pd.testing.assert_frame_equal(
        made.frame[other], changed.frame[changed.frame["symbol"] == "BBB"]
    )
    # The perturbation reaches every feature that reads prices or volume, so
    # the comparison above could have failed for each of them.
    later = made.frame[(made.frame["symbol"] == "AAA") & (made.frame["timestamp"] >= when)]
    later_changed = changed.frame[
        (changed.frame["symbol"] == "AAA") & (changed.frame["timestamp"] >= when)
    ]
    untouched = [
        n
        for n in NAMES
        if n not in PRICE_BLIND and np.array_equal(later[n].to_numpy(), later_changed[n].to_numpy())
    ]
    assert untouched == [] or set(untouched) <= {"regime"}  # a category may happen not to flip


@pytest.mark.parametrize("cut", CUTS)
def test_the_past_alone_gives_the_same_values(
    base: pd.DataFrame, made: features.Features, cut: int
) -> None:
    aaa = base[base["symbol"] == "AAA"]
    when = aaa["timestamp"].iloc[cut]
    past = features.compute(aaa[aaa["timestamp"] < when], CONFIG)
    full = _values(made, "AAA", when)
    alone = _values(past, "AAA", when)
    assert len(full) == len(alone) > 0
    leaks = [n for n in NAMES if not np.array_equal(full[n], alone[n], equal_nan=True)]
    assert leaks == []
