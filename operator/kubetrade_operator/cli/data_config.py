"""From a Dataset manifest, flags and `--set` to the DataConfig a local run uses.

Precedence, lowest first, as helm users expect: the config's defaults, the
manifest (`-f dataset.yaml`), explicit flags, `--set key=value`. Keys are the
manifest's own (`cleaning.fillLimit`, `splits.walkForward.folds`; snake_case
is accepted too) and every key is looked up in the config model itself, so a
field added to the model is settable the moment it exists.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

import yaml

from .data_errors import DataCliError, field_errors

if TYPE_CHECKING:
    from pydantic import BaseModel

    from kubetrade_workloads.config import DataConfig

# pydantic and the config models load inside the functions: `trading-cli --help`
# and shell completion import this module and must stay instant.

API_VERSION = "kubetrade.io/v1alpha1"
Tree = dict[str, Any]


@dataclass(frozen=True)
class Manifest:
    """The DataConfig part of a Dataset's spec, and where it publishes."""

    data: Tree
    storage_uri: str | None


def _dataset(documents: list[Any], path: Path) -> dict[str, Any]:
    datasets = [d for d in documents if isinstance(d, dict) and d.get("kind") == "Dataset"]
    if len(datasets) != 1:
        found = "no Dataset" if not datasets else f"{len(datasets)} Datasets"
        raise DataCliError(
            f"{path}: {found} in the file; give one manifest with kind: Dataset "
            f"(apiVersion: {API_VERSION}, see examples/dataset.yaml)"
        )
    doc = datasets[0]
    if doc.get("apiVersion") != API_VERSION:
        raise DataCliError(
            f"{path}: apiVersion {doc.get('apiVersion')!r} is not served here; "
            f"use apiVersion: {API_VERSION}"
        )
    spec = doc.get("spec") or {}
    if not isinstance(spec, dict):
        raise DataCliError(f"{path}: spec is not a mapping; write the Dataset's fields under spec:")
    return spec


def read_manifest(path: Path | None) -> Manifest:
    """The Dataset in `path`, checked against the same schema the API server applies;
    an empty one without --file, so the flags and defaults alone decide."""
    from pydantic import ValidationError

    from kubetrade_workloads.config import DataConfig

    from ..api.dataset import DatasetSpec

    if path is None:
        return Manifest({}, None)
    try:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except OSError as err:
        raise DataCliError(f"cannot read {path}: {err.strerror or err}; check the path") from err
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(err, "problem", None)
        what = f" ({problem})" if problem else ""
        raise DataCliError(f"{path} is not valid YAML{line}{what}; fix the file") from err
    spec = _dataset(documents, path)
    try:
        parsed = DatasetSpec.model_validate(spec)
    except ValidationError as err:
        raise DataCliError(f"{path}: {field_errors(err, 'spec.')}") from err
    # Only the data workload's fields apply to a local run; the Job's and the pod's do not.
    data = {alias: spec[alias] for alias in _fields(DataConfig) if alias in spec}
    return Manifest(data, parsed.storage_uri)


def _fields(model: type[BaseModel]) -> dict[str, str]:
    """Wire name (camelCase) -> attribute name of each field of `model`."""
    return {(info.alias or name): name for name, info in model.model_fields.items()}


def _unwrap(annotation: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` to X."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        kinds = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(kinds[0]) if len(kinds) == 1 else annotation
    return annotation


def resolve(key: str) -> tuple[list[str], Any]:
    """The wire path of a dotted key (`spec.` prefix and snake_case allowed) and its type."""
    from pydantic import BaseModel

    from kubetrade_workloads.config import DataConfig
    from kubetrade_workloads.config.base import to_camel

    model: type[BaseModel] | None = DataConfig
    path: list[str] = []
    annotation: Any = None
    for part in key.removeprefix("spec.").split("."):
        if model is None:
            raise DataCliError(f"--set {key}: {'.'.join(path)} has no fields; set it whole")
        fields = _fields(model)
        name = part if part in fields else to_camel(part)
        if name not in fields:
            where = ".".join(path) or "the Dataset spec"
            raise DataCliError(
                f"--set {key}: {where} has no field {part!r}; use one of {', '.join(fields)}"
            )
        annotation = _unwrap(model.model_fields[fields[name]].annotation)
        path.append(name)
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None
    return path, annotation


def put(tree: Tree, key: str, value: Any, text: str | None = None) -> None:
    """Set `key` (dotted) in `tree`, checked against the model; lists accept `A,B`.

    `text` is the value as typed: where the field holds text (a zone, a symbol
    list) and YAML read a boolean or a number, the text stands, so that the
    ticker ON (YAML's true) or 7203 stays a symbol.
    """
    path, annotation = resolve(key)
    textual = annotation is str or get_origin(annotation) is list
    if text is not None and textual and isinstance(value, bool | int | float):
        value = text
    if get_origin(annotation) is list and isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    node = tree
    for name in path[:-1]:
        child = node.get(name)
        node[name] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    node[path[-1]] = value


def parse_set(item: str) -> tuple[str, Any]:
    """`key=value` with the value read as YAML (numbers, booleans, lists, mappings)."""
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise DataCliError(
            f"--set {item!r}: expected key=value; e.g. --set cleaning.fillLimit=3", 2
        )
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        value = text  # a plain string YAML cannot read, such as `a: b:`
    return key.strip(), value


_PERIOD = re.compile(r"^(\d{1,4})(d|w|mo|y)$")


def period_start(period: str, end: dt.date | None) -> dt.date:
    """The first day of `period` (5d, 2w, 6mo, 1y, ytd) ending at `end` (default: today)."""
    last = end or dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    if period == "ytd":
        return dt.date(last.year, 1, 1)
    match = _PERIOD.match(period)
    if match is None or int(match.group(1)) == 0:
        raise DataCliError(
            f"--period {period!r}: not a period; use a count and d, w, mo or y "
            "(5d, 2w, 6mo, 1y, 10y) or ytd",
            2,
        )
    count, unit = int(match.group(1)), match.group(2)
    if unit in ("d", "w"):
        return last - dt.timedelta(days=count * (7 if unit == "w" else 1))
    months = last.year * 12 + last.month - 1 - count * (12 if unit == "y" else 1)
    year, month = divmod(months, 12)
    return dt.date(year, month + 1, min(last.day, calendar.monthrange(year, month + 1)[1]))


def as_date(value: Any) -> dt.date | None:
    """A date from a manifest or flag value; None where it is not one (validation says why)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def merge(manifest: Tree, flags: dict[str, Any], sets: list[str]) -> Tree:
    """The manifest's data fields, then the flags given (not None), then each `--set`."""
    tree: Tree = {
        key: dict(value) if isinstance(value, dict) else value for key, value in manifest.items()
    }
    for key, value in flags.items():
        if value is not None:
            put(tree, key, value)
    for item in sets:
        key, value = parse_set(item)
        put(tree, key, value, item.partition("=")[2].strip())
    return tree


def config(tree: Tree) -> DataConfig:
    """The validated config; a bad field raises pydantic's error (reported as one line)."""
    from kubetrade_workloads.config import DataConfig

    return DataConfig.model_validate(tree)
