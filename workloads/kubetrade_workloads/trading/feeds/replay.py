"""Replay of a published Dataset split, paced like a live stream.

A Dataset is Parquet per split plus `manifest.json`; the split's file is read
(checked against the manifest's sha256) and its bars handed out in order.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import fsspec
import pandas as pd

from ... import storage
from .base import aligned
from .paced import PacedFeed

MANIFEST = "manifest.json"


class ReplayError(ValueError):
    """The dataset cannot be replayed; the message names the missing part."""


def _root(dataset_uri: str) -> str:
    return storage.resolve(dataset_uri.rstrip("/")).removesuffix(f"/{MANIFEST}")


def read_manifest(dataset_uri: str) -> dict[str, Any]:
    """The manifest of a published dataset."""
    try:
        with fsspec.open(f"{_root(dataset_uri)}/{MANIFEST}", "rb") as fh:
            manifest: dict[str, Any] = json.loads(fh.read())
    except FileNotFoundError as err:
        raise ReplayError(f"no dataset at {dataset_uri}: {MANIFEST} not found") from err
    return manifest


def read_split(dataset_uri: str, split: str) -> pd.DataFrame:
    """One split of a published dataset as its long bar frame."""
    root = _root(dataset_uri)
    manifest = read_manifest(dataset_uri)
    entry = (manifest.get("splits") or {}).get(split)
    if entry is None:
        raise ReplayError(f"the dataset at {dataset_uri} has no {split!r} split")
    with fsspec.open(f"{root}/{entry['path']}", "rb") as fh:
        data = fh.read()
    if entry.get("sha256") and hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ReplayError(f"the {split} split of {dataset_uri} does not match its sha256")
    return pd.read_parquet(io.BytesIO(data))


def replay_feed(
    dataset_uri: str, split: str, symbols: tuple[str, ...] | None, bar_seconds: float
) -> PacedFeed:
    """A paced feed over `split` of the dataset (all its symbols when `symbols` is None)."""
    frame = read_split(dataset_uri, split)
    wanted = symbols or tuple(sorted(frame["symbol"].astype(str).unique()))
    return PacedFeed(aligned(frame, wanted), bar_seconds)
