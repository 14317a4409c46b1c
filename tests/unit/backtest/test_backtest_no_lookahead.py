"""The engine never hands a strategy a bar after now, and decisions never change when
only the future does."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kubetrade_testing.histories import random_history
from kubetrade_workloads.backtest import BacktestSettings, run_events, run_vectorized
from kubetrade_workloads.market.history import FloatArray, History
from kubetrade_workloads.strategies import Momentum, MovingAverageCrossover


@dataclass
class Spy:
    """Remembers the last bar time of every history it is given."""

    lookback: int = 0
    seen: list[np.datetime64] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    def target_weights(self, history: History, weights: FloatArray) -> FloatArray:
        self.seen.append(history.times[-1])
        self.lengths.append(len(history))
        return np.full(len(history.symbols), 0.2)


def test_the_strategy_sees_exactly_the_bars_up_to_now() -> None:
    h = random_history(21, bars=30)
    spy = Spy()
    run_events(h, spy, BacktestSettings(start=5))
    np.testing.assert_array_equal(spy.seen, h.times[5:])  # the last bar seen is always now
    assert spy.lengths == list(range(6, 31))


def test_a_lookback_window_ends_now_too() -> None:
    h = random_history(22, bars=30)
    spy = Spy(lookback=4)
    run_events(h, spy)
    np.testing.assert_array_equal(spy.seen, h.times)
    assert spy.lengths == [1, 2, 3] + [4] * 27


def poisoned(h: History, after: int) -> History:
    """The same bars up to `after`, then wild prices."""
    fields = {f: getattr(h, f).copy() for f in ("open", "high", "low", "close", "volume")}
    for name in ("open", "high", "low", "close"):
        fields[name][after + 1 :] *= np.linspace(0.2, 5.0, len(h) - after - 1)[:, None]
    return History(h.times, h.symbols, fields)


def test_changing_the_future_changes_nothing_before_it() -> None:
    h = random_history(23, bars=120)
    cut = 70
    for strategy in (MovingAverageCrossover(5, 20), Momentum(10, top=2)):
        for run in (run_events, run_vectorized):
            honest = run(h, strategy, BacktestSettings())
            altered = run(poisoned(h, cut), strategy, BacktestSettings())
            # Equity up to the cut and every fill decided by then are untouched (an order
            # decided on the cut's close fills at the next open: same quantity, new price).
            np.testing.assert_array_equal(honest.equity[: cut + 1], altered.equity[: cut + 1])
            decided = honest.fills.timestamp <= honest.equity.index[cut + 1]
            count = int(decided.sum())
            assert count > 0
            mine, theirs = honest.fills[:count], altered.fills[:count]
            assert mine.quantity.equals(theirs.quantity)
            priced = mine.timestamp <= honest.equity.index[cut]
            assert mine[priced].equals(theirs[priced])
