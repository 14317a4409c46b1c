"""`trading-cli operator ...`: run the operator, or print the CRDs to install."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(help="Run the operator or print what it needs installed.", no_args_is_help=True)


@app.command()
def run(
    standalone: bool = typer.Option(False, help="No peering: the only operator instance."),
) -> None:
    """Run the operator against the current kubeconfig context (or in-cluster)."""
    from ..__main__ import main

    sys.argv = ["kubetrade-operator", *(["--standalone"] if standalone else [])]
    main()


@app.command()
def crds() -> None:
    """Print the CustomResourceDefinitions as YAML (pipe into `kubectl apply -f -`)."""
    from ..api.render import render_all

    for text in render_all().values():
        sys.stdout.write(text if text.startswith("---") else f"---\n{text}")
