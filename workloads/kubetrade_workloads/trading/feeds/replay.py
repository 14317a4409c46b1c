"""Replay of a published Dataset split, paced like a live stream.

A Dataset is Parquet per split plus `manifest.json`; the split's file is read
(checked against the manifest's sha256) and its bars handed out in order.
"""

from __future__ import annotations

from ...envs.dataset import DatasetError, open_dataset
from .base import aligned
from .paced import PacedFeed

ReplayError = DatasetError
"""A dataset that cannot be replayed (no manifest, no such split, a sha256
mismatch); the message names the missing part."""


def replay_feed(
    dataset_uri: str, split: str, symbols: tuple[str, ...] | None, bar_seconds: float
) -> PacedFeed:
    """A paced feed over `split` of the dataset (all its symbols when `symbols` is None)."""
    frame = open_dataset(dataset_uri).frame(split)
    wanted = symbols or tuple(sorted(frame["symbol"].astype(str).unique()))
    return PacedFeed(aligned(frame, wanted), bar_seconds)
