"""The REST API under /api/v1: JSON reads, server-sent events and the write actions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from . import reports, views
from .artifacts import ArtifactError
from .auth import Caller, kube_api, require
from .kube import KubeApi, KubeError
from .store import StoreReader, StoreUnavailable, session_id
from .views import Limit, Name, Namespace, Offset, Plural, VersionNumber

router = APIRouter(prefix="/api/v1")
Api = Annotated[KubeApi, Depends(kube_api)]


def _store(request: Request) -> StoreReader:
    store: StoreReader = request.app.state.store
    return store


Store = Annotated[StoreReader, Depends(_store)]


def _limit(request: Request, limit: int) -> int:
    cap: int = request.app.state.settings.max_page
    if limit > cap:
        raise HTTPException(422, f"limit may be at most {cap}")
    return limit


class VersionPin(BaseModel):
    """The Model version a session trades; null follows the Model's newest Ready version."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int | None = Field(None, ge=1)


@router.get("/namespaces/{namespace}")
async def namespace_overview(namespace: Namespace, who: Caller, api: Api) -> dict[str, Any]:
    """Every kubetrade resource in the namespace and the lineage between them."""
    return await views.overview(api, who, namespace)


@router.get("/namespaces/{namespace}/{plural}/{name}")
async def get_resource(
    namespace: Namespace, plural: Plural, name: Name, who: Caller, api: Api
) -> dict[str, Any]:
    """One resource, as the API server stores it."""
    return await views.resource(api, who, plural, namespace, name)


@router.get("/namespaces/{namespace}/models/{name}/versions")
async def get_versions(
    namespace: Namespace, name: Name, who: Caller, api: Api
) -> list[dict[str, Any]]:
    """A Model's versions, oldest first."""
    return views.model_versions(await views.resource(api, who, "models", namespace, name))


async def _version(
    api: KubeApi, who: Any, namespace: str, name: str, version: int
) -> dict[str, Any]:
    model = await views.resource(api, who, "models", namespace, name)
    return reports.find_version(model, version)


@router.get(
    "/namespaces/{namespace}/models/{name}/versions/{version}/report.html",
    response_class=Response,
    responses={200: {"content": {"text/html": {}}, "description": "The report, sandboxed"}},
)
async def get_version_report(
    request: Request,
    namespace: Namespace,
    name: Name,
    version: VersionNumber,
    who: Caller,
    api: Api,
) -> Response:
    """A version's self-contained HTML backtest report, served under a sandboxing
    Content-Security-Policy: no script in it runs and it fetches nothing."""
    entry = await _version(api, who, namespace, name, version)
    try:
        body = await reports.version_html(request.app.state.settings, entry)
    except ArtifactError as exc:
        raise reports.http(exc) from exc
    return Response(
        body,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": reports.REPORT_CSP, "Cache-Control": "no-store"},
    )


# After report.html: a route matches by its path before its parameters are checked.
@router.get("/namespaces/{namespace}/models/{name}/versions/{version}/{document}")
async def get_version_document(
    request: Request,
    namespace: Namespace,
    name: Name,
    version: VersionNumber,
    document: Literal["card", "evaluation"],
    who: Caller,
    api: Api,
) -> Any:
    """A version's model card, or its evaluation report (every figure, full precision),
    read from the artifact store: 404 when the version names none or it is not there,
    422 when larger than the console serves, 503 when the store does not answer."""
    entry = await _version(api, who, namespace, name, version)
    try:
        return await reports.version_json(request.app.state.settings, entry, document)
    except ArtifactError as exc:
        raise reports.http(exc) from exc


@router.get("/namespaces/{namespace}/trainingruns/{name}/history")
async def get_history(
    request: Request, namespace: Namespace, name: Name, who: Caller, api: Api
) -> dict[str, Any]:
    """Every progress reading the run reported (steps, meanReward, loss, updatedAt),
    steps rising, from its history file beside the model; 404 while it names none."""
    run = await views.resource(api, who, "trainingruns", namespace, name)
    try:
        uri, points = await reports.history(request.app.state.settings, run)
    except ArtifactError as exc:
        raise reports.http(exc) from exc
    return {"uri": uri, "points": points}


@router.get("/namespaces/{namespace}/tradingsessions/{name}/equity")
async def get_equity(
    request: Request,
    namespace: Namespace,
    name: Name,
    who: Caller,
    api: Api,
    store: Store,
    limit: Limit = 500,
) -> list[dict[str, Any]]:
    """The last `limit` points of the session's equity curve, oldest first."""
    await require(api, who, "get", "tradingsessions", namespace, name)
    try:
        return await store.equity(session_id(namespace, name), _limit(request, limit))
    except StoreUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc


async def _patch(
    api: KubeApi, who: Any, namespace: str, name: str, patch: dict[str, Any]
) -> dict[str, Any]:
    await require(api, who, "patch", "tradingsessions", namespace, name)
    try:
        return await api.patch_as(who, "tradingsessions", namespace, name, patch)
    except KubeError as exc:
        raise views._http(exc) from exc


@router.post("/namespaces/{namespace}/tradingsessions/{name}/suspend")
async def suspend(namespace: Namespace, name: Name, who: Caller, api: Api) -> dict[str, Any]:
    """Set `spec.suspend: true` (the kill switch), as the caller."""
    return await _patch(api, who, namespace, name, {"spec": {"suspend": True}})


@router.post("/namespaces/{namespace}/tradingsessions/{name}/resume")
async def resume(namespace: Namespace, name: Name, who: Caller, api: Api) -> dict[str, Any]:
    """Set `spec.suspend: false`, as the caller."""
    return await _patch(api, who, namespace, name, {"spec": {"suspend": False}})


@router.post("/namespaces/{namespace}/tradingsessions/{name}/model-version")
async def pin_version(
    namespace: Namespace, name: Name, who: Caller, api: Api, pin: Annotated[VersionPin, Body()]
) -> dict[str, Any]:
    """Promote or roll back: pin `spec.modelRef.version` (null: follow the Model again).
    The version must be one the Model records."""
    session = await views.resource(api, who, "tradingsessions", namespace, name)
    model_name = session.get("spec", {}).get("modelRef", {}).get("name", "")
    if pin.version is not None:
        model = await views.resource(api, who, "models", namespace, model_name)
        known = {v.get("version") for v in views.model_versions(model)}
        if pin.version not in known:
            raise HTTPException(422, f"Model {model_name} has no version {pin.version}")
    return await _patch(api, who, namespace, name, {"spec": {"modelRef": {"version": pin.version}}})


async def _events(
    request: Request,
    api: KubeApi,
    who: Any,
    namespace: str,
    plural: str,
    name: str,
    store: StoreReader,
) -> AsyncIterator[str]:
    """`data:` lines each time the object's resourceVersion or its last equity point
    changes; the caller's right to read it is checked again on every poll."""
    seen: tuple[Any, ...] = ()
    poll: float = request.app.state.settings.poll_seconds
    while not await request.is_disconnected():
        try:
            obj = await views.resource(api, who, plural, namespace, name)
        except HTTPException as exc:
            yield f"event: error\ndata: {json.dumps({'status': exc.status_code, 'detail': exc.detail})}\n\n"
            return
        last: list[dict[str, Any]] = []
        if plural == "tradingsessions":
            try:
                last = await store.equity(session_id(namespace, name), 1)
            except StoreUnavailable:
                last = []
        now = (obj["metadata"].get("resourceVersion"), json.dumps(last))
        if now != seen:
            seen = now
            payload = {"status": obj.get("status", {}), "spec": obj.get("spec", {}), "equity": last}
            yield f"data: {json.dumps(payload)}\n\n"
        await asyncio.sleep(poll)


@router.get("/namespaces/{namespace}/{plural}/{name}/stream")
async def stream(
    request: Request,
    namespace: Namespace,
    plural: Plural,
    name: Name,
    who: Caller,
    api: Api,
    store: Store,
) -> StreamingResponse:
    """Server-sent events: the object's spec and status (and a session's last equity point)."""
    await require(api, who, "get", plural, namespace, name)
    return StreamingResponse(
        _events(request, api, who, namespace, plural, name, store),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/namespaces/{namespace}/tradingsessions/{name}/{table}")
async def get_trades(
    request: Request,
    namespace: Namespace,
    name: Name,
    table: Literal["fills", "orders"],
    who: Caller,
    api: Api,
    store: Store,
    offset: Offset = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    """A page of the session's fills or orders, newest first (`total` counts them all)."""
    await require(api, who, "get", "tradingsessions", namespace, name)
    sid, size = session_id(namespace, name), _limit(request, limit)
    try:
        page = await (store.fills if table == "fills" else store.orders)(sid, offset, size)
    except StoreUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    return {"items": page.rows, "total": page.total, "offset": page.offset, "limit": page.limit}
