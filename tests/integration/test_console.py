"""The console against the real API server, as two people with different rights.

The console runs on loopback with a token of a ServiceAccount bound to the chart's
own console ClusterRole (rendered by helm), so its least-privilege RBAC is what is
tested: it reviews tokens and access, reads, and writes only by impersonation.
`viewer` may read kubetrade resources; `trader` may also patch TradingSessions;
`outsider` may do nothing.
"""

from __future__ import annotations

import io
import json
import secrets
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import yaml
from lightkube import Client, codecs
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace
from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding
from PIL import Image

from kubetrade_console.settings import ConsoleSettings
from kubetrade_dev.controlplane import find_bin_dir
from kubetrade_testing.accounts import request_token, write_token_kubeconfig
from kubetrade_testing.cluster import TEST_NAMESPACE_LABEL
from kubetrade_testing.console import (
    EVENTS,
    HOSTILE,
    PATCH,
    READ,
    STEPS,
    account_with_role,
    headless_chromium,
    model_version,
    record_versions,
    reported_versions,
    seed_lineage,
    serve_console,
    unreachable_object_store,
)
from kubetrade_testing.factories import get

pytestmark = pytest.mark.integration

CHART = Path(__file__).resolve().parents[2] / "charts" / "kubetrade"
FILLS = 1234


@dataclass(frozen=True)
class World:
    namespace: str
    url: str
    viewer: str
    trader: str
    outsider: str
    down_url: str


def _console_account(
    client: Client, kubeconfig: Path, ns: str, out: Path
) -> tuple[Path, list[Any]]:
    """The chart's console ServiceAccount, ClusterRole and binding in `ns`, and a
    kubeconfig with the account's token."""
    release = f"c{secrets.token_hex(3)}"
    rendered = subprocess.run(
        [
            str(find_bin_dir() / "helm"),
            "template",
            release,
            str(CHART),
            "-n",
            ns,
            "--kube-version",
            "1.36.3",
            "--set",
            "console.enabled=true",
            "--show-only",
            "templates/console-rbac.yaml",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    made = []
    for doc in yaml.safe_load_all(rendered):
        if doc:
            obj = codecs.from_dict(doc)
            client.create(obj, namespace=ns if doc["kind"] == "ServiceAccount" else None)  # type: ignore[arg-type]
            made.append(obj)
    account = next(o for o in made if o.kind == "ServiceAccount")
    token = request_token(client, ns, account.metadata.name)
    return write_token_kubeconfig(kubeconfig, token, out / "console.kubeconfig"), made


@pytest.fixture(scope="module")
def world(
    crds: None, lightkube_client: Client, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    client = lightkube_client
    ns = f"t-{secrets.token_hex(4)}"
    client.create(Namespace(metadata=ObjectMeta(name=ns, labels={TEST_NAMESPACE_LABEL: "true"})))
    out = tmp_path_factory.mktemp("console")
    console_kc, made = _console_account(client, kubeconfig, ns, out)
    viewer = account_with_role(client, ns, "viewer", [READ, EVENTS])
    trader = account_with_role(client, ns, "trader", [READ, EVENTS, PATCH])
    outsider = account_with_role(client, ns, "outsider", [])
    store, uris = seed_lineage(client, ns, out, fills=FILLS)
    record_versions(
        client,
        ns,
        "m",
        [
            *reported_versions(uris),
            # A report URI outside its own artifact (another version's): never read.
            model_version(3, f"{uris['v1']}-3", 0.1, reportUri=f"{uris['v1']}/evaluation/r"),
            # An object store nothing answers for.
            model_version(4, "s3://models/m/4", 0.2, reportUri="s3://models/m/4/evaluation/r"),
        ],
    )
    up = ConsoleSettings(
        kubeconfig=console_kc, store_url=store, poll_seconds=0.2, artifact_timeout_seconds=5
    )
    down = ConsoleSettings(kubeconfig=console_kc, store_url=f"sqlite:///{out}/missing/dir/x.db")
    try:
        with serve_console(up) as url, serve_console(down) as down_url:
            yield World(ns, url, viewer, trader, outsider, down_url)
    finally:
        client.delete(Namespace, ns)
        for obj in made:
            if obj.kind in ("ClusterRole", "ClusterRoleBinding"):
                client.delete(
                    ClusterRole if obj.kind == "ClusterRole" else ClusterRoleBinding,
                    obj.metadata.name,
                )


def call(world: World, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, world.url + path, headers=headers, timeout=30, **kw)


def api(world: World, rest: str = "") -> str:
    return f"/api/v1/namespaces/{world.namespace}{rest}"


def test_no_token_or_a_bad_one_is_401_and_a_page_sends_to_login(world: World) -> None:
    assert call(world, None, "GET", api(world)).status_code == 401
    bad = call(world, "not-a-token", "GET", api(world))
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    page = httpx.get(f"{world.url}/ns/{world.namespace}?tab=fills", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == f"/login?next=%2Fns%2F{world.namespace}%3Ftab%3Dfills"
    home = httpx.get(f"{world.url}/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/login"


def test_overview_has_every_kind_and_the_lineage(world: World) -> None:
    body = call(world, world.viewer, "GET", api(world)).json()
    assert {k: [o["metadata"]["name"] for o in v] for k, v in body["items"].items()} == {
        "datasets": ["ds"],
        "trainingruns": ["tr"],
        "models": ["m"],
        "tradingsessions": ["ts"],
    }
    assert {(e["source"], e["target"]) for e in body["lineage"]} == {
        ("datasets/ds", "trainingruns/tr"),
        ("trainingruns/tr", "models/m"),
        ("models/m", "tradingsessions/ts"),
    }


def test_an_outsider_is_refused_with_the_reason(world: World) -> None:
    refused = call(world, world.outsider, "GET", api(world, "/tradingsessions/ts"))
    assert refused.status_code == 403
    assert (
        f"system:serviceaccount:{world.namespace}:outsider may not get tradingsessions/ts"
        in refused.json()["detail"]
    )


def test_fills_are_paged_from_the_store(world: World) -> None:
    page = call(
        world,
        world.viewer,
        "GET",
        api(world, "/tradingsessions/ts/fills"),
        params={"offset": 10, "limit": 5},
    ).json()
    assert page["total"] == FILLS and len(page["items"]) == 5
    assert page["items"][0]["client_order_id"] == f"o-{FILLS - 11}"  # newest first
    orders = call(
        world, world.viewer, "GET", api(world, "/tradingsessions/ts/orders"), params={"limit": 3}
    ).json()
    assert orders["total"] == FILLS and orders["items"][0]["status"] == "filled"
    equity = call(
        world, world.viewer, "GET", api(world, "/tradingsessions/ts/equity"), params={"limit": 50}
    ).json()
    assert len(equity) == 50 and equity[0]["time"] < equity[-1]["time"]


def test_model_versions(world: World) -> None:
    versions = call(world, world.viewer, "GET", api(world, "/models/m/versions")).json()
    assert [v["version"] for v in versions] == [1, 2, 3, 4]


def test_a_versions_card_and_evaluation_come_from_the_artifacts(world: World) -> None:
    base = api(world, "/models/m/versions")
    card = call(world, world.viewer, "GET", f"{base}/1/card")
    assert card.status_code == 200 and card.json()["algorithm"] == "PPO"
    evaluation = call(world, world.viewer, "GET", f"{base}/2/evaluation").json()
    assert evaluation["backtest"]["metrics"]["sharpe"] == 0.75
    assert call(world, world.outsider, "GET", f"{base}/1/card").status_code == 403
    assert call(world, world.viewer, "GET", f"{base}/9/card").status_code == 404
    # Version 3 names a report outside its artifact; a file name cannot be asked for.
    outside = call(world, world.viewer, "GET", f"{base}/3/evaluation")
    assert outside.status_code == 404 and "not under the artifact" in outside.json()["detail"]
    assert call(world, world.viewer, "GET", f"{base}/1/..%2F..%2Fmodel_card.json").status_code in (
        404,
        422,
    )
    assert call(world, world.viewer, "GET", f"{base}/1/policy.zip").status_code == 422
    assert (
        "/api/v1/namespaces/{namespace}/models/{name}/versions/{version}/report.html"
        in (call(world, None, "GET", "/openapi.json").json()["paths"])
    )


def test_an_html_report_is_served_sandboxed(world: World) -> None:
    report = call(world, world.viewer, "GET", api(world, "/models/m/versions/2/report.html"))
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    csp = report.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script" not in csp
    assert HOSTILE in report.text  # served as written, never run (the browser test checks)


def test_an_object_store_that_does_not_answer_is_a_503_and_a_banner(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable_object_store(monkeypatch)
    card = call(world, world.viewer, "GET", api(world, "/models/m/versions/4/card"))
    assert card.status_code == 503 and "does not answer" in card.json()["detail"]
    headers = {"Authorization": f"Bearer {world.viewer}"}
    page = httpx.get(f"{world.url}/ns/{world.namespace}/models/m/versions/4", headers=headers)
    assert page.status_code == 200 and 'class="banner artifact"' in page.text
    assert "s3://models/m/4" in page.text  # the version's status still shows


def test_a_runs_whole_reward_curve_comes_from_its_history(world: World) -> None:
    history = call(world, world.viewer, "GET", api(world, "/trainingruns/tr/history")).json()
    assert len(history["points"]) == STEPS and history["points"][-1]["meanReward"] == 1.0
    assert (
        call(world, world.viewer, "GET", api(world, "/trainingruns/nope/history")).status_code
        == 404
    )
    headers = {"Authorization": f"Bearer {world.viewer}"}
    page = httpx.get(f"{world.url}/ns/{world.namespace}/trainingruns/tr", headers=headers)
    polylines = page.text.split("<polyline")[1:]
    assert len(polylines) == 2  # reward and loss, each the whole run
    assert all(len(p.split('points="')[1].split('"')[0].split()) == STEPS for p in polylines)


def test_a_viewer_may_not_suspend_but_a_trader_may(world: World, lightkube_client: Client) -> None:
    refused = call(world, world.viewer, "POST", api(world, "/tradingsessions/ts/suspend"))
    assert (
        refused.status_code == 403
        and "may not patch tradingsessions/ts" in refused.json()["detail"]
    )
    assert (
        get(lightkube_client, "TradingSession", "ts", world.namespace)["spec"].get("suspend")
        is not True
    )
    done = call(world, world.trader, "POST", api(world, "/tradingsessions/ts/suspend"))
    assert done.status_code == 200 and done.json()["spec"]["suspend"] is True
    assert get(lightkube_client, "TradingSession", "ts", world.namespace)["spec"]["suspend"] is True
    back = call(world, world.trader, "POST", api(world, "/tradingsessions/ts/resume"))
    assert back.json()["spec"]["suspend"] is False


def test_pinning_a_version_rolls_back_and_unpinning_follows_the_model(
    world: World, lightkube_client: Client
) -> None:
    path = api(world, "/tradingsessions/ts/model-version")
    unknown = call(world, world.trader, "POST", path, json={"version": 7})
    assert unknown.status_code == 422 and "no version 7" in unknown.json()["detail"]
    assert call(world, world.viewer, "POST", path, json={"version": 1}).status_code == 403
    assert call(world, world.trader, "POST", path, json={"version": 1}).status_code == 200
    assert get(lightkube_client, "TradingSession", "ts", world.namespace)["spec"]["modelRef"] == {
        "name": "m",
        "version": 1,
    }
    assert call(world, world.trader, "POST", path, json={"version": None}).status_code == 200
    assert get(lightkube_client, "TradingSession", "ts", world.namespace)["spec"]["modelRef"] == {
        "name": "m"
    }


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/namespaces/..%2F..%2Fapi/tradingsessions/ts", 404),  # no route has that shape
        ("/api/v1/namespaces/..%2Fkube-system/tradingsessions", 422),
        ("/api/v1/namespaces/../tradingsessions/ts", 404),
        ("/api/v1/namespaces/NS/tradingsessions/ts", 422),
        ("/api/v1/namespaces/default/secrets/anything", 422),
        ("/api/v1/namespaces/default/tradingsessions/ts/fills?limit=100000", 422),
        ("/api/v1/namespaces/default/tradingsessions/ts/fills?offset=-1", 422),
        ("/api/v1/namespaces/default/tradingsessions/" + "a" * 300, 422),
        ("/static/..%2F..%2Fsettings.py", 404),
    ],
)
def test_bad_input_is_a_clear_4xx(world: World, path: str, status: int) -> None:
    response = call(world, world.viewer, "GET", path)
    assert response.status_code == status, response.text
    assert "BaseSettings" not in response.text


def test_a_10_mb_query_parameter_is_refused(world: World) -> None:
    """HTTP clients refuse to send such a URL, so it goes out over a raw socket."""
    host, port = world.url.removeprefix("http://").split(":")
    request = (
        f"GET {api(world, '/tradingsessions/ts/fills')}?q={'x' * 10_000_000} HTTP/1.1\r\n"
        f"Host: {host}\r\nAuthorization: Bearer {world.viewer}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        try:
            conn.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the console answered and closed before reading it all
        status_line = conn.makefile("rb").readline().decode()
    status = int(status_line.split()[1])
    assert 400 <= status < 500, status_line


def test_a_missing_object_is_404(world: World) -> None:
    assert call(world, world.viewer, "GET", api(world, "/models/nope")).status_code == 404


def test_store_down_shows_a_banner_while_resources_work(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.viewer}"}
    page = httpx.get(
        f"{world.down_url}/ns/{world.namespace}/tradingsessions/ts", headers=headers, timeout=30
    )
    assert (
        page.status_code == 200
        and 'class="banner"' in page.text
        and "TradingSession ts" in page.text
    )
    fills = httpx.get(
        f"{world.down_url}{api(world, '/tradingsessions/ts/fills')}", headers=headers, timeout=30
    )
    assert fills.status_code == 503 and "does not answer" in fills.json()["detail"]


def test_pages_render_with_charts_from_a_login_cookie(world: World) -> None:
    with httpx.Client(base_url=world.url, timeout=30) as browser:
        assert browser.post("/login", json={"token": "nope"}).status_code == 401
        assert browser.post("/login", json={"token": world.viewer}).json()["next"] == "/"
        back = f"/ns/{world.namespace}/tradingsessions/ts"
        signed = browser.post("/login", json={"token": world.viewer, "next": back})
        assert signed.status_code == 200 and signed.json()["next"] == back
        for hostile in ("https://evil.example/", "//evil.example", "/\\evil.example"):
            signed = browser.post("/login", json={"token": world.viewer, "next": hostile})
            assert signed.status_code == 200 and signed.json()["next"] == "/", hostile
        overview = browser.get(f"/ns/{world.namespace}")
        assert overview.status_code == 200 and "trainingruns/tr" in overview.text
        session = browser.get(f"/ns/{world.namespace}/tradingsessions/ts")
        assert session.status_code == 200 and session.text.count("<polyline") == 2
        assert (
            "Fills (1234)" in session.text
            and "'self'" in session.headers["content-security-policy"]
        )
        assert "Sharpe by version" in browser.get(f"/ns/{world.namespace}/models/m").text
        assert browser.get(f"/ns/{world.namespace}/trainingruns/tr").status_code == 200
        assert browser.get(f"/ns/{world.namespace}/datasets/ds").status_code == 200
        assert '<script src="http' not in session.text  # nothing from a CDN
        assert browser.get("/static/console.js").status_code == 200
        assert "/api/v1/namespaces/{namespace}" in browser.get("/openapi.json").json()["paths"]


def test_live_updates_arrive_as_server_sent_events(world: World) -> None:
    path = api(world, "/tradingsessions/ts/stream")
    with httpx.stream(
        "GET", world.url + path, headers={"Authorization": f"Bearer {world.viewer}"}, timeout=30
    ) as events:
        assert events.headers["content-type"].startswith("text/event-stream")
        line = next(line for line in events.iter_lines() if line.startswith("data: "))
    payload = json.loads(line.removeprefix("data: "))
    assert payload["spec"]["modelRef"]["name"] == "m" and payload["equity"][0]["equity"] > 0


# --- a real browser: Debian's chromium and chromedriver, driven by selenium ------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with headless_chromium() as driver:
        yield driver


def severe(driver: Any) -> list[str]:
    """Console errors (failed loads, CSP violations, script errors) since the last call."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_a_browser_signs_in_reads_every_page_and_suspends(
    world: World, browser: Any, lightkube_client: Client
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    ns = world.namespace
    # Signed out, a session's link (`deploy monitor --dashboard`) leads to the
    # login page, and signing in lands on that session, not on the home page.
    session = f"{world.url}/ns/{ns}/tradingsessions/ts"
    browser.get(session)
    assert browser.current_url.startswith(f"{world.url}/login?next=")
    browser.find_element(By.NAME, "token").send_keys(world.trader)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda d: d.current_url == session)
    assert browser.find_element(By.TAG_NAME, "h1").text == "TradingSession ts"
    for path in (
        f"/ns/{ns}",
        f"/ns/{ns}/models/m",
        f"/ns/{ns}/trainingruns/tr",
        f"/ns/{ns}/datasets/ds",
    ):
        browser.get(world.url + path)
        assert browser.find_element(By.TAG_NAME, "h1").text
        assert severe(browser) == [], path
    browser.get(f"{world.url}/ns/{ns}/trainingruns/tr")
    for chart in ("#reward-chart", "#loss-chart"):
        line = browser.find_element(By.CSS_SELECTOR, f"{chart} polyline")
        assert len(line.get_attribute("points").split()) == STEPS
        assert line.size["width"] > 100 and line.size["height"] > 50  # drawn, not blank
    browser.get(f"{world.url}/ns/{ns}/models/m/versions/1")
    assert "PPO" in browser.find_element(By.ID, "card").text
    browser.switch_to.frame(browser.find_element(By.ID, "report"))
    assert browser.find_element(By.ID, "title").text == "Backtest of v1"
    browser.switch_to.default_content()
    assert severe(browser) == []
    # A report with a script in it: shown, and the script never runs.
    browser.get(f"{world.url}/ns/{ns}/models/m/versions/2")
    browser.switch_to.frame(browser.find_element(By.ID, "report"))
    assert browser.find_element(By.ID, "title").text == "Backtest of v2"
    browser.switch_to.default_content()
    assert all("Blocked script execution" in m for m in severe(browser))
    browser.get(f"{world.url}/ns/{ns}/tradingsessions/ts")
    points = browser.find_element(By.CSS_SELECTOR, "svg.chart polyline").get_attribute("points")
    assert len(points.split()) == 200
    pager = browser.find_element(By.CSS_SELECTOR, '.pager[data-for="fills"]')
    assert "page 1 of 8" in pager.text  # 200 fills, 25 a page
    price = browser.find_element(By.CSS_SELECTOR, '#fills th[data-col="4"]')
    price.send_keys(Keys.ENTER)  # headers sort from the keyboard
    assert "asc" in (price.get_attribute("class") or "")
    assert browser.switch_to.active_element == price
    prices = [
        float(td.text)
        for td in browser.find_elements(
            By.CSS_SELECTOR, "#fills tbody tr:not([hidden]) td:nth-child(5)"
        )
    ]
    assert prices == sorted(prices) and len(prices) == 25
    shot = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("L")
    low, high = shot.getextrema()
    assert high - low > 100, "the screenshot is blank"
    browser.find_element(By.XPATH, "//button[text()='Suspend']").click()
    wait.until(lambda d: d.find_element(By.ID, "action-result").text == "done")
    assert browser.find_element(By.ID, "suspended").text == "true"
    assert get(lightkube_client, "TradingSession", "ts", ns)["spec"]["suspend"] is True
    browser.find_element(By.XPATH, "//button[text()='Resume']").click()
    wait.until(
        lambda d: get(lightkube_client, "TradingSession", "ts", ns)["spec"]["suspend"] is False
    )
    assert severe(browser) == []


def test_the_console_serves_https_with_its_certificate_and_nothing_in_clear(
    kubeconfig: Path, tmp_path: Path
) -> None:
    """With tls_cert_file and tls_key_file (the chart's console.tls.secretName) the
    console speaks HTTPS only: a client trusting the CA gets through, one that does
    not is refused, and plain HTTP to the port gets no page."""
    import ssl

    from kubetrade_dev.certs import cert_pem, issue_cert, key_pem, new_ca

    ca_key, ca = new_ca("console test CA")
    key, cert = issue_cert(
        ca_key, ca, common_name="console", ip_addresses=["127.0.0.1"], server=True
    )
    (tmp_path / "tls.crt").write_bytes(cert_pem(cert))
    (tmp_path / "tls.key").write_bytes(key_pem(key))
    (tmp_path / "ca.crt").write_bytes(cert_pem(ca))
    settings = ConsoleSettings(
        kubeconfig=kubeconfig,
        tls_cert_file=tmp_path / "tls.crt",
        tls_key_file=tmp_path / "tls.key",
    )
    with serve_console(settings) as url:
        assert url.startswith("https://")
        trusted = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
        assert httpx.get(f"{url}/healthz", verify=trusted).status_code == 200
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{url}/healthz")
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url.replace('https://', 'http://')}/healthz")
