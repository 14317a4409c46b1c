"""Calls to a venue with a deadline.

alpaca-py sends its requests without a timeout, so a venue that stops
answering would hang the trader forever. Each call runs on a small worker
pool instead and the trader waits at most `seconds`; a late call is reported
as `BrokerUnavailable` (its outcome unknown), which sends the order router to
look the order up rather than resend it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from .base import BrokerUnavailable

T = TypeVar("T")


class Deadline:
    """Run calls on worker threads; give up waiting after `seconds`."""

    def __init__(self, seconds: float, name: str, workers: int = 4) -> None:
        self.seconds = seconds
        self._name = name
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{name}-call")

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """`fn()`'s result, or BrokerUnavailable when it takes longer than the deadline."""
        future = self._pool.submit(fn)
        try:
            return future.result(timeout=self.seconds)
        except FutureTimeout:
            # The call may still reach the venue: the caller must treat its outcome as unknown.
            raise BrokerUnavailable(
                f"{self._name}: {what}: no answer within {self.seconds:g}s"
            ) from None

    def close(self) -> None:
        """Stop accepting calls; a call still waiting on the venue finishes on its own."""
        self._pool.shutdown(wait=False, cancel_futures=True)
