"""Publishing writes every file before the manifest, and a failure leaves none."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from kubetrade_testing.bar_frames import bars
from kubetrade_workloads.data.publish import MANIFEST, write_dataset


def _parts() -> dict[str, pd.DataFrame]:
    frame = bars(symbols=("AAA", "BBB"), start="2021-01-04", end="2021-03-31")
    cut = frame["timestamp"].sort_values().iloc[len(frame) // 2]
    return {"train": frame[frame["timestamp"] < cut], "test": frame[frame["timestamp"] >= cut]}


def test_the_manifest_describes_every_file_it_lists(tmp_path: Path) -> None:
    parts = _parts()
    manifest = write_dataset(f"file://{tmp_path}", parts, {"features": ["x"]})
    body = (tmp_path / MANIFEST).read_bytes()
    assert manifest["checksum"] == hashlib.sha256(body).hexdigest()
    on_disk = json.loads(body)
    assert on_disk == {k: v for k, v in manifest.items() if k != "checksum"}
    for name, frame in parts.items():
        entry = on_disk["splits"][name]
        data = (tmp_path / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == len(frame) == len(pd.read_parquet(tmp_path / entry["path"]))
    assert on_disk["rows"] == sum(len(f) for f in parts.values())
    assert on_disk["symbols"] == ["AAA", "BBB"]
    assert on_disk["timeRange"] == {
        "start": "2021-01-04T00:00:00+00:00",
        "end": "2021-03-31T00:00:00+00:00",
    }
    assert on_disk["schema"]["close"] == "float64" and on_disk["features"] == ["x"]


def test_a_failure_midway_leaves_no_manifest_not_even_an_old_one(tmp_path: Path) -> None:
    write_dataset(f"file://{tmp_path}", _parts(), {})
    assert (tmp_path / MANIFEST).exists()
    parts = _parts()
    # Mixed objects in a column cannot become Parquet: the second split fails.
    rows = len(parts["test"])
    mixed = pd.Series(["many", 1.0] * (rows // 2) + [1.0] * (rows % 2), dtype=object)
    parts["test"] = parts["test"].assign(volume=mixed.to_numpy())
    with pytest.raises(pa.ArrowException):
        write_dataset(f"file://{tmp_path}", parts, {})
    assert not (tmp_path / MANIFEST).exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_no_splits_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no splits"):
        write_dataset(f"file://{tmp_path}", {}, {})
