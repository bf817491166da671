"""The deterministic synthetic demo city, shaped like Chengdu.

About 400 km2 (times ``scale``) in UTM 48N around Chengdu's centre: three ring roads and
radials, a meandering river crossed by a few bridges, seven districts of different
character (a dense old core, new towns, a high-tech zone, suburbs and a hilly forested
west), blocks with GB 50137-style land-use codes, parks of every size tier, three rail
lines, residential buildings with population, workplaces, GB 50180 facilities, a walkable
street network and a 20 m ESA WorldCover-coded land-cover raster. The same ``seed`` and
``scale`` always give the same layers; nothing is written to disk.

Examples
--------
>>> from urbanform.demo import demo_layer
>>> districts = demo_layer("districts")
>>> len(districts) >= 6
True
>>> round(districts.area.sum() / 1e6)
400
"""

from __future__ import annotations

import copy
import functools
import logging

import geopandas as gpd

from urbanform.errors import LayerError
from urbanform.layers.types import ROLES, RasterLayer

__all__ = ["DEMO_CRS", "DEMO_LAYERS", "demo_layer"]

logger = logging.getLogger(__name__)

DEMO_CRS = "EPSG:32648"
DEMO_LAYERS: tuple[str, ...] = tuple(r for r in ROLES if r != "buildings")


@functools.lru_cache(maxsize=2)
def _cached_city(seed: int, scale: float) -> dict[str, gpd.GeoDataFrame | RasterLayer]:
    from urbanform.demo._city import build_city

    logger.debug("generating the demo city (seed=%d, scale=%g)", seed, scale)
    return build_city(seed, scale, DEMO_CRS)


@functools.lru_cache(maxsize=2 * len(DEMO_LAYERS))
def _layer(name: str, seed: int, scale: float) -> gpd.GeoDataFrame | RasterLayer:
    return _cached_city(seed, scale)[name]


def demo_layer(
    name: str, *, seed: int = 2021, scale: float = 1.0
) -> gpd.GeoDataFrame | RasterLayer:
    """One layer of the synthetic demo city.

    Parameters
    ----------
    name
        One of :data:`DEMO_LAYERS`.
    seed
        Random seed; the same seed (and scale) always gives identical layers.
    scale
        Multiplies the city's area (its linear extent by ``sqrt(scale)``); feature
        counts grow about linearly. ``scale=25`` approaches a Chengdu-size megacity.

    Returns
    -------
    geopandas.GeoDataFrame or RasterLayer
        A fresh copy in :data:`DEMO_CRS` (``landcover`` is a :class:`RasterLayer`);
        changing it does not change later calls.

    Raises
    ------
    LayerError
        If ``name`` is not a demo layer or ``scale`` is not positive.

    Examples
    --------
    >>> streets = demo_layer("streets")
    >>> sorted(streets.columns)
    ['bridge', 'geometry', 'highway', 'name', 'tunnel']
    """
    if name not in DEMO_LAYERS:
        raise LayerError(
            f"unknown demo layer {name!r} (source 'demo:{name}'); use one of: "
            + ", ".join(DEMO_LAYERS)
        )
    if not scale > 0:
        raise LayerError(f"demo layer {name!r}: scale must be > 0, got {scale!r}")
    layer = _layer(name, int(seed), float(scale))
    if isinstance(layer, RasterLayer):
        return RasterLayer(
            name=layer.name,
            role=layer.role,
            data=layer.data.copy(),
            transform=layer.transform,
            crs=layer.crs,
            nodata=layer.nodata,
            classes=copy.deepcopy(layer.classes),
        )
    return layer.copy()
