"""Schedules against a real API server: a bad cron is refused naming the field, each
tick requests exactly one run, an operator restart repeats none, and Forbid skips
a tick while a run is active.

Cron's resolution is a minute, so the operator's clock is set by the test
(`handlers.schedule.clock`); the API server, kopf and the Job controller run on
real time.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import PatchType
from typer.testing import CliRunner

from kubetrade_dev.local_node import LocalNode
from kubetrade_operator.builders.schedule import RUN_REASON, RUN_REQUESTED_AT, parse_time
from kubetrade_operator.cli.main import app
from kubetrade_operator.handlers import schedule as schedule_handler
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import (
    RESOURCES,
    condition,
    create,
    dataset,
    get,
    status,
    training_run,
)
from kubetrade_testing.local_node import local_node
from kubetrade_testing.operator import running_operator

pytestmark = pytest.mark.integration
__all__ = ["local_node"]  # the fixture, imported to be used here
STAMP = "%Y%m%d%H%M%S"


class Clock:
    """The operator's time, moved by the test."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """A clock stopped at the test's start: nothing is due until the test moves it."""
    fake = Clock()
    monkeypatch.setattr(schedule_handler, "clock", fake)
    yield fake


def _names(client: Client, kind: type[Job] | type[ConfigMap], namespace: str) -> set[str]:
    return {str(o.metadata.name) for o in client.list(kind, namespace=namespace) if o.metadata}


def _runs(client: Client, namespace: str) -> set[str]:
    """Every run ever made: a run's ConfigMap outlives a Job that Replace deleted."""
    return {n for n in _names(client, ConfigMap, namespace) if n.startswith("prices-data-")}


def _first_tick(client: Client, namespace: str, name: str) -> dt.datetime:
    created = parse_time(get(client, "Dataset", name, namespace)["metadata"]["creationTimestamp"])
    assert created is not None
    return created.replace(second=0) + dt.timedelta(minutes=1)


def _delete_and_wait(client: Client, name: str, namespace: str) -> None:
    """Delete while the operator runs, so kopf lifts its finalizer."""
    client.delete(RESOURCES["Dataset"], name, namespace=namespace)

    def gone() -> bool:
        try:
            client.get(RESOURCES["Dataset"], name, namespace=namespace)
        except ApiError as err:
            return err.status.code == 404
        return False

    wait_until(gone, timeout=30, what=f"Dataset {name} deleted")


def test_a_cron_that_cannot_parse_is_refused_naming_the_field(
    crds: None, lightkube_client: Client, namespace: str
) -> None:
    for cron in ("61 * * * *", "* * * *", "@every 5m"):
        with pytest.raises(ApiError) as err:
            create(lightkube_client, dataset("bad", schedule={"cron": cron}), namespace)
        assert err.value.status.code == 422
        assert "spec.schedule.cron" in str(err.value.status.message)
        assert "five cron fields" in str(err.value.status.message)
    with pytest.raises(ApiError) as err:
        create(
            lightkube_client,
            dataset("bad", schedule={"cron": "@daily", "timeZone": "Europe/"}),
            namespace,
        )
    assert "spec.schedule.timeZone" in str(err.value.status.message)


def test_each_tick_is_one_run_and_a_restart_repeats_none(
    kubeconfig: Path, crds: None, lightkube_client: Client, namespace: str, clock: Clock
) -> None:
    spec = {"cron": "*/1 * * * *", "concurrencyPolicy": "Replace"}
    with running_operator(kubeconfig):
        create(lightkube_client, dataset("prices", schedule=spec), namespace)
        first = wait_until(lambda: _runs(lightkube_client, namespace), what="the first run")
        tick = _first_tick(lightkube_client, namespace, "prices")
        waiting = wait_until(
            lambda: (
                get(lightkube_client, "Dataset", "prices", namespace)
                .get("status", {})
                .get("nextScheduleTime")
            ),
            what="nextScheduleTime",
        )
        assert parse_time(waiting) == tick

        clock.now = tick + dt.timedelta(seconds=5)
        one = f"{next(iter(first))}-{tick.strftime(STAMP)}"
        wait_until(lambda: one in _names(lightkube_client, Job, namespace), what="tick 1's Job")
        assert _runs(lightkube_client, namespace) == first | {one}
        # Replace: the first run was still active (no node runs pods here).
        wait_until(
            lambda: _names(lightkube_client, Job, namespace) == {one}, what="the first Job gone"
        )
        body = get(lightkube_client, "Dataset", "prices", namespace)
        annotations = body["metadata"]["annotations"]
        assert annotations[RUN_REQUESTED_AT] == tick.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert annotations[RUN_REASON] == "schedule"
        assert parse_time(body["status"]["lastScheduleTime"]) == tick
        requested = condition(body, "Scheduled")
        assert requested is not None and requested["reason"] == "RunRequested"

    # A new operator at the same instant finds tick 1 done and makes nothing.
    with running_operator(kubeconfig):
        time.sleep(3 * schedule_handler.EVERY)
        assert _runs(lightkube_client, namespace) == first | {one}

    # Down over three ticks: as a CronJob, only the most recent one runs.
    latest = tick + dt.timedelta(minutes=3)
    clock.now = latest + dt.timedelta(seconds=5)
    with running_operator(kubeconfig):
        four = f"{next(iter(first))}-{latest.strftime(STAMP)}"
        wait_until(lambda: four in _names(lightkube_client, Job, namespace), what="tick 4's Job")
        time.sleep(2 * schedule_handler.EVERY)
        assert _runs(lightkube_client, namespace) == first | {one, four}
        now = get(lightkube_client, "Dataset", "prices", namespace)["status"]
        assert parse_time(now["lastScheduleTime"]) == latest
        assert now["jobName"] == four
        _delete_and_wait(lightkube_client, "prices", namespace)


def test_forbid_skips_a_tick_while_a_run_is_active(
    kubeconfig: Path, crds: None, lightkube_client: Client, namespace: str, clock: Clock
) -> None:
    with running_operator(kubeconfig):
        create(lightkube_client, dataset("prices", schedule={"cron": "*/1 * * * *"}), namespace)
        zone = {"cron": "@hourly", "timeZone": "Mars/Olympus_Mons"}
        create(lightkube_client, dataset("elsewhere", schedule=zone), namespace)
        first = wait_until(lambda: _runs(lightkube_client, namespace), what="the first run")
        clock.now = _first_tick(lightkube_client, namespace, "prices") + dt.timedelta(seconds=5)

        def skipped() -> dict[str, str] | None:
            cond = condition(get(lightkube_client, "Dataset", "prices", namespace), "Scheduled")
            return cond if cond and cond["reason"] == "ConcurrentRunSkipped" else None

        cond = wait_until(skipped, what="the skipped tick recorded")
        assert cond["status"] == "True" and next(iter(first)) in cond["message"]
        time.sleep(2 * schedule_handler.EVERY)
        body = get(lightkube_client, "Dataset", "prices", namespace)
        assert RUN_REQUESTED_AT not in (body["metadata"].get("annotations") or {})
        assert "lastScheduleTime" not in body["status"]
        assert _runs(lightkube_client, namespace) == first

        unknown = wait_until(
            lambda: condition(
                get(lightkube_client, "Dataset", "elsewhere", namespace), "Scheduled"
            ),
            what="the unknown zone reported",
        )
        assert (unknown["status"], unknown["reason"]) == ("False", "UnknownTimeZone")

        # Without its schedule a Dataset says nothing of one, and kopf lifts its finalizer.
        lightkube_client.patch(
            RESOURCES["Dataset"],
            "prices",
            {"spec": {"schedule": None}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )

        def unscheduled() -> dict[str, Any] | None:
            body = get(lightkube_client, "Dataset", "prices", namespace)
            left = condition(body, "Scheduled") or body["metadata"].get("finalizers")
            return None if left or "nextScheduleTime" in body["status"] else body

        body = wait_until(unscheduled, what="the schedule's traces gone")
        assert body["status"]["jobName"] == next(iter(first))  # the same run goes on
        _delete_and_wait(lightkube_client, "prices", namespace)
        _delete_and_wait(lightkube_client, "elsewhere", namespace)


def test_refreshes_run_to_the_end_roll_their_window_and_keep_the_history_asked(
    kubeconfig: Path,
    crds: None,
    local_node: LocalNode,
    lightkube_client: Client,
    namespace: str,
    clock: Clock,
) -> None:
    """The local node runs the data pods, so runs finish: each refresh publishes
    elsewhere, and finished runs past the history limit go with their configs."""
    spec = {"cron": "*/1 * * * *", "successfulRunsHistoryLimit": 1}
    with running_operator(kubeconfig):
        create(lightkube_client, dataset("prices", rollingWindowDays=365, schedule=spec), namespace)

        def succeeded(stamp: str = "") -> dict[str, str] | None:
            now = status(lightkube_client, "Dataset", "prices", namespace)
            done = now.get("phase") == "Succeeded" and now.get("jobName", "").endswith(stamp)
            return now if done else None

        runs = [wait_until(succeeded, timeout=240, what="the first build")]
        tick = _first_tick(lightkube_client, namespace, "prices")
        for n in range(2):
            due = tick + dt.timedelta(minutes=n)
            clock.now = due + dt.timedelta(seconds=5)
            stamp = due.strftime(STAMP)
            runs.append(wait_until(partial(succeeded, stamp), timeout=240, what=f"run {stamp}"))

        uris = [r["manifestUri"] for r in runs]
        assert len(set(uris)) == 3
        assert tick.strftime(STAMP) in uris[1] and stamp in uris[2]
        # The scheduled runs read a year to their day, not the spec's 2021 window.
        assert runs[1]["checksum"] != runs[0]["checksum"]
        assert runs[2]["lastSuccessfulTime"] == runs[2]["completionTime"]
        assert parse_time(runs[2]["lastScheduleTime"]) == due
        # successfulRunsHistoryLimit 1: only the newest run's Job and config remain.
        newest = runs[2]["jobName"]
        wait_until(
            lambda: _names(lightkube_client, Job, namespace) == {newest}, what="older Jobs pruned"
        )
        wait_until(lambda: _runs(lightkube_client, namespace) == {newest}, what="configs pruned")
        _delete_and_wait(lightkube_client, "prices", namespace)


def _set_dataset_phase(client: Client, namespace: str, phase: str) -> None:
    """Play the data pod: the Dataset's status as a finished (or refreshing) build.

    An observedGeneration ahead of the spec makes the operator leave this status
    alone (it takes it for a newer generation's), so its own reconciles of the
    Dataset do not overwrite the phase the test sets.
    """
    fields = {
        "phase": phase,
        "manifestUri": "file:///data/prices/v1/manifest.json",
        "observedGeneration": 1000,
    }
    client.patch(
        RESOURCES["Dataset"].Status,
        "prices",
        {"status": fields},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )


def test_a_retrain_requested_from_the_cli_waits_for_the_refresh_then_trains_elsewhere(
    kubeconfig: Path, crds: None, lightkube_client: Client, namespace: str
) -> None:
    create(lightkube_client, dataset("prices"), namespace)
    _set_dataset_phase(lightkube_client, namespace, "Succeeded")
    with running_operator(kubeconfig):
        create(lightkube_client, training_run("ppo", dataset_name="prices"), namespace)
        first = wait_until(
            lambda: status(lightkube_client, "TrainingRun", "ppo", namespace).get("jobName"),
            what="the first training Job",
        )
        # The Dataset refreshes; a retrain is requested meanwhile: it waits.
        _set_dataset_phase(lightkube_client, namespace, "Running")
        asked = CliRunner().invoke(
            app, ["runs", "request", "trainingrun", "ppo", "--reason", "drift", "-n", namespace]
        )
        assert asked.exit_code == 0, asked.output
        annotations = get(lightkube_client, "TrainingRun", "ppo", namespace)["metadata"][
            "annotations"
        ]
        assert annotations[RUN_REASON] == "drift"
        requested = parse_time(annotations[RUN_REQUESTED_AT])
        assert requested is not None and requested.strftime("%H:%M:%S") in asked.output
        stamp = requested.strftime(STAMP)
        retrain = f"{first}-{stamp}"
        time.sleep(3)
        assert retrain not in _names(lightkube_client, Job, namespace)
        assert status(lightkube_client, "TrainingRun", "ppo", namespace)["jobName"] == first

        _set_dataset_phase(lightkube_client, namespace, "Succeeded")
        wait_until(
            lambda: _names(lightkube_client, Job, namespace) >= {retrain},
            what="the retrain's Job once the refresh succeeded",
        )
        config = lightkube_client.get(ConfigMap, retrain, namespace=namespace)
        assert config.data is not None
        output = json.loads(config.data["config.json"])["outputUri"]
        revision = first.removeprefix("ppo-train-")
        assert output.endswith(f"/models/ppo/ppo-{revision}-{stamp}")
        assert json.loads(config.data["config.json"])["datasetUri"].endswith("/v1/manifest.json")
        wait_until(
            lambda: status(lightkube_client, "TrainingRun", "ppo", namespace)["jobName"] == retrain,
            what="the status to follow the retrain",
        )
        # A request replaces the run still active (no node runs pods here).
        wait_until(
            lambda: _names(lightkube_client, Job, namespace) & {first, retrain} == {retrain},
            what="the first training Job replaced",
        )
        answered = status(lightkube_client, "TrainingRun", "ppo", namespace)["runRequestedAt"]
        assert answered == annotations[RUN_REQUESTED_AT]

        # Taking the request back starts nothing: the first run's name and output
        # are not made again.
        lightkube_client.patch(
            RESOURCES["TrainingRun"],
            "ppo",
            {"metadata": {"annotations": {RUN_REQUESTED_AT: None}}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
        time.sleep(3)
        assert _names(lightkube_client, Job, namespace) == {retrain}
        assert status(lightkube_client, "TrainingRun", "ppo", namespace)["jobName"] == retrain
