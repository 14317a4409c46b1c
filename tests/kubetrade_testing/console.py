"""Helpers for the console's tests, benchmark and doc snapshots: a namespace's
lineage with artifacts and a trade store behind it, the console served on
loopback, ServiceAccounts with given rights, and headless Chromium."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec
import pytest
import sqlalchemy as sa
import uvicorn
from lightkube import Client, codecs
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace
from lightkube.types import PatchType

from kubetrade_console.app import create_app
from kubetrade_console.settings import ConsoleSettings
from kubetrade_dev.controlplane import ControlPlane, find_bin_dir
from kubetrade_testing.accounts import request_token
from kubetrade_testing.cluster import new_client
from kubetrade_testing.crds import install_crds, load_crds
from kubetrade_testing.factories import (
    RESOURCES,
    create,
    dataset,
    model,
    trading_session,
    training_run,
)
from kubetrade_workloads.trading.store import open_engine
from kubetrade_workloads.trading.store.database import default_url
from kubetrade_workloads.trading.store.schema import EquityRow, FillRow, OrderRow

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

START = dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.UTC)
#: RBAC rules for the people who use the console: read kubetrade resources, list
#: their Events, suspend and resume sessions.
READ: dict[str, object] = {
    "apiGroups": ["kubetrade.io"],
    "resources": ["datasets", "trainingruns", "models", "tradingsessions"],
    "verbs": ["get", "list", "watch"],
}
EVENTS: dict[str, object] = {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]}
PATCH: dict[str, object] = {
    "apiGroups": ["kubetrade.io"],
    "resources": ["tradingsessions"],
    "verbs": ["patch"],
}


def equity_curve(points: int) -> list[tuple[float, float]]:
    """`points` readings of (equity, drawdown): a made-up but plausible curve from
    10,000 (a drift and two waves) and its drawdown from the running peak, the same
    on every call, so charts drawn from it are too (docs/console/*.svg)."""
    curve, peak = [], 0.0
    for i in range(points):
        equity = 10_000 * (1 + 0.0004 * i + 0.03 * math.sin(i / 13) + 0.008 * math.sin(i / 3.1))
        peak = max(peak, equity)
        curve.append((round(equity, 2), round(1 - equity / peak, 4)))
    return curve


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
                    "equity": equity,
                    "cash": 5_000.0,
                    "gross_exposure": 0.5,
                    "drawdown": drawdown,
                    "day_pnl": 0.0,
                    "total_pnl": round(equity - 10_000, 2),
                }
                for i, (equity, drawdown) in enumerate(equity_curve(points))
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


@contextmanager
def console_cluster(state_dir: Path, namespace: str) -> Iterator[tuple[Path, Client]]:
    """A local control plane of its own (outside pytest: the benchmark, the doc
    snapshots) with kubetrade's CRDs and `namespace`; its admin kubeconfig and a client."""
    with ControlPlane(state_dir, find_bin_dir()) as cp, new_client(cp.kubeconfig) as client:
        install_crds(client, load_crds())
        client.create(Namespace(metadata=ObjectMeta(name=namespace)))
        yield cp.kubeconfig, client


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
    an artifact store that does not answer, refused at once.

    fsspec keeps one S3FileSystem per set of arguments for the process, and the
    endpoint comes from the environment, which is not one of them: an instance an
    earlier test made would still talk to that test's S3 server. The test gets an
    empty cache of its own, and the earlier one is put back after it."""
    monkeypatch.setattr(fsspec.get_filesystem_class("s3"), "_cache", {})
    for name, value in {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)


REPORT_PAGE = (
    "<!DOCTYPE html><html><head><style>h1{{color:#1f5fa8}}</style></head>"
    "<body><h1 id='title'>Backtest of {name}</h1>{extra}</body></html>"
)
#: A report that tries to run a script: served sandboxed, it must not.
HOSTILE = "<script>document.getElementById('title').textContent='scripted'</script>"
#: Readings in the seeded TrainingRun's progress history.
STEPS = 300


def seed_artifacts(root: Path) -> dict[str, str]:
    """Two model versions (card, evaluation.json, report.html; the second report
    carries a script) and a run's progress history; their URIs by name."""
    uris: dict[str, str] = {}
    for number, extra in ((1, ""), (2, HOSTILE)):
        folder = root / "m" / str(number)
        (folder / "evaluation" / "r").mkdir(parents=True)
        card = {"algorithm": "PPO", "symbols": ["AAPL"], "lookback": 32, "steps": 2048}
        (folder / "model_card.json").write_text(json.dumps(card))
        metrics = {"sharpe": 1.5 / number, "maxDrawdown": -0.1 * number}
        (folder / "evaluation" / "r" / "evaluation.json").write_text(
            json.dumps({"backtest": {"metrics": metrics}})
        )
        (folder / "evaluation" / "r" / "report.html").write_text(
            REPORT_PAGE.format(name=f"v{number}", extra=extra)
        )
        uris[f"v{number}"] = f"file://{folder}"
    (root / "tr-1").mkdir()
    (root / "tr-1" / "progress.jsonl").write_text(
        "".join(
            json.dumps({"steps": s, "meanReward": s / STEPS, "loss": 1 / s}) + "\n"
            for s in range(1, STEPS + 1)
        )
    )
    uris["history"] = f"file://{root}/tr-1/progress.jsonl"
    return uris


def model_version(number: int, uri: str, sharpe: float, **extra: Any) -> dict[str, Any]:
    """An entry of a Model's `status.versions`."""
    return {
        "version": number,
        "artifactUri": uri,
        "createdAt": f"2024-0{number}-01T00:00:00Z",
        "phase": "Ready",
        "metrics": {"sharpe": sharpe},
        **extra,
    }


def reported_versions(uris: dict[str, str]) -> list[dict[str, Any]]:
    """Versions 1 and 2 of the seeded Model, each with its card and report."""
    return [
        model_version(1, uris["v1"], 1.2, reportUri=f"{uris['v1']}/evaluation/r"),
        model_version(2, uris["v2"], 0.7, reportUri=f"{uris['v2']}/evaluation/r"),
    ]


def record_versions(
    client: Client, namespace: str, name: str, versions: list[dict[str, Any]]
) -> None:
    """Set Model `name`'s `status.versions`, as the operator does."""
    client.patch(
        RESOURCES["Model"].Status,
        name,
        {"status": {"versions": versions}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )


def seed_lineage(
    client: Client, namespace: str, root: Path, *, fills: int
) -> tuple[str, dict[str, str]]:
    """Dataset ds → TrainingRun tr → Model m → TradingSession ts in `namespace`
    (which must exist), with m's versions 1 and 2 and tr's whole progress history
    in artifacts under `root`/artifacts and `fills` fills of ts in a SQLite trade
    store under `root`/store. Returns the store's URL and the artifacts' URIs.
    Everything is the same on every call but the paths: charts drawn from it are."""
    for obj in (
        dataset("ds"),
        training_run("tr", "ds"),
        model("m", "ds", trainingRunRef={"name": "tr"}),
        trading_session("ts", "m"),
    ):
        create(client, obj, namespace)
    uris = seed_artifacts(root / "artifacts")
    record_versions(client, namespace, "m", reported_versions(uris))
    progress = {"steps": STEPS, "totalSteps": STEPS, "percent": 100.0, "meanReward": 1.0}
    client.patch(
        RESOURCES["TrainingRun"].Status,
        "tr",
        {"status": {"progress": progress | {"historyUri": uris["history"]}}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    return seed_store(root / "store", f"{namespace}/ts", fills), uris


@contextmanager
def headless_chromium(*, width: int = 1280, height: int = 1000) -> Iterator[WebDriver]:
    """Debian's chromium, headless, through its chromedriver (selenium), logging
    the page's console; pytest.skip where chromedriver is not installed."""
    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        pytest.skip("chromedriver is not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.binary_location = shutil.which("chromium") or "chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
