"""`make images` and `make kind-e2e` stop at once, saying why, where Docker is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _fake_docker(folder: Path, info_exit: int) -> None:
    docker = folder / "docker"
    docker.write_text(
        f'#!/bin/sh\n[ "$1" = info ] && exit {info_exit}\necho "docker $*" >> {folder}/calls\n'
    )
    docker.chmod(0o755)


@pytest.mark.parametrize("script", ["hack/images.sh", "hack/kind-e2e.sh"])
def test_fails_fast_when_docker_info_fails(script: str, tmp_path: Path) -> None:
    _fake_docker(tmp_path, info_exit=1)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        ["bash", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert "docker info" in result.stderr and "Docker" in result.stderr
    assert not (tmp_path / "calls").exists(), "nothing was built"


def test_images_script_fails_fast_without_docker_at_all(tmp_path: Path) -> None:
    env = {"PATH": "/nonexistent", "HOME": str(tmp_path)}
    result = subprocess.run(
        ["/bin/bash", "hack/images.sh"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2 and "docker is not installed" in result.stderr


def test_images_script_builds_each_image_from_the_repository_root(tmp_path: Path) -> None:
    _fake_docker(tmp_path, info_exit=0)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "REGISTRY": "reg.example/kt",
        "TAG": "t1",
    }
    result = subprocess.run(
        ["bash", "hack/images.sh"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == [
        f"docker build -f images/{name}/Dockerfile -t reg.example/kt/{name}:t1 ."
        for name in ("operator", "workload", "workload-gpu")
    ]
