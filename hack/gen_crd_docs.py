"""Write the field reference of each kind into its user guide, from the CRDs.

The reference is generated from `crds/*.yaml` (themselves generated from the
typed models by `make crds`), so it says exactly what the API server enforces:
types, defaults, bounds, enums, patterns and the CEL rules. It replaces the part
of `docs/guide/<kind>.md` between the two GENERATED markers; the prose around
it is written by hand and kept.

    python hack/gen_crd_docs.py [--check]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CRDS = REPO / "crds"
GUIDE = REPO / "docs" / "guide"
BEGIN = "<!-- BEGIN GENERATED: field reference (make docs; hack/gen_crd_docs.py) -->"
END = "<!-- END GENERATED: field reference -->"

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class Field:
    """One row of the reference: a field's path and what the schema says of it."""

    path: str
    type: str
    required: bool
    default: str
    validation: str
    description: str


def _type(node: Schema) -> str:
    if node.get("x-kubernetes-int-or-string"):
        return "int or string"
    kind = str(node.get("type", "any"))
    if kind == "array":
        return f"array of {_type(node.get('items', {}))}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"map of {_type(node['additionalProperties'])}"
    return kind


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _validation(node: Schema) -> str:
    parts = []
    if "enum" in node:
        parts.append("one of " + ", ".join(f"`{v}`" for v in node["enum"]))
    low, high = node.get("minimum"), node.get("maximum")
    if low is not None:
        parts.append(("> " if node.get("exclusiveMinimum") else "≥ ") + _number(low))
    if high is not None:
        parts.append(("< " if node.get("exclusiveMaximum") else "≤ ") + _number(high))
    for key, label in (
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minItems", "min items"),
        ("maxItems", "max items"),
        ("maxProperties", "max entries"),
    ):
        if key in node:
            parts.append(f"{label} {node[key]}")
    if "pattern" in node and not node.get("x-kubernetes-int-or-string"):
        parts.append(f"pattern `{node['pattern']}`")
    if node.get("x-kubernetes-list-type") == "map":
        keys = ", ".join(node.get("x-kubernetes-list-map-keys", []))
        parts.append(f"list keyed by {keys}")
    return "; ".join(parts)


def _default(node: Schema) -> str:
    if "default" not in node:
        return ""
    value = node["default"]
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return f"`{text.removesuffix('...').strip()}`"


def _cell(text: str) -> str:
    """Markdown-table-safe: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def fields(node: Schema, path: str, required: bool = False) -> Iterator[Field]:
    """Every field under `node`, depth first, in schema order (keys sorted by the renderer)."""
    yield Field(
        path=path,
        type=_type(node),
        required=required,
        default=_default(node),
        validation=_validation(node),
        description=str(node.get("description", "")),
    )
    needed = set(node.get("required", []))
    for name, child in node.get("properties", {}).items():
        yield from fields(child, f"{path}.{name}", name in needed)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and extra.get("properties"):
        yield from fields(extra, f"{path}.<key>")
    items = node.get("items")
    if isinstance(items, dict) and items.get("properties"):
        yield from fields(items, f"{path}[]")


def rules(node: Schema, path: str) -> Iterator[tuple[str, str, str]]:
    """(where, rule, message) for every CEL rule under `node`."""
    for rule in node.get("x-kubernetes-validations", []):
        where = path + str(rule.get("fieldPath", ""))
        yield where, str(rule["rule"]), str(rule.get("message", ""))
    for name, child in node.get("properties", {}).items():
        yield from rules(child, f"{path}.{name}")
    for key, suffix in (("items", "[]"), ("additionalProperties", ".<key>")):
        child = node.get(key)
        if isinstance(child, dict):
            yield from rules(child, path + suffix)


def _table(rows: Sequence[Field]) -> list[str]:
    out = [
        "| Field | Type | Default | Validation | Description |",
        "|---|---|---|---|---|",
    ]
    for f in rows:
        name = f"`{f.path}`" + (" (required)" if f.required else "")
        cells = [name, f.type, f.default, f.validation, f.description]
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return out


def reference(crd: Schema) -> str:
    """The generated Markdown for one CRD."""
    spec = crd["spec"]
    version = spec["versions"][0]
    root = version["schema"]["openAPIV3Schema"]
    names = spec["names"]
    lines = [
        BEGIN,
        "",
        "## Field reference",
        "",
        f"`apiVersion: {spec['group']}/{version['name']}`, `kind: {names['kind']}`, "
        f"{spec['scope'].lower()}; short name `{', '.join(names.get('shortNames', []))}`, "
        f"categories `{', '.join(names.get('categories', []))}`. Generated from "
        f"`crds/{spec['group']}_{names['plural']}.yaml`: the API server enforces every "
        "type, bound, pattern and rule below.",
        "",
        "`kubectl get` columns: "
        + ", ".join(
            f"{c['name']} (`{c['jsonPath']}`)" for c in version.get("additionalPrinterColumns", [])
        )
        + ".",
    ]
    for part in ("spec", "status"):
        node = root["properties"].get(part)
        if node is None:
            continue
        lines += ["", f"### {part}", ""]
        if node.get("description"):
            lines += [_cell(str(node["description"])), ""]
        lines += _table(list(fields(node, part))[1:])
        cel = list(rules(node, part))
        if cel:
            lines += ["", f"Cross-field rules on `{part}` (CEL, checked by the API server):", ""]
            lines += [
                f"- `{where}`: {_cell(message)} (`{_cell(rule)}`)" for where, rule, message in cel
            ]
    lines += ["", END]
    return "\n".join(lines) + "\n"


def guide_path(crd: Schema) -> Path:
    """`docs/guide/<kind in lower case>.md`."""
    return GUIDE / f"{crd['spec']['names']['kind'].lower()}.md"


def updated(text: str, generated: str, kind: str) -> str:
    """`text` with its generated section replaced (appended when it has none)."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        return head + generated + ("\n" + tail if tail else "")
    if not text:
        text = f"# {kind}\n\n"
    return text.rstrip("\n") + "\n\n" + generated


def rendered(crd_dir: Path = CRDS) -> dict[Path, str]:
    """Each guide and its text with an up-to-date reference."""
    out = {}
    for path in sorted(crd_dir.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        guide = guide_path(crd)
        current = guide.read_text() if guide.is_file() else ""
        out[guide] = updated(current, reference(crd), crd["spec"]["names"]["kind"])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the guides' references, or with `--check` exit 1 when one is stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="change nothing; fail if stale")
    args = parser.parse_args(argv)
    stale = {p: t for p, t in rendered().items() if not p.is_file() or p.read_text() != t}
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(REPO)}; run `make docs`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in stale.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
