"""How many threads a run's compiled kernels may use.

GEOS (catchment polygons), PROJ (projections), h3ronpy (H3 indexing), scipy's k-d tree
and numpy (snapping) work without Python's GIL, so a run spreads their large arrays over
a few threads; the walk graph is built beside park coverage's residential land. Each
answer is the same on any number of threads. ``URBANFORM_THREADS`` in the environment
caps the count (``1``: everything on one thread, for a machine shared with others).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["in_chunks", "thread_count"]

T = TypeVar("T")

log = logging.getLogger(__name__)


def thread_count(most: int) -> int:
    """At most ``most`` threads, the machine's cores and ``URBANFORM_THREADS``.

    Examples
    --------
    >>> import os
    >>> os.environ["URBANFORM_THREADS"] = "1"
    >>> thread_count(4)
    1
    >>> del os.environ["URBANFORM_THREADS"]
    """
    count = min(most, os.cpu_count() or 1)
    text = os.environ.get("URBANFORM_THREADS", "").strip()
    if text:
        try:
            cap = int(text)
        except ValueError:
            cap = 0
        if cap < 1:
            log.warning("URBANFORM_THREADS=%r is not a whole number of 1 or more; ignored", text)
        else:
            count = min(count, cap)
    return max(1, count)


def in_chunks(fn: Callable[[slice], T], n: int, *, chunk: int, threads: int) -> list[T]:
    """``fn(slice)`` over ``range(n)`` cut in chunks of ``chunk``, on ``threads`` threads.

    The answers come in the chunks' order; one chunk (or one thread) is one plain call.

    Examples
    --------
    >>> in_chunks(lambda s: list(range(10))[s], 10, chunk=4, threads=2)
    [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    """
    if threads <= 1 or n <= chunk:
        return [fn(slice(0, n))]
    with ThreadPoolExecutor(max_workers=threads) as pool:  # pragma: no mutate - threads only
        return list(pool.map(lambda i: fn(slice(i, i + chunk)), range(0, n, chunk)))
