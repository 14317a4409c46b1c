"""API credentials for market-data sources, never logged.

In a pod they come from the Secret the Dataset names in `credentialsSecretRef`,
mounted as one file per key at /etc/kubetrade/credentials (keys such as
`apiKey`, `apiSecret`, `password`). On a workstation they come from the
environment: `KUBETRADE_API_KEY`, `KUBETRADE_API_SECRET`, `KUBETRADE_API_PASSWORD`,
or Alpaca's own `APCA_API_KEY_ID` / `APCA_API_SECRET_KEY`. A mounted Secret
wins over the environment: it is what the resource asked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

DEFAULT_DIR = "/etc/kubetrade/credentials"
DIR_ENV = "KUBETRADE_CREDENTIALS_DIR"
# Environment variable -> credential key, in order of preference.
ENV_KEYS = (
    ("KUBETRADE_API_KEY", "apiKey"),
    ("KUBETRADE_API_SECRET", "apiSecret"),
    ("KUBETRADE_API_PASSWORD", "password"),
    ("KUBETRADE_REDIS_URL", "redisUrl"),
    ("APCA_API_KEY_ID", "apiKey"),
    ("APCA_API_SECRET_KEY", "apiSecret"),
)


class Credentials(Mapping[str, str]):
    """Read-only credential values by key; `repr` shows the keys, never the values."""

    def __init__(self, values: Mapping[str, str] | None = None, origin: str = "none") -> None:
        self._values = dict(values or {})
        self.origin = origin

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Credentials(keys={sorted(self._values)}, origin={self.origin!r})"

    def missing(self, *keys: str) -> list[str]:
        """The keys among `keys` that are absent or empty."""
        return [k for k in keys if not self._values.get(k)]


def _read_dir(directory: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not directory.is_dir():
        return values
    for entry in sorted(directory.iterdir()):
        # A mounted Secret also holds `..data` and timestamped folders that
        # kubelet swaps atomically; only the visible names are keys.
        if entry.name.startswith(".") or not entry.is_file():
            continue
        values[entry.name] = entry.read_text().strip()
    return values


def load_credentials(
    directory: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Credentials:
    """Credentials from the mounted Secret directory, filled in from the environment.

    `directory` defaults to `$KUBETRADE_CREDENTIALS_DIR`, else
    /etc/kubetrade/credentials; a missing directory is not an error (public
    data needs no keys; a source that needs them says which are missing).
    """
    env = os.environ if env is None else env
    where = Path(directory or env.get(DIR_ENV) or DEFAULT_DIR)
    values: dict[str, str] = {}
    for var, key in ENV_KEYS:
        if env.get(var) and key not in values:
            values[key] = env[var]
    from_dir = _read_dir(where)
    values.update(from_dir)
    origin = f"{where} and environment" if from_dir else "environment"
    return Credentials(values, origin)
