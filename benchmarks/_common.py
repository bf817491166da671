"""Shared by the benchmark scripts: the demo city at a scale, loaded as the pipeline does,
and the wall/CPU clocks and peak memory they report."""

from __future__ import annotations

import resource
import time
from dataclasses import replace
from pathlib import Path

from urbanform.layers.harmonise import load_layers
from urbanform.layers.types import Layers
from urbanform.workspace import load_workspace

ROOT = Path(__file__).resolve().parents[1]


def demo_layers(scale: float, roles: tuple[str, ...]) -> Layers:
    """The demo workspace's layers of ``roles`` at ``scale`` (``demo:NAME?scale=S``)."""
    ws = load_workspace(ROOT)
    specs = [replace(s, source=f"{s.source}?scale={scale:g}") for s in ws.layers if s.role in roles]
    return load_layers(specs, crs=ws.crs)


def clock() -> tuple[float, float]:
    """Wall and CPU clocks now (``perf_counter``, ``process_time``)."""
    return time.perf_counter(), time.process_time()


def since(t: tuple[float, float]) -> tuple[float, float]:
    """Wall and CPU seconds since ``t = clock()``."""
    return time.perf_counter() - t[0], time.process_time() - t[1]


def peak_mb() -> float:
    """This process's peak resident memory so far (``ru_maxrss``), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
