"""A run request names a Job and an output of its own; no request keeps today's names."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml

from kubetrade_operator.api import DatasetSpec, TrainingRunSpec
from kubetrade_operator.api.kinds import DATASET, TRAINING_RUN
from kubetrade_operator.api.render import render_crd
from kubetrade_operator.builders.common import Owner, revision
from kubetrade_operator.builders.dataset import (
    build_dataset_children,
    data_config,
    job_name,
    manifest_uri,
    storage_uri,
)
from kubetrade_operator.builders.schedule import RUN_REQUESTED_AT, STAMP_FORMAT, due
from kubetrade_operator.builders.training_run import (
    build_model,
    build_training_children,
    output_uri,
    published_by,
)
from kubetrade_operator.builders.training_run import job_name as training_job_name
from kubetrade_operator.settings import OperatorSettings

DS = Owner("Dataset", "prices", "research", "uid-d", 1)
RUN = Owner("TrainingRun", "ppo", "research", "uid-r", 1)
SETTINGS = OperatorSettings()
STAMP = "20261206020000"


def test_no_request_keeps_the_names_a_dataset_always_had() -> None:
    spec = DatasetSpec.model_validate({})
    cm, job = build_dataset_children(DS, spec, SETTINGS)
    assert job["metadata"]["name"] == cm["metadata"]["name"] == f"prices-data-{revision(spec)}"
    assert job_name(DS, spec) == f"prices-data-{revision(spec)}"
    assert storage_uri(DS, spec, SETTINGS).endswith(f"/research/datasets/prices/{revision(spec)}")


def test_a_request_is_a_new_job_and_a_new_location() -> None:
    spec = DatasetSpec.model_validate({})
    cm, job = build_dataset_children(DS, spec, SETTINGS, STAMP)
    name = f"prices-data-{revision(spec)}-{STAMP}"
    assert job["metadata"]["name"] == cm["metadata"]["name"] == name == job_name(DS, spec, STAMP)
    # The label stays the spec's revision: the request is a run of the same spec.
    assert job["metadata"]["labels"]["kubetrade.io/revision"] == revision(spec)
    config = json.loads(cm["data"]["config.json"])
    assert config["outputUri"].endswith(f"/datasets/prices/{revision(spec)}-{STAMP}")
    explicit = DatasetSpec.model_validate({"storageUri": "s3://bucket/prices/"})
    assert storage_uri(DS, explicit, SETTINGS) == "s3://bucket/prices/"
    assert storage_uri(DS, explicit, SETTINGS, STAMP) == f"s3://bucket/prices-{STAMP}"


def test_a_long_name_with_a_stamp_still_fits_a_label() -> None:
    owner = Owner("Dataset", "p" * 60, "research", "uid", 1)
    name = job_name(owner, DatasetSpec.model_validate({}), STAMP)
    assert len(name) <= 63
    assert name != job_name(owner, DatasetSpec.model_validate({}), "20261206030000")


def test_a_schedule_edit_is_no_new_revision() -> None:
    plain = DatasetSpec.model_validate({})
    scheduled = DatasetSpec.model_validate({"schedule": {"cron": "@daily"}})
    suspended = DatasetSpec.model_validate({"schedule": {"cron": "@hourly", "suspend": True}})
    assert revision(plain) == revision(scheduled) == revision(suspended)


def test_rolling_window_ends_on_the_requested_day() -> None:
    spec = DatasetSpec.model_validate(
        {"source": {"start": "2020-01-01", "end": "2021-01-01"}, "rollingWindowDays": 365}
    )
    assert data_config(spec).source.start.isoformat() == "2020-01-01"  # no request: as written
    source = data_config(spec, STAMP).source
    assert (source.start.isoformat(), str(source.end)) == ("2025-12-07", "2026-12-07")
    cm, _ = build_dataset_children(DS, spec, SETTINGS, STAMP)
    wire = json.loads(cm["data"]["config.json"])["data"]["source"]
    assert (wire["start"], wire["end"]) == ("2025-12-07", "2026-12-07")


def test_manifest_fallback_follows_the_newest_request() -> None:
    body = {
        "metadata": {
            "name": "prices",
            "namespace": "research",
            "uid": "uid-d",
            "annotations": {RUN_REQUESTED_AT: "2026-12-06T02:00:00Z"},
        },
        "spec": {},
        "status": {},
    }
    assert manifest_uri(body, SETTINGS).endswith(f"-{STAMP}/manifest.json")
    reported = {**body, "status": {"manifestUri": "file:///a/manifest.json"}}
    assert manifest_uri(reported, SETTINGS) == "file:///a/manifest.json"


def test_a_retrain_publishes_a_new_artifact_to_the_same_model() -> None:
    spec = TrainingRunSpec.model_validate({"datasetRef": {"name": "prices"}})
    first = build_model(RUN, spec, SETTINGS, "sha-1")
    retrain = build_model(RUN, spec, SETTINGS, "sha-2", STAMP)
    assert first["metadata"]["name"] == retrain["metadata"]["name"] == "ppo"
    assert first["spec"]["artifactUri"] == output_uri(RUN, spec, SETTINGS)
    assert retrain["spec"]["artifactUri"] == output_uri(RUN, spec, SETTINGS, STAMP)
    assert retrain["spec"]["artifactUri"].endswith(f"/models/ppo/ppo-{revision(spec)}-{STAMP}")
    assert published_by(retrain) == training_job_name(RUN, spec, STAMP) != published_by(first)
    cm, job = build_training_children(RUN, spec, "file:///d/manifest.json", SETTINGS, STAMP)
    assert job["metadata"]["name"] == training_job_name(RUN, spec, STAMP)
    assert json.loads(cm["data"]["config.json"])["outputUri"] == retrain["spec"]["artifactUri"]


def test_an_explicit_artifact_uri_is_a_folder_no_revision_overwrites() -> None:
    """A fixed artifactUri once took every revision's policy in place: the version a
    session traded was overwritten by one no gate had judged yet."""
    spec = TrainingRunSpec.model_validate(
        {"datasetRef": {"name": "p"}, "artifactUri": "s3://b/ppo/"}
    )
    edited = spec.model_copy(update={"total_timesteps": spec.total_timesteps * 2})
    uris = {
        output_uri(RUN, spec, SETTINGS),
        output_uri(RUN, edited, SETTINGS),
        output_uri(RUN, spec, SETTINGS, STAMP),
    }
    assert len(uris) == 3 and all(u.startswith("s3://b/ppo/ppo-") for u in uris)
    assert output_uri(RUN, spec, SETTINGS) == f"s3://b/ppo/ppo-{revision(spec)}"


def test_crds_validate_the_schedule() -> None:
    for kind in (DATASET, TRAINING_RUN):
        schema = render_crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        schedule = schema["properties"]["spec"]["properties"]["schedule"]
        assert schedule["required"] == ["cron"]
        rule = schedule["properties"]["cron"]["x-kubernetes-validations"][0]
        assert rule["rule"].startswith("self.matches('^(@(yearly") and "\\" not in rule["rule"]
        assert rule["message"].startswith("must be five cron fields")
        assert schedule["properties"]["concurrencyPolicy"]["enum"] == ["Forbid", "Replace"]
        status = schema["properties"]["status"]["properties"]
        assert {"lastScheduleTime", "lastSuccessfulTime", "nextScheduleTime"} <= set(status)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "schedules"


def test_schedule_examples_are_valid_and_retrain_after_the_refresh() -> None:
    docs = {p.name: yaml.safe_load(p.read_text()) for p in sorted(EXAMPLES.glob("*.yaml"))}
    assert sorted(docs) == ["dataset-refresh.yaml", "trainingrun-nightly.yaml"]
    data = DatasetSpec.model_validate(docs["dataset-refresh.yaml"]["spec"])
    train = TrainingRunSpec.model_validate(docs["trainingrun-nightly.yaml"]["spec"])
    assert train.dataset_ref.name == docs["dataset-refresh.yaml"]["metadata"]["name"]
    assert data.schedule is not None and train.schedule is not None
    created = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)  # a Monday
    refresh = due(data.schedule, None, created, created).next_at
    retrain = due(train.schedule, None, created, created).next_at
    assert refresh == dt.datetime(2026, 12, 7, 23, tzinfo=dt.UTC)  # 18:00 in New York
    assert refresh < retrain
    window = data_config(data, refresh.strftime(STAMP_FORMAT)).source
    assert window.end is not None and (window.end - window.start).days == 730
