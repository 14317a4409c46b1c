"""Checkpoints: complete ones are found, corrupt and partial ones are skipped."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kubetrade_workloads.training.checkpoints import (
    CheckpointError,
    CheckpointStore,
    find,
    resume_point,
)


def _store(tmp_path: Path, keep: int = 5) -> CheckpointStore:
    return CheckpointStore(f"file://{tmp_path}/checkpoints/rl", keep=keep)


def test_latest_complete_checkpoint_round_trips(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.save(100, {"policy.zip": b"one"}, {"bestSharpe": 0.5})
    uri = store.save(200, {"policy.zip": b"two"}, {"bestSharpe": 0.7})
    latest = store.latest()
    assert latest is not None
    assert (latest.uri, latest.steps, latest.files["policy.zip"]) == (uri, 200, b"two")
    assert latest.state == {"bestSharpe": 0.7}
    assert not list((tmp_path / "checkpoints" / "rl").glob(".tmp-*"))


def test_corrupt_and_partial_checkpoints_are_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(tmp_path)
    store.save(100, {"policy.zip": b"good"}, {})
    store.save(200, {"policy.zip": b"corrupt me"}, {})
    store.save(300, {"policy.zip": b"half written"}, {})
    root = tmp_path / "checkpoints" / "rl"
    (root / "step-000000000200" / "policy.zip").write_bytes(b"bit rot")
    (root / "step-000000000300" / "COMPLETE").unlink()  # killed before the marker
    (root / "step-000000000400").mkdir()  # killed right after creating the folder
    (root / ".tmp-step-000000000500-abcd").mkdir()  # killed mid-write
    with caplog.at_level(logging.WARNING):
        latest = store.latest()
    assert latest is not None and latest.steps == 100 and latest.files["policy.zip"] == b"good"
    assert "does not match its checksum" in caplog.text
    assert "incomplete" in caplog.text


def test_an_unreadable_marker_is_skipped(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.save(1, {"f": b"x"}, {})
    store.save(2, {"f": b"y"}, {})
    (tmp_path / "checkpoints" / "rl" / "step-000000000002" / "COMPLETE").write_text("{not json")
    latest = store.latest()
    assert latest is not None and latest.steps == 1


def test_old_checkpoints_are_pruned(tmp_path: Path) -> None:
    store = _store(tmp_path, keep=2)
    for steps in (1, 2, 3):
        store.save(steps, {"f": b"x"}, {})
    names = sorted(p.name for p in (tmp_path / "checkpoints" / "rl").iterdir())
    assert names == ["step-000000000002", "step-000000000003"]


def test_a_named_corrupt_checkpoint_gives_way_to_an_older_complete_one(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.save(10, {"f": b"a"}, {})
    named = store.save(20, {"f": b"b"}, {})
    store.save(30, {"f": b"c"}, {})
    (tmp_path / "checkpoints" / "rl" / "step-000000000020" / "f").write_bytes(b"")
    assert find(named).steps == 10
    with pytest.raises(CheckpointError, match="no complete checkpoint"):
        find(f"file://{tmp_path}/nothing-here")


def test_resume_from_accepts_latest_a_checkpoint_or_a_run_folder(tmp_path: Path) -> None:
    out = f"file://{tmp_path}"
    rl = _store(tmp_path)
    rl.save(5, {"f": b"a"}, {})
    named = rl.save(9, {"f": b"b"}, {})
    CheckpointStore(f"{out}/checkpoints/forecaster").save(3, {"g": b"c"}, {})

    def steps(resume: str | None, part: str = "rl") -> int | None:
        found = resume_point(resume, out, part)
        return found.steps if found else None

    assert steps(None) is None
    assert steps("latest") == 9
    assert steps(named.replace("step-000000000009", "step-000000000005")) == 5
    assert steps(out) == 9
    assert steps(f"{out}/checkpoints/rl") == 9
    assert steps(named, "forecaster") == 3  # a HYBRID run: the other part's newest
    assert steps("latest", "forecaster") == 3
