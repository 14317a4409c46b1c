"""images/requirements.py: the pinned requirements an image installs before its code."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[3]
# images/ is no package (the Dockerfiles run the script by path): load it by path too.
_spec = importlib.util.spec_from_file_location(
    "image_requirements", REPO / "images/requirements.py"
)
assert _spec and _spec.loader
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
name_of: Callable[[str], str] = _module.name_of
requirements: Callable[..., list[str]] = _module.requirements

PROJECT: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
EXTRAS = sorted(set(PROJECT["optional-dependencies"]) - {"dev", "bench"})


def test_names_are_normalised_and_drop_extras_and_pins() -> None:
    assert name_of("psycopg[binary]==3.3.9") == "psycopg"
    assert name_of("Pandas_Stubs==3.1.0") == "pandas-stubs"
    assert name_of("ta-lib==0.8.2") == name_of("TA_Lib") == "ta-lib"
    with pytest.raises(ValueError, match="not a requirement"):
        name_of("==1.0")


def test_the_workload_set_is_every_pin_of_the_base_and_extras_once() -> None:
    got = requirements(PROJECT, ["data", "backtest", "train", "trade"])
    names = [name_of(r) for r in got]
    assert len(names) == len(set(names))
    expected = set(PROJECT["dependencies"])
    for extra in ("data", "backtest", "train", "trade"):
        expected |= set(PROJECT["optional-dependencies"][extra])
    assert set(got) == expected, "a requirement listed twice is the same pin both times"
    assert all("==" in r for r in got), "images install pinned versions only"


def test_an_unknown_extra_is_an_error_not_an_empty_set() -> None:
    with pytest.raises(KeyError, match="no extra"):
        requirements(PROJECT, ["gpu"])


@given(
    st.lists(st.sampled_from(EXTRAS), unique=True),
    st.sets(st.sampled_from(sorted({name_of(d) for d in PROJECT["dependencies"]}))),
)
def test_exclude_removes_exactly_the_named_and_keeps_order(
    extras: list[str], excluded: set[str]
) -> None:
    full = requirements(PROJECT, extras)
    kept = requirements(PROJECT, extras, exclude=excluded)
    assert kept == [r for r in full if name_of(r) not in excluded]


def test_only_picks_one_pin_and_the_cli_prints_it() -> None:
    train_torch = [r for r in PROJECT["optional-dependencies"]["train"] if name_of(r) == "torch"]
    assert requirements(PROJECT, ["train"], only=["torch"]) == train_torch
    out = subprocess.run(
        [sys.executable, "images/requirements.py", "--only", "torch", "train"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert out.splitlines() == train_torch


def test_the_cli_leaves_out_the_operators_excludes() -> None:
    out = subprocess.run(
        [sys.executable, "images/requirements.py", "--exclude", "numpy,pandas,pyarrow"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert {name_of(r) for r in out} == {name_of(d) for d in PROJECT["dependencies"]} - {
        "numpy",
        "pandas",
        "pyarrow",
    }
