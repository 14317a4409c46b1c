"""Training progress: steps, percent, mean reward, loss and ETA, at a bounded rate.

Training loops call `update` as often as they like (every environment step);
the reporter patches the owner's `status.progress` at most every `interval`
seconds, so a fast run cannot flood the API server, and hands a local `sink`
(the CLI's progress bar) a fresh value at most every `sink_interval`.

Status keeps only the latest reading. With a `history` URI the reporter also keeps
every reading it reports, as JSON lines in one file beside the model (`History`), so
the console can draw the whole reward and loss curve of a run, finished or not.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import fsspec

from .. import owner_status, storage
from ..config.jobs import OwnerRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """One progress reading."""

    steps: int
    total_steps: int
    mean_reward: float | None = None
    loss: float | None = None
    eta_seconds: float | None = None

    @property
    def percent(self) -> float:
        """Share of the run done, 0-100."""
        return round(100.0 * min(self.steps / max(self.total_steps, 1), 1.0), 2)

    def to_status(self) -> dict[str, Any]:
        """The `status.progress` fields of a TrainingRun (finite numbers only)."""
        out: dict[str, Any] = {
            "steps": self.steps,
            "totalSteps": self.total_steps,
            "percent": self.percent,
            "updatedAt": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        optional = {
            "meanReward": self.mean_reward,
            "loss": self.loss,
            "etaSeconds": self.eta_seconds,
        }
        out.update(
            {k: round(v, 6) for k, v in optional.items() if v is not None and math.isfinite(v)}
        )
        return out


HISTORY_POINTS = 2000
"""Readings a history file keeps: past this, every other older one is dropped, so a
long run's file stays small (about 100 kB) and still spans the whole run."""
HISTORY_FIELDS = ("steps", "meanReward", "loss", "updatedAt")


class History:
    """A run's progress readings as JSON lines at `uri` (one object a line, steps
    rising), rewritten whole at each report: an object store cannot append, and a
    reader then sees the old file or the new one, never half a line."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._points: list[dict[str, Any]] | None = None

    def _load(self) -> list[dict[str, Any]]:
        """Readings a resumed run wrote before (none when the file is not there)."""
        try:
            with fsspec.open(storage.resolve(self.uri), "rt") as fh:
                return [json.loads(line) for line in fh if line.strip()]
        except FileNotFoundError:
            return []

    def add(self, fields: dict[str, Any]) -> None:
        """Append one reading (a `Progress.to_status()`) and write the file; a failed
        write is logged, not raised: a curve is not worth a training run."""
        point = {k: fields[k] for k in HISTORY_FIELDS if k in fields}
        try:
            if self._points is None:
                # A run resumed from a checkpoint repeats the steps after it: those go.
                self._points = [p for p in self._load() if p.get("steps", 0) < point["steps"]]
            self._points.append(point)
            if len(self._points) > HISTORY_POINTS:
                self._points = self._points[::-2][::-1]  # every other, the newest kept
            fs, path = fsspec.core.url_to_fs(storage.resolve(self.uri))
            if len(self._points) == 1:
                fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)  # the run's first file
            body = "".join(json.dumps(p) + "\n" for p in self._points)
            storage.write_whole(fs, path, body.encode())
        except (OSError, ValueError) as err:
            log.warning("could not write the progress history %s: %s", self.uri, err)


def finite_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    """Metrics a status can carry: JSON has no NaN or infinity, so those are left out."""
    return {k: float(v) for k, v in metrics.items() if math.isfinite(v)}


class ProgressReporter:
    """Rate-limited progress for one run: to the owner resource, and to a local sink."""

    def __init__(
        self,
        owner: OwnerRef | None,
        total_steps: int,
        *,
        interval: float = 5.0,
        sink: Callable[[Progress], None] | None = None,
        sink_interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        history: str | None = None,
    ) -> None:
        self.owner, self.total_steps, self.interval = owner, total_steps, interval
        self.history = History(history) if history else None
        self.sink, self.sink_interval, self.clock = sink, sink_interval, clock
        self._started = clock()
        self._first_steps: int | None = None
        self._reported = -math.inf
        self._sunk = -math.inf
        self.last: Progress | None = None
        self.reports = 0
        """Status patches sent so far."""

    def _eta(self, steps: int, now: float) -> float | None:
        if self._first_steps is None:
            self._first_steps, self._started = steps, now
            return None
        done, elapsed = steps - self._first_steps, now - self._started
        if done <= 0 or elapsed <= 0:
            return None
        return max(self.total_steps - steps, 0) * elapsed / done

    def update(
        self,
        steps: int,
        mean_reward: float | None = None,
        loss: float | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Record progress; report it when the rate limits allow (always with `force`)."""
        now = self.clock()
        to_owner = force or now - self._reported >= self.interval
        reporting = self.owner is not None or self.history is not None
        to_sink = self.sink is not None and (force or now - self._sunk >= self.sink_interval)
        if not (to_owner or to_sink):
            return
        progress = Progress(steps, self.total_steps, mean_reward, loss, self._eta(steps, now))
        self.last = progress
        if to_sink and self.sink is not None:
            self._sunk = now
            self.sink(progress)
        if to_owner and reporting:
            self._reported = now
            self._report({"progress": self._status(progress)})

    def _status(self, progress: Progress) -> dict[str, Any]:
        """`status.progress`, with where its history is; the reading joins the history."""
        fields = progress.to_status()
        if self.history is not None:
            self.history.add(fields)
            fields["historyUri"] = self.history.uri
        return fields

    def _report(self, fields: dict[str, Any]) -> None:
        if self.owner is not None:
            self.reports += 1
            owner_status.report(self.owner, fields)

    def finish(self, steps: int, metrics: Mapping[str, float], checkpoint_uri: str | None) -> None:
        """The final report: progress at its last value, the metrics and the last checkpoint."""
        last = self.last or Progress(steps, self.total_steps)
        done = Progress(steps, self.total_steps, last.mean_reward, last.loss, 0.0)
        self.last = done
        if self.sink is not None:
            self.sink(done)
        fields: dict[str, Any] = {
            "progress": self._status(done),
            "metrics": finite_metrics(metrics),
        }
        if checkpoint_uri:
            fields["checkpointUri"] = checkpoint_uri
        self._report(fields)
