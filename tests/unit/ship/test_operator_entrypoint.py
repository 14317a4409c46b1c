"""`python -m kubetrade_operator`: the flags the chart passes, and peering
priorities that let exactly one of several identical replicas work."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from kubetrade_operator import __main__ as entry
from kubetrade_operator.settings import get_settings


def test_parser_takes_the_charts_flags() -> None:
    args = entry.build_parser().parse_args(
        ["--log-format=json", "--liveness=http://0.0.0.0:8081/healthz", "--standalone"]
    )
    assert args.standalone and args.log_format == "json" and args.liveness.endswith("/healthz")
    peered = entry.build_parser().parse_args(["--peering=kt", "--priority=7"])
    assert (peered.standalone, peered.peering, peered.priority) == (False, "kt", 7)
    with pytest.raises(SystemExit):
        entry.build_parser().parse_args(["--log-format=xml"])


def test_older_instances_outrank_newer_ones_and_fit_json() -> None:
    older, newer = (
        entry.seniority_priority(1_700_000_000.0),
        entry.seniority_priority(1_700_000_000.002),
    )
    assert older > newer
    assert abs(entry.seniority_priority(4_000_000_000.0)) < 2**53
    same_ms = {entry.seniority_priority(1_700_000_000.0) for _ in range(50)}
    assert all(-1_700_000_000_000_999 <= p <= -1_700_000_000_000_000 for p in same_ms)
    assert len(same_ms) > 1, "replicas started in the same millisecond still differ"


@pytest.fixture
def kopf_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}
    monkeypatch.setattr(kopf, "run", lambda **kw: calls.update(run=kw))
    monkeypatch.setattr(kopf, "configure", lambda **kw: calls.update(configure=kw))
    return calls


def test_standalone_runs_without_peering(kopf_calls: dict[str, Any]) -> None:
    entry.main(["--standalone", "--log-format=plain"])
    run = kopf_calls["run"]
    assert run["standalone"] is True and run["peering_name"] is None and run["priority"] is None
    assert kopf_calls["configure"]["log_format"] is kopf.LogFormat.PLAIN


def test_peered_replicas_get_a_seniority_priority(kopf_calls: dict[str, Any]) -> None:
    entry.main(["--peering=kt-peers"])
    run = kopf_calls["run"]
    assert run["standalone"] is False and run["peering_name"] == "kt-peers"
    assert run["priority"] < 0
    entry.main(["--peering=kt-peers", "--priority=0"])
    assert kopf_calls["run"]["priority"] == 0


def test_logging_is_configured_only_when_asked(kopf_calls: dict[str, Any]) -> None:
    entry.main(["--standalone"])
    assert "configure" not in kopf_calls


@pytest.mark.parametrize(
    ("value", "clusterwide", "namespaces"), [("", True, []), ("ns", False, ["ns"])]
)
def test_the_charts_empty_namespace_watches_all_namespaces(
    kopf_calls: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    clusterwide: bool,
    namespaces: list[str],
) -> None:
    # In kind the chart's KUBETRADE_NAMESPACE="" gave kopf neither flag (a FutureWarning
    # that kopf says will become an error).
    monkeypatch.setenv("KUBETRADE_NAMESPACE", value)
    get_settings.cache_clear()
    try:
        entry.main(["--standalone"])
    finally:
        get_settings.cache_clear()
    run = kopf_calls["run"]
    assert (run["clusterwide"], run["namespaces"]) == (clusterwide, namespaces)
