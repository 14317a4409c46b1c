"""How long the console's session view takes, next to the same query on the database.

Starts its own local control plane, installs the CRDs, makes a TradingSession and a
ServiceAccount that may read it, fills a SQLite trade store with 100,000 fills, and
serves the console on loopback (uvicorn, one process). Then, for each request kind,
times N sequential requests on one keep-alive connection, and the same SQL (page
plus count) run directly through SQLAlchemy on the same file:

* ``api fills page``: GET .../tradingsessions/<name>/fills?limit=100 as the viewer
  (token and access reviews cached for their TTL, as in steady use);
* ``api fills page, no review cache``: the same with the TTL at 0, so each request
  also makes a TokenReview and a SubjectAccessReview;
* ``session page``: the whole HTML page (object, Events, equity, orders, fills);
* ``direct SQL``: the fills page and its count, no HTTP, no Kubernetes;
* the session page's load in headless Chromium (navigation start to the load
  event, 10 loads), when Debian's chromium and chromedriver are installed.

It also times importing the Kubernetes client the console uses (lightkube's config
and httpx2) against the official ``kubernetes`` client. See docs/BENCHMARKS.md. Usage::

    .venv/bin/python benchmarks/console_bench.py [--fills 100000] [--requests 1000] [--json out.json]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, only benchmarks/ is on sys.path: add the dev tooling (the
# control plane) and the test helpers (CRDs, factories, the store seeder).
sys.path.append(str(Path(__file__).resolve().parents[1] / "hack"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable

import httpx2 as httpx
import sqlalchemy as sa

from kubetrade_console.settings import ConsoleSettings
from kubetrade_console.store import FILL_COLUMNS
from kubetrade_testing.console import (
    EVENTS,
    account_with_role,
    console_cluster,
    seed_store,
    serve_console,
)
from kubetrade_testing.factories import create, trading_session
from kubetrade_workloads.trading.store.schema import FillRow

NS = "bench"
READ: dict[str, object] = {
    "apiGroups": ["kubetrade.io"],
    "resources": ["tradingsessions"],
    "verbs": ["get", "list"],
}


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p99 and max in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def timed(call: Callable[[], object], n: int) -> list[float]:
    """`n` timings of `call` after 20 untimed warm-up calls."""
    for _ in range(20):
        call()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def over_http(base: str, path: str, token: str, n: int) -> list[float]:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:

        def get() -> None:
            response = client.get(path)
            assert response.status_code == 200, response.text

        return timed(get, n)


def direct(url: str, sid: str, n: int) -> list[float]:
    engine = sa.create_engine(url)
    cols = [getattr(FillRow, c) for c in FILL_COLUMNS]
    page = (
        sa.select(*cols)
        .where(FillRow.session_id == sid)
        .order_by(FillRow.filled_at.desc())
        .limit(100)
    )
    count = sa.select(sa.func.count()).select_from(FillRow).where(FillRow.session_id == sid)

    def query() -> None:
        with engine.connect() as conn:
            rows = conn.execute(page).all()
            total = conn.execute(count).scalar_one()
            assert len(rows) == 100 and total > 0

    try:
        return timed(query, n)
    finally:
        engine.dispose()


def browser_load(base: str, path: str, token: str, n: int = 10) -> list[float] | None:
    """Seconds from navigation start to the load event of `path` in headless
    Chromium (Debian's, through chromedriver), `n` loads after one warm-up; None
    when chromedriver is not installed."""
    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.get(base + "/login")  # the cookie belongs to the console's origin
        driver.add_cookie({"name": "kubetrade_token", "value": token, "path": "/"})
        out = []
        for i in range(n + 1):
            driver.get(base + path)
            ms = driver.execute_script(
                "const t = performance.getEntriesByType('navigation')[0];"
                " return t.loadEventEnd - t.startTime;"
            )
            if i:
                out.append(float(ms) / 1000)
        return out
    finally:
        driver.quit()


def import_seconds(module: str) -> float:
    """Seconds a fresh interpreter takes to import `module` (best of 3)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    return round(min(runs), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fills", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, object] = {"fills": args.fills, "requests": args.requests}
    with (
        tempfile.TemporaryDirectory() as tmp,
        console_cluster(Path(tmp) / "cp", NS) as (kubeconfig, client),
    ):
        create(client, trading_session("ts", "m"), NS)
        token = account_with_role(client, NS, "viewer", [READ, EVENTS])
        url = seed_store(Path(tmp) / "store", f"{NS}/ts", args.fills)
        fills = f"/api/v1/namespaces/{NS}/tradingsessions/ts/fills?limit=100"
        page = f"/ns/{NS}/tradingsessions/ts"
        cached = ConsoleSettings(kubeconfig=kubeconfig, store_url=url)
        uncached = cached.model_copy(update={"review_ttl_seconds": 0.0})
        n = args.requests
        with serve_console(cached) as base:
            results["api fills page"] = percentiles(over_http(base, fills, token, n))
            results["session page"] = percentiles(over_http(base, page, token, n // 4))
            loads = browser_load(base, page, token)
            results["session page in Chromium, navigation to load event"] = (
                percentiles(loads) if loads else "chromedriver not installed"
            )
        with serve_console(uncached) as base:
            results["api fills page, no review cache"] = percentiles(
                over_http(base, fills, token, n // 4)
            )
        results["direct SQL"] = percentiles(direct(url, f"{NS}/ts", n))
    results["import lightkube config + httpx2 (s)"] = import_seconds(
        "lightkube.config.client_adapter"
    )
    results["import kubernetes client (s)"] = import_seconds("kubernetes.client")
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
