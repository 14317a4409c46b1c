"""Act as a ServiceAccount in tests: a TokenRequest token, a kubeconfig using it,
and access reviews asked with that identity.

The local control plane signs ServiceAccount tokens (``--service-account-issuer``
and the signing key are set), so a token from the TokenRequest API
(``serviceaccounts/token``) authenticates exactly as one mounted into a pod.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import ApiError, Client, KubeConfig
from lightkube.models.authentication_v1 import TokenRequestSpec
from lightkube.models.authorization_v1 import ResourceAttributes, SelfSubjectAccessReviewSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.authorization_v1 import SelfSubjectAccessReview
from lightkube.resources.core_v1 import ServiceAccount
from lightkube.types import PatchType

from kubetrade_testing.factories import RESOURCES


def request_token(client: Client, namespace: str, name: str, seconds: int = 3600) -> str:
    """A bound token for ServiceAccount ``namespace/name`` (``kubectl create token``)."""
    request = ServiceAccount.Token(
        metadata=ObjectMeta(name=name, namespace=namespace),
        spec=TokenRequestSpec(audiences=[], expirationSeconds=seconds),
    )
    response = client.create(request, name, namespace=namespace)
    assert response.status is not None and response.status.token
    return str(response.status.token)


def write_token_kubeconfig(admin_kubeconfig: Path, token: str, out: Path) -> Path:
    """A copy of the admin kubeconfig's cluster (server, CA) with ``token`` as the user."""
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "service-account", "user": {"token": token}}],
        "contexts": [
            {
                "name": "service-account",
                "context": {"cluster": cluster["name"], "user": "service-account"},
            }
        ],
        "current-context": "service-account",
    }
    out.write_text(yaml.safe_dump(config))
    out.chmod(0o600)
    return out


@dataclass(frozen=True)
class Access:
    """One request to ask about: ``verb`` on ``resource`` (``group``, ``subresource``)."""

    verb: str
    resource: str
    group: str = ""
    namespace: str | None = None
    subresource: str | None = None

    def __str__(self) -> str:
        what = self.resource + (f"/{self.subresource}" if self.subresource else "")
        where = f" in {self.namespace}" if self.namespace else " cluster-wide"
        return f"{self.verb} {what}.{self.group or 'core'}{where}"

    def can_i(self) -> list[str]:
        """The same question as `kubectl auth can-i` arguments (cluster-wide: -A)."""
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        args = ["auth", "can-i", self.verb, resource]
        if self.subresource:
            args.append(f"--subresource={self.subresource}")
        args += ["-n", self.namespace] if self.namespace else ["-A"]
        return args


def allowed(kubeconfig: Path, access: Access) -> bool:
    """Whether the kubeconfig's user may do ``access`` (a SelfSubjectAccessReview)."""
    attributes = ResourceAttributes(
        verb=access.verb,
        resource=access.resource,
        group=access.group,
        namespace=access.namespace,
        subresource=access.subresource,
    )
    review = SelfSubjectAccessReview(
        spec=SelfSubjectAccessReviewSpec(resourceAttributes=attributes)
    )
    with Client(config=KubeConfig.from_file(kubeconfig)) as client:
        answer = client.create(review)
    assert answer.status is not None
    return bool(answer.status.allowed)


def operator_may_not(ns: str) -> list[Access]:
    """What the chart's operator account must not do (no Secrets, no deletes but its
    Jobs and their ConfigMaps, no RBAC beyond the traders' own accounts, no pods, no
    tokens)."""
    return [
        Access("get", "secrets", namespace=ns),
        Access("list", "secrets"),
        Access("watch", "secrets"),
        Access("delete", "namespaces"),
        Access("create", "namespaces"),
        Access("create", "clusterroles", "rbac.authorization.k8s.io"),
        Access("create", "clusterrolebindings", "rbac.authorization.k8s.io"),
        Access("delete", "rolebindings", "rbac.authorization.k8s.io", namespace=ns),
        Access("bind", "roles", "rbac.authorization.k8s.io", namespace=ns),
        Access("escalate", "roles", "rbac.authorization.k8s.io", namespace=ns),
        Access("bind", "clusterroles", "rbac.authorization.k8s.io"),
        Access("delete", "serviceaccounts", namespace=ns),
        Access("create", "pods", namespace=ns),
        Access("create", "pods", namespace=ns, subresource="exec"),
        Access("delete", "pods", namespace=ns),
        Access("create", "serviceaccounts", namespace=ns, subresource="token"),
        Access("delete", "datasets", "kubetrade.io", namespace=ns),
        Access("update", "tradingsessions", "kubetrade.io", namespace=ns),
        Access("patch", "customresourcedefinitions", "apiextensions.k8s.io"),
        Access("delete", "deployments", "apps", namespace=ns),
        Access("get", "configmaps", namespace=ns),
        Access("update", "leases", "coordination.k8s.io", namespace=ns),
    ]


def operator_may(ns: str) -> list[Access]:
    """What the chart's operator account needs for its work."""
    return [
        Access("watch", "datasets", "kubetrade.io"),
        Access("patch", "tradingsessions", "kubetrade.io", namespace=ns, subresource="status"),
        Access("create", "models", "kubetrade.io", namespace=ns),
        Access("create", "jobs", "batch", namespace=ns),
        Access("delete", "jobs", "batch", namespace=ns),
        Access("patch", "deployments", "apps", namespace=ns),
        Access("create", "configmaps", namespace=ns),
        # Schedules: run requests on Datasets and TrainingRuns, pruned runs' configs.
        Access("patch", "datasets", "kubetrade.io", namespace=ns),
        Access("patch", "trainingruns", "kubetrade.io", namespace=ns),
        Access("delete", "configmaps", namespace=ns),
        Access("list", "pods", namespace=ns),
        Access("create", "events", namespace=ns),
        Access("list", "events", namespace=ns),
        Access("patch", "clusterkopfpeerings", "kopf.dev"),
        # Each trader's own account, Role and RoleBinding.
        Access("create", "serviceaccounts", namespace=ns),
        Access("create", "roles", "rbac.authorization.k8s.io", namespace=ns),
        Access("patch", "rolebindings", "rbac.authorization.k8s.io", namespace=ns),
    ]


def assert_trader_reaches_only_its_own_session(
    kubeconfig: Path, namespace: str, own: str, *, other: str
) -> None:
    """With the trader's token: its own session and status answer; another
    session's status patch is refused with 403 (a real request, not a review)."""
    sessions = RESOURCES["TradingSession"]
    with Client(config=KubeConfig.from_file(kubeconfig)) as trader:
        assert trader.get(sessions, own, namespace=namespace).metadata is not None
        patch = {"status": {"message": "reported by its own trader"}}
        trader.patch(sessions.Status, own, patch, namespace=namespace, patch_type=PatchType.MERGE)
        for call in (
            lambda: trader.patch(
                sessions.Status, other, patch, namespace=namespace, patch_type=PatchType.MERGE
            ),
            lambda: trader.get(sessions, other, namespace=namespace),
        ):
            with pytest.raises(ApiError) as refused:
                call()
            assert refused.value.status.code == 403, refused.value.status
