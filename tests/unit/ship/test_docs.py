"""The docs: each kind's guide carries a field reference that matches the CRDs
(like the CRD drift test, `make docs` fixes it), and the links between the
shipped documents resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import gen_crd_docs

REPO = Path(__file__).resolve().parents[3]
CRDS = sorted((REPO / "crds").glob("*.yaml"))
LINKED = [
    REPO / "README.md",
    REPO / "docs" / "operations.md",
    REPO / "docs" / "security.md",
    REPO / "docs" / "cli.md",
    *sorted((REPO / "docs" / "guide").glob("*.md")),
    REPO / "deploy" / "argocd" / "README.md",
    REPO / "deploy" / "grafana" / "README.md",
]


def test_field_references_match_the_crds() -> None:
    assert gen_crd_docs.main(["--check"]) == 0, "run `make docs`"


@pytest.mark.parametrize("crd_file", CRDS, ids=[p.stem for p in CRDS])
def test_every_field_is_in_its_guide(crd_file: Path) -> None:
    crd = yaml.safe_load(crd_file.read_text())
    guide = gen_crd_docs.guide_path(crd).read_text()
    prose, generated = guide.split(gen_crd_docs.BEGIN)
    assert len(prose.splitlines()) > 10, "hand-written prose comes before the reference"
    root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for part in ("spec", "status"):
        for field in list(gen_crd_docs.fields(root["properties"][part], part))[1:]:
            assert f"`{field.path}`" in generated, field.path


def test_regeneration_keeps_the_prose_around_the_reference() -> None:
    text = (
        "# Kind\n\nProse.\n\n" + gen_crd_docs.BEGIN + "\nold\n" + gen_crd_docs.END + "\n\nAfter.\n"
    )
    new = gen_crd_docs.updated(
        text, gen_crd_docs.BEGIN + "\nnew\n" + gen_crd_docs.END + "\n", "Kind"
    )
    assert (
        new
        == "# Kind\n\nProse.\n\n"
        + gen_crd_docs.BEGIN
        + "\nnew\n"
        + gen_crd_docs.END
        + "\n\nAfter.\n"
    )
    assert gen_crd_docs.updated("", "GEN\n", "Kind") == "# Kind\n\nGEN\n"


@pytest.mark.parametrize("doc", LINKED, ids=[str(p.relative_to(REPO)) for p in LINKED])
def test_relative_links_resolve(doc: Path) -> None:
    text = re.sub(r"`[^`\n]*`", "", doc.read_text())  # patterns in code spans are not links
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"
