"""A Model's versions: numbered per artifact URI, judged once, bounded, never reused."""

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kubetrade_operator.api import ModelSpec
from kubetrade_operator.api.common import Phase
from kubetrade_operator.builders.versions import find_version, record_version


def _spec(uri: str, **extra: Any) -> ModelSpec:
    return ModelSpec.model_validate({"artifactUri": uri, "datasetRef": {"name": "d"}, **extra})


def _publish(status: dict[str, Any], uri: str, verdict: Phase, **extra: Any) -> dict[str, Any]:
    """One retrain: the new URI is seen Evaluating, then judged."""
    spec = _spec(uri, **extra)
    status = {
        **status,
        **record_version(status, spec, training_job="j", phase=Phase.EVALUATING, now="t1"),
    }
    return {
        **status,
        **record_version(
            status,
            spec,
            training_job="j",
            phase=verdict,
            now="t2",
            gates_passed=verdict == Phase.READY,
        ),
    }


def test_a_new_uri_is_the_next_version_and_keeps_its_headline_metrics() -> None:
    status: dict[str, Any] = {"metrics": {"sharpe": 1.2, "maxDrawdown": -0.1, "turnover": 3.0}}
    status = _publish(status, "file:///m/a", Phase.READY)
    status = _publish(status, "file:///m/b", Phase.REJECTED)
    assert [v["version"] for v in status["versions"]] == [1, 2]
    first, second = status["versions"]
    assert first["phase"] == "Ready" and first["gatesPassed"] is True
    assert first["metrics"] == {"sharpe": 1.2, "maxDrawdown": -0.1}  # headline only
    assert second["phase"] == "Rejected" and second["gatesPassed"] is False
    assert status["latestVersion"] == 2
    assert status["readyVersion"] == 1  # the rejected retrain does not go live


def test_re_evaluating_the_same_uri_keeps_its_number_and_its_verdict_until_a_new_one() -> None:
    status = _publish({"metrics": {"sharpe": 1.0}}, "file:///m/a", Phase.READY)
    running = record_version(
        status, _spec("file:///m/a"), training_job="j", phase=Phase.EVALUATING, now="t3"
    )
    assert [v["version"] for v in running["versions"]] == [1]
    assert running["versions"][0]["phase"] == "Ready"  # sessions keep trading it meanwhile
    rejected = record_version(
        {**status, **running},
        _spec("file:///m/a"),
        training_job="j",
        phase=Phase.REJECTED,
        now="t4",
    )
    assert rejected["versions"][0]["phase"] == "Rejected"
    assert rejected["readyVersion"] is None


def test_the_history_is_bounded_but_numbers_are_never_reused_and_the_ready_one_stays() -> None:
    status = _publish(
        {"metrics": {"sharpe": 1.0}}, "file:///m/0", Phase.READY, versionHistoryLimit=2
    )
    for i in range(1, 5):
        status = _publish(status, f"file:///m/{i}", Phase.REJECTED, versionHistoryLimit=2)
    numbers = [v["version"] for v in status["versions"]]
    assert numbers == [1, 4, 5]  # the newest two, and version 1, the only Ready one
    status = {**status, "versions": status["versions"][1:]}  # an old entry fell out by hand
    status = _publish(status, "file:///m/new", Phase.READY, versionHistoryLimit=2)
    assert status["latestVersion"] == 6 and find_version(status["versions"], number=6) is not None


@given(
    st.lists(st.sampled_from([Phase.READY, Phase.REJECTED, Phase.FAILED]), min_size=1, max_size=15)
)
def test_ready_version_is_always_the_newest_kept_ready_entry(verdicts: list[Phase]) -> None:
    status: dict[str, Any] = {"metrics": {"sharpe": 0.5}}
    for i, verdict in enumerate(verdicts):
        status = _publish(status, f"file:///m/{i}", verdict, versionHistoryLimit=3)
    ready = [i + 1 for i, v in enumerate(verdicts) if v == Phase.READY]
    assert status["readyVersion"] == (ready[-1] if ready else None)
    assert status["latestVersion"] == len(verdicts)
    assert len(status["versions"]) <= 4


def test_a_version_keeps_its_own_evaluation_report_and_no_other() -> None:
    status: dict[str, Any] = {"reportUri": "file:///m/a/evaluation/r1"}
    status = _publish(status, "file:///m/a", Phase.READY)
    # The next version's evaluation has not reported yet: the old folder is not its report.
    status = _publish(status, "file:///m/ab", Phase.REJECTED)
    first, second = status["versions"]
    assert first["reportUri"] == "file:///m/a/evaluation/r1"
    assert "reportUri" not in second  # file:///m/ab is not under file:///m/a/
