"""A trial's wall-clock limit (`search.trialTimeoutSeconds`), enforced while it trains.

Validations may be far apart, and a trial can stall between them, so the deadline
is checked wherever training already passes often: every progress update (each
environment step of an agent, each forecaster epoch) and, while `enforced`,
before every torch module's forward pass, which is each forecaster batch and each
policy step. Past the deadline the check raises `TrialTimeout` inside the training
loop; the worker's `catch` then records the trial FAIL and takes the next one.

Failed, not pruned: a stall says as much about the node as about the
hyperparameters, and a pruned trial's last reported value would steer the
sampler (TPE ranks pruned trials by it). The reason is the trial's `timedOut`
user attribute and a column of the trials table.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from torch.nn.modules.module import register_module_forward_pre_hook


class TrialTimeout(TimeoutError):
    """A trial ran past its `trialTimeoutSeconds`."""


class Deadline:
    """`seconds` of wall clock from now (no limit when None)."""

    def __init__(self, seconds: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self.started = clock()

    def check(self) -> None:
        """Raise `TrialTimeout` once the deadline has passed."""
        if self.seconds is not None and self.clock() - self.started > self.seconds:
            raise TrialTimeout(f"trial ran past its {self.seconds:g} s timeout")

    @contextlib.contextmanager
    def enforced(self) -> Iterator[None]:
        """Check before every torch module's forward pass while inside: the one point
        a forecaster's epoch passes every batch without a callback of its own."""
        if self.seconds is None:
            yield
            return
        # A global hook, removed on the way out: a worker runs one trial at a time.
        handle = register_module_forward_pre_hook(lambda module, args: self.check())
        try:
            yield
        finally:
            handle.remove()
