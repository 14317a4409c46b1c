"""`python -m kubetrade_operator`: run the operator (all namespaces unless KUBETRADE_NAMESPACE)."""

from __future__ import annotations

import argparse

import kopf

from . import handlers
from .settings import get_settings


def main() -> None:
    """Parse the few flags and hand over to kopf."""
    parser = argparse.ArgumentParser(prog="kubetrade-operator", description=__doc__)
    parser.add_argument(
        "--standalone", action="store_true", help="no peering: the only operator instance"
    )
    parser.add_argument("--peering", default="kubetrade", help="kopf peering name (HA replicas)")
    parser.add_argument(
        "--liveness", default=None, help="liveness endpoint, e.g. http://0.0.0.0:8081/healthz"
    )
    args = parser.parse_args()
    assert handlers  # noqa: S101 - importing registers the handlers
    settings = get_settings()
    kopf.run(
        standalone=args.standalone,
        peering_name=None if args.standalone else args.peering,
        liveness_endpoint=args.liveness,
        clusterwide=settings.namespace is None,
        namespaces=[settings.namespace] if settings.namespace else [],
    )


if __name__ == "__main__":
    main()
