"""Signing in returns to the page asked for, and never to another site."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from kubetrade_console.auth import MAX_RETURN_PATH, return_path, sign_in_url

SESSION = "/ns/trading/tradingsessions/ppo-paper"


@pytest.mark.parametrize(
    "path",
    [
        SESSION,
        "/",
        "/ns/trading/models/m/versions/2",
        "/ns/trading?tab=fills&page=2",
        "/ns/trading#lineage",
        "/%2F%2Fevil.example",  # an encoded slash is part of a path, not a host
        "/https://evil.example",  # likewise: a path segment, on this console
    ],
)
def test_a_path_of_this_console_is_kept(path: str) -> None:
    assert return_path(path) == path


@pytest.mark.parametrize(
    "hostile",
    [
        None,
        "",
        "https://evil.example/ns/x",
        "http:evil.example",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example",  # scheme-relative: another host
        "///evil.example",
        "/\\evil.example",  # browsers read a backslash as a slash
        "\\\\evil.example",
        "/ns\\..\\..\\evil",
        "/\t/evil.example",  # browsers drop tabs and newlines: this becomes //evil.example
        "/\n/evil.example",
        "/ns/x\r\nSet-Cookie: kubetrade_token=stolen",  # a header split
        "/ns/x\x00",
        "/\u2028/evil.example",
        " /ns/x",
        "evil.example/ns/x",
        "ns/trading",  # relative to wherever the browser is
        "%2F%2Fevil.example",
        "/" + "a" * MAX_RETURN_PATH,
    ],
)
def test_anything_else_returns_home(hostile: str | None) -> None:
    assert return_path(hostile) == "/"


def test_the_login_url_carries_the_page_and_its_query() -> None:
    url = sign_in_url("/ns/trading", "tab=fills&page=2")
    parts = urlsplit(url)
    assert parts.path == "/login"
    assert parse_qs(parts.query) == {"next": ["/ns/trading?tab=fills&page=2"]}
    assert parse_qs(urlsplit(sign_in_url(SESSION)).query) == {"next": [SESSION]}


@pytest.mark.parametrize("path", ["/", "//evil.example", "/\\evil.example"])
def test_home_or_a_hostile_path_is_plain_login(path: str) -> None:
    assert sign_in_url(path) == "/login"
