"""Server-rendered pages (Jinja2): the same reads as the API, as HTML with inline SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from . import reports, views
from .auth import COOKIE, Caller, kube_api, return_path
from .charts import bar_chart, line_chart
from .kube import KubeApi
from .views import Name, Namespace, VersionNumber

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter()
Api = Annotated[KubeApi, Depends(kube_api)]


class Login(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    token: str = Field(min_length=1, max_length=8192)
    next: str = Field("/", max_length=8192)
    """The page that sent the browser to sign in (the login page's `?next=`); one
    that is not the console's own (`return_path`) signs in to `/` rather than failing."""


def _page(request: Request, name: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    """A form for a Kubernetes bearer token (`kubectl create token ...`)."""
    return _page(request, "login.html")


@router.post("/login")
async def login(body: Login, api: Api) -> Response:
    """Check the token (TokenReview) and keep it in an HttpOnly, SameSite=Strict cookie;
    `next` in the answer is where the page goes now: the page asked for, when it is
    one of the console's own, else `/`."""
    who = await api.authenticate(body.token)
    if who is None:
        return JSONResponse({"detail": "the token was not accepted"}, status_code=401)
    response = JSONResponse({"username": who.username, "next": return_path(body.next)})
    response.set_cookie(COOKIE, body.token, httponly=True, samesite="strict", secure=False)
    return response


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, who: Caller) -> HTMLResponse:
    """Where to start: a namespace to open."""
    return _page(request, "home.html", who=who)


@router.get("/ns/{namespace}", response_class=HTMLResponse)
async def namespace_page(
    request: Request, namespace: Namespace, who: Caller, api: Api
) -> HTMLResponse:
    """Every resource in the namespace, with lineage."""
    data = await views.overview(api, who, namespace)
    return _page(request, "namespace.html", who=who, **data)


@router.get("/ns/{namespace}/tradingsessions/{name}", response_class=HTMLResponse)
async def session_page(
    request: Request, namespace: Namespace, name: Name, who: Caller, api: Api
) -> HTMLResponse:
    """A session: equity, drawdown, positions, orders, fills, risk and Events, live."""
    obj = await views.resource(api, who, "tradingsessions", namespace, name)
    trades, banner = await views.trades(request.app.state.store, namespace, name, 200)
    equity = [p["equity"] for p in trades["equity"]]
    drawdown = [-abs(p["drawdown"]) for p in trades["equity"]]
    return _page(
        request,
        "session.html",
        who=who,
        namespace=namespace,
        obj=obj,
        banner=banner,
        trades=trades,
        events=await views.events(api, who, namespace, name),
        equity_svg=line_chart("Equity", equity),
        drawdown_svg=line_chart("Drawdown", drawdown, color="#dc2626"),
    )


@router.get("/ns/{namespace}/models/{name}", response_class=HTMLResponse)
async def model_page(
    request: Request, namespace: Namespace, name: Name, who: Caller, api: Api
) -> HTMLResponse:
    """A Model: its versions and their metrics, compared, and its card."""
    obj = await views.resource(api, who, "models", namespace, name)
    versions = views.model_versions(obj)
    sharpe = [
        (f"v{v.get('version')}", float((v.get("metrics") or {}).get("sharpe") or 0.0))
        for v in versions
    ]
    return _page(
        request,
        "model.html",
        who=who,
        namespace=namespace,
        obj=obj,
        versions=versions,
        compare_svg=bar_chart("Sharpe by version", sharpe),
        events=await views.events(api, who, namespace, name),
    )


@router.get("/ns/{namespace}/models/{name}/versions/{version}", response_class=HTMLResponse)
async def version_page(
    request: Request,
    namespace: Namespace,
    name: Name,
    version: VersionNumber,
    who: Caller,
    api: Api,
) -> HTMLResponse:
    """One Model version: its model card and backtest report, from the artifact store."""
    obj = await views.resource(api, who, "models", namespace, name)
    entry = reports.find_version(obj, version)
    found, problems = await reports.version_documents(request.app.state.settings, entry)
    evaluation = found["evaluation"] or {}
    metrics = ((evaluation.get("backtest") or {}).get("metrics") or {}) if evaluation else {}
    return _page(
        request,
        "version.html",
        who=who,
        namespace=namespace,
        obj=obj,
        version=entry,
        card=found["card"],
        metrics=metrics,
        artifact_problems=problems,
        report_url=(
            f"/api/v1/namespaces/{namespace}/models/{name}/versions/{version}/report.html"
            if entry.get("reportUri")
            else None
        ),
    )


@router.get("/ns/{namespace}/trainingruns/{name}", response_class=HTMLResponse)
async def run_page(
    request: Request, namespace: Namespace, name: Name, who: Caller, api: Api
) -> HTMLResponse:
    """A TrainingRun: progress, and its whole reward and loss curves from its history."""
    obj = await views.resource(api, who, "trainingruns", namespace, name)
    progress = obj.get("status", {}).get("progress") or {}
    points, problem = await reports.run_history(request.app.state.settings, obj)
    if not points and progress.get("steps") is not None:
        points = [progress]  # no history to read: at least the latest reading
    return _page(
        request,
        "run.html",
        who=who,
        namespace=namespace,
        obj=obj,
        progress=progress,
        history_points=len(points),
        artifact_problems=[problem] if problem else [],
        reward_svg=line_chart("Mean reward", reports.series(points, "meanReward"), color="#7c3aed"),
        loss_svg=line_chart("Loss", reports.series(points, "loss"), color="#ea580c"),
        events=await views.events(api, who, namespace, name),
    )


@router.get("/ns/{namespace}/datasets/{name}", response_class=HTMLResponse)
async def dataset_page(
    request: Request, namespace: Namespace, name: Name, who: Caller, api: Api
) -> HTMLResponse:
    """A Dataset: its spec and status."""
    obj = await views.resource(api, who, "datasets", namespace, name)
    return _page(
        request,
        "resource.html",
        who=who,
        namespace=namespace,
        obj=obj,
        events=await views.events(api, who, namespace, name),
    )
