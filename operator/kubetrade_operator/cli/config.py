"""`trading-cli config`: write a risk config from a profile, or check one.

    trading-cli config --init --template conservative --out risk.yaml
    trading-cli config --validate risk.yaml

A file to validate is a risk config (the `risk:` block of a TradingSession,
as `--init` writes it) or a whole TradingSession manifest; errors name the
field as the API server would (`limits.maxDrawdown`, `spec.risk.limits...`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

PROFILES = ("conservative", "moderate", "aggressive")


def config(
    init: bool = typer.Option(False, "--init", help="Write a commented risk config."),
    template: str = typer.Option(
        "moderate", "--template", help=f"Risk profile to start from: {', '.join(PROFILES)}."
    ),
    out: Path | None = typer.Option(None, "--out", help="File to write; stdout when omitted."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --out file."),
    validate: Path | None = typer.Option(
        None, "--validate", help="Risk config or TradingSession manifest to check."
    ),
) -> None:
    """Write a risk config from a profile template (--init), or check one (--validate)."""
    if init == (validate is not None):
        raise typer.BadParameter("give exactly one of --init or --validate")
    if validate is not None:
        raise typer.Exit(_validate(validate))
    if template not in PROFILES:
        raise typer.BadParameter(f"unknown profile {template!r}; one of {', '.join(PROFILES)}")
    _init(template, out, force)


def _init(template: str, out: Path | None, force: bool) -> None:
    from kubetrade_workloads.risk.profile import template_text

    text = template_text(template)
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists() and not force:
        typer.echo(f"{out} exists; pass --force to overwrite it", err=True)
        raise typer.Exit(1)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote the {template} risk profile to {out}")


def _validate(path: Path) -> int:
    """Print what is wrong with a file (or its effective limits); the exit code."""
    import yaml

    try:
        documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    except (OSError, yaml.YAMLError) as exc:
        typer.echo(f"{path}: cannot read: {exc}", err=True)
        return 1
    if not documents:
        typer.echo(f"{path}: empty file", err=True)
        return 1
    problems = [p for doc in documents for p in _problems(doc)]
    if problems:
        typer.echo(f"{path}: invalid", err=True)
        for problem in problems:
            typer.echo(f"  {problem}", err=True)
        return 1
    _print_effective(path, documents)
    return 0


def _problems(document: Any) -> list[str]:
    from pydantic import ValidationError

    from kubetrade_workloads.config.risk import RiskConfig

    from ..api.trading_session import TradingSessionSpec

    model: type[RiskConfig] | type[TradingSessionSpec] = RiskConfig
    prefix, body = "", document
    if isinstance(document, dict) and document.get("kind") == "TradingSession":
        model, prefix, body = TradingSessionSpec, "spec.", document.get("spec") or {}
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return [_describe(prefix, error) for error in exc.errors()]
    return []


def _describe(prefix: str, error: Any) -> str:
    path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in error["loc"])
    path = (prefix + path).replace(".[", "[").rstrip(".") or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    shown = error.get("input")
    got = "" if isinstance(shown, dict | list) or shown is None else f" (got {shown!r})"
    return f"{path}: {message}{got}"


def _print_effective(path: Path, documents: list[Any]) -> None:
    from kubetrade_workloads.config.risk import RiskConfig
    from kubetrade_workloads.risk.profile import resolve

    for doc in documents:
        is_session = isinstance(doc, dict) and doc.get("kind") == "TradingSession"
        body = (doc.get("spec") or {}).get("risk", {}) if is_session else doc
        effective = resolve(RiskConfig.model_validate(body))
        typer.echo(f"{path}: valid (profile {effective.profile}); effective limits:")
        for key, value in effective.limits().items():
            typer.echo(f"  {key:<18} {value:g}")
        sizing = effective.sizing_method or "none (targets are weights)"
        typer.echo(f"  {'sizing':<18} {sizing}")
