"""Keep the memory a run frees for the run's next steps.

A run allocates and frees arrays of hundreds of megabytes stage after stage. glibc's
malloc hands each block over 128 KB-32 MB back to the system when it is freed
(``munmap``, heap trimming), so the next stage's arrays are fresh pages, faulted in one
by one by the kernel; on a virtual machine that costs up to a few seconds per gigabyte.
:func:`keep_freed_memory` asks malloc to keep freed memory in the process instead
(``mallopt``: no ``mmap`` blocks, no trimming), as ``MALLOC_MMAP_MAX_=0
MALLOC_TRIM_THRESHOLD_=...`` would from the environment. The results are the same; the
five kinds of analysis at demo scale 25 ran about 4 s faster (of 112 s) with a peak about
1.1 GB higher (benchmarks/README.md). ``URBANFORM_MALLOC=system`` leaves malloc as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

__all__ = ["keep_freed_memory"]

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_applied: bool | None = None


def keep_freed_memory(*, worker: bool = False) -> bool:
    """Ask glibc's malloc to keep freed memory for reuse; whether it was done.

    Done once per process, on Linux with glibc only, and not when the environment sets
    ``URBANFORM_MALLOC=system`` or glibc's own ``MALLOC_MMAP_MAX_`` or
    ``MALLOC_TRIM_THRESHOLD_`` (the user's choice wins). On a Dask worker (``worker``)
    the ``MALLOC_TRIM_THRESHOLD_`` that Dask's nanny sets for every worker it starts is
    overridden, so that a city costs the same on a worker as in a plain run; only
    ``URBANFORM_MALLOC=system`` keeps it.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("URBANFORM_MALLOC", "").strip().lower() == "system":
        return False
    glibc_vars = ("MALLOC_MMAP_MAX_",) if worker else ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_")
    if any(k in os.environ for k in glibc_vars):
        return False
    if not sys.platform.startswith("linux"):  # pragma: no cover - Linux CI
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # pragma: no cover - musl or another libc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # trimming only above 2 GB of free memory at the top of the heap
    _applied = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
    log.debug("malloc keeps freed memory: %s", _applied)
    return _applied
