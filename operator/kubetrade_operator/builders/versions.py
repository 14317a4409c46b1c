"""A Model's versions: one immutable entry per policy it has held.

A Model holds one policy at a time (`spec.artifactUri`); each retrain publishes to
a new, never-reused URI, so the URI is the version's identity. A new URI gets the
next number; a re-evaluation of the same URI (a gate edited) updates its entry's
verdict. Numbers are never reused, even after old entries leave the bounded list,
so `version: 7` names one policy for the life of the Model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..api import ModelSpec
from ..api.common import Phase
from ..api.model import DEFAULT_VERSION_HISTORY

HEADLINE = ("sharpe", "maxDrawdown", "totalReturn", "probabilisticSharpe", "alpha", "bars")
"""The evaluation figures a version keeps: enough to compare versions at a glance."""
VERDICTS = {Phase.READY, Phase.REJECTED, Phase.FAILED}


def find_version(
    versions: Sequence[Mapping[str, Any]] | None,
    *,
    uri: str | None = None,
    number: int | None = None,
) -> Mapping[str, Any] | None:
    """The entry with this artifact URI (or number), None when there is none."""
    for entry in versions or ():
        if (uri is not None and entry.get("artifactUri") == uri) or (
            number is not None and entry.get("version") == number
        ):
            return entry
    return None


def record_version(
    status: Mapping[str, Any],
    spec: ModelSpec,
    *,
    training_job: str | None,
    phase: Phase,
    now: str,
    dataset_checksum: str | None = None,
    gates_passed: bool | None = None,
) -> dict[str, Any]:
    """`versions`, `latestVersion` and `readyVersion` after this reconcile.

    The entry for `spec.artifactUri` is added when new (phase Evaluating until a
    verdict) and takes the verdict once the evaluation ends; the list keeps the
    newest `spec.versionHistoryLimit` entries, plus the newest Ready one, so a
    session following the Model never loses the version it trades.
    """
    versions = [dict(v) for v in status.get("versions") or ()]
    entry = next((v for v in versions if v.get("artifactUri") == spec.artifact_uri), None)
    if entry is None:
        number = max([int(status.get("latestVersion") or 0), *(v["version"] for v in versions)])
        entry = {"version": number + 1, "artifactUri": spec.artifact_uri, "createdAt": now}
        if training_job:
            entry["trainingJob"] = training_job
        versions.append(entry)
    if phase in VERDICTS:
        if entry.get("phase") != phase.value:
            entry["evaluatedAt"] = now
        entry["phase"] = phase.value
        if phase != Phase.FAILED:
            metrics = status.get("metrics") or {}
            headline = {k: float(metrics[k]) for k in HEADLINE if metrics.get(k) is not None}
            entry.update(metrics=headline, gatesPassed=bool(gates_passed))
            if report := _report_of(status, spec.artifact_uri):
                entry["reportUri"] = report
    elif entry.get("phase") not in {p.value for p in VERDICTS}:
        # A re-evaluation (a gate edited) keeps the last verdict until it has a new one:
        # sessions trading this version keep trading it meanwhile.
        entry["phase"] = Phase.EVALUATING.value
    if dataset_checksum:
        entry["datasetChecksum"] = dataset_checksum
    kept = _bounded(versions, spec.version_history_limit or DEFAULT_VERSION_HISTORY)
    ready = [v["version"] for v in kept if v.get("phase") == Phase.READY.value]
    return {
        "versions": kept,
        "latestVersion": max(v["version"] for v in kept),
        "readyVersion": max(ready) if ready else None,
    }


def _report_of(status: Mapping[str, Any], artifact_uri: str) -> str | None:
    """The evaluation report's folder, when it lies under this version's artifact
    (a report left from another version's evaluation is not this one's)."""
    report = status.get("reportUri")
    root = artifact_uri.rstrip("/") + "/"
    return str(report) if isinstance(report, str) and report.startswith(root) else None


def _bounded(versions: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The newest `limit` entries, and the newest Ready one wherever it is."""
    ready = [v for v in versions if v.get("phase") == Phase.READY.value]
    keep = {v["version"] for v in versions[-limit:]}
    if ready:
        keep.add(ready[-1]["version"])
    return [v for v in versions if v["version"] in keep]
