"""The locally assembled kind node (hack/kind/): its cluster config agrees with
what the node image carries, and the runc wrapper's rewriting holds (Go tests)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

KIND = Path(__file__).resolve().parents[3] / "hack" / "kind"


def _versions() -> dict[str, str]:
    text = (KIND / "versions.sh").read_text()
    return dict(re.findall(r'^([A-Z0-9_]+)="\$\{\1:-([^}]*)\}"', text, re.M))


def _cluster() -> dict[str, object]:
    loaded = yaml.safe_load((KIND / "cluster.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _patches() -> dict[str, dict[str, object]]:
    docs = [yaml.safe_load(p) for p in _cluster()["kubeadmConfigPatches"]]  # type: ignore[attr-defined]
    return {d["kind"]: d for d in docs}


def test_static_cni_serves_the_clusters_pod_subnet() -> None:
    # kindnetd is disabled; the node's static config must hand out addresses
    # from the subnet kubeadm gives the controller manager.
    networking = _cluster()["networking"]
    assert isinstance(networking, dict) and networking["disableDefaultCNI"] is True
    conf = json.loads((KIND / "files" / "10-kubetrade-ptp.conflist").read_text())
    ptp = next(p for p in conf["plugins"] if p["type"] == "ptp")
    assert ptp["ipam"]["ranges"] == [[{"subnet": networking["podSubnet"]}]]


def test_one_node_only() -> None:
    # The static CNI config is identical on every node: a second node would
    # hand out the same pod addresses.
    assert _cluster()["nodes"] == [{"role": "control-plane"}]


def test_etcd_tag_is_the_preloaded_etcd() -> None:
    etcd = _patches()["ClusterConfiguration"]["etcd"]
    assert etcd == {"local": {"imageTag": _versions()["ETCD_VERSION"].removeprefix("v") + "-0"}}


def test_kubelet_accepts_cgroup_v1() -> None:
    assert _patches()["KubeletConfiguration"]["failCgroupV1"] is False


@pytest.mark.skipif(shutil.which("go") is None, reason="the runc wrapper's tests need Go")
def test_runc_wrapper_go_tests() -> None:
    result = subprocess.run(
        ["go", "test", "./..."],
        cwd=KIND,
        env={**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok  \tkubetrade.local/kindnode/cmd/runc-wrapper" in result.stdout
