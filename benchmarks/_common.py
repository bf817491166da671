"""Shared by the benchmark scripts: the demo city at a scale, loaded as the pipeline does."""

from __future__ import annotations

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
