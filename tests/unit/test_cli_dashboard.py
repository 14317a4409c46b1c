"""`trading-cli deploy monitor --dashboard`: the console URL it prints, when it opens
a browser (never in CI or without a display), and the addresses it refuses."""

from __future__ import annotations

import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kubetrade_operator.cli import dashboard, deploy
from kubetrade_operator.cli.dashboard import can_show_a_browser, checked_base, page_url
from kubetrade_operator.cli.main import app

runner = CliRunner()


class FakeClient:
    namespace = "team-a"

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeClient:
    """A cluster that holds every session asked for; browsers recorded, not opened."""
    fake = FakeClient()

    @contextmanager
    def cluster() -> Iterator[FakeClient]:
        yield fake

    def get_session(_client: Any, name: str, namespace: str) -> dict[str, Any]:
        fake.asked.append((namespace, name))
        return {"metadata": {"name": name, "namespace": namespace}}

    monkeypatch.setattr(deploy, "cluster", cluster)
    monkeypatch.setattr(deploy, "get_session", get_session)
    monkeypatch.delenv(dashboard.CONSOLE_URL_ENV, raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    return fake


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A machine with a display whose browser records what it was asked to open."""
    urls: list[str] = []

    def fake_open(url: str, new: int = 0) -> bool:
        urls.append(url)
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    return urls


def monitor(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["deploy", "monitor", "--dashboard", *args])
    return result.exit_code, result.output


def test_the_session_page_opens_on_the_local_console_by_default(
    client: FakeClient, opened: list[str]
) -> None:
    code, out = monitor("--session-id", "ppo-paper")
    assert code == 0, out
    url = "http://127.0.0.1:8443/ns/team-a/tradingsessions/ppo-paper"
    assert opened == [url] and f"console: {url}" in out
    assert client.asked == [("team-a", "ppo-paper")]  # it exists: no console 404 to open


def test_the_console_url_comes_from_the_flag_or_the_environment(
    client: FakeClient, opened: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(dashboard.CONSOLE_URL_ENV, "https://console.example.com/kt/")
    code, out = monitor("--session-id", "s", "-n", "prod")
    assert code == 0, out
    assert opened[-1] == "https://console.example.com/kt/ns/prod/tradingsessions/s"
    code, out = monitor("--session-id", "s", "--console-url", "http://localhost:9000")
    assert opened[-1] == "http://localhost:9000/ns/team-a/tradingsessions/s"


def test_without_a_session_the_namespace_page_opens(client: FakeClient, opened: list[str]) -> None:
    code, out = monitor("-n", "research")
    assert code == 0, out
    assert opened == ["http://127.0.0.1:8443/ns/research"] and client.asked == []


def test_in_ci_the_url_is_printed_and_no_browser_is_started(
    client: FakeClient, opened: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    code, out = monitor("--session-id", "s")
    assert code == 0, out
    assert opened == []
    assert "console: http://127.0.0.1:8443/ns/team-a/tradingsessions/s" in out
    assert "no browser to open here" in out


def test_a_browser_that_fails_still_leaves_the_url(
    client: FakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(url: str, new: int = 0) -> bool:
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "open", broken)
    monkeypatch.setenv("BROWSER", "nothing-here")
    code, out = monitor("--session-id", "s")
    assert code == 0 and "console: http://127.0.0.1:8443/" in out and "no browser" in out


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("127.0.0.1:8443", "is not an http(s) URL"),
        ("ftp://host", "is not an http(s) URL"),
        ("http://", "is not an http(s) URL"),
        ("http://host/?next=x", "without ?query or #fragment"),
    ],
)
def test_a_console_url_that_is_not_one_is_refused_before_the_cluster(
    url: str, says: str, client: FakeClient, opened: list[str]
) -> None:
    code, out = monitor("--session-id", "s", "--console-url", url)
    assert code == 2 and says in out and "--console-url" in out
    assert opened == [] and client.asked == []


def test_names_are_quoted_into_the_path() -> None:
    assert page_url("http://h", "a b", "x/y") == "http://h/ns/a%20b/tradingsessions/x%2Fy"
    assert checked_base(" http://h:1/base/ ") == "http://h:1/base"


@pytest.mark.parametrize(
    ("env", "platform", "shows"),
    [
        ({}, "linux", False),  # a server or a container: no display
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"DISPLAY": ":0", "CI": "true"}, "linux", False),
        ({"CI": "1"}, "darwin", False),
        ({}, "darwin", True),
        ({}, "win32", True),
        ({"BROWSER": "firefox"}, "linux", True),  # the user named one
    ],
)
def test_a_browser_is_only_tried_where_one_can_show(
    env: dict[str, str], platform: str, shows: bool
) -> None:
    assert can_show_a_browser(env, platform) is shows
