"""kopf handlers, one module per kind. Importing this package registers them all."""

from . import (
    dataset,
    dependents,
    jobs,
    model,
    schedule,
    startup,
    trading_session,
    training_run,
)

__all__ = [
    "dataset",
    "dependents",
    "jobs",
    "model",
    "schedule",
    "startup",
    "trading_session",
    "training_run",
]
