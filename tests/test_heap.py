"""urbanform.heap: a run keeps the memory it frees (glibc), unless the user says otherwise.

Each case runs in a fresh interpreter: malloc's options hold for the whole process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

PROBE = """
import json, numpy as np
from urbanform.heap import keep_freed_memory

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

import sys
applied = keep_freed_memory(worker=sys.argv[1] == "worker")
before = rss_mb()
a = np.ones(40_000_000)  # 320 MB, touched
touched = rss_mb()
del a
after = rss_mb()
print(json.dumps({"applied": applied, "again": keep_freed_memory(),
                  "grew": touched - before, "kept": after - before}))
"""


def _probe(role: str = "run", **env: str) -> dict[str, float]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("URBANFORM_MALLOC", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_")}
    out = subprocess.run([sys.executable, "-c", PROBE, role], env={**clean, **env},
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_freed_memory_stays_in_the_process():
    got = _probe()
    assert got["applied"] is True and got["again"] is True
    assert got["grew"] > 300
    assert got["kept"] > 300  # freed, but kept for the next arrays


def test_system_malloc_gives_a_freed_array_back():
    got = _probe(URBANFORM_MALLOC="system")
    assert got["applied"] is False
    assert got["grew"] > 300
    assert got["kept"] < 50  # glibc's default: the block went back to the system


def test_glibc_environment_settings_win():
    got = _probe(MALLOC_TRIM_THRESHOLD_="131072")
    assert got["applied"] is False
    assert got["kept"] < 50


def test_a_dask_worker_overrides_the_nannys_trim_threshold():
    # Dask's nanny starts every worker with MALLOC_TRIM_THRESHOLD_=65536
    got = _probe("worker", MALLOC_TRIM_THRESHOLD_="65536")
    assert got["applied"] is True
    assert got["kept"] > 300
    assert _probe("worker", MALLOC_TRIM_THRESHOLD_="65536", URBANFORM_MALLOC="system")[
        "applied"] is False
