"""The console's view of the Kubernetes API: identity reviews, kubetrade resources,
Events, and writes made as the caller (impersonation).

The transport is an `httpx.AsyncClient` configured by lightkube's kubeconfig loader
(already a dependency of the operator): async, no extra client library, and the raw
JSON the API server returns is what the console shows.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from lightkube.config.client_adapter import AsyncClient as adapter_client
from lightkube.config.client_adapter import ConnectionParams
from lightkube.config.kubeconfig import KubeConfig

GROUP = "kubetrade.io"
VERSION = "v1alpha1"
#: The kinds the console shows, by plural, in lineage order.
PLURALS = ("datasets", "trainingruns", "models", "tradingsessions")


class KubeError(Exception):
    """The API server answered with an error the caller should see."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Identity:
    """A caller as the API server's TokenReview names them."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, list[str]] = field(default_factory=dict)

    def impersonate(self) -> list[tuple[str, str]]:
        """Impersonate-* headers for this caller: user and groups, which is all RBAC
        reads. Uid and extras are not forwarded, so the console needs no right to
        impersonate them."""
        return [("Impersonate-User", self.username)] + [
            ("Impersonate-Group", g) for g in self.groups
        ]


@dataclass(frozen=True)
class Decision:
    """A SubjectAccessReview's answer."""

    allowed: bool
    reason: str


class _TtlCache:
    """Answers reused for `ttl` seconds: every page view does not cost a review."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._items: dict[str, tuple[float, Any]] = {}

    def get(self, key: str) -> Any | None:
        hit = self._items.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, value: Any) -> None:
        if len(self._items) > 10_000:  # bounded: expired entries go first
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v[0] >= now}
        self._items[key] = (time.monotonic() + self._ttl, value)


def kube_client(kubeconfig: Path | None) -> httpx.AsyncClient:
    """An async client for the cluster: a kubeconfig file, or in-cluster, or $KUBECONFIG."""
    config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
    single = config.get()
    if single is None:
        raise ValueError("the kubeconfig has no current context")
    return adapter_client(single, ConnectionParams(timeout=httpx.Timeout(15)))


def _path(plural: str, namespace: str, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}"
    return f"{base}/{name}" if name else base


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        message = str(response.json().get("message", response.text))
    except ValueError:
        message = response.text
    raise KubeError(response.status_code, message)


class KubeApi:
    """What the console asks the API server, each call one request (or a cached answer)."""

    def __init__(self, client: httpx.AsyncClient, review_ttl: float = 10.0) -> None:
        self._client = client
        self._tokens = _TtlCache(review_ttl)
        self._decisions = _TtlCache(review_ttl)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def authenticate(self, token: str) -> Identity | None:
        """The caller a bearer token stands for (TokenReview), or None."""
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._tokens.get(key)
        if cached is not None:
            return cached if isinstance(cached, Identity) else None
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        response = await self._client.post("/apis/authentication.k8s.io/v1/tokenreviews", json=body)
        _raise_for(response)
        status = response.json().get("status", {})
        identity: Identity | bool = False
        if status.get("authenticated"):
            user = status.get("user", {})
            identity = Identity(
                username=user.get("username", ""),
                uid=user.get("uid", ""),
                groups=tuple(user.get("groups", [])),
                extra={k: list(v) for k, v in user.get("extra", {}).items()},
            )
        self._tokens.put(key, identity)
        return identity if isinstance(identity, Identity) else None

    async def authorize(
        self,
        who: Identity,
        verb: str,
        resource: str,
        namespace: str,
        name: str = "",
        group: str = GROUP,
    ) -> Decision:
        """May `who` do `verb` on the resource (SubjectAccessReview)?"""
        key = "\0".join([who.username, *who.groups, verb, group, resource, namespace, name])
        cached = self._decisions.get(key)
        if isinstance(cached, Decision):
            return cached
        attributes = {"namespace": namespace, "verb": verb, "group": group, "resource": resource}
        if name:
            attributes["name"] = name
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": who.username,
                "uid": who.uid,
                "groups": list(who.groups),
                "extra": who.extra,
                "resourceAttributes": attributes,
            },
        }
        response = await self._client.post(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews", json=body
        )
        _raise_for(response)
        status = response.json().get("status", {})
        decision = Decision(bool(status.get("allowed")), str(status.get("reason", "")))
        self._decisions.put(key, decision)
        return decision

    async def list_objects(self, plural: str, namespace: str) -> list[dict[str, Any]]:
        """Every object of a kubetrade kind in a namespace (read with the console's account)."""
        response = await self._client.get(_path(plural, namespace))
        _raise_for(response)
        return list(response.json().get("items", []))

    async def get(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        """One kubetrade object."""
        response = await self._client.get(_path(plural, namespace, name))
        _raise_for(response)
        return dict(response.json())

    async def events(self, namespace: str, name: str) -> list[dict[str, Any]]:
        """Events about the object `name` in a namespace, oldest first."""
        response = await self._client.get(
            f"/api/v1/namespaces/{namespace}/events",
            params={"fieldSelector": f"involvedObject.name={name}"},
        )
        _raise_for(response)
        items = list(response.json().get("items", []))
        return sorted(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))

    async def patch_as(
        self, who: Identity, plural: str, namespace: str, name: str, patch: dict[str, Any]
    ) -> dict[str, Any]:
        """A JSON merge patch made as the caller: the API server authorises it again
        and the audit log names the person, not the console."""
        response = await self._client.patch(
            _path(plural, namespace, name),
            json=patch,
            headers=httpx.Headers(
                [("Content-Type", "application/merge-patch+json"), *who.impersonate()]
            ),
        )
        _raise_for(response)
        return dict(response.json())
