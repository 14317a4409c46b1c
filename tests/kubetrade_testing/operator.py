"""Run the kubetrade operator in-process with kopf's KopfRunner, as a fixture."""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from kopf.testing import KopfRunner

from kubetrade_dev.api_objects import build_decoders
from kubetrade_operator.settings import get_settings

OPERATOR_ARGS = ["run", "-A", "--standalone", "-m", "kubetrade_operator.handlers"]


@contextmanager
def running_operator(
    kubeconfig: Path,
    env: dict[str, str] | None = None,
    args: Sequence[str] = OPERATOR_ARGS,
) -> Iterator[KopfRunner]:
    """The operator, watching all namespaces, until the block ends (`args`: kopf's
    command line, standalone by default).

    Settings are read from the environment once per process, so the cache is
    cleared around each run; the block fails the test if the operator crashed.
    """
    # msgspec builds a model's decoder on first use; two threads doing it at
    # once can crash the interpreter, so build them before kopf's thread starts.
    build_decoders()
    overrides = {"KUBECONFIG": str(kubeconfig), "KUBETRADE_METRICS_PORT": "0", **(env or {})}
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    get_settings.cache_clear()
    try:
        with KopfRunner(list(args), timeout=60) as runner:
            yield runner
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
    collect_kopf_leftovers()
    assert runner.exception is None, runner.output[-4000:]
    assert runner.exit_code == 0, runner.output[-4000:]


def collect_kopf_leftovers() -> None:
    """Collect what a finished KopfRunner left for the garbage collector.

    KopfRunner closes its event loop right after cancelling the watch streams,
    and now and then a connection's transport is not closed yet. Its
    ResourceWarning would then fail whichever later test the garbage collector
    happens to run in (warnings are errors); collect it here instead.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def operator(kubeconfig: Path, crds: None) -> Iterator[KopfRunner]:
    """The operator running for one test, with the CRDs installed."""
    with running_operator(kubeconfig) as runner:
        yield runner
