"""Named points where a test can make the trader die, the way etcd's gofail does.

Production code calls `failpoints.hit("after-intent")` at the moments a crash
is most dangerous (an order written but not sent, sent but not recorded, a
fill seen but not booked). The default `Failpoints()` does nothing; the fault
tests pass a `RandomCrashes`, whose `SimulatedCrash` is a BaseException so no
`except Exception` in the trader can swallow it, like a real kill.
"""

from __future__ import annotations

import random
from collections import Counter

POINTS = (
    "after-intent",
    "after-place",
    "before-fill",
    "after-fill",
    "mid-bar",
    "before-close-bar",
)


class SimulatedCrash(BaseException):
    """The process 'died' at a failpoint."""


class Failpoints:
    """No failpoint fires."""

    def hit(self, name: str) -> None:
        """Pass `name`; a subclass may raise SimulatedCrash here."""


class RandomCrashes(Failpoints):
    """Crash at each point with probability `rate`, from a seeded generator."""

    def __init__(self, rate: float, seed: int = 0) -> None:
        self.rate = rate
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not crypto
        self.crashes: Counter[str] = Counter()
        self.armed = True

    def hit(self, name: str) -> None:
        """Raise SimulatedCrash with probability `rate` while armed."""
        if self.armed and self._rng.random() < self.rate:
            self.crashes[name] += 1
            raise SimulatedCrash(name)
