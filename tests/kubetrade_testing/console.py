"""Helpers for the console's tests and benchmark: a trade store with fills in it,
the console served on loopback, and ServiceAccounts with given rights."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from lightkube import Client, codecs

from kubetrade_console.app import create_app
from kubetrade_console.settings import ConsoleSettings
from kubetrade_testing.accounts import request_token
from kubetrade_workloads.trading.store import open_engine
from kubetrade_workloads.trading.store.database import default_url
from kubetrade_workloads.trading.store.schema import EquityRow, FillRow, OrderRow

START = dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.UTC)


def seed_store(state_dir: Path, session_id: str, fills: int, *, points: int = 200) -> str:
    """A migrated SQLite trade store holding `fills` fills (and as many orders) and
    `points` equity points for `session_id`; returns its URL."""
    url = default_url(state_dir)
    engine, _ = open_engine(url, state_dir)
    t = [START + dt.timedelta(minutes=i) for i in range(max(fills, points))]
    with engine.begin() as conn:
        if fills:
            conn.execute(
                sa.insert(OrderRow),
                [
                    {
                        "client_order_id": f"o-{i}",
                        "session_id": session_id,
                        "symbol": "AAA",
                        "side": "buy" if i % 2 else "sell",
                        "quantity": 1.0 + i % 5,
                        "order_type": "market",
                        "purpose": "rebalance",
                        "status": "filled",
                        "filled_quantity": 1.0 + i % 5,
                        "created_at": t[i],
                        "updated_at": t[i],
                        "bar_time": t[i],
                    }
                    for i in range(fills)
                ],
            )
            conn.execute(
                sa.insert(FillRow),
                [
                    {
                        "fill_id": f"f-{i}",
                        "client_order_id": f"o-{i}",
                        "session_id": session_id,
                        "symbol": "AAA",
                        "side": "buy" if i % 2 else "sell",
                        "quantity": 1.0 + i % 5,
                        "price": 100.0 + i % 17,
                        "commission": 0.01,
                        "filled_at": t[i],
                        "recorded_at": t[i],
                    }
                    for i in range(fills)
                ],
            )
        conn.execute(
            sa.insert(EquityRow),
            [
                {
                    "session_id": session_id,
                    "time": t[i],
                    "equity": 10_000 + 50 * (i % 13) - i,
                    "cash": 5_000.0,
                    "gross_exposure": 0.5,
                    "drawdown": (i % 13) / 100,
                    "day_pnl": 0.0,
                    "total_pnl": float(-i),
                }
                for i in range(points)
            ],
        )
    engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_console(settings: ConsoleSettings) -> Iterator[str]:
    """The console served by uvicorn on loopback in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings.model_copy(update={"port": port})),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            ssl_certfile=settings.tls_cert_file,
            ssl_keyfile=settings.tls_key_file,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        assert thread.is_alive(), "the console exited while starting"
        time.sleep(0.05)
    try:
        yield f"{settings.scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def account_with_role(
    client: Client, namespace: str, name: str, rules: list[dict[str, object]]
) -> str:
    """A ServiceAccount `name` in `namespace` bound to a Role with `rules`; its token."""
    for doc in (
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": name},
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    ):
        client.create(codecs.from_dict(doc), namespace=namespace)  # type: ignore[type-var]
    return request_token(client, namespace, name)


def unreachable_object_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point s3:// at a loopback port nothing listens on, with one attempt per call:
    an artifact store that does not answer, refused at once."""
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
