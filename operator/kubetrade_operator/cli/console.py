"""`trading-cli console`: serve the web console and REST API locally."""

from __future__ import annotations

from pathlib import Path

import typer


def console(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8443, help="Port to listen on."),
    kubeconfig: Path | None = typer.Option(
        None, help="Kubeconfig of the console's own account (default: $KUBECONFIG or in-cluster)."
    ),
    store_url: str | None = typer.Option(
        None, help="Trade store URL (sqlite:///path or postgresql+psycopg://...); none: no trades."
    ),
) -> None:
    """Serve the web console and REST API (needs the `console` extra).

    Sign in with a Kubernetes token (`kubectl create token <account>`): every read and
    write is authorised as that account. OpenAPI at /docs.
    """
    try:
        from kubetrade_console.__main__ import serve
        from kubetrade_console.settings import ConsoleSettings
    except ImportError as exc:  # the extra is not installed
        raise typer.BadParameter(
            f"install kubetrade[console] first ({exc.name} is missing)"
        ) from exc
    settings = ConsoleSettings(host=host, port=port, kubeconfig=kubeconfig, store_url=store_url)
    typer.echo(f"kubetrade console on http://{host}:{port} (API docs at /docs)")
    serve(settings)
