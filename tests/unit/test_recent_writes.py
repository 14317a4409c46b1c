"""The operator works from the newer of the watched status and the one it wrote."""

from __future__ import annotations

from kubetrade_operator.handlers.recent import RecentWrites


def test_a_write_newer_than_the_watch_wins_until_the_watch_catches_up() -> None:
    recent = RecentWrites()
    recent.remember("uid-1", "120", {"phase": "Pending"})
    assert recent.freshest("uid-1", "100", {}) == {"phase": "Pending"}
    # The event carrying our write (or a later one) arrives: the watch is believed.
    assert recent.freshest("uid-1", "120", {"phase": "Pending", "x": 1}) == {
        "phase": "Pending",
        "x": 1,
    }
    assert len(recent) == 0
    assert recent.freshest("uid-1", "100", {"phase": "stale"}) == {"phase": "stale"}


def test_unknown_objects_and_unreadable_versions_fall_back_to_the_watch() -> None:
    recent = RecentWrites()
    assert recent.freshest("nobody", "5", {"a": 1}) == {"a": 1}
    recent.remember("uid-2", "opaque", {"phase": "Running"})
    assert len(recent) == 0
    recent.remember("uid-3", "7", {"phase": "Running"})
    assert recent.freshest("uid-3", None, {"phase": "old"}) == {"phase": "old"}


def test_the_cache_is_bounded_and_forgets_deleted_objects() -> None:
    recent = RecentWrites(limit=2)
    for i in range(3):
        recent.remember(f"u{i}", str(10 + i), {"i": i})
    assert len(recent) == 2
    assert recent.freshest("u0", "1", {"i": "watch"}) == {"i": "watch"}  # evicted first
    recent.forget("u2")
    assert recent.freshest("u2", "1", {"i": "watch"}) == {"i": "watch"}
    assert recent.freshest("u1", "1", {}) == {"i": 1}


def test_an_older_answer_arriving_late_does_not_replace_a_newer_one() -> None:
    recent = RecentWrites()
    recent.remember("uid", "30", {"phase": "Running"})
    recent.remember("uid", "20", {"phase": "Pending"})
    assert recent.freshest("uid", "10", {}) == {"phase": "Running"}
