"""Print the pinned requirements of pyproject.toml that an image installs, one a line.

The Dockerfiles install these first, from pyproject.toml alone, and the project's own
code after with `--no-deps`: a code change then rebuilds one small layer instead of
downloading every dependency (torch alone is gigabytes) again.

    python images/requirements.py data backtest train trade   base plus these extras
    python images/requirements.py --exclude numpy,pandas,pyarrow   the operator's set
    python images/requirements.py --only torch train              the torch pin alone

Standard library only: it runs on the bare base image before anything is installed.
"""

from __future__ import annotations

import argparse
import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def name_of(requirement: str) -> str:
    """The normalised distribution name of a requirement (`psycopg[binary]==3` -> psycopg)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def requirements(
    project: dict[str, Any],
    extras: Iterable[str],
    *,
    exclude: Iterable[str] = (),
    only: Iterable[str] = (),
) -> list[str]:
    """Base dependencies plus `extras`, each distribution once, in pyproject order."""
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    chosen: list[str] = list(project.get("dependencies", []))
    for extra in extras:
        if extra not in optional:
            raise KeyError(f"pyproject.toml has no extra {extra!r}")
        chosen.extend(optional[extra])
    dropped = {name_of(n) for n in exclude}
    kept = {name_of(n) for n in only}
    seen: set[str] = set()
    out = []
    for requirement in chosen:
        name = name_of(requirement)
        if name == "kubetrade" or name in seen or name in dropped or (kept and name not in kept):
            continue
        seen.add(name)
        out.append(requirement)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("extras", nargs="*", help="optional-dependency groups to add")
    parser.add_argument("--exclude", default="", help="distributions to leave out, comma-separated")
    parser.add_argument("--only", default="", help="keep only these distributions, comma-separated")
    parser.add_argument("--pyproject", type=Path, default=PYPROJECT)
    args = parser.parse_args(argv)
    project = tomllib.loads(args.pyproject.read_text())["project"]
    exclude = [n for n in args.exclude.split(",") if n]
    only = [n for n in args.only.split(",") if n]
    for line in requirements(project, args.extras, exclude=exclude, only=only):
        print(line)


if __name__ == "__main__":
    main()
