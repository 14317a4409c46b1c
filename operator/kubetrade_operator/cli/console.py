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
    tls_cert: Path | None = typer.Option(
        None, help="PEM certificate to serve HTTPS with (with --tls-key); plain HTTP without."
    ),
    tls_key: Path | None = typer.Option(None, help="The certificate's PEM private key."),
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
    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together: give both or neither")
    settings = ConsoleSettings(
        host=host,
        port=port,
        kubeconfig=kubeconfig,
        store_url=store_url,
        tls_cert_file=tls_cert,
        tls_key_file=tls_key,
    )
    typer.echo(f"kubetrade console on {settings.scheme}://{host}:{port} (API docs at /docs)")
    serve(settings)
