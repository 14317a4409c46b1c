"""A TrainingRun with `spec.search` → the tuning workers: one Indexed Job whose pods
each pull trials from the run's Optuna study (`python -m kubetrade_workloads tune`).

The Job keeps the training Job's name, ConfigMap and output location, so the
handler follows it, and publishes its Model, exactly as it does a single run:
the workers copy the best trial's policy to that output before they exit.
"""

from __future__ import annotations

from typing import Any

from kubetrade_workloads.config import TrainJob
from kubetrade_workloads.config.search import SearchConfig

from ..api import TrainingRunSpec
from ..settings import OperatorSettings
from .common import Owner, indexed, job_children

COMMAND = "tune"


def tuning_job(job: dict[str, Any], search: SearchConfig) -> dict[str, Any]:
    """`job` made an Indexed Job of `search.parallelism` workers running `tune`.

    completions = parallelism: every worker loops over trials until the study holds
    `maxTrials`, so the Job succeeds when all workers have seen the study finish.
    """
    container = job["spec"]["template"]["spec"]["containers"][0]
    command = list(container["command"])
    command[command.index("train")] = COMMAND
    container["command"] = command
    return indexed(job, search.parallelism, "search")


def build_tuning_children(
    owner: Owner,
    spec: TrainingRunSpec,
    config: TrainJob,
    settings: OperatorSettings,
    component: str,
    run: str | None = None,
) -> list[dict[str, Any]]:
    """The ConfigMap with the TrainJob (search included) and the Indexed worker Job;
    the study's Postgres Secret, when named, is mounted into each worker."""
    search = spec.search
    if search is None:
        raise ValueError("build_tuning_children needs spec.search")
    config_map, job = job_children(
        owner,
        component,
        spec,
        config.model_copy(update={"resume_from": None}),  # a trial never resumes another's
        template=spec.template,
        policy=spec.job,
        suspend=spec.suspend,
        settings=settings,
        credentials_secret=search.storage_secret_ref.name if search.storage_secret_ref else None,
        run=run,
    )
    return [config_map, tuning_job(job, search)]
