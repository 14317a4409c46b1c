"""Reading a Job (and its pods) into the owner's phase and conditions, purely."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..api.common import Phase
from ..conditions import FALSE, TRUE, UNKNOWN, Cond, merge


@dataclass(frozen=True)
class JobOutcome:
    phase: Phase
    reason: str
    message: str
    start_time: str | None = None
    completion_time: str | None = None


def _condition(job_status: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for cond in job_status.get("conditions") or ():
        if cond.get("type") == type_ and cond.get("status") == TRUE:
            return dict(cond)
    return None


def job_outcome(job: Mapping[str, Any]) -> JobOutcome:
    """Where a Job stands, as one of Pending, Running, Suspended, Succeeded, Failed."""
    status = job.get("status") or {}
    start, end = status.get("startTime"), status.get("completionTime")
    if _condition(status, "Complete"):
        return JobOutcome(Phase.SUCCEEDED, "JobComplete", "the workload finished", start, end)
    failed = _condition(status, "Failed")
    if failed:
        reason = str(failed.get("reason") or "JobFailed")
        return JobOutcome(
            Phase.FAILED,
            reason,
            str(failed.get("message") or ""),
            start,
            failed.get("lastTransitionTime"),
        )
    if _condition(status, "Suspended") or (job.get("spec") or {}).get("suspend"):
        return JobOutcome(Phase.SUSPENDED, "JobSuspended", "the Job is suspended", start)
    # `active` and `startTime` count a pod that is still waiting for a node or an
    # image; only a Ready pod is a workload that runs. A pod that has succeeded
    # ran too: the Job is finishing (its Complete condition follows shortly).
    if status.get("ready") or status.get("succeeded") or _uncounted_succeeded(status):
        return JobOutcome(Phase.RUNNING, "JobRunning", "the workload is running", start)
    failed_pods = int(status.get("failed") or 0)
    if failed_pods:
        message = f"{failed_pods} pod(s) failed; waiting for the next attempt to start"
        return JobOutcome(Phase.PENDING, "JobRetrying", message)
    return PENDING


PENDING = JobOutcome(Phase.PENDING, "JobPending", "waiting for the workload's pod to start")
"""A Job made but no pod of it running yet; also what a just-created Job reports,
so its owner's status is written once, not again when the Job is first seen."""


def _uncounted_succeeded(job_status: Mapping[str, Any]) -> bool:
    return bool((job_status.get("uncountedTerminatedPods") or {}).get("succeeded"))


def pod_failure(pods: Sequence[Mapping[str, Any]]) -> str | None:
    """The exit reason of the last failed container, e.g. `exit code 3 (Error): ...`."""
    for pod in reversed(pods):
        for cs in (pod.get("status") or {}).get("containerStatuses") or ():
            term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get(
                "terminated"
            )
            if term and term.get("exitCode", 0) != 0:
                detail = (term.get("message") or "").strip()
                head = f"exit code {term.get('exitCode')} ({term.get('reason') or 'Error'})"
                return f"{head}: {detail[-600:]}" if detail else head
    return None


def bounded_conditions(outcome: JobOutcome, success: str = "Succeeded") -> list[Cond]:
    """`success` (Succeeded, or Evaluated for a Model) / Failed / Suspended."""
    phase = outcome.phase
    succeeded = {Phase.SUCCEEDED: TRUE, Phase.FAILED: FALSE}.get(phase, UNKNOWN)
    failed = TRUE if phase == Phase.FAILED else (FALSE if phase == Phase.SUCCEEDED else UNKNOWN)
    suspended = TRUE if phase == Phase.SUSPENDED else FALSE
    return [
        Cond(success, succeeded, outcome.reason, outcome.message),
        Cond("Failed", failed, outcome.reason, outcome.message),
        Cond("Suspended", suspended, "JobSuspended" if suspended == TRUE else "NotSuspended"),
    ]


def bounded_status(
    current: Mapping[str, Any] | None,
    generation: int,
    job_name: str,
    outcome: JobOutcome,
    failure: str | None = None,
    success: str = "Succeeded",
) -> dict[str, Any]:
    """The operator-owned status of a resource that runs one Job to completion."""
    message = failure or outcome.message
    outcome = JobOutcome(
        outcome.phase, outcome.reason, message, outcome.start_time, outcome.completion_time
    )
    desired: dict[str, Any] = {
        "observedGeneration": generation,
        "phase": outcome.phase.value,
        "jobName": job_name,
        "message": message,
        "conditions": merge(
            (current or {}).get("conditions"), bounded_conditions(outcome, success), generation
        ),
    }
    if outcome.start_time:
        desired["startTime"] = outcome.start_time
    if outcome.completion_time:
        desired["completionTime"] = outcome.completion_time
    return desired


def waiting(reason: str, message: str) -> JobOutcome:
    """Pending on something other than the Job (a Dataset not ready yet)."""
    return JobOutcome(Phase.PENDING, reason, message)


def invalid_spec(loc: tuple[int | str, ...], msg: str) -> JobOutcome:
    """A spec the API server let through but the model rejects (an older CRD)."""
    return JobOutcome(Phase.FAILED, "InvalidSpec", f"spec.{'.'.join(str(p) for p in loc)}: {msg}")


def dataset_blocker(dataset: Mapping[str, Any] | None, name: str) -> JobOutcome | None:
    """Why a run on Dataset `name` cannot start yet, or None when it can."""
    if dataset is None:
        return waiting("DatasetNotFound", f"Dataset {name!r} does not exist")
    phase = (dataset.get("status") or {}).get("phase")
    if phase == Phase.FAILED.value:
        return waiting("DatasetFailed", f"Dataset {name!r} failed; fix it to continue")
    if phase != Phase.SUCCEEDED.value:
        return waiting("WaitingForDataset", f"Dataset {name!r} has not succeeded yet")
    return None


def training_blocker(run: Mapping[str, Any] | None, name: str) -> JobOutcome | None:
    """Why a Model made by TrainingRun `name` cannot be evaluated yet (its policy is
    not published), or None. A run that no longer exists blocks nothing: the
    reference is then provenance only."""
    if run is None:
        return None
    phase = (run.get("status") or {}).get("phase")
    if phase == Phase.SUCCEEDED.value:
        return None
    if phase == Phase.FAILED.value:
        return waiting("TrainingRunFailed", f"TrainingRun {name!r} failed; nothing to evaluate")
    return waiting(
        "WaitingForTrainingRun", f"TrainingRun {name!r} is {phase or 'Pending'}, not Succeeded"
    )
