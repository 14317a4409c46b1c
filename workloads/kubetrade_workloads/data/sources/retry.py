"""Retrying what a rate limit or a passing outage refused, then failing clearly."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .base import SourceError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Retry:
    """Exponential backoff: `base_delay`, doubling, at most `max_delay`, `attempts` tries."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, floor: float = 0.0) -> float:
        """Seconds to wait after failed try number `attempt` (0-based)."""
        return float(min(self.max_delay, max(floor, self.base_delay * 2.0**attempt)))


def call(
    fn: Callable[[], T],
    *,
    retry_on: tuple[type[BaseException], ...],
    policy: Retry,
    what: str,
    floor: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`fn()`, retried on `retry_on`; after the last try a SourceError naming `what`.

    `floor` is the least wait between tries, e.g. an exchange's rate limit.
    """
    for attempt in range(policy.attempts):
        try:
            return fn()
        except retry_on as err:
            if attempt + 1 == policy.attempts:
                raise SourceError(f"{what} failed after {policy.attempts} attempts: {err}") from err
            wait = policy.delay(attempt, floor)
            log.warning("%s: %s; retrying in %.1fs", what, type(err).__name__, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
