"""Fixtures: a local Kubernetes control plane shared by the whole test session,
kubetrade's CRDs installed in it, and the operator run in-process per test."""

from kubetrade_testing.cluster import (
    control_plane,
    kubeconfig,
    kubeconfig_env,
    lightkube_client,
    namespace,
)
from kubetrade_testing.crds import crds
from kubetrade_testing.operator import operator

__all__ = [
    "control_plane",
    "crds",
    "kubeconfig",
    "kubeconfig_env",
    "lightkube_client",
    "namespace",
    "operator",
]
