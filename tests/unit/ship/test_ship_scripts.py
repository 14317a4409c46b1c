"""`make images` and `make kind-e2e` stop at once, saying why, where Docker is missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _fake_docker(folder: Path, info_exit: int, fail: str = "") -> None:
    """A `docker` that logs its calls; `info` exits `info_exit`, calls matching `fail` 1."""
    docker = folder / "docker"
    failing = f'case "$*" in {fail}) exit 1;; esac\n' if fail else ""
    docker.write_text(
        f'#!/bin/sh\n[ "$1" = info ] && exit {info_exit}\n'
        f'echo "docker $*" >> {folder}/calls\n{failing}'
    )
    docker.chmod(0o755)


def _run(script: str, env: dict[str, str], bash: str = "bash") -> subprocess.CompletedProcess[str]:
    """`bash SCRIPT` from the repository root with exactly `env`."""
    return subprocess.run(
        [bash, script], cwd=REPO, env=env, capture_output=True, text=True, timeout=30, check=False
    )


def _builds(folder: Path) -> list[str]:
    return [c for c in (folder / "calls").read_text().splitlines() if c.startswith("docker build ")]


@pytest.mark.parametrize("script", ["hack/images.sh", "hack/kind-e2e.sh"])
def test_fails_fast_when_docker_info_fails(script: str, tmp_path: Path) -> None:
    _fake_docker(tmp_path, info_exit=1)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)}
    result = _run(script, env)
    assert result.returncode == 2
    assert "docker info" in result.stderr and "Docker" in result.stderr
    assert not (tmp_path / "calls").exists(), "nothing was built"


def test_images_script_fails_fast_without_docker_at_all(tmp_path: Path) -> None:
    env = {"PATH": "/nonexistent", "HOME": str(tmp_path)}
    result = _run("hack/images.sh", env, bash="/bin/bash")
    assert result.returncode == 2 and "docker is not installed" in result.stderr


def _run_images(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "REGISTRY": "reg.example/kt",
        "TAG": "t1",
        # Never probe the network from a unit test.
        "TORCH_INDEX_URL": "https://torch.example/cpu",
        "CA_BUNDLE": str(tmp_path / "ca.pem"),
        **env,
    }
    return _run("hack/images.sh", env)


def test_images_script_builds_each_image_from_the_repository_root(tmp_path: Path) -> None:
    _fake_docker(tmp_path, info_exit=0)
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    result = _run_images(tmp_path)
    assert result.returncode == 0, result.stderr
    builds = _builds(tmp_path)
    assert len(builds) == 3
    for name, call in zip(("operator", "workload", "workload-gpu"), builds, strict=True):
        assert call.endswith(f" -f images/{name}/Dockerfile -t reg.example/kt/{name}:t1 ."), call
        # The default base was present (the fake inspects everything), so it is used.
        assert "--build-arg BASE_IMAGE=python:3.11.14-slim-bookworm" in call
        assert f"--secret id=ca,src={tmp_path}/ca.pem" in call, "the CA bundle, as a secret"
        assert ("TORCH_INDEX_URL=https://torch.example/cpu" in call) == (name == "workload")


def test_images_script_falls_back_to_the_debian_base_when_the_default_cannot_be_pulled(
    tmp_path: Path,
) -> None:
    _fake_docker(tmp_path, info_exit=0, fail="'image inspect python:'*|'pull '*")
    result = _run_images(tmp_path, NO_CACHE="1")
    assert result.returncode == 0, result.stderr
    assert "cannot be pulled" in result.stderr
    builds = _builds(tmp_path)
    assert len(builds) == 3
    for call in builds:
        assert "--build-arg BASE_IMAGE=kubetrade.local/base:bookworm-python3.11" in call
        assert "--no-cache" in call and "--secret" not in call, "no CA bundle, no secret"


def test_images_script_runs_each_image_as_the_pods_do_and_stops_when_one_cannot_start(
    tmp_path: Path,
) -> None:
    _fake_docker(tmp_path, info_exit=0, fail="'run '*reg.example/kt/workload:t1*")
    result = _run_images(tmp_path)
    assert result.returncode == 1
    assert "reg.example/kt/workload:t1 does not start read-only as uid 10001" in result.stderr
    runs = [c for c in (tmp_path / "calls").read_text().splitlines() if c.startswith("docker run")]
    assert len(runs) == 2, "the operator ran, then the workload, and nothing after it"
    for call in runs:
        assert "--read-only" in call and "--user 10001:10001" in call and "--cap-drop ALL" in call
    assert len(_builds(tmp_path)) == 2, "workload-gpu was not built after the failure"


def test_docker_setup_leaves_a_docker_that_answers_alone(tmp_path: Path) -> None:
    # The daemon answers and already runs the wrapper runtime (or the host has the
    # capability): nothing is installed, registered or started.
    docker = tmp_path / "docker"
    docker.write_text(
        "#!/bin/sh\n"
        f'echo "docker $*" >> {tmp_path}/calls\n'
        'case "$*" in *DefaultRuntime*) echo kubetrade-runc;; *Server.Version*) echo 99.0;; esac\n'
    )
    docker.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path)}
    result = _run("hack/docker-setup.sh", env)
    assert result.returncode == 0, result.stderr
    assert "a Docker daemon answers (99.0, runtime kubetrade-runc)" in result.stderr
    calls = (tmp_path / "calls").read_text()
    assert "register" not in result.stderr and "starting dockerd" not in result.stderr
    assert calls.splitlines()[0] == "docker info"
