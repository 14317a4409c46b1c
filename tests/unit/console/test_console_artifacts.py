"""Reports from the artifact store: only files a resource names, under its artifact,
size-capped, with the store's failures told apart (404, 422, 503)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from kubetrade_console import artifacts, reports
from kubetrade_console.artifacts import ArtifactError
from kubetrade_console.settings import ConsoleSettings
from kubetrade_testing.console import unreachable_object_store


def _refused(call: Any, *args: Any) -> ArtifactError:
    with pytest.raises(ArtifactError) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize(
    "uri",
    [
        "file:///m/a/../../etc",
        "file:///m/a/./x",
        "s3://bucket/m/a?versionId=1",
        "file:///m/a#x",
        "http://example.com/m/a",
        "/m/a",
        "file:///m/a\\..\\b",
    ],
)
def test_an_artifact_uri_with_traversal_or_an_odd_shape_is_refused(uri: str) -> None:
    assert _refused(artifacts.checked, uri).status == 404


def test_roots_limit_where_the_console_reads() -> None:
    roots = ("s3://models/team-a",)
    assert artifacts.checked("s3://models/team-a/m/1", roots)
    assert _refused(artifacts.checked, "s3://models/team-ab/m/1", roots).status == 404
    assert _refused(artifacts.checked, "file:///var/lib/x", roots).status == 404


def test_a_version_names_its_card_and_only_a_report_under_its_artifact() -> None:
    version = {"version": 3, "artifactUri": "file:///m/v3/", "reportUri": "file:///m/v3/eval/r"}
    assert artifacts.version_files(version, ()) == {
        "card": "file:///m/v3/model_card.json",
        "evaluation": "file:///m/v3/eval/r/evaluation.json",
        "report": "file:///m/v3/eval/r/report.html",
    }
    elsewhere = version | {"reportUri": "file:///m/v30/eval/r"}
    assert _refused(artifacts.version_files, elsewhere, ()).status == 404
    assert artifacts.version_files({"artifactUri": "s3://b/m"}, ()) == {
        "card": "s3://b/m/model_card.json"
    }


def test_a_history_is_one_of_the_files_a_run_writes_under_its_own_artifact() -> None:
    def run(uri: str, **spec: Any) -> dict[str, Any]:
        return {"spec": spec, "status": {"progress": {"historyUri": uri}}}

    assert artifacts.history_file({"status": {}}, ()) is None
    assert artifacts.history_file(run("s3://b/r-1/progress.jsonl"), ()) == (
        "s3://b/r-1/progress.jsonl"
    )
    assert _refused(artifacts.history_file, run("s3://b/r-1/model_card.json"), ()).status == 404
    outside = run("s3://b/other/progress.jsonl", artifactUri="s3://b/mine")
    assert _refused(artifacts.history_file, outside, ()).status == 404


def _read(uri: str, cap: int = 1000, timeout: float = 10.0) -> bytes:
    return asyncio.run(artifacts.read(uri, cap, timeout))


def _status_of(uri: str, cap: int = 1000, timeout: float = 10.0) -> int:
    with pytest.raises(ArtifactError) as caught:
        _read(uri, cap, timeout)
    return caught.value.status


def test_reads_are_capped_and_a_missing_file_is_404(tmp_path: Path) -> None:
    (tmp_path / "model_card.json").write_text(json.dumps({"algorithm": "PPO"}))
    (tmp_path / "report.html").write_text("x" * 2000)
    assert json.loads(_read(f"file://{tmp_path}/model_card.json")) == {"algorithm": "PPO"}
    assert _status_of(f"file://{tmp_path}/report.html") == 422
    assert _status_of(f"file://{tmp_path}/evaluation.json") == 404
    assert _status_of(f"file://{tmp_path}") == 404  # a folder is not a report


def test_a_link_out_of_the_artifact_folder_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model_card.json").symlink_to(secret)
    assert _status_of(f"file://{tmp_path}/m/model_card.json") == 404


def test_an_object_store_that_does_not_answer_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    unreachable_object_store(monkeypatch)
    with pytest.raises(ArtifactError) as caught:
        _read("s3://models/m/1/model_card.json", timeout=20.0)
    assert caught.value.status == 503 and "does not answer" in caught.value.message


def test_a_history_skips_torn_lines_and_rises_by_step(tmp_path: Path) -> None:
    (tmp_path / "progress.jsonl").write_text(
        '{"steps": 20, "meanReward": 2.0}\n{"steps": 10, "meanReward": 1.0}\n{"steps": 3'
    )
    points = asyncio.run(artifacts.read_history(f"file://{tmp_path}/progress.jsonl", 1000, 5))
    assert [p["steps"] for p in points] == [10, 20]
    assert reports.series(points + [{"steps": 30}], "meanReward") == [1.0, 2.0]


def test_a_version_page_reads_what_it_can_and_says_what_it_could_not(tmp_path: Path) -> None:
    (tmp_path / "model_card.json").write_text(json.dumps({"algorithm": "SAC"}))
    version = {"version": 1, "artifactUri": f"file://{tmp_path}"}
    found, problems = asyncio.run(reports.version_documents(ConsoleSettings(), version))
    assert found == {"card": {"algorithm": "SAC"}, "evaluation": None}
    assert problems == ["evaluation: version 1 records no evaluation yet"]


def test_the_report_csp_sandboxes_it_with_no_script_and_no_fetch() -> None:
    rules = dict((d.split(" ", 1) + [""])[:2] for d in reports.REPORT_CSP.split("; "))
    assert rules["sandbox"] == "" and rules["default-src"] == "'none'"
    assert "script-src" not in rules and rules["frame-ancestors"] == "'self'"
