"""The CRDs: committed files match the models, the chart's copy matches crds/,
and every schema is one the API server accepts as structural."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, Field

from kubetrade_operator.api import KINDS, render
from kubetrade_operator.api.kinds import Kind
from kubetrade_testing.specs import VALID, Spec
from kubetrade_workloads.config.base import Frozen

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "crds"
CHART_CRDS = REPO / "charts" / "kubetrade" / "crds"

Schema = dict[str, Any]


def _schema(kind: Kind) -> Schema:
    schema: Schema = render.render_crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _nodes(node: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    yield path, node
    for name, sub in node.get("properties", {}).items():
        yield from _nodes(sub, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _nodes(node["additionalProperties"], f"{path}[*]")
    if "items" in node:
        yield from _nodes(node["items"], f"{path}[]")


def test_committed_crds_match_the_models() -> None:
    stale = render.stale_files(CRDS, render.render_all())
    assert not stale, f"CRDs out of date: {[p.name for p in stale]}; run `make crds`"


def test_chart_crds_equal_crds_folder() -> None:
    ours = {p.name: p.read_text() for p in CRDS.glob("*.yaml")}
    # The chart also ships kopf's peering CRDs (kopf.dev_*.yaml), which are not ours.
    chart = {p.name: p.read_text() for p in CHART_CRDS.glob("kubetrade.io_*.yaml")}
    assert chart == ours, "charts/kubetrade/crds differs from crds/; run `make crds`"


def test_each_kind_has_one_file() -> None:
    assert sorted(p.name for p in CRDS.glob("*.yaml")) == sorted(render.file_name(k) for k in KINDS)


def _structural_problems(where: str, node: Schema) -> list[str]:
    """What makes one schema node non-structural, per the apiextensions rules."""
    problems = []
    int_or_string = node.get("x-kubernetes-int-or-string") is True
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "type" not in node and not int_or_string and not preserve:
        problems.append(f"{where}: no type")
    problems += [
        f"{where}: {banned}"
        for banned in ("$ref", "$defs", "allOf", "oneOf", "not", "title", "const", "nullable")
        if banned in node
    ]
    if "anyOf" in node and (
        not int_or_string or node["anyOf"] != [{"type": "integer"}, {"type": "string"}]
    ):
        problems.append(f"{where}: anyOf other than int-or-string")
    extra = node.get("additionalProperties")
    if extra is False or (extra is not None and "properties" in node):
        problems.append(f"{where}: additionalProperties beside properties, or false")
    problems += [
        f"{where}: {flag} must be a boolean (OpenAPI v3.0)"
        for flag in ("exclusiveMinimum", "exclusiveMaximum")
        if flag in node and not isinstance(node[flag], bool)
    ]
    if "default" in node and node["default"] is None:
        problems.append(f"{where}: null default")
    return problems


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_schema_is_structural(kind: Kind) -> None:
    problems = [
        p
        for path, node in _nodes(_schema(kind))
        for p in _structural_problems(path or "<root>", node)
    ]
    assert not problems


def test_structural_check_catches_problems() -> None:
    assert _structural_problems("x", {"anyOf": [{"type": "string"}, {"type": "null"}]})
    assert _structural_problems("x", {"type": "object", "additionalProperties": False})
    assert _structural_problems("x", {"type": "number", "exclusiveMinimum": 0})
    assert not _structural_problems(
        "x",
        {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
    )


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_cel_rules_name_fields_that_exist(kind: Kind) -> None:
    # A rule naming a field the schema lacks is rejected when the CRD is
    # installed; catch it here instead (pydantic once spelled a2c as a2C).
    for path, node in _nodes(_schema(kind)):
        fields = set(node.get("properties", {}))
        for rule in node.get("x-kubernetes-validations", []):
            # A macro over a map or list (self.all(k, ...)) names no field.
            used = set(re.findall(r"\bself\.([A-Za-z_]\w*)\b(?!\()", rule["rule"]))
            assert used <= fields, f"{path}: {rule['rule']} uses {used - fields}"
            field_path = rule.get("fieldPath", "")
            if field_path:
                assert field_path.split(".")[1] in fields, f"{path}: fieldPath {field_path}"
            assert rule["message"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_names_columns_and_subresources(kind: Kind) -> None:
    crd = render.render_crd(kind)
    names = crd["spec"]["names"]
    assert crd["metadata"]["name"] == f"{kind.plural}.kubetrade.io"
    assert names["shortNames"] == [kind.short_name]
    assert names["categories"] == ["kubetrade"]
    assert names["listKind"] == f"{kind.kind}List"
    assert crd["spec"]["scope"] == "Namespaced"
    (version,) = crd["spec"]["versions"]
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert columns[0] == "Phase"
    assert columns[-1] == "Age"
    assert len(columns) >= 3
    root = version["schema"]["openAPIV3Schema"]
    assert root["required"] == ["spec"]
    assert "x-kubernetes-preserve-unknown-fields" not in root["properties"]["status"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_printer_columns_point_at_declared_fields(kind: Kind) -> None:
    root = _schema(kind)
    for column in kind.columns:
        node = root
        for part in column.json_path.strip(".").split("."):
            if isinstance(node.get("additionalProperties"), dict):
                node = node["additionalProperties"]  # a map: any key will do
                continue
            assert part in node.get("properties", {}), f"{column.json_path}: no {part}"
            node = node["properties"][part]
        assert node["type"] == column.type


@pytest.mark.parametrize(
    ("kind", "body"), [(k, s) for _, k, s in VALID], ids=[i for i, _, _ in VALID]
)
def test_schema_defaults_match_pydantic_defaults(kind: Kind, body: Spec) -> None:
    # What the API server will fill in is what the pods' config will carry.
    spec_schema = _schema(kind)["properties"]["spec"]
    expected = kind.spec.model_validate(body).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    assert render.apply_defaults(body, spec_schema) == expected


def test_committed_files_are_yaml_of_the_rendered_crds() -> None:
    for kind in KINDS:
        assert yaml.safe_load((CRDS / render.file_name(kind)).read_text()) == render.render_crd(
            kind
        )


# --- the converter on small models -------------------------------------------------


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Inner(Frozen):
    """Inner docs."""

    size: int = Field(default=3, gt=0, lt=10)


class Sample(Frozen):
    colour: Colour = Colour.RED
    inner: Inner = Inner()
    maybe: Inner | None = None
    """Outer docs win."""
    tags: dict[str, float] | None = None
    day: dt.date | None = None
    fixed: Literal["x"] = "x"
    anything: Any = None


def test_structural_conversion() -> None:
    schema = render.model_schema(Sample)
    props = schema["properties"]
    assert props["colour"] == {"type": "string", "enum": ["red", "blue"], "default": "red"}
    assert props["inner"]["default"] == {}  # rebuilt from size's own default
    assert props["inner"]["properties"]["size"] == {
        "type": "integer",
        "default": 3,
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 10,
        "exclusiveMaximum": True,
    }
    assert props["maybe"]["type"] == "object"
    assert props["maybe"]["description"] == "Outer docs win."
    assert "default" not in props["maybe"]
    assert props["tags"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["day"] == {"type": "string", "format": "date"}
    assert props["fixed"] == {"type": "string", "enum": ["x"], "default": "x"}
    assert props["anything"] == {"x-kubernetes-preserve-unknown-fields": True}
    assert "additionalProperties" not in schema
    assert "title" not in schema


class Union(BaseModel):
    value: int | str


def test_unions_other_than_optional_are_refused() -> None:
    with pytest.raises(render.SchemaError, match="value"):
        render.model_schema(Union)


def test_object_defaults_stay_whole_under_cel_rules() -> None:
    # The API server checks a default against CEL rules without defaulting it
    # first, so `{}` would fail `self.type != 'file'`.
    source = _schema(KINDS[0])["properties"]["spec"]["properties"]["source"]
    assert source["default"]["type"] == "synthetic"


# --- the CLI -----------------------------------------------------------------------


def test_cli_writes_both_folders_and_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, chart = tmp_path / "crds", tmp_path / "chart" / "crds"
    args = ["--out", str(out), "--chart", str(chart)]
    assert render.main([*args, "--check"]) == 1  # nothing there yet
    assert render.main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(render.file_name(k) for k in KINDS)
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        p.name: p.read_text() for p in chart.iterdir()
    }
    assert render.main([*args, "--check"]) == 0

    edited = out / render.file_name(KINDS[0])
    edited.write_text(edited.read_text() + "# hand edit\n")
    orphan = chart / "kubetrade.io_gones.yaml"
    orphan.write_text("kind: CustomResourceDefinition\n")
    capsys.readouterr()
    assert render.main([*args, "--check"]) == 1
    printed = capsys.readouterr().out
    assert str(edited) in printed
    assert str(orphan) in printed

    assert render.main(args) == 0
    assert not orphan.exists()
    assert render.main([*args, "--check"]) == 0


def test_rendering_is_deterministic() -> None:
    assert render.render_all() == render.render_all()
