"""The trader's allocator settings: set through glibc's mallopt, skipped without it."""

from __future__ import annotations

import ctypes
import platform

import pytest

from kubetrade_workloads.trading import allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds() -> None:
    assert allocator.keep_heap() is True


def test_a_c_library_without_mallopt_keeps_its_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_libc(name: object) -> object:
        raise OSError("no C library here")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert allocator.keep_heap() is False
