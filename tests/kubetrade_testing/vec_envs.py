"""Comparing two VecEnvs step by step: the same observations, rewards, dones and infos."""

from __future__ import annotations

from typing import Any

import numpy as np


def assert_same_step(expected: tuple[Any, ...], actual: tuple[Any, ...]) -> None:
    """Two `VecEnv.step` returns agree exactly, terminal observations of reset episodes too."""
    obs_e, rew_e, done_e, info_e = expected
    obs_a, rew_a, done_a, info_a = actual
    np.testing.assert_array_equal(obs_e, obs_a)
    np.testing.assert_array_equal(rew_e, rew_a)
    np.testing.assert_array_equal(done_e, done_a)
    for e, a in zip(info_e, info_a, strict=True):
        assert e["equity"] == a["equity"]
        assert ("terminal_observation" in e) == ("terminal_observation" in a)
        if "terminal_observation" in e:
            np.testing.assert_array_equal(e["terminal_observation"], a["terminal_observation"])
            assert e["TimeLimit.truncated"] == a["TimeLimit.truncated"]
