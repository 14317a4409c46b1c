"""Fields every kubetrade kind shares: how its pods run and how its status reads."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema

from kubetrade_workloads.config.base import Frozen, ObjectName, cel, validations

GROUP = "kubetrade.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
# `kubectl get kubetrade` lists every kind.
CATEGORY = "kubetrade"

# The pattern Kubernetes publishes for resource.Quantity.
_QUANTITY = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)


def _quantity(value: str | int) -> str | int:
    # The schema's pattern only binds the API server; this binds local runs too.
    if isinstance(value, str) and not re.fullmatch(_QUANTITY, value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity such as 500m or 2Gi")
    return value


# A resource quantity ("500m", "2Gi", 1) as Kubernetes accepts it: int or string.
Quantity = Annotated[
    str | int,
    AfterValidator(_quantity),
    WithJsonSchema(
        {
            "x-kubernetes-int-or-string": True,
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": _QUANTITY,
        }
    ),
]


# Where artifacts may live: the schemes the workloads' fsspec has a filesystem for
# (file:// on the artifact volume, s3:// when configured). Anything else (ftp://,
# a bare path) would be accepted here and fail only when a pod publishes.
ARTIFACT_URI = r"^(file|s3)://\S+$"
ArtifactUri = Annotated[str, Field(min_length=1, max_length=2048, pattern=ARTIFACT_URI)]

# Environment variable names as Kubernetes validated them before relaxed names,
# and bounds that keep a spec (and the pod built from it) far from etcd's 1.5 MB.
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
ENV_NAME_MAX = 128
ENV_MAX = 64
ENV_VALUE_MAX = 4096


def _env_names(env: dict[str, str] | None) -> dict[str, str] | None:
    # The CEL rule on the map binds the API server; this binds local runs too.
    for name in env or {}:
        if len(name) > ENV_NAME_MAX or not re.fullmatch(ENV_NAME, name):
            raise ValueError(
                f"env name {name[:ENV_NAME_MAX]!r} must match {ENV_NAME}, "
                f"at most {ENV_NAME_MAX} characters"
            )
    return env


# A node selector is label keys to values: keys at most 317 characters (a
# 253-character prefix, a slash, a 63-character name), values 63, and few of them.
LABEL_KEY_MAX = 317
NODE_SELECTOR_MAX = 32


def _label_keys(selector: dict[str, str] | None) -> dict[str, str] | None:
    # The CEL rule on the map binds the API server; this binds local runs too.
    for key in selector or {}:
        if len(key) > LABEL_KEY_MAX:
            raise ValueError(f"node selector key {key[:40]!r}... over {LABEL_KEY_MAX} characters")
    return selector


NodeSelector = Annotated[
    dict[str, Annotated[str, Field(max_length=63)]],
    Field(
        max_length=NODE_SELECTOR_MAX,
        json_schema_extra=validations(
            cel(
                f"self.all(k, size(k) <= {LABEL_KEY_MAX})",
                f"node selector keys are label keys, at most {LABEL_KEY_MAX} characters",
            )
        ),
    ),
    AfterValidator(_label_keys),
]


Env = Annotated[
    dict[str, Annotated[str, Field(max_length=ENV_VALUE_MAX)]],
    Field(
        max_length=ENV_MAX,
        json_schema_extra=validations(
            cel(
                f"self.all(k, size(k) <= {ENV_NAME_MAX} && k.matches('{ENV_NAME}'))",
                f"env names must match {ENV_NAME}, at most {ENV_NAME_MAX} characters",
            )
        ),
    ),
    AfterValidator(_env_names),
]


class LocalObjectRef(Frozen):
    name: ObjectName


class ResourceList(Frozen):
    cpu: Quantity | None = None
    memory: Quantity | None = None


class Resources(Frozen):
    """Compute for the workload's container. No requests are set unless given."""

    requests: ResourceList | None = None
    limits: ResourceList | None = None
    gpu: Annotated[int, Field(ge=0, le=16)] = 0
    """`nvidia.com/gpu` to request and limit; 0 runs on the CPU."""


class TolerationOperator(StrEnum):
    EXISTS = "Exists"
    EQUAL = "Equal"


class TaintEffect(StrEnum):
    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


class Toleration(Frozen):
    key: Annotated[str, Field(max_length=316)] | None = None
    operator: TolerationOperator = TolerationOperator.EQUAL
    value: Annotated[str, Field(max_length=63)] | None = None
    effect: TaintEffect | None = None
    toleration_seconds: int | None = None


class PodTemplate(Frozen):
    """How the workload's pods run: image, compute and placement."""

    image: Annotated[str, Field(min_length=1, max_length=512)] | None = None
    """Container image; the operator's configured workload image when unset."""
    resources: Resources = Resources()
    node_selector: NodeSelector | None = None
    """Node labels the pods must match (at most 32)."""
    tolerations: Annotated[list[Toleration], Field(max_length=32)] | None = None
    service_account_name: ObjectName | None = None
    env: Env | None = None
    """Extra environment variables for the workload container (at most 64, values
    at most 4096 characters)."""


class JobPolicy(Frozen):
    """Run-to-completion controls, as on a Kubernetes Job."""

    backoff_limit: Annotated[int, Field(ge=0, le=100)] = 2
    active_deadline_seconds: Annotated[int, Field(ge=1, le=30 * 86400)] | None = None
    ttl_seconds_after_finished: Annotated[int, Field(ge=0, le=365 * 86400)] | None = None
    """Delete the finished Job (not the resource) after this many seconds."""


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class Condition(Frozen):
    """A Kubernetes API convention condition."""

    type: Annotated[str, Field(max_length=316)]
    status: ConditionStatus
    reason: Annotated[
        str, Field(max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    ]
    message: Annotated[str, Field(max_length=32768)] = ""
    last_transition_time: str
    observed_generation: Annotated[int, Field(ge=0)] | None = None


class Phase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SUSPENDED = "Suspended"
    READY = "Ready"
    REJECTED = "Rejected"
    EVALUATING = "Evaluating"
    HALTED = "Halted"
    SUSPENDING = "Suspending"


class CommonStatus(Frozen):
    """Status fields the operator owns on every kind."""

    observed_generation: int | None = None
    phase: Phase | None = None
    conditions: (
        Annotated[
            list[Condition],
            Field(
                json_schema_extra={
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["type"],
                }
            ),
        ]
        | None
    ) = None
    message: str | None = None
    job_name: str | None = None
    start_time: str | None = None
    completion_time: str | None = None
    restarts: int | None = None
    """Times the workload was started again: container restarts by the kubelet,
    plus pods a Job replaced after they failed. Why it does not run is in the
    conditions (CreateContainerConfigError, CrashLoopBackOff, ImagePullBackOff,
    Unschedulable)."""


# Cron, as Kubernetes CronJob reads it: five fields (minute hour day-of-month month
# day-of-week) or one of the @ macros. Each field is a list of `*`, numbers and
# ranges, with an optional step; months and weekdays also by name. Written without
# backslashes (fields part at spaces), so it sits in a CEL string as it is; RE2 (the API server's CEL) and
# Python's re read it alike.
def _cron_field(value: str) -> str:
    atom = rf"([*]|{value}(-{value})?)(/[1-9][0-9]?)?"
    return rf"{atom}(,{atom})*"


_MINUTE = _cron_field(r"([0-5]?[0-9])")
_HOUR = _cron_field(r"([01]?[0-9]|2[0-3])")
_DAY = _cron_field(r"(0?[1-9]|[12][0-9]|3[01]|[?])")
_MONTH = _cron_field(r"(0?[1-9]|1[0-2]|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))")
_WEEKDAY = _cron_field(r"([0-7]|[?]|(?i:sun|mon|tue|wed|thu|fri|sat))")
CRON = (
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|"
    rf"{_MINUTE} +{_HOUR} +{_DAY} +{_MONTH} +{_WEEKDAY})$"
)
CRON_MESSAGE = (
    "must be five cron fields (minute hour day-of-month month day-of-week, "
    "e.g. '0 2 * * 1-5') or @hourly, @daily, @weekly, @monthly or @yearly"
)


def _cron(value: str) -> str:
    # The CEL rule binds the API server; this binds local runs too.
    if not re.fullmatch(CRON, value):
        raise ValueError(f"{value!r} {CRON_MESSAGE}")
    return value


# A cron schedule, checked by a CEL rule rather than an OpenAPI pattern: the API
# server's message for a pattern quotes all of it, this one says what is meant.
Cron = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        json_schema_extra=validations(cel(f"self.matches('{CRON}')", CRON_MESSAGE)),
    ),
    AfterValidator(_cron),
]
# An IANA zone name (UTC, Europe/London, America/Argentina/Buenos_Aires, Etc/GMT+5);
# whether the zone exists is the operator's to say (a condition), as CronJob's
# controller does: the API server has no tz database.
TIME_ZONE = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$"


class ConcurrencyPolicy(StrEnum):
    """What a due run does while the previous one is still running.

    There is no `Allow`: a Dataset or TrainingRun reports one run in its status
    and publishes one artifact (one Model version) at a time.
    """

    FORBID = "Forbid"
    REPLACE = "Replace"


class Schedule(Frozen):
    """Run again on a cron schedule, with Kubernetes CronJob's semantics."""

    cron: Cron
    """Five cron fields (minute hour day-of-month month day-of-week) or @hourly,
    @daily, @weekly, @monthly, @yearly."""
    time_zone: Annotated[str, Field(min_length=1, max_length=64, pattern=TIME_ZONE)] = "UTC"
    """IANA time zone the cron fields are read in."""
    concurrency_policy: ConcurrencyPolicy = ConcurrencyPolicy.FORBID
    """Forbid: skip a due run while the previous one runs. Replace: stop it and start."""
    starting_deadline_seconds: Annotated[int, Field(ge=0, le=366 * 86400)] | None = None
    """A run missed by more than this is skipped; unset, a missed run always runs late."""
    successful_runs_history_limit: Annotated[int, Field(ge=0, le=100)] = 3
    """Finished successful Jobs kept (older ones are deleted)."""
    failed_runs_history_limit: Annotated[int, Field(ge=0, le=100)] = 1
    """Finished failed Jobs kept (older ones are deleted)."""
    suspend: bool = False
    """Stop scheduling; a run already started goes on."""


class ScheduleStatus(Frozen):
    """Status fields of a resource that runs on a schedule (as a CronJob's) or on request."""

    last_schedule_time: str | None = None
    """The scheduled time of the newest run the schedule requested."""
    last_successful_time: str | None = None
    """When the newest successful run finished."""
    next_schedule_time: str | None = None
    """The next time the schedule is due."""
    run_requested_at: str | None = None
    """The run request (`kubetrade.io/run-requested-at`) the reported run answers;
    unset for a run no one requested. An older or removed request starts nothing."""
