"""The CLI's door to the API server: a client for the kubeconfig's context, and the API
server's errors as a user should read them (every cluster command ends on them the
same way: the message, a hint where one is plain, exit 1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # lightkube loads only for commands that reach a cluster
    from lightkube import Client
    from lightkube.models.meta_v1 import Status

FIELD_MANAGER = "trading-cli"


def explain(status: Status) -> str:
    """The API server's answer as the user should read it: its message (several
    invalid fields one to a line) and what to do where that is plain."""
    message = str(status.message)
    causes = (status.details.causes if status.details else None) or []
    if len(causes) > 1 and ": [" in message:
        # `X "n" is invalid: [a: ..., b: ...]`: one field a line reads better.
        lines = [
            f"{c.field}: {c.message}" if c.field not in (None, "<nil>") else c.message
            for c in causes
        ]
        message = message.split(": [", 1)[0] + ":" + "".join(f"\n  {line}" for line in lines)
    hint = ""
    if status.code == 404 and not (status.details and status.details.name):
        hint = " (are the CRDs installed? trading-cli operator crds | kubectl apply -f -)"
    elif status.code == 404:
        hint = " (trading-cli status lists what the namespace holds)"
    elif status.code == 409:
        hint = " (choose another --name, or end it: deploy stop --session-id NAME --delete)"
    return f"error: {message}{hint}"


@contextmanager
def cluster() -> Iterator[Client]:
    """A client for the kubeconfig's cluster; API errors end the command (exit 1)."""
    import httpx2
    from lightkube import ApiError, Client, ConfigError, KubeConfig

    try:
        with Client(config=KubeConfig.from_env(), field_manager=FIELD_MANAGER) as client:
            yield client
    except ConfigError as err:
        typer.echo(f"error: no cluster configured ({err}); set KUBECONFIG or a context", err=True)
        raise typer.Exit(1) from err
    except ApiError as err:
        typer.echo(explain(err.status), err=True)
        raise typer.Exit(1) from err
    except httpx2.TransportError as err:
        typer.echo(f"error: cannot reach the API server: {err}", err=True)
        raise typer.Exit(1) from err


def resource(kind: str, plural: str) -> Any:
    """The lightkube resource class of one of our kinds."""
    from lightkube.generic_resource import create_namespaced_resource

    from ..api import GROUP, VERSION

    return create_namespaced_resource(GROUP, VERSION, kind, plural)
