"""Who the caller is (TokenReview) and what they may do (SubjectAccessReview).

A request carries a bearer token in `Authorization` (API clients) or in the
HttpOnly cookie the login page sets (browsers). There is no anonymous access.
A page asked for without a token sends the browser to the login page, which
brings it back to that page, and only ever to a page of the console itself.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, HTTPException, Request

from .kube import GROUP, Identity, KubeApi

COOKIE = "kubetrade_token"
#: The longest path signing in returns to; a longer one returns home.
MAX_RETURN_PATH = 2048


def kube_api(request: Request) -> KubeApi:
    api: KubeApi = request.app.state.kube
    return api


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


async def caller(request: Request, api: Annotated[KubeApi, Depends(kube_api)]) -> Identity:
    """The authenticated caller, or 401."""
    token = _token(request)
    if not token or len(token) > 8192:
        raise HTTPException(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    who = await api.authenticate(token)
    if who is None:
        raise HTTPException(401, "the token was not accepted", {"WWW-Authenticate": "Bearer"})
    return who


Caller = Annotated[Identity, Depends(caller)]


async def require(
    api: KubeApi,
    who: Identity,
    verb: str,
    resource: str,
    namespace: str,
    name: str = "",
    group: str = GROUP,
) -> None:
    """403, with the API server's reason, unless `who` may `verb` the resource."""
    decision = await api.authorize(who, verb, resource, namespace, name, group)
    if not decision.allowed:
        target = f"{resource}/{name}" if name else resource
        reason = decision.reason or "no RBAC rule allows it"
        raise HTTPException(
            403, f'{who.username} may not {verb} {target} in namespace "{namespace}": {reason}'
        )


def return_path(value: str | None) -> str:
    r"""`value` when it is a path on this console, else `/`: where signing in leads.

    The value comes from a URL anyone can send, so only a same-origin relative path
    passes, or the login page would be an open redirect: one leading `/` (`//host`
    is another site to a browser), no scheme or host, no backslash (browsers read
    `/\host` as `//host`), and nothing unprintable (browsers drop tabs and newlines,
    so `/\t/host` would become `//host`; CR and LF would split a header).
    """
    if not value or len(value) > MAX_RETURN_PATH:
        return "/"
    if not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or not value.isprintable():
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def sign_in_url(path: str, query: str = "") -> str:
    """The login page, told to come back to `path?query` afterwards when that is safe."""
    back = return_path(f"{path}?{query}" if query else path)
    return "/login" if back == "/" else f"/login?{urlencode({'next': back})}"
