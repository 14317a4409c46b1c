"""The Argo CD health checks, run by a real Lua 5.1 runtime (lupa; Argo CD's
gopher-lua speaks 5.1) against every sample in the upstream layout:
`resource_customizations/<group>/<Kind>/{health.lua, health_test.yaml, testdata/}`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51  # type: ignore[import-untyped]  # lupa ships no stubs

import gen_argocd_cm
from kubetrade_operator.api import GROUP, KINDS

ROOT = gen_argocd_cm.CUSTOMIZATIONS / GROUP
STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended"}
KIND_MODELS = {k.kind: k for k in KINDS}


def _cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for test_file in sorted(ROOT.glob("*/health_test.yaml")):
        for case in yaml.safe_load(test_file.read_text())["tests"]:
            cases.append((test_file.parent.name, case))
    return cases


CASES = _cases()


def _lua_value(runtime: Any, value: Any) -> Any:
    """JSON-like Python data as Lua tables (lists 1-indexed, as Argo CD converts them)."""
    if isinstance(value, dict):
        return runtime.table_from(
            {k: _lua_value(runtime, v) for k, v in value.items() if v is not None}
        )
    if isinstance(value, list):
        return runtime.table_from([_lua_value(runtime, v) for v in value])
    return value


def run_health(kind: str, obj: dict[str, Any]) -> dict[str, str]:
    """What Argo CD would show for `obj`: the script runs with `obj` as a global."""
    runtime = lua51.LuaRuntime(unpack_returned_tuples=True, register_eval=False)
    # Argo CD's sandbox offers no io, os or require; neither may the checks use them.
    for unsafe in ("io", "os", "require", "dofile", "loadfile", "load", "loadstring"):
        runtime.globals()[unsafe] = None
    runtime.globals()["obj"] = _lua_value(runtime, obj)
    source = (ROOT / kind / "health.lua").read_text()
    result = runtime.execute(source)
    return {"status": result["status"], "message": result["message"]}


def test_every_kind_has_a_check_and_samples() -> None:
    assert sorted(p.name for p in ROOT.iterdir()) == sorted(KIND_MODELS)
    for kind in KIND_MODELS:
        tested = {c["healthStatus"]["status"] for k, c in CASES if k == kind}
        assert tested >= {"Healthy", "Progressing", "Degraded", "Suspended"}, kind


@pytest.mark.parametrize(
    ("kind", "case"), CASES, ids=[f"{k}-{Path(c['inputPath']).stem}" for k, c in CASES]
)
def test_health_check_on_sample(kind: str, case: dict[str, Any]) -> None:
    obj = yaml.safe_load((ROOT / kind / case["inputPath"]).read_text())
    assert run_health(kind, obj) == case["healthStatus"]


@pytest.mark.parametrize(
    ("kind", "case"), CASES, ids=[f"{k}-{Path(c['inputPath']).stem}" for k, c in CASES]
)
def test_samples_are_resources_the_operator_could_write(kind: str, case: dict[str, Any]) -> None:
    obj = yaml.safe_load((ROOT / kind / case["inputPath"]).read_text())
    model = KIND_MODELS[kind]
    assert obj["apiVersion"] == f"{GROUP}/v1alpha1" and obj["kind"] == kind
    model.spec.model_validate(obj["spec"])
    if "status" in obj:
        model.status.model_validate(obj["status"])
    assert case["healthStatus"]["status"] in STATUSES


def test_unknown_phase_is_progressing_never_an_error() -> None:
    for kind in KIND_MODELS:
        obj = {
            "metadata": {"generation": 1},
            "status": {"observedGeneration": 1, "phase": "Mystery"},
        }
        assert run_health(kind, obj)["status"] in {"Progressing", "Degraded"}


def test_argocd_cm_patch_embeds_the_checks_verbatim() -> None:
    assert gen_argocd_cm.main(["--check"]) == 0, "run `make docs`"
    patch = yaml.safe_load(gen_argocd_cm.PATCH.read_text())
    assert patch["metadata"]["name"] == "argocd-cm"
    for kind in KIND_MODELS:
        key = f"resource.customizations.health.{GROUP}_{kind}"
        assert patch["data"][key] == (ROOT / kind / "health.lua").read_text()
