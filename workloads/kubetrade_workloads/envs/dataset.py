"""Reading a published dataset: its manifest, checksum and splits as `History` objects."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import fsspec
import pandas as pd

from .. import storage
from ..market.history import History
from .features import dataset_features

MANIFEST = "manifest.json"


class DatasetError(ValueError):
    """A dataset that cannot be trained on; the message names the file or split."""


@dataclass(frozen=True)
class Dataset:
    """A published dataset: the manifest, its checksum and where the splits live."""

    uri: str
    """The folder holding manifest.json and the split files."""
    manifest: dict[str, Any]
    checksum: str
    """sha256 of manifest.json (which holds every split's sha256): the dataset's identity."""

    @property
    def features(self) -> tuple[str, ...]:
        """Feature columns the manifest declares (empty: models derive them from OHLCV)."""
        return dataset_features(self.manifest)

    @property
    def symbols(self) -> tuple[str, ...]:
        """The dataset's symbols, sorted."""
        return tuple(self.manifest.get("symbols", ()))

    @property
    def interval(self) -> str:
        """The bar interval (`1d` when the manifest does not say)."""
        source = self.manifest.get("source") or {}
        return str(source.get("interval", "1d"))

    def frame(self, split: str) -> pd.DataFrame:
        """One split as the long bar frame it was published as."""
        entry = self.manifest.get("splits", {}).get(split)
        if entry is None:
            raise DatasetError(f"the dataset at {self.uri} has no {split!r} split")
        with fsspec.open(f"{self.uri}/{entry['path']}", "rb") as fh:
            data = fh.read()
        expected = entry.get("sha256")
        if expected and hashlib.sha256(data).hexdigest() != expected:
            raise DatasetError(
                f"{split} split of {self.uri} does not match its sha256 in the manifest"
            )
        return pd.read_parquet(io.BytesIO(data))

    def history(self, split: str) -> History:
        """One split as aligned arrays, with every symbol of the dataset."""
        frame = self.frame(split)
        if frame.empty:
            raise DatasetError(f"the {split} split of {self.uri} is empty")
        return History.from_frame(frame, symbols=list(self.symbols) or None)


def open_dataset(uri: str) -> Dataset:
    """Open a dataset by its manifest URI or its folder (fsspec; `file://` or a path)."""
    resolved = storage.resolve(uri.rstrip("/"))
    root = resolved[: -len(MANIFEST) - 1] if resolved.endswith(f"/{MANIFEST}") else resolved
    try:
        with fsspec.open(f"{root}/{MANIFEST}", "rb") as fh:
            body = fh.read()
    except FileNotFoundError as err:
        raise DatasetError(f"no dataset at {uri}: {MANIFEST} not found") from err
    return Dataset(root, json.loads(body), hashlib.sha256(body).hexdigest())
