"""Prometheus metrics of the operator: reconcile counts, errors and durations."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RECONCILES = Counter(
    "kubetrade_reconcile_total", "Reconciles by kind and result", ["kind", "result"]
)
ERRORS = Counter("kubetrade_reconcile_errors_total", "Reconciles that raised, by kind", ["kind"])
DURATION = Histogram(
    "kubetrade_reconcile_duration_seconds",
    "Time spent in one reconcile, by kind",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CHILDREN_CREATED = Counter(
    "kubetrade_children_created_total", "Child objects created", ["kind", "child"]
)

LIVE_VERSION = Gauge(
    "kubetrade_session_model_version",
    "The Model version each session trades (0: a Model from before versions)",
    ["namespace", "session", "model"],
)
CHALLENGER_VERSION = Gauge(
    "kubetrade_session_challenger_version",
    "The Model version shadowing each session's live one (0: none)",
    ["namespace", "session", "model"],
)
MODEL_CHANGES = Counter(
    "kubetrade_model_changes_total",
    "Changes of a session's live version or challenger, by reason",
    ["reason"],
)


def forget_session(namespace: str, session: str, model: str) -> None:
    """Drop a deleted session's version gauges: a dashboard would show it trading on."""
    for gauge in (LIVE_VERSION, CHALLENGER_VERSION):
        try:
            gauge.remove(namespace, session, model)
        except KeyError:
            pass  # never set (the session never traded under this operator)


@contextmanager
def reconciling(kind: str) -> Iterator[None]:
    """Count and time one reconcile; an exception counts as an error and propagates."""
    start = time.perf_counter()
    try:
        yield
    except Exception:
        ERRORS.labels(kind).inc()
        RECONCILES.labels(kind, "error").inc()
        raise
    else:
        RECONCILES.labels(kind, "ok").inc()
    finally:
        DURATION.labels(kind).observe(time.perf_counter() - start)


_serving: set[int] = set()


def serve(port: int) -> None:
    """Expose /metrics on all interfaces (a ServiceMonitor scrapes it in-cluster).

    Idempotent per port: tests start the operator several times in one process.
    """
    if port and port not in _serving:
        start_http_server(port)
        _serving.add(port)
