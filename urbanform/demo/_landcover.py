"""The ESA WorldCover-coded land-cover raster, drawn from the land-use map."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pyproj
import rasterio.features
import shapely
from affine import Affine
from scipy import ndimage, special
from shapely.geometry.base import BaseGeometry

from urbanform.demo._styles import CODES, COVER_CODES, COVER_PROBS, PIXEL_M, STYLES
from urbanform.layers.types import RasterLayer

NATURAL_CODES = ("G1", "G2", "E3", "E1", "E2")
MAX_BUILT_TREE = 0.45
SMOOTH_PIXELS = 6
FALLBACK_CODE = "S1"  # thin gaps between blocks are streets


def _grid(boundary: BaseGeometry) -> tuple[Affine, tuple[int, int]]:
    x0, y0, x1, y1 = boundary.bounds
    x0, y0 = np.floor(x0 / PIXEL_M) * PIXEL_M, np.floor(y0 / PIXEL_M) * PIXEL_M
    x1, y1 = np.ceil(x1 / PIXEL_M) * PIXEL_M, np.ceil(y1 / PIXEL_M) * PIXEL_M
    shape = (int(round((y1 - y0) / PIXEL_M)), int(round((x1 - x0) / PIXEL_M)))
    return Affine(PIXEL_M, 0.0, x0, 0.0, -PIXEL_M, y1), shape


def _cumulative_table() -> np.ndarray:
    """(district * code, cover) cumulative probabilities, greener compounds per style."""
    base = np.array([COVER_PROBS[c] for c in CODES])
    tables = []
    for style in STYLES:
        probs = base.copy()
        built = ~np.isin(np.asarray(CODES), NATURAL_CODES)
        tree = np.minimum(probs[built, 0] * style.tree_factor, MAX_BUILT_TREE)
        probs[built, 4] -= tree - probs[built, 0]  # the change in tree comes from built-up
        probs[built, 0] = tree
        tables.append(np.cumsum(probs, axis=1))
    cum = np.concatenate(tables).astype(np.float32)
    cum[:, -1] = 1.0
    return cum


def _uniform_field(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Spatially clustered noise with a uniform(0, 1) marginal."""
    low = rng.standard_normal(
        (shape[0] // SMOOTH_PIXELS + 2, shape[1] // SMOOTH_PIXELS + 2)
    ).astype(np.float32)
    smooth = ndimage.zoom(low, SMOOTH_PIXELS, order=1)[: shape[0], : shape[1]]
    smooth /= smooth.std()
    z = 0.8 * smooth + 0.6 * rng.standard_normal(shape, dtype=np.float32)
    return cast(np.ndarray, special.ndtr(z).astype(np.float32))


def _as_geojson(polygons: list[BaseGeometry]) -> list[dict[str, Any]]:
    """GeoJSON-like mappings built from one ragged coordinate array (fast for many)."""
    _, coords, (ring_off, poly_off) = shapely.to_ragged_array(polygons)
    rings = np.split(coords, ring_off[1:-1])
    return [
        {"type": "Polygon", "coordinates": rings[a:b]}
        for a, b in zip(poly_off[:-1], poly_off[1:], strict=True)
    ]


def make_landcover(
    boundary: BaseGeometry,
    landuse: list[tuple[BaseGeometry, str]],
    districts: tuple[BaseGeometry, ...],
    rng: np.random.Generator,
    *,
    crs: str,
) -> RasterLayer:
    """Rasterise land use and districts at 20 m and draw a WorldCover code per pixel."""
    transform, shape = _grid(boundary)
    code_of = {c: i for i, c in enumerate(CODES)}
    fill = code_of[FALLBACK_CODE]
    code = rasterio.features.rasterize(
        zip(_as_geojson([g for g, _ in landuse]), [code_of[c] for _, c in landuse], strict=True),
        out_shape=shape, transform=transform, fill=fill, dtype="uint8",
    )
    district = rasterio.features.rasterize(
        ((g, i) for i, g in enumerate(districts)), out_shape=shape, transform=transform,
        fill=0, dtype="uint8",
    )
    inside = rasterio.features.rasterize(
        [(boundary, 1)], out_shape=shape, transform=transform, fill=0, dtype="uint8"
    ).astype(bool)
    index = district.astype(np.uint16) * len(CODES) + code
    del code, district
    cum = _cumulative_table()
    u = _uniform_field(shape, rng)
    cover_idx = np.zeros(shape, dtype=np.uint8)
    for k in range(len(COVER_CODES) - 1):
        cover_idx += u > cum[:, k][index]
    data = np.asarray(COVER_CODES, dtype=np.uint8)[cover_idx]
    data[~inside] = 0
    return RasterLayer(
        name="landcover",
        role="landcover",
        data=data,
        transform=transform,
        crs=pyproj.CRS(crs),
        nodata=0,
        classes={"forest": [10], "water": [80]},
    )
