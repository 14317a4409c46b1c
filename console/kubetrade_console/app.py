"""The console's ASGI application: the REST API, the pages and their static files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ExceptionHandler

from . import api, pages
from .auth import sign_in_url
from .kube import KubeApi, kube_client
from .settings import ConsoleSettings
from .store import StoreReader

#: Everything the pages load comes from the console itself.
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if _is_api(request) or request.method != "GET":
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
    if exc.status_code == 401:  # sign in, then come back here
        return RedirectResponse(sign_in_url(request.url.path, request.url.query), status_code=303)
    return pages.templates.TemplateResponse(
        request,
        "error.html",
        {"status": exc.status_code, "detail": exc.detail},
        status_code=exc.status_code,
    )


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return JSONResponse({"detail": "; ".join(problems)}, status_code=422)


def create_app(settings: ConsoleSettings, kube: KubeApi | None = None) -> FastAPI:
    """The console for `settings`; `kube` replaces the client built from the kubeconfig."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.kube = kube or KubeApi(
            kube_client(settings.kubeconfig), settings.review_ttl_seconds
        )
        app.state.store = StoreReader(settings.store_url)
        try:
            yield
        finally:
            await app.state.kube.aclose()
            app.state.store.dispose()

    app = FastAPI(title="kubetrade console", version="v1", lifespan=lifespan)
    app.state.settings = settings
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    # Starlette types handlers as taking any Exception; each is registered for its own.
    app.add_exception_handler(HTTPException, cast(ExceptionHandler, _http_error))
    app.add_exception_handler(RequestValidationError, cast(ExceptionHandler, _invalid))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
