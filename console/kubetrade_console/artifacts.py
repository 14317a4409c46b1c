"""Reports from the artifact store (fsspec: `file://` on a PVC, `s3://`): a Model
version's card and evaluation report, a TrainingRun's progress history.

The console reads only files a resource names, by fixed file names, under the
URI the resource records: a request can choose a version or a run, never a path.
A URI with `..`, a query or a fragment, outside `artifact_roots` when those are
set, or (on disk) resolving through a link to somewhere else, is refused.
Reads are size-capped, time-limited and run in a worker thread.
"""

from __future__ import annotations

import json
import os
from typing import Any

import anyio
import fsspec
from anyio import to_thread

from kubetrade_workloads import storage

CARD = "model_card.json"
EVALUATION = "evaluation.json"
HTML_REPORT = "report.html"
HISTORIES = ("progress.jsonl", "forecaster-progress.jsonl")
"""The history files a training run writes (`training/artifacts.py`)."""
SCHEMES = ("file://", "s3://")


class ArtifactError(Exception):
    """A report the console cannot serve, with the HTTP status that says why:
    404 not named or not there, 422 too large, 503 the store does not answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def checked(uri: str, roots: tuple[str, ...] = ()) -> str:
    """`uri` when it is a plain file:// or s3:// URI under one of `roots` (any, when
    none are configured); otherwise ArtifactError 404."""
    body = uri.split("://", 1)[-1]
    segments = body.split("/")
    if (
        not uri.startswith(SCHEMES)
        or any(s in (".", "..") for s in segments)
        or any(c in uri for c in "?#\\\0")
        or (roots and not any(uri.startswith(r.rstrip("/") + "/") for r in roots))
    ):
        raise ArtifactError(404, f"the artifact URI {uri!r} is not one the console reads")
    return uri


def under(root: str, uri: str, roots: tuple[str, ...] = ()) -> str:
    """`uri` when it lies inside the folder `root` (both checked)."""
    checked(root, roots)
    if not checked(uri, roots).startswith(root.rstrip("/") + "/"):
        raise ArtifactError(404, f"{uri!r} is not under the artifact {root!r}")
    return uri


def version_files(version: dict[str, Any], roots: tuple[str, ...]) -> dict[str, str]:
    """The files a Model version names: its card, and its evaluation's report when
    the version records one (name -> URI)."""
    root = str(version.get("artifactUri") or "")
    files = {"card": f"{checked(root, roots).rstrip('/')}/{CARD}"}
    if report := version.get("reportUri"):
        folder = under(root, str(report), roots).rstrip("/")
        files |= {"evaluation": f"{folder}/{EVALUATION}", "report": f"{folder}/{HTML_REPORT}"}
    return files


def history_file(run: dict[str, Any], roots: tuple[str, ...]) -> str | None:
    """The progress history a TrainingRun's status names (None: it names none yet);
    under the run's `spec.artifactUri` when it sets one."""
    uri = ((run.get("status") or {}).get("progress") or {}).get("historyUri")
    if not uri:
        return None
    if uri.rsplit("/", 1)[-1] not in HISTORIES:
        raise ArtifactError(404, f"{uri!r} is not a progress history")
    own = (run.get("spec") or {}).get("artifactUri")
    return under(own, uri, roots) if own else checked(uri, roots)


def _read(uri: str, cap: int) -> bytes:
    fs, path = fsspec.core.url_to_fs(storage.resolve(uri))
    if "file" in ((fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol):
        # A link inside the artifact folder must not lead the console out of it.
        folder = os.path.dirname(path)
        if not os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep):
            raise ArtifactError(404, f"{uri!r} leads outside its folder")
    with fs.open(path, "rb") as fh:
        data: bytes = fh.read(cap + 1)
    if len(data) > cap:
        raise ArtifactError(422, f"{uri!r} is larger than the {cap} bytes the console serves")
    return data


async def read(uri: str, cap: int, timeout: float) -> bytes:
    """The bytes of one artifact file, at most `cap` of them, within `timeout` seconds."""
    try:
        with anyio.fail_after(timeout):
            return await to_thread.run_sync(_read, uri, cap, abandon_on_cancel=True)
    except ArtifactError:
        raise
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise ArtifactError(404, f"{uri!r} is not there (yet)") from exc
    except TimeoutError as exc:
        raise ArtifactError(503, f"the artifact store did not answer in {timeout:g} s") from exc
    except Exception as exc:  # any store failure (botocore's, an OSError) is the store's
        raise ArtifactError(
            503, f"the artifact store does not answer: {exc.__class__.__name__}"
        ) from exc


async def read_json(uri: str, cap: int, timeout: float) -> Any:
    """A JSON artifact (a card, an evaluation report), parsed."""
    try:
        return json.loads(await read(uri, cap, timeout))
    except ValueError as exc:
        raise ArtifactError(422, f"{uri!r} is not JSON") from exc


async def read_history(uri: str, cap: int, timeout: float) -> list[dict[str, Any]]:
    """A progress history's readings, steps rising; a torn or foreign line is skipped."""
    text = (await read(uri, cap, timeout)).decode("utf-8", "replace")
    points: list[dict[str, Any]] = []
    for line in text.splitlines():
        try:
            point = json.loads(line)
        except ValueError:
            continue
        if isinstance(point, dict) and isinstance(point.get("steps"), int):
            points.append(point)
    return sorted(points, key=lambda p: int(p["steps"]))
