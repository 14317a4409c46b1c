"""A sweep survives its faults on the local node: a worker pod deleted mid-trial and
the operator restarted mid-sweep both end Succeeded with every trial number once,
no trial left RUNNING and the study at `maxTrials`; the killed trial is FAIL."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import optuna
import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap, Pod
from optuna.trial import FrozenTrial, TrialState

from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import create, dataset, in_phase, quick_training_run, status
from kubetrade_testing.operator import running_operator
from kubetrade_workloads.tuning import study

pytestmark = pytest.mark.e2e

TRIALS, WORKERS = 5, 2
SEARCH = {
    "sampler": "random",
    "pruner": "none",  # every trial runs its whole budget: one is surely under way
    "seed": 11,
    "maxTrials": TRIALS,
    "parallelism": WORKERS,
    "trialTimesteps": 768,
    "space": [{"name": "learningRate", "low": 1e-5, "high": 1e-2, "log": True}],
}


def _start_sweep(c: Client, namespace: str) -> None:
    create(c, dataset("prices", source={"start": "2020-01-01", "end": "2022-06-01"}), namespace)
    create(c, quick_training_run("sweep", "prices", evalEvery=128, search=SEARCH), namespace)


def _study_folder(c: Client, node: LocalNode, namespace: str) -> Path:
    """The run's output on the node's artifact volume, from its Job's TrainJob."""
    job = wait_until(
        lambda: status(c, "TrainingRun", "sweep", namespace).get("jobName"),
        timeout=90,
        what="the worker Job",
    )
    config = c.get(ConfigMap, job, namespace=namespace).data or {}
    output = json.loads(config["config.json"])["outputUri"]
    volume = Path(node.workdir) / "volumes" / namespace / "kubetrade-artifacts"
    return volume / str(output).split("/artifacts/", 1)[1]


def _trials(folder: Path) -> list[FrozenTrial]:
    if not (folder / study.JOURNAL).exists():
        return []
    store = study.study_storage(f"file://{folder}")
    try:
        return optuna.load_study(study_name=folder.name, storage=store).trials
    except KeyError:  # the first worker has not made the study yet
        return []


def _under_way(folder: Path) -> FrozenTrial | None:
    """A trial a worker is training (it reported a validation), if any."""
    running = [t for t in _trials(folder) if t.state == TrialState.RUNNING]
    return next((t for t in running if t.intermediate_values and "worker" in t.user_attrs), None)


def _finished_sweep(c: Client, namespace: str, folder: Path) -> tuple[dict[str, Any], list[Any]]:
    done = wait_until(
        lambda: in_phase(c, "TrainingRun", "sweep", namespace, "Succeeded", "Failed"),
        timeout=150,
        what="the sweep",
    )
    assert done["status"]["phase"] == "Succeeded", done["status"]
    trials = _trials(folder)
    assert [t.number for t in trials] == list(range(len(trials)))  # every number once
    assert len(trials) >= TRIALS and not [t for t in trials if t.state == TrialState.RUNNING]
    found = done["status"]["search"]
    assert (found["trials"], found["running"]) == (len(trials), 0)
    assert found["completed"] + found["pruned"] + found["failed"] == len(trials)
    return found, trials


INDEX = "batch.kubernetes.io/job-completion-index"


def _worker_pods(c: Client, namespace: str, index: str) -> list[str]:
    """The names of the pods the Indexed Job made for worker `index`, oldest first."""
    pods = c.list(Pod, namespace=namespace, labels={"kubetrade.io/search": "worker"})
    mine = [
        p.metadata
        for p in pods
        if p.metadata and (p.metadata.annotations or {}).get(INDEX) == index
    ]
    return [str(m.name) for m in sorted(mine, key=lambda m: str(m.creationTimestamp))]


def _sigkill(namespace: str, pod: str) -> None:
    """SIGKILL the pod's process, as a lost node or the OOM killer ends it: no handler
    runs. The local node runs each pod in a working folder of its own."""
    folder = f"{namespace}_{pod}_"
    killed = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = (proc / "cwd").resolve()
        except OSError:
            continue  # gone, or not ours
        if cwd.parent.name.startswith(folder):
            os.kill(int(proc.name), signal.SIGKILL)
            killed += 1
    assert killed, f"no process runs pod {pod}"


@pytest.mark.parametrize("kill", ["delete", "sigkill"])
def test_a_worker_killed_mid_trial_has_that_trial_failed_and_the_sweep_completes(
    kill: str,
    operator: KopfRunner,
    local_node: LocalNode,
    lightkube_client: Client,
    namespace: str,
) -> None:
    c = lightkube_client
    _start_sweep(c, namespace)
    folder = _study_folder(c, local_node, namespace)
    victim = wait_until(lambda: _under_way(folder), timeout=90, interval=0.5, what="a trial")
    index = str(victim.user_attrs["worker"])
    [pod] = _worker_pods(c, namespace, index)
    if kill == "delete":
        c.delete(Pod, pod, namespace=namespace)  # SIGTERM, then SIGKILL after the grace
    else:
        _sigkill(namespace, pod)

    found, trials = _finished_sweep(c, namespace, folder)
    assert trials[victim.number].state == TrialState.FAIL, trials[victim.number]
    assert found["failed"] >= 1 and found["completed"] >= 1
    # The Indexed Job replaced the pod under the same index, and that one finished.
    job = c.get(Job, status(c, "TrainingRun", "sweep", namespace)["jobName"], namespace=namespace)
    assert job.status is not None and (job.status.failed or 0) >= 1
    assert job.status.succeeded == WORKERS
    # Who failed the trial: the deleted pod on its way out; else its replacement.
    pods = _worker_pods(c, namespace, index)
    if kill == "delete":
        text = local_node.log_path(namespace, pod).read_text()
        assert f"Trial {victim.number} failed" in text and "signal 15" in text
    else:
        assert len(pods) == 2 and pods[0] == pod
        text = local_node.log_path(namespace, pods[1]).read_text()
        assert "failed 1 trial(s) its last life left running" in text


def test_an_operator_restarted_mid_sweep_makes_no_second_job_and_the_sweep_completes(
    kubeconfig: Path, crds: None, local_node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    c = lightkube_client
    with running_operator(kubeconfig):
        _start_sweep(c, namespace)
        folder = _study_folder(c, local_node, namespace)
        wait_until(lambda: _under_way(folder), timeout=90, interval=0.5, what="a trial")
    jobs = [j.metadata.name for j in c.list(Job, namespace=namespace) if j.metadata]
    # The workers go on while no operator runs: a trial ends meanwhile.
    ended = len([t for t in _trials(folder) if t.state.is_finished()])
    wait_until(
        lambda: len([t for t in _trials(folder) if t.state.is_finished()]) > ended,
        timeout=60,
        interval=0.5,
        what="a trial to end while the operator is down",
    )
    with running_operator(kubeconfig):
        found, trials = _finished_sweep(c, namespace, folder)
    after = [j.metadata.name for j in c.list(Job, namespace=namespace) if j.metadata]
    sweeps = [name for name in after if name and name.startswith("sweep-train-")]
    assert sweeps == [name for name in jobs if name and name.startswith("sweep-train-")], after
    assert len(sweeps) == 1 and status(c, "TrainingRun", "sweep", namespace)["jobName"] in sweeps
    assert found["completed"] >= 1 and found["failed"] == 0
