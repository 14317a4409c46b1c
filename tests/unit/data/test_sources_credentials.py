"""Credentials: a mounted Secret first, the environment second, never printed."""

from __future__ import annotations

import os
from pathlib import Path

from kubetrade_workloads.data.sources import Credentials, load_credentials


def _mount_secret(directory: Path, values: dict[str, str]) -> Path:
    """The layout kubelet gives a Secret volume: keys link through `..data`."""
    version = directory / "..2026_01_01_00_00_00.000000001"
    version.mkdir(parents=True)
    for key, value in values.items():
        (version / key).write_text(value + "\n")
    os.symlink(version.name, directory / "..data")
    for key in values:
        os.symlink(f"..data/{key}", directory / key)
    return directory


def test_a_mounted_secret_is_read_key_by_key(tmp_path: Path) -> None:
    directory = _mount_secret(tmp_path / "creds", {"apiKey": "AK123", "apiSecret": "s3cr3t"})
    creds = load_credentials(directory, env={})
    assert dict(creds) == {"apiKey": "AK123", "apiSecret": "s3cr3t"}
    assert creds.missing("apiKey", "apiSecret", "password") == ["password"]
    assert "s3cr3t" not in repr(creds) and "apiSecret" in repr(creds)


def test_the_environment_fills_in_and_the_secret_wins(tmp_path: Path) -> None:
    directory = _mount_secret(tmp_path / "creds", {"apiKey": "from-secret"})
    env = {
        "KUBETRADE_API_KEY": "from-env",
        "APCA_API_SECRET_KEY": "alpaca-secret",
        "KUBETRADE_REDIS_URL": "redis://r:6379/0",
    }
    creds = load_credentials(directory, env=env)
    assert creds["apiKey"] == "from-secret"
    assert creds["apiSecret"] == "alpaca-secret"
    assert creds["redisUrl"] == "redis://r:6379/0"


def test_no_secret_is_not_an_error(tmp_path: Path) -> None:
    creds = load_credentials(env={"KUBETRADE_CREDENTIALS_DIR": str(tmp_path / "absent")})
    assert len(creds) == 0 and creds.origin == "environment"
    assert Credentials().missing("apiKey") == ["apiKey"]
