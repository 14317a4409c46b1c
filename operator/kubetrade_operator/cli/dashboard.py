"""Where the web console is, and opening it at a page: `deploy monitor --dashboard`.

The console's address is the user's to say (`--console-url`, or
`KUBETRADE_CONSOLE_URL` once for a shell): a port-forward, an Ingress, or the
console `trading-cli console` serves on this machine, which is the default.
The URL is always printed; a browser is opened only where one can show it, so
a headless CI job or an SSH session prints the URL and goes on.
"""

from __future__ import annotations

import os
import sys
import webbrowser
from urllib.parse import quote, urlsplit

import typer

#: What `trading-cli console` serves with its default --host and --port.
DEFAULT_CONSOLE_URL = "http://127.0.0.1:8443"
CONSOLE_URL_ENV = "KUBETRADE_CONSOLE_URL"

CONSOLE_URL = typer.Option(
    DEFAULT_CONSOLE_URL,
    "--console-url",
    envvar=CONSOLE_URL_ENV,
    help="The web console's address (a port-forward, an Ingress); with --dashboard.",
)


def checked_base(url: str) -> str:
    """The console's base URL without a trailing slash; a ValueError naming the option
    for anything that is not an http(s) address."""
    parts = urlsplit(url.strip())
    where = f"--console-url (or {CONSOLE_URL_ENV})"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{where}: {url!r} is not an http(s) URL, e.g. {DEFAULT_CONSOLE_URL}")
    if parts.query or parts.fragment:
        raise ValueError(f"{where}: give the console's base address, without ?query or #fragment")
    return url.strip().rstrip("/")


def page_url(base: str, namespace: str, session: str | None) -> str:
    """The console's page of one session, or of the namespace when none is named."""
    path = f"/ns/{quote(namespace, safe='')}"
    if session is not None:
        path += f"/tradingsessions/{quote(session, safe='')}"
    return base + path


def can_show_a_browser(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a graphical browser could open here. On Linux without a display,
    `webbrowser` would start a text browser (lynx, w3m) that takes the terminal;
    in CI nothing should start at all. $BROWSER is the user saying which to use."""
    env = dict(os.environ) if env is None else env
    if env.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    if env.get("BROWSER"):
        return True
    if (platform or sys.platform) in ("darwin", "win32"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def open_page(url: str) -> bool:
    """Print `url` and open it in a browser where one can show it; True if one did."""
    typer.echo(f"console: {url}")
    opened = False
    if can_show_a_browser():
        try:
            opened = webbrowser.open(url, new=2)
        except webbrowser.Error:
            opened = False
    if not opened:
        typer.echo("(no browser to open here: open the URL above)", err=True)
    base = url.split("/ns/", 1)[0]
    typer.echo(
        f"not signed in? paste a token (kubectl create token ACCOUNT) at {base}/login; "
        "start a local console with `trading-cli console`",
        err=True,
    )
    return opened
