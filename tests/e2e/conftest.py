"""Fixtures: the local control plane, kubetrade's CRDs, the operator in-process
and a local node running the test namespace's pods."""

from kubetrade_testing.cluster import (
    control_plane,
    kubeconfig,
    kubeconfig_env,
    lightkube_client,
    namespace,
)
from kubetrade_testing.crds import crds
from kubetrade_testing.local_node import local_node
from kubetrade_testing.operator import operator

__all__ = [
    "control_plane",
    "crds",
    "kubeconfig",
    "kubeconfig_env",
    "lightkube_client",
    "local_node",
    "namespace",
    "operator",
]
