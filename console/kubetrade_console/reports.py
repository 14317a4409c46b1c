"""What the pages and the API show from the artifact store: a Model version's card,
evaluation and HTML report, and a TrainingRun's progress history.

Each reader returns what it found and, when the store failed it, a banner message,
so a page still shows everything the Kubernetes API gave it."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from . import artifacts
from .artifacts import ArtifactError
from .settings import ConsoleSettings

REPORT_CSP = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)
"""An evaluation report is shown as a document of its own, sandboxed: no script runs,
nothing is fetched, it has no origin, and only the console's pages may frame it."""


def http(exc: ArtifactError) -> HTTPException:
    """The API's answer for an artifact the console cannot serve."""
    return HTTPException(exc.status, exc.message)


def find_version(model: dict[str, Any], number: int) -> dict[str, Any]:
    """The Model's version `number`, or 404."""
    for entry in model.get("status", {}).get("versions") or []:
        if entry.get("version") == number:
            return dict(entry)
    name = model.get("metadata", {}).get("name", "")
    raise HTTPException(404, f"Model {name} records no version {number}")


def version_file(settings: ConsoleSettings, version: dict[str, Any], which: str) -> str:
    """The URI of a version's `card`, `evaluation` or `report`, or 404."""
    files = artifacts.version_files(version, settings.artifact_roots)
    if which not in files:
        raise ArtifactError(404, f"version {version.get('version')} records no {which} yet")
    return files[which]


async def version_json(settings: ConsoleSettings, version: dict[str, Any], which: str) -> Any:
    """A version's card or evaluation document."""
    uri = version_file(settings, version, which)
    return await artifacts.read_json(
        uri, settings.max_artifact_bytes, settings.artifact_timeout_seconds
    )


async def version_html(settings: ConsoleSettings, version: dict[str, Any]) -> bytes:
    """A version's self-contained HTML report, as written."""
    uri = version_file(settings, version, "report")
    return await artifacts.read(uri, settings.max_artifact_bytes, settings.artifact_timeout_seconds)


async def version_documents(
    settings: ConsoleSettings, version: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A version page's card and evaluation (each None when unavailable) and what
    went wrong reading them."""
    found: dict[str, Any] = {"card": None, "evaluation": None}
    problems: list[str] = []
    for which in found:
        try:
            found[which] = await version_json(settings, version, which)
        except ArtifactError as exc:
            problems.append(f"{which}: {exc.message}")
            if exc.status == 503:
                break  # the store is down: the next read would wait as long again
    return found, problems


async def history(
    settings: ConsoleSettings, run: dict[str, Any]
) -> tuple[str, list[dict[str, Any]]]:
    """Where a TrainingRun's progress history is, and its readings; 404 while the
    run names none."""
    uri = artifacts.history_file(run, settings.artifact_roots)
    if uri is None:
        name = run.get("metadata", {}).get("name", "")
        raise ArtifactError(404, f"TrainingRun {name} has reported no progress history yet")
    points = await artifacts.read_history(
        uri, settings.max_artifact_bytes, settings.artifact_timeout_seconds
    )
    return uri, points


async def run_history(
    settings: ConsoleSettings, run: dict[str, Any]
) -> tuple[list[dict[str, Any]], str | None]:
    """A run page's readings, and a banner message when there are none to read."""
    try:
        return (await history(settings, run))[1], None
    except ArtifactError as exc:
        return [], exc.message


def series(points: list[dict[str, Any]], field: str) -> list[float]:
    """One field of the readings that have it, in step order."""
    return [float(p[field]) for p in points if isinstance(p.get(field), int | float)]
