"""What both the REST API and the pages show, gathered once: each read checked
against the caller's rights before the console reads it with its own account."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import HTTPException, Path, Query

from .auth import require
from .kube import PLURALS, Identity, KubeApi, KubeError
from .lineage import lineage
from .store import StoreReader, StoreUnavailable, session_id

#: DNS-1123 names: no slashes, dots-only or traversal can reach the API server's paths.
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
NS_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"

Namespace = Annotated[str, Path(pattern=NS_PATTERN, max_length=63)]
Name = Annotated[str, Path(pattern=NAME_PATTERN, max_length=253)]
Plural = Literal["datasets", "trainingruns", "models", "tradingsessions"]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=10_000)]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]


def _http(exc: KubeError) -> HTTPException:
    return HTTPException(exc.status if exc.status in (403, 404, 409, 422) else 502, exc.message)


async def overview(api: KubeApi, who: Identity, namespace: str) -> dict[str, Any]:
    """Every kubetrade object in the namespace the caller may list, with lineage."""
    objects: dict[str, list[dict[str, Any]]] = {}
    for plural in PLURALS:
        await require(api, who, "list", plural, namespace)
        try:
            objects[plural] = await api.list_objects(plural, namespace)
        except KubeError as exc:
            raise _http(exc) from exc
    edges = [{"source": e.source, "target": e.target} for e in lineage(objects)]
    return {"namespace": namespace, "items": objects, "lineage": edges}


async def resource(
    api: KubeApi, who: Identity, plural: str, namespace: str, name: str
) -> dict[str, Any]:
    """One object the caller may get."""
    await require(api, who, "get", plural, namespace, name)
    try:
        return await api.get(plural, namespace, name)
    except KubeError as exc:
        raise _http(exc) from exc


async def events(api: KubeApi, who: Identity, namespace: str, name: str) -> list[dict[str, Any]]:
    """Events about an object, if the caller may list Events; otherwise none."""
    decision = await api.authorize(who, "list", "events", namespace, group="")
    if not decision.allowed:
        return []
    try:
        return await api.events(namespace, name)
    except KubeError:
        return []


async def trades(
    store: StoreReader, namespace: str, name: str, limit: int
) -> tuple[dict[str, Any], str | None]:
    """A session's recent equity, positions, orders and fills, or a banner message."""
    sid = session_id(namespace, name)
    try:
        fills = await store.fills(sid, 0, limit)
        orders = await store.orders(sid, 0, limit)
        return {
            "equity": await store.equity(sid, 2000),
            "positions": await store.positions(sid),
            "fills": fills.rows,
            "fills_total": fills.total,
            "orders": orders.rows,
            "orders_total": orders.total,
        }, None
    except StoreUnavailable as exc:
        empty: dict[str, Any] = {"equity": [], "positions": [], "fills": [], "orders": []}
        return empty | {"fills_total": 0, "orders_total": 0}, str(exc)


def model_versions(model: dict[str, Any]) -> list[dict[str, Any]]:
    """A Model's versions, oldest first, as its status records them."""
    return list(model.get("status", {}).get("versions") or [])
