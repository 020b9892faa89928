"""glibc malloc settings for a server that takes large request bodies.

A body arrives in reads of up to 256 KiB; each becomes a ``bytes`` object,
and the pieces are joined, parsed and written out. glibc's defaults give
blocks over 128 KiB their own ``mmap`` and hand the free top of the heap back
to the kernel as soon as it passes twice that, so each upload faults the
same pages in again: a 1 MiB upload spent most of its time in page faults
(``benchmarks/upload_wire.py``). Serving blocks up to 2 MiB from the heap and
keeping up to 8 MiB of it free makes that upload about 1.6x faster, at the
cost of at most 8 MiB held after a burst.

Only on glibc, and only where the operator has not chosen: glibc's own
``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` variables win.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["tune_malloc"]

_M_TRIM_THRESHOLD = -1  # <malloc.h>
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 2 * 1024 * 1024
TRIM_THRESHOLD = 8 * 1024 * 1024


def tune_malloc() -> bool:
    """Apply the settings above to this process; whether they were applied."""
    if platform.libc_ver()[0] != "glibc":
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # mallopt returns 1 on success; setting the mmap threshold also stops
    # glibc from moving both thresholds by itself.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
