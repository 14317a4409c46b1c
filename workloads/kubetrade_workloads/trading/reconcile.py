"""Start-up reconciliation: the trader's books against the venue's positions.

Before it trades, a restarted trader settles every order that was open when
it stopped (so fills that happened while it was down are booked), then
compares each symbol's position in the store (plus what the venue held before
the session began) with the venue's. A difference, or a venue that cannot say
what it holds, fails closed: the trader halts and says why. A venue that is
merely busy (429s, 5xx, timeouts) is asked again, up to `patience` times, and a
difference is checked again a few times, since a fill can land between the
order lookups and the position read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from ..market.types import Position
from .book import Book
from .brokers import BrokerUnavailable, TradingBroker
from .orders import OrderRouter

log = logging.getLogger(__name__)
TOLERANCE = 1e-6


def differences(
    own: Mapping[str, Position],
    venue: Mapping[str, Position],
    baseline: Mapping[str, float],
    tolerance: float = TOLERANCE,
) -> list[str]:
    """One line per symbol whose expected and reported quantities differ."""
    out = []
    for symbol in sorted(set(own) | set(venue) | set(baseline)):
        ours = own[symbol].quantity if symbol in own else 0.0
        expected = baseline.get(symbol, 0.0) + ours
        reported = venue[symbol].quantity if symbol in venue else 0.0
        if abs(expected - reported) > tolerance * max(1.0, abs(expected)):
            out.append(f"{symbol}: store {expected:g}, venue {reported:g}")
    return out


class Reconciler:
    """Settle open orders, then compare positions; a few rounds before failing."""

    def __init__(
        self,
        router: OrderRouter,
        broker: TradingBroker,
        book: Book,
        baseline: Mapping[str, float],
        *,
        rounds: int = 3,
        patience: int = 20,
        pause: float = 0.2,
        max_pause: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.router, self.broker, self.book, self.baseline = router, broker, book, baseline
        self.rounds, self.patience, self._sleep = rounds, patience, sleep
        self.pause, self.max_pause = pause, max_pause

    def run(self) -> tuple[bool, str]:
        """(True, summary) when every position matches; (False, why) otherwise."""
        why, busy, differing = "", 0, 0
        while busy < self.patience and differing < self.rounds:
            if busy or differing:
                self._sleep(min(self.pause * (busy + differing), self.max_pause))
            try:
                self.router.sync()
                venue = self.broker.positions()
            except BrokerUnavailable as err:
                busy += 1
                why = f"the venue could not report its positions: {err}"
                continue
            if self.router.postponed:
                busy += 1
                why = f"{self.router.postponed} open orders could not be checked with the venue"
                continue
            diff = differences(self.book.portfolio.positions, venue, self.baseline)
            if not diff:
                held = len(self.book.portfolio.positions)
                return True, f"{held} positions match the venue"
            differing += 1
            why = "positions differ from the venue: " + "; ".join(diff)
        log.error("reconciliation failed: %s", why)
        return False, why
