from kubetrade_operator.conditions import FALSE, TRUE, UNKNOWN, Cond, is_true, merge, status_diff


def test_merge_sets_time_and_generation_and_keeps_other_conditions() -> None:
    current = [
        {"type": "Other", "status": TRUE, "reason": "X", "message": "", "lastTransitionTime": "t0"}
    ]
    out = merge(current, [Cond("Ready", UNKNOWN, "Pending")], generation=3, at="t1")
    assert [c["type"] for c in out] == ["Other", "Ready"]
    assert out[1] == {
        "type": "Ready",
        "status": UNKNOWN,
        "reason": "Pending",
        "message": "",
        "lastTransitionTime": "t1",
        "observedGeneration": 3,
    }


def test_transition_time_moves_only_when_status_changes() -> None:
    first = merge(None, [Cond("Ready", FALSE, "A")], 1, at="t1")
    same = merge(first, [Cond("Ready", FALSE, "B", "new message")], 2, at="t2")
    flipped = merge(same, [Cond("Ready", TRUE, "C")], 2, at="t3")
    assert same[0]["lastTransitionTime"] == "t1" and same[0]["reason"] == "B"
    assert flipped[0]["lastTransitionTime"] == "t3"
    assert is_true(flipped, "Ready") and not is_true(same, "Ready")


def test_status_diff_ignores_condition_times_but_not_their_content() -> None:
    conds = merge(None, [Cond("Ready", FALSE, "A")], 1, at="t1")
    restamped = [dict(conds[0], lastTransitionTime="t9")]
    current = {"phase": "Running", "conditions": conds}
    assert status_diff(current, {"phase": "Running", "conditions": restamped}) == {}
    changed = status_diff(
        current, {"phase": "Failed", "conditions": merge(conds, [Cond("Ready", TRUE, "B")], 1)}
    )
    assert set(changed) == {"phase", "conditions"}
