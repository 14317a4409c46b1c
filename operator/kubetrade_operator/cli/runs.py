"""`trading-cli runs`: ask for a new run of a Dataset or a TrainingRun now.

trading-cli runs request dataset prices               # rebuild the Dataset (a refresh)
trading-cli runs request trainingrun ppo --reason drift

It sets the run-request annotation (`kubetrade.io/run-requested-at`, now, and
`kubetrade.io/run-reason`), the same request a schedule makes: the operator
starts a Job named after that time, writing to a location no run used before
(a TrainingRun's becomes a new Model version). See docs/guide/schedules.md.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from .api_access import cluster, resource

if TYPE_CHECKING:
    from lightkube import Client

app = typer.Typer(help="Runs on request: refresh a Dataset, retrain a TrainingRun.")


class RunKind(StrEnum):
    """The kinds that run on request."""

    DATASET = "dataset"
    TRAININGRUN = "trainingrun"


# The kind's name and plural, by the word the command takes.
KINDS = {
    RunKind.DATASET: ("Dataset", "datasets"),
    RunKind.TRAININGRUN: ("TrainingRun", "trainingruns"),
}


@app.command()
def request(
    kind: RunKind = typer.Argument(..., help="dataset or trainingrun."),
    name: str = typer.Argument(..., help="Its name."),
    reason: str = typer.Option("manual", "--reason", help="Recorded as kubetrade.io/run-reason."),
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", help="Namespace (default: the context's)."
    ),
) -> None:
    """Request a run now: a new Job, a new output; an active run is replaced."""
    with cluster() as client:
        at = request_run(client, kind, name, namespace or client.namespace, reason)
    typer.echo(f"{kind.value}/{name}: run requested at {at} ({reason})")


def request_run(client: Client, kind: RunKind, name: str, namespace: str, reason: str) -> str:
    """Set the run-request annotations on `name` for now; the request's time."""
    from lightkube.types import PatchType

    from ..builders.schedule import request_annotations, rfc3339  # pydantic waits for a command

    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    client.patch(
        resource(*KINDS[kind]),
        name,
        {"metadata": {"annotations": request_annotations(at, reason)}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    return rfc3339(at)
