"""`trading-cli models`: a Model's versions, which one each session trades, and moving between them.

trading-cli models list                       # Models, their newest and Ready versions, who trades them
trading-cli models show ppo-spy               # every version with its figures and where it is live
trading-cli models promote paper-spy          # pin the session's challenger (or --version N)
trading-cli models rollback paper-spy         # pin the version the last promotion replaced (or --to N)
trading-cli models follow paper-spy           # unpin: follow the newest Ready version again
trading-cli models retrain ppo-spy            # run the Model's TrainingRun again now: a new version

Promote and rollback write one field, `spec.modelRef.version`, so what they do
is what `kubectl edit` or a Git commit would do; the trader swaps at its next bar
without a restart. Under Argo CD, write the field in Git instead: a sync would
undo a change made here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import typer

from .api_access import cluster, resource
from .output import OUTPUT_OPTION, Output, render
from .runs import RunKind, request_run

app = typer.Typer(
    help="Model versions: list, show, promote, roll back, follow.", no_args_is_help=True
)
NAMESPACE = typer.Option(None, "--namespace", "-n", help="Namespace (default: the context's).")
MODELS = ("Model", "models")
SESSIONS = ("TradingSession", "tradingsessions")


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("status") or {}


def live_in(model: str, sessions: Sequence[Mapping[str, Any]]) -> dict[int, list[str]]:
    """Version number → the sessions trading it (by the operator's choice)."""
    out: dict[int, list[str]] = {}
    for session in sessions:
        chosen = _status(session).get("model") or {}
        if chosen.get("name") == model and chosen.get("version") is not None:
            out.setdefault(int(chosen["version"]), []).append(session["metadata"]["name"])
    return out


def model_rows(
    models: Sequence[Mapping[str, Any]], sessions: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One row per Model: its newest and Ready versions and the sessions on each version."""
    rows = []
    for model in models:
        name = model["metadata"]["name"]
        status = _status(model)
        live = live_in(name, sessions)
        rows.append(
            {
                "name": name,
                "phase": status.get("phase"),
                "latest": status.get("latestVersion"),
                "ready": status.get("readyVersion"),
                "live": ", ".join(f"{s}@{v}" for v, names in sorted(live.items()) for s in names),
            }
        )
    return rows


def version_rows(
    model: Mapping[str, Any], sessions: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One row per version of `model`, newest first."""
    name = model["metadata"]["name"]
    live = live_in(name, sessions)
    shadow = {
        int(c["version"]): s["metadata"]["name"]
        for s in sessions
        if (c := _status(s).get("challenger")) and c.get("name") == name
    }
    rows = []
    for entry in reversed(_status(model).get("versions") or []):
        number = int(entry["version"])
        metrics = entry.get("metrics") or {}
        rows.append(
            {
                "version": number,
                "phase": entry.get("phase"),
                "sharpe": metrics.get("sharpe"),
                "maxDrawdown": metrics.get("maxDrawdown"),
                "psr": metrics.get("probabilisticSharpe"),
                "created": entry.get("createdAt"),
                "live": ", ".join(live.get(number, [])),
                "shadow": shadow.get(number, ""),
                "artifactUri": entry.get("artifactUri"),
                "trainingJob": entry.get("trainingJob"),
            }
        )
    return rows


def rollback_target(session: Mapping[str, Any], model: Mapping[str, Any]) -> int:
    """The version a rollback goes to: the one the last promotion replaced, else the
    newest Ready version older than the live one. Raises ValueError when there is none."""
    status = _status(session)
    previous = (status.get("previousModel") or {}).get("version")
    if previous is not None:
        return int(previous)
    live = (status.get("model") or {}).get("version")
    if live is None:
        raise ValueError("the session trades no version yet")
    older = [
        int(v["version"])
        for v in _status(model).get("versions") or []
        if v.get("phase") == "Ready" and int(v["version"]) < int(live)
    ]
    if not older:
        raise ValueError(f"no Ready version older than version {live} to roll back to")
    return max(older)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@app.command("list")
def list_models(namespace: str | None = NAMESPACE, output: Output = OUTPUT_OPTION) -> None:
    """Models with their newest and Ready versions, and the sessions trading each."""
    with cluster() as client:
        ns = namespace or client.namespace
        models = [dict(o.to_dict()) for o in client.list(resource(*MODELS), namespace=ns)]
        sessions = [dict(o.to_dict()) for o in client.list(resource(*SESSIONS), namespace=ns)]
    columns = [
        ("name", "NAME"),
        ("phase", "PHASE"),
        ("latest", "LATEST"),
        ("ready", "READY"),
        ("live", "LIVE-IN"),
    ]
    typer.echo(render(model_rows(models, sessions), output, columns), nl=False)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="The Model."),
    namespace: str | None = NAMESPACE,
    output: Output = OUTPUT_OPTION,
) -> None:
    """Every version of a Model, newest first, with its figures and where it runs."""
    with cluster() as client:
        ns = namespace or client.namespace
        model = dict(client.get(resource(*MODELS), name, namespace=ns).to_dict())
        sessions = [dict(o.to_dict()) for o in client.list(resource(*SESSIONS), namespace=ns)]
    columns = [
        ("version", "VERSION"),
        ("phase", "PHASE"),
        ("sharpe", "SHARPE"),
        ("maxDrawdown", "MAXDD"),
        ("psr", "PSR"),
        ("created", "CREATED"),
        ("live", "LIVE-IN"),
        ("shadow", "SHADOW-IN"),
    ]
    typer.echo(render(version_rows(model, sessions), output, columns), nl=False)


def _pin(session: str, namespace: str | None, version: int | None) -> None:
    """Set (or with None, remove) the session's pin; say what the trader will do."""
    from lightkube.types import PatchType

    with cluster() as client:
        ns = namespace or client.namespace
        client.patch(
            resource(*SESSIONS),
            session,
            {"spec": {"modelRef": {"version": version}}},
            namespace=ns,
            patch_type=PatchType.MERGE,
        )
    if version is None:
        typer.echo(f"{session}: follows its Model's newest Ready version again")
    else:
        typer.echo(f"{session}: pinned to version {version}; the trader swaps at its next bar")


@app.command()
def promote(
    session: str = typer.Argument(..., help="The TradingSession."),
    version: int | None = typer.Option(
        None, "--version", help="Version to pin (default: the challenger)."
    ),
    namespace: str | None = NAMESPACE,
) -> None:
    """Make a version live in a session: its challenger, or --version N."""
    if version is None:
        with cluster() as client:
            obj = dict(
                client.get(
                    resource(*SESSIONS), session, namespace=namespace or client.namespace
                ).to_dict()
            )
        challenger = _status(obj).get("challenger") or {}
        if challenger.get("version") is None:
            _fail(
                f"{session} has no challenger; name one with --version N (trading-cli models show MODEL)"
            )
        version = int(challenger["version"])
    _pin(session, namespace, version)


@app.command()
def rollback(
    session: str = typer.Argument(..., help="The TradingSession."),
    to: int | None = typer.Option(
        None, "--to", help="Version to go back to (default: the one replaced last)."
    ),
    namespace: str | None = NAMESPACE,
) -> None:
    """Go back to an earlier version: the one the last promotion replaced, or --to N."""
    if to is None:
        with cluster() as client:
            ns = namespace or client.namespace
            obj = dict(client.get(resource(*SESSIONS), session, namespace=ns).to_dict())
            model_name = obj["spec"]["modelRef"]["name"]
            model = dict(client.get(resource(*MODELS), model_name, namespace=ns).to_dict())
        try:
            to = rollback_target(obj, model)
        except ValueError as err:
            _fail(f"{session}: {err}")
    _pin(session, namespace, to)


@app.command()
def follow(
    session: str = typer.Argument(..., help="The TradingSession."),
    namespace: str | None = NAMESPACE,
) -> None:
    """Remove the pin: follow the Model's newest Ready version by the session's promotion policy."""
    _pin(session, namespace, None)


@app.command()
def retrain(
    name: str = typer.Argument(..., help="The Model."),
    reason: str = typer.Option("manual", "--reason", help="Recorded as kubetrade.io/run-reason."),
    namespace: str | None = NAMESPACE,
) -> None:
    """Run the Model's TrainingRun again now: it trains on its Dataset's newest version
    and publishes a new version, as a schedule or a drift request would."""
    with cluster() as client:
        ns = namespace or client.namespace
        model = dict(client.get(resource(*MODELS), name, namespace=ns).to_dict())
        run = ((model.get("spec") or {}).get("trainingRunRef") or {}).get("name")
        if not run:
            _fail(f"Model {name!r} names no TrainingRun (spec.trainingRunRef): nothing to rerun")
        at = request_run(client, RunKind.TRAININGRUN, run, ns, reason)
    typer.echo(f"TrainingRun {run}: run requested at {at}")
