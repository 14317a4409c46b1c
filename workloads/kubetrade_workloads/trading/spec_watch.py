"""Live edits: the trader follows its own TradingSession's `spec.risk` and `spec.suspend`,
and the champion and challenger the operator picks (`status.model`, `status.challenger`).

Tightening a limit in a crisis must not wait for a redeploy, so risk edits do
not roll the trader (the operator leaves them out of the trader's revision);
instead this thread reads the session every `every` seconds and hands what
changed to the trading loop, which applies it between bars. An edit the
trader cannot parse is reported and ignored: the limits in force stay.

A new champion or challenger is loaded here, on this thread (a torch policy
takes about a second to load and the bar loop must not wait for it), and
handed to the loop loaded, or with the reason it could not be loaded.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .. import owner_status
from ..config.jobs import OwnerRef
from ..config.risk import RiskConfig
from .kube import client
from .model import LoadedModel, ModelError, ModelPick, load_model

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpecChange:
    """A new risk config, a new suspend flag, or an edit that could not be used."""

    risk: RiskConfig | None = None
    suspend: bool | None = None
    error: str = ""
    model: ModelChange | None = None


@dataclass(frozen=True)
class ModelChange:
    """A new champion, or a new (or no) challenger, loaded or with why it could not be."""

    challenger: bool
    pick: ModelPick | None
    """None: the challenger was withdrawn (a champion always has a pick)."""
    loaded: LoadedModel | None = None
    error: str = ""


def _uri(pick: ModelPick | None) -> str | None:
    return pick.artifact_uri if pick is not None else None


def _read(kube: Any, owner: OwnerRef) -> dict[str, Any]:
    obj: dict[str, Any] = kube.get(
        owner_status.resource(owner), owner.name, namespace=owner.namespace
    )
    return obj


class SpecWatcher:
    """Polls the owner's spec; queues a SpecChange when `risk` or `suspend` changes."""

    def __init__(
        self,
        owner: OwnerRef,
        risk: RiskConfig,
        *,
        every: float = 2.0,
        make_client: Callable[[], Any] = client,
        champion: str = "",
        load: Callable[[str], LoadedModel] = load_model,
    ) -> None:
        self.owner = owner
        self.changes: queue.Queue[SpecChange] = queue.Queue()
        self._risk = risk.to_wire()
        self._suspend = False
        self._champion = champion
        self.carried: tuple[int, dt.datetime] | None = None
        """Bars and start already reported on the champion `read_champion` found."""
        """The artifact the trader trades (or was last told to): no reload of it."""
        self._challenger: ModelPick | None = None
        self._loaded: dict[str, LoadedModel] = {}
        """The challenger's loaded model, by artifact: promoted, it is not loaded twice."""
        self._load = load
        self._every = every
        self._make_client = make_client
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="spec-watch", daemon=True)

    def read_champion(self) -> ModelPick | None:
        """`status.model` now, the model a starting trader trades (the operator may have
        promoted one since the trader's config was written); None when unset, when this
        watcher does not poll, or when the API server cannot say."""
        if self._every <= 0:
            return None
        try:
            with self._make_client() as kube:
                status = _read(kube, self.owner).get("status") or {}
        except Exception as err:  # noqa: BLE001 - the config's model then
            log.warning("reading status.model failed, trading the configured model: %s", err)
            return None
        pick = ModelPick.of(status.get("model"))
        if pick is not None:
            self._champion = pick.artifact_uri
            self.carried = _carried(pick, (status.get("trading") or {}).get("model"))
        return pick

    def start(self) -> None:
        """Start polling in the background (not at all when `every` is 0)."""
        if self._every > 0:
            self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._every + 2)

    def _loop(self) -> None:
        with self._make_client() as kube:
            while True:
                try:
                    obj = _read(kube, self.owner)
                    self.poll(obj.get("spec") or {}, obj.get("status") or {})
                except Exception as err:  # noqa: BLE001 - the API may be briefly away
                    log.warning(
                        "reading %s/%s failed: %s", self.owner.namespace, self.owner.name, err
                    )
                if self._stop.wait(self._every):
                    return

    def poll(self, spec: dict[str, Any], status: dict[str, Any] | None = None) -> None:
        """Compare one read of the spec (and the operator's picks in `status`) with
        what is in force; queue the differences."""
        raw_risk = spec.get("risk") or {}
        try:
            risk: RiskConfig | None = RiskConfig.model_validate(raw_risk)
        except ValidationError as err:
            risk, error = None, f"spec.risk edit ignored, the limits in force stay: {err}"
        # Compared in canonical form: defaults the API server filled in are no edit.
        seen = risk.to_wire() if risk is not None else raw_risk
        if seen != self._risk:
            self._risk = seen
            self.changes.put(SpecChange(risk=risk) if risk else SpecChange(error=error))
        suspend = bool(spec.get("suspend", False))
        if suspend != self._suspend:
            self._suspend = suspend
            self.changes.put(SpecChange(suspend=suspend))
        if status is not None:
            self._follow(status)

    def _follow(self, status: dict[str, Any]) -> None:
        champion = ModelPick.of(status.get("model"))
        if champion is not None and champion.artifact_uri != self._champion:
            self._champion = champion.artifact_uri
            self.changes.put(SpecChange(model=self._loading(champion, challenger=False)))
        challenger = ModelPick.of(status.get("challenger"))
        # The same artifact is the same challenger, whatever else the operator rewrote.
        if _uri(challenger) != _uri(self._challenger):
            self._challenger = challenger
            change = (
                self._loading(challenger, challenger=True)
                if challenger is not None
                else ModelChange(challenger=True, pick=None)
            )
            self.changes.put(SpecChange(model=change))
        keep = {p.artifact_uri for p in (champion, challenger) if p is not None}
        self._loaded = {uri: m for uri, m in self._loaded.items() if uri in keep}

    def _loading(self, pick: ModelPick, *, challenger: bool) -> ModelChange:
        loaded = self._loaded.get(pick.artifact_uri)
        if loaded is None:
            try:
                loaded = self._load(pick.artifact_uri)
            except ModelError as err:
                return ModelChange(challenger, pick, error=str(err))
            except Exception as err:  # noqa: BLE001 - a bad artifact must not stop the watcher
                return ModelChange(challenger, pick, error=f"{type(err).__name__}: {err}")
            self._loaded[pick.artifact_uri] = loaded
        return ModelChange(challenger, pick, loaded)


def _carried(pick: ModelPick, reported: dict[str, Any] | None) -> tuple[int, dt.datetime] | None:
    """The bars and start a trader before this one reported on the same model: a restart
    does not make an old promotion new again (the operator's rollback window counts
    bars on the model, not bars since the pod started)."""
    if not reported or reported.get("artifactUri") != pick.artifact_uri:
        return None
    try:
        since = dt.datetime.fromisoformat(str(reported["since"]).replace("Z", "+00:00"))
        return int(reported.get("bars") or 0), since
    except (KeyError, ValueError):
        return None
