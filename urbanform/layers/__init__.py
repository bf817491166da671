"""Reading, validating and harmonising input layers."""

from __future__ import annotations

from urbanform.layers.types import (
    LANDUSE_CLASSES,
    ROLES,
    Layers,
    LayerSpec,
    Provenance,
    RasterLayer,
)

__all__ = ["LANDUSE_CLASSES", "ROLES", "Layers", "LayerSpec", "Provenance", "RasterLayer"]
