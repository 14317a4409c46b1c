"""The C allocator set for a trader process: no page faults on a bar's path.

glibc serves an allocation above its mmap threshold (128 KiB at start, raised
as large blocks are freed) from freshly mapped memory, and hands freed heap
back to the system above its trim threshold; either way the next bar faults
its pages in again. A bar whose model reads live features allocates arrays of
a few hundred kilobytes to a few megabytes in its indicator kernels, and at 30
symbols those faults were a third of the feature work (benchmarks/trader_bench.py,
docs/BENCHMARKS.md § Trader). A trader keeps its working set instead: only
blocks above 32 MiB are mapped on their own, and free heap is returned past
256 MiB. The trader's memory is what it last used, not more; a pod whose memory
limit is tight against its peak should allow for the heap it keeps.
"""

from __future__ import annotations

import ctypes
import logging

log = logging.getLogger(__name__)

# mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
"""glibc's largest mmap threshold on 64-bit."""
TRIM_THRESHOLD = 256 << 20


def keep_heap() -> bool:
    """Set the thresholds; False where the C library has no `mallopt` (not glibc)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        log.info("no mallopt in this C library: the allocator keeps its defaults")
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    taken = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    if not taken:
        log.warning("mallopt refused the thresholds: the allocator keeps its defaults")
    return taken
