"""Who the caller is (TokenReview) and what they may do (SubjectAccessReview).

A request carries a bearer token in `Authorization` (API clients) or in the
HttpOnly cookie the login page sets (browsers). There is no anonymous access.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from .kube import GROUP, Identity, KubeApi

COOKIE = "kubetrade_token"


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
