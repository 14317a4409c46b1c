"""Pictures of the web console for docs/console.md, drawn from fixed data.

Starts a local control plane (the one `make test` uses), installs the CRDs and
seeds a namespace the way the console's browser test does
(`kubetrade_testing.console.seed_lineage`: Dataset → TrainingRun → Model with two
versions → TradingSession, the run's 300-reading progress history, a trade store
with 200 fills and equity points). It serves the console on loopback, signs in
through the login page in headless Chromium (Debian's, through selenium) as a
ServiceAccount that may read and suspend, opens the main pages, and for each:

* writes every chart, the `<svg>` element as the browser holds it, to a
  standalone file in `--out` (docs/console/): text, so it is committed, and
  GitHub shows it inline. Two things change so it reads well on its own: its
  size comes from its viewBox (in the page it is `width="100%"` of its column)
  and it gets the page's white background and font;
* saves a screenshot of the whole page as PNG under `--png-dir`
  (.kubetrade/console-snapshots/, which git ignores) to look at locally; binary
  files are never committed.

The data is fixed, so the SVGs come out byte for byte the same on every run: a
diff in them is a change in what the console draws. Usage::

    make console-snapshots
    .venv/bin/python hack/console_snapshots.py [--out docs/console] [--png-dir DIR | --no-png]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, only hack/ is on sys.path: add the test helpers (the seeding
# the browser test uses, the console served on loopback, headless Chromium).
sys.path.append(str(Path(__file__).resolve().parents[1] / "hack"))
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

import argparse
import shutil
import tempfile
import xml.etree.ElementTree as ET
from typing import Any

from kubetrade_console.settings import ConsoleSettings
from kubetrade_testing.console import (
    EVENTS,
    PATCH,
    READ,
    account_with_role,
    console_cluster,
    headless_chromium,
    seed_lineage,
    serve_console,
)

ROOT = Path(__file__).resolve().parents[1]
NS = "trading"
SVG = "http://www.w3.org/2000/svg"
#: Each page opened: the PNG's name, its path, the names of the charts it draws in order.
PAGES: list[tuple[str, str, list[str]]] = [
    ("namespace", f"/ns/{NS}", []),
    ("session", f"/ns/{NS}/tradingsessions/ts", ["session-equity", "session-drawdown"]),
    ("model", f"/ns/{NS}/models/m", ["model-sharpe"]),
    ("version", f"/ns/{NS}/models/m/versions/1", []),
    ("run", f"/ns/{NS}/trainingruns/tr", ["run-reward", "run-loss"]),
]
#: What the page's stylesheet gives a chart that a file on its own lacks.
STANDALONE_STYLE = "background:#fff;color:#111;font-family:system-ui,sans-serif;font-size:14px"


def standalone(markup: str) -> str:
    """A chart's `<svg>` markup (the browser's outerHTML) as an SVG file's text."""
    ET.register_namespace("", SVG)
    root = ET.fromstring(markup)  # noqa: S314 (the console's own markup, just drawn)
    if root.tag != f"{{{SVG}}}svg" or not root.findall(f"{{{SVG}}}polyline") + root.findall(
        f"{{{SVG}}}rect"
    ):
        raise SystemExit(f"not a chart with something drawn in it: {markup[:200]}")
    _, _, width, height = root.attrib["viewBox"].split()
    root.set("width", width)
    root.set("height", height)
    root.set("style", STANDALONE_STYLE)
    return ET.tostring(root, encoding="unicode") + "\n"


def sign_in(driver: Any, base: str, path: str, token: str) -> None:
    """Open `path` signed out, sign in on the login page it leads to, land on `path`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + path)
    driver.find_element(By.NAME, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login button").click()
    WebDriverWait(driver, 20).until(lambda d: d.current_url == base + path)


def snapshot(base: str, token: str, out: Path, png_dir: Path | None) -> list[Path]:
    """Open each page of PAGES in headless Chromium; write its charts (and a PNG)."""
    from selenium.webdriver.common.by import By

    written = []
    with headless_chromium(width=1280, height=900) as driver:
        sign_in(driver, base, PAGES[0][1], token)
        for stem, path, charts in PAGES:
            driver.get(base + path)
            found = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
            if len(found) != len(charts):
                raise SystemExit(f"{path}: {len(found)} charts, expected {len(charts)}")
            for name, element in zip(charts, found, strict=True):
                target = out / f"{name}.svg"
                target.write_text(standalone(element.get_attribute("outerHTML") or ""))
                written.append(target)
            if png_dir is not None:
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(1280, min(int(height) + 100, 6000))
                target = png_dir / f"{stem}.png"
                driver.save_screenshot(str(target))
                written.append(target)
                driver.set_window_size(1280, 900)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    parser.add_argument("--png-dir", type=Path, default=ROOT / ".kubetrade" / "console-snapshots")
    parser.add_argument("--no-png", action="store_true", help="write the SVGs only")
    args = parser.parse_args()
    if shutil.which("chromedriver") is None:
        raise SystemExit(
            "needs Debian's chromium and chromedriver: apt-get install chromium-driver"
        )
    png_dir = None if args.no_png else args.png_dir
    for folder in (args.out, png_dir):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        console_cluster(Path(tmp) / "cp", NS) as (kubeconfig, client),
    ):
        token = account_with_role(client, NS, "trader", [READ, EVENTS, PATCH])
        store, _ = seed_lineage(client, NS, Path(tmp), fills=200)
        settings = ConsoleSettings(kubeconfig=kubeconfig, store_url=store)
        with serve_console(settings) as base:
            written = snapshot(base, token, args.out, png_dir)
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
