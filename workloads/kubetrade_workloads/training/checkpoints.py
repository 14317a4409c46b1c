"""Checkpoints at an artifact URI: written so that a reader never trusts a partial one.

A checkpoint is a folder `step-<steps, 12 digits>` holding its files and, last,
a `COMPLETE` marker that lists each file's sha256. On a disk the files are
first written into a hidden temporary folder, the marker after them, and the
folder is then renamed into place. Object stores have no folder rename (fsspec
copies object by object), so there the files go straight into the final folder
and the marker, written last, is what publishes them; on both, the marker and
the checksums are what make a checkpoint trustworthy. A folder without a
marker, with a marker that does not parse, or with a file whose sha256 does
not match is skipped, with a warning, for the next older complete one: a pod
killed mid-write (or a disk that corrupted a file) costs the steps since the
previous checkpoint, never the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fsspec

from .. import storage

log = logging.getLogger(__name__)
MARKER = "COMPLETE"
STATE = "state.json"
_NAME = re.compile(r"^step-(\d{12})$")


class CheckpointError(RuntimeError):
    """No usable checkpoint where one was asked for; the message says where and why."""


@dataclass(frozen=True)
class Checkpoint:
    """One complete checkpoint: its URI, the steps it was taken at, its files and state."""

    uri: str
    steps: int
    files: Mapping[str, bytes]

    @property
    def state(self) -> dict[str, Any]:
        """The training state saved next to the model (counters, best score, ...)."""
        raw = self.files.get(STATE)
        return dict(json.loads(raw)) if raw else {}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class CheckpointStore:
    """The checkpoints of one model under `uri`; keeps the newest `keep` complete ones."""

    def __init__(self, uri: str, keep: int = 3) -> None:
        self.uri = uri.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(storage.resolve(self.uri))
        self.keep = keep

    def save(self, steps: int, files: Mapping[str, bytes], state: Mapping[str, Any]) -> str:
        """Write a checkpoint at `steps`; return its URI. Older ones beyond `keep` are removed."""
        name = f"step-{steps:012d}"
        final = f"{self.root}/{name}"
        renames = storage.renames(self.fs)
        folder = f"{self.root}/.tmp-{name}-{uuid.uuid4().hex[:8]}" if renames else final
        payload = {**files, STATE: json.dumps(dict(state), sort_keys=True).encode()}
        if not renames and self.fs.exists(final):
            self.fs.rm(final, recursive=True)  # its old marker must not vouch for new files
        self.fs.makedirs(folder, exist_ok=True)
        for file, data in payload.items():
            with self.fs.open(f"{folder}/{file}", "wb") as fh:
                fh.write(data)
        marker = {"steps": steps, "files": {f: _sha(d) for f, d in payload.items()}}
        with self.fs.open(f"{folder}/{MARKER}", "wb") as fh:
            fh.write(json.dumps(marker, sort_keys=True).encode())
        if renames:
            if self.fs.exists(final):
                self.fs.rm(final, recursive=True)
            self.fs.mv(folder, final, recursive=True)
        self._prune()
        return f"{self.uri}/{name}"

    def _steps(self) -> list[tuple[int, str]]:
        """(steps, folder name) of every checkpoint folder, newest first."""
        if not self.fs.exists(self.root):
            return []
        found = []
        for path in self.fs.ls(self.root, detail=False):
            name = str(path).rstrip("/").rsplit("/", 1)[-1]
            match = _NAME.match(name)
            if match:
                found.append((int(match.group(1)), name))
        return sorted(found, reverse=True)

    def read(self, name: str) -> Checkpoint:
        """The checkpoint folder `name`, verified; CheckpointError says what is wrong with it."""
        folder = f"{self.root}/{name}"
        try:
            with self.fs.open(f"{folder}/{MARKER}", "rb") as fh:
                marker = json.loads(fh.read())
            files: dict[str, bytes] = {}
            for file, digest in dict(marker["files"]).items():
                with self.fs.open(f"{folder}/{file}", "rb") as fh:
                    files[file] = fh.read()
                if _sha(files[file]) != digest:
                    raise CheckpointError(f"{file} does not match its checksum")
            steps = int(marker["steps"])
        except FileNotFoundError as err:
            raise CheckpointError(f"incomplete: {err.filename or err} is missing") from err
        except (ValueError, KeyError, TypeError) as err:
            raise CheckpointError(f"unreadable marker: {err}") from err
        return Checkpoint(f"{self.uri}/{name}", steps, files)

    def latest(self, at_most: int | None = None) -> Checkpoint | None:
        """The newest complete checkpoint (not newer than `at_most` steps), skipping bad ones."""
        for steps, name in self._steps():
            if at_most is not None and steps > at_most:
                continue
            try:
                return self.read(name)
            except CheckpointError as err:
                log.warning("skipping checkpoint %s/%s: %s", self.uri, name, err)
        return None

    def _prune(self) -> None:
        """Keep the newest `keep` complete checkpoints. On an object store a folder being
        written (or left by a killed pod) has its final name but no marker: it must not
        count as one of those kept, and once older than a complete one it is never
        in progress, so it goes."""
        kept = 0
        for _, name in self._steps():
            folder = f"{self.root}/{name}"
            complete = self.fs.exists(f"{folder}/{MARKER}")
            if complete and kept < self.keep:
                kept += 1
            elif complete or kept:
                self.fs.rm(folder, recursive=True)


def find(uri: str) -> Checkpoint:
    """The checkpoint a `resumeFrom` URI names: a checkpoint folder, or a folder of them.

    A named checkpoint that is corrupt or partial gives way to the newest
    complete one before it. Raises CheckpointError when there is none.
    """
    uri = uri.rstrip("/")
    parent, _, name = uri.rpartition("/")
    match = _NAME.match(name)
    store = CheckpointStore(parent if match else uri)
    found = store.latest(at_most=int(match.group(1)) if match else None)
    if found is None:
        raise CheckpointError(f"no complete checkpoint at {uri}")
    return found


def resume_point(resume_from: str | None, output_uri: str, part: str) -> Checkpoint | None:
    """Where one part (`rl` or `forecaster`) of a run resumes from, if anywhere.

    `resume_from` is `latest` (this run's own checkpoints), a checkpoint folder,
    a folder of checkpoints, or a run's output folder. None means start afresh:
    nothing was asked for, or nothing complete exists for this part yet.
    """
    if resume_from is None:
        return None
    if resume_from == "latest":
        return CheckpointStore(f"{output_uri.rstrip('/')}/checkpoints/{part}").latest()
    uri = resume_from.rstrip("/")
    folder, _, name = uri.rpartition("/")
    if _NAME.match(name):
        if folder.endswith(f"/{part}"):
            return find(uri)
        # A checkpoint of the other part of a HYBRID run: take this part's newest.
        return CheckpointStore(f"{folder.rpartition('/')[0]}/{part}").latest()
    if uri.endswith(f"/checkpoints/{part}"):
        return CheckpointStore(uri).latest()
    return CheckpointStore(f"{uri}/checkpoints/{part}").latest()
