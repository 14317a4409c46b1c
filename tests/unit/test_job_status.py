from kubetrade_operator.api.common import Phase
from kubetrade_operator.builders.job_status import bounded_status, job_outcome, pod_failure


def _job(status: dict, suspend: bool = False) -> dict:  # type: ignore[type-arg]
    return {"spec": {"suspend": suspend}, "status": status}


def _cond(type_: str, **extra: str) -> dict[str, str]:
    return {"type": type_, "status": "True", **extra}


def test_phases_follow_the_job() -> None:
    assert job_outcome(_job({})).phase == Phase.PENDING
    assert job_outcome(_job({"active": 1, "ready": 1, "startTime": "t"})).phase == Phase.RUNNING
    assert job_outcome(_job({}, suspend=True)).phase == Phase.SUSPENDED
    done = job_outcome(
        _job(
            {"conditions": [_cond("SuccessCriteriaMet"), _cond("Complete")], "completionTime": "t2"}
        )
    )
    assert (done.phase, done.completion_time) == (Phase.SUCCEEDED, "t2")
    failed = job_outcome(
        _job({"conditions": [_cond("Failed", reason="BackoffLimitExceeded", message="too many")]})
    )
    assert (failed.phase, failed.reason, failed.message) == (
        Phase.FAILED,
        "BackoffLimitExceeded",
        "too many",
    )


def test_a_started_job_whose_pod_waits_is_pending_not_running() -> None:
    waiting = job_outcome(_job({"active": 1, "ready": 0, "startTime": "t"}))
    assert (waiting.phase, waiting.reason, waiting.start_time) == (
        Phase.PENDING,
        "JobPending",
        None,
    )
    # Its pod done, the Job not yet Complete: still Running, not back to Pending.
    finishing = job_outcome(_job({"active": 0, "ready": 0, "succeeded": 1, "startTime": "t"}))
    assert finishing.phase == Phase.RUNNING
    uncounted = {"ready": 0, "uncountedTerminatedPods": {"succeeded": ["uid-1"]}}
    assert job_outcome(_job(uncounted)).phase == Phase.RUNNING
    retry = job_outcome(_job({"active": 1, "failed": 2, "startTime": "t"}))
    assert (retry.phase, retry.reason) == (Phase.PENDING, "JobRetrying")
    assert "2 pod(s) failed" in retry.message


def test_interim_conditions_alone_are_not_final() -> None:
    assert (
        job_outcome(_job({"active": 1, "ready": 1, "conditions": [_cond("FailureTarget")]})).phase
        == Phase.RUNNING
    )


def test_pod_failure_reports_exit_code_and_message_of_the_last_failed_pod() -> None:
    pods = [
        {
            "status": {
                "containerStatuses": [
                    {"state": {"terminated": {"exitCode": 1, "reason": "Error", "message": "old"}}}
                ]
            }
        },
        {
            "status": {
                "containerStatuses": [
                    {
                        "state": {
                            "terminated": {"exitCode": 3, "reason": "Error", "message": "boom\n"}
                        }
                    }
                ]
            }
        },
    ]
    assert pod_failure(pods) == "exit code 3 (Error): boom"
    assert (
        pod_failure(
            [{"status": {"containerStatuses": [{"state": {"terminated": {"exitCode": 0}}}]}}]
        )
        is None
    )


def test_bounded_status_conditions_for_each_outcome() -> None:
    running = bounded_status(None, 2, "job", job_outcome(_job({"active": 1, "ready": 1})))
    by_type = {c["type"]: c for c in running["conditions"]}
    assert (
        running["phase"] == "Running"
        and running["observedGeneration"] == 2
        and running["jobName"] == "job"
    )
    assert (
        by_type["Succeeded"]["status"],
        by_type["Failed"]["status"],
        by_type["Suspended"]["status"],
    ) == (
        "Unknown",
        "Unknown",
        "False",
    )
    failed = bounded_status(
        running,
        2,
        "job",
        job_outcome(_job({"conditions": [_cond("Failed")]})),
        "exit code 3 (Error): x",
    )
    by_type = {c["type"]: c for c in failed["conditions"]}
    assert (by_type["Succeeded"]["status"], by_type["Failed"]["status"]) == ("False", "True")
    assert by_type["Failed"]["message"] == "exit code 3 (Error): x" == failed["message"]


def test_a_model_waits_for_the_training_run_that_publishes_it() -> None:
    from kubetrade_operator.builders.job_status import training_blocker

    assert training_blocker(None, "gone") is None  # provenance only
    assert training_blocker({"status": {"phase": "Succeeded"}}, "r") is None
    running = training_blocker({"status": {"phase": "Running"}}, "r")
    assert running is not None and (running.phase, running.reason) == (
        Phase.PENDING,
        "WaitingForTrainingRun",
    )
    failed = training_blocker({"status": {"phase": "Failed"}}, "r")
    assert failed is not None and failed.reason == "TrainingRunFailed"


def test_a_body_older_than_the_status_written_is_outdated() -> None:
    from kubetrade_operator.handlers.job_owner import outdated

    body = {"metadata": {"generation": 1}}
    assert outdated(body, {"observedGeneration": 2})  # a newer reconcile wrote this
    assert not outdated(body, {"observedGeneration": 1})
    assert not outdated({"metadata": {"generation": 3}}, {"observedGeneration": 2})
    assert not outdated(body, {})  # nothing written yet
