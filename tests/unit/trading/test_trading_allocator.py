"""The trader's allocator settings: set through glibc's mallopt, skipped without it."""

from __future__ import annotations

import ctypes
import platform

import pytest

from kubetrade_workloads.trading import allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds() -> None:
    assert allocator.keep_heap() is True


class _NoMallopt:
    """A C library without mallopt (musl, say)."""


@pytest.mark.parametrize(
    "libc",
    [
        pytest.param(OSError("no C library here"), id="no C library"),
        pytest.param(_NoMallopt(), id="no mallopt"),
    ],
)
def test_a_c_library_without_mallopt_keeps_its_defaults(
    monkeypatch: pytest.MonkeyPatch, libc: object
) -> None:
    def load(name: object) -> object:
        if isinstance(libc, Exception):
            raise libc
        return libc

    monkeypatch.setattr(ctypes, "CDLL", load)
    assert allocator.keep_heap() is False
