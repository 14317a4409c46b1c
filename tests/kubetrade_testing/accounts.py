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

import yaml
from lightkube import Client, KubeConfig
from lightkube.models.authentication_v1 import TokenRequestSpec
from lightkube.models.authorization_v1 import ResourceAttributes, SelfSubjectAccessReviewSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.authorization_v1 import SelfSubjectAccessReview
from lightkube.resources.core_v1 import ServiceAccount


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
