"""`python -m kubetrade_operator`: run the operator (all namespaces unless KUBETRADE_NAMESPACE)."""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Sequence

import kopf

from .settings import get_settings

LOG_FORMATS = {
    "plain": kopf.LogFormat.PLAIN,
    "full": kopf.LogFormat.FULL,
    "json": kopf.LogFormat.JSON,
}


def seniority_priority(started_at: float | None = None) -> int:
    """A kopf peering priority that ranks older instances above newer ones.

    kopf pauses every instance that sees a live peer of the *same* priority, so
    identical HA replicas must not share one. The earliest-started instance
    keeps working and replicas started later wait as standbys. A random
    tie-breaker separates replicas started in the same millisecond (in
    containers every operator is pid 1). The value stays below 2**53, so any
    JSON reader of the peering object sees it exactly.
    """
    started = time.time() if started_at is None else started_at
    return -(int(started * 1000) * 1000 + secrets.randbelow(1000))


def build_parser() -> argparse.ArgumentParser:
    """The operator's command line (the Helm chart's Deployment passes these flags)."""
    parser = argparse.ArgumentParser(prog="kubetrade-operator", description=__doc__)
    parser.add_argument(
        "--standalone", action="store_true", help="no peering: the only operator instance"
    )
    parser.add_argument("--peering", default="kubetrade", help="kopf peering name (HA replicas)")
    parser.add_argument(
        "--priority",
        type=int,
        default=None,
        help="kopf peering priority; by default older instances outrank newer ones",
    )
    parser.add_argument(
        "--liveness", default=None, help="liveness endpoint, e.g. http://0.0.0.0:8081/healthz"
    )
    parser.add_argument(
        "--log-format",
        choices=sorted(LOG_FORMATS),
        default=None,
        help="log INFO and up in this format (the chart passes json); unset: warnings only, bare",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the few flags and hand over to kopf."""
    args = build_parser().parse_args(argv)
    from . import handlers  # importing registers the handlers

    assert handlers  # noqa: S101
    if args.log_format:
        # log_prefix=None: text lines start with [namespace/name], JSON lines carry the object.
        kopf.configure(log_format=LOG_FORMATS[args.log_format], log_prefix=None)
    settings = get_settings()
    priority = args.priority if args.priority is not None else seniority_priority()
    kopf.run(
        standalone=args.standalone,
        peering_name=None if args.standalone else args.peering,
        priority=None if args.standalone else priority,
        liveness_endpoint=args.liveness,
        # The chart sets KUBETRADE_NAMESPACE="" for all namespaces; kopf warns it will refuse neither.
        clusterwide=not settings.namespace,
        namespaces=[settings.namespace] if settings.namespace else [],
    )


if __name__ == "__main__":
    main()
