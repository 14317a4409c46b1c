"""Reading a published Dataset for a backtest: the manifest, its splits and its folds.

A Dataset is Parquet per split plus `manifest.json` (see `data.publish`). Only
what a backtest needs is read here, and leniently: a manifest without folds
(or with folds in the older shapes) is fine, since walk-forward folds are
optional.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import fsspec
import pandas as pd

from .. import storage
from ..market import cadence
from .metrics import Market

MANIFEST = "manifest.json"


class DatasetError(ValueError):
    """The dataset cannot be read as asked; the message names the missing part."""


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold: the strategy is measured on [test_start, test_end]."""

    name: str
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    train_start: pd.Timestamp | None = None
    train_end: pd.Timestamp | None = None


@dataclass(frozen=True)
class Dataset:
    """A published dataset's manifest and where it lives."""

    uri: str
    manifest: Mapping[str, Any]

    @property
    def splits(self) -> list[str]:
        """Split names in chronological order."""
        entries = self.manifest.get("splits") or {}
        return sorted(entries, key=lambda name: str(entries[name].get("start", "")))

    @property
    def interval(self) -> str:
        """The bar interval (1m, 5m, 15m, 1h, 1d); 1d when the manifest does not say."""
        source = self.manifest.get("source") or {}
        return str(self.manifest.get("interval") or source.get("interval") or "1d")

    @property
    def market(self) -> Market:
        """The market whose year the bars follow: from the calendars cleaning chose
        (`calendars`), else from the symbols; a ccxt venue trades round the clock."""
        source = self.manifest.get("source") or {}
        if source.get("type") == "ccxt":
            return Market.CRYPTO
        return cadence.market_of_dataset(self.manifest)

    @property
    def features(self) -> list[str]:
        """Feature columns the dataset carries besides OHLCV."""
        return [str(f) for f in self.manifest.get("features") or []]

    def folds(self) -> list[Fold]:
        """Walk-forward folds; an empty list when the dataset has none."""
        return [_fold(i, entry) for i, entry in enumerate(_fold_entries(self.manifest))]

    def bars(self, splits: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows of `splits` (all by default), in time order, duplicates dropped."""
        names = list(splits) if splits else self.splits
        entries = self.manifest.get("splits") or {}
        unknown = [n for n in names if n not in entries]
        if unknown:
            raise DatasetError(f"dataset {self.uri} has no split {unknown}; it has {self.splits}")
        fs, root = fsspec.core.url_to_fs(storage.resolve(self.uri))
        frames = []
        for name in names:
            with fs.open(f"{root}/{entries[name]['path']}", "rb") as fh:
                frames.append(pd.read_parquet(fh))
        frame = pd.concat(frames, ignore_index=True)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        frame = frame.drop_duplicates(["timestamp", "symbol"], keep="first")
        return frame.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)


def open_dataset(uri: str) -> Dataset:
    """Read the manifest at `uri` (a folder path or fsspec URI)."""
    target = uri if "://" in uri else f"file://{uri}"
    fs, root = fsspec.core.url_to_fs(storage.resolve(target))
    path = f"{root.rstrip('/')}/{MANIFEST}"
    if not fs.exists(path):
        raise DatasetError(f"no {MANIFEST} at {uri}: not a published dataset (or not finished)")
    with fs.open(path, "rb") as fh:
        manifest = json.loads(fh.read())
    return Dataset(target, manifest)


def _fold_entries(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    folds = manifest.get("folds")
    if folds is None:
        walk = manifest.get("walkForward") or manifest.get("walk_forward") or {}
        folds = walk.get("folds") if isinstance(walk, Mapping) else None
    return [f for f in folds or [] if isinstance(f, Mapping)]


def _span(entry: Mapping[str, Any], part: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    nested = entry.get(part)
    if isinstance(nested, Mapping):
        start, end = nested.get("start"), nested.get("end")
    else:  # flat keys: testStart / test_start
        start = entry.get(f"{part}Start", entry.get(f"{part}_start"))
        end = entry.get(f"{part}End", entry.get(f"{part}_end"))
    return _utc(start), _utc(end)


def _utc(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _fold(position: int, entry: Mapping[str, Any]) -> Fold:
    label = entry.get("name", entry.get("fold", position + 1))
    name = str(label) if isinstance(label, str) else f"fold-{label}"
    test_start, test_end = _span(entry, "test")
    if test_start is None or test_end is None:
        raise DatasetError(f"walk-forward {name} has no test start and end")
    train_start, train_end = _span(entry, "train")
    return Fold(name, test_start, test_end, train_start, train_end)
