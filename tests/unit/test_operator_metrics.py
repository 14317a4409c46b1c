"""The operator's per-session gauges end with the session."""

from prometheus_client import REGISTRY

from kubetrade_operator import metrics


def _live(session: str) -> float | None:
    labels = {"namespace": "desk", "session": session, "model": "ppo"}
    return REGISTRY.get_sample_value("kubetrade_session_model_version", labels)


def test_a_deleted_sessions_version_gauges_are_dropped() -> None:
    metrics.LIVE_VERSION.labels("desk", "gone", "ppo").set(3)
    metrics.CHALLENGER_VERSION.labels("desk", "gone", "ppo").set(4)
    assert _live("gone") == 3.0
    metrics.forget_session("desk", "gone", "ppo")
    assert _live("gone") is None
    metrics.forget_session("desk", "never-traded", "ppo")  # nothing to drop: no error
