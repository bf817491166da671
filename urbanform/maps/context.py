"""Offline background for web maps, drawn from the workspace's own layers.

No tiles are fetched by default, so a map of blue dots on blank grey says little; every
map gets the study-area boundary, the district outlines, the main streets and the water
as a light grey background instead, each kind held to a vertex budget
(:data:`CONTEXT_VERTICES`) so that the background weighs the same at any city size.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from urbanform.maps.thinning import simplify_to_budget

__all__ = ["CONTEXT_VERTICES", "MAIN_HIGHWAYS", "context_frames", "fit_budget"]

MAIN_HIGHWAYS = frozenset(
    f"{h}{link}"
    for h in ("motorway", "trunk", "primary", "secondary", "tertiary")
    for link in ("", "_link")
)
"""OpenStreetMap ``highway`` values drawn as main streets (all streets without that field)."""

CONTEXT_VERTICES: dict[str, int] = {
    "boundary": 3_000,
    "district": 6_000,
    "street": 12_000,
    "water": 6_000,
}
"""Vertex budget of each context kind."""


def fit_budget(gdf: gpd.GeoDataFrame, max_vertices: int) -> gpd.GeoDataFrame:
    """``gdf``'s geometry simplified to fit ``max_vertices`` (5 m up to 200 m tolerance).

    When even that is too much, its largest features (by length or area) that fit.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (0, 10)]),
    ...     shapely.LineString([(5, 0), (5, 90)])], crs=32648)
    >>> fit_budget(lines, 2).length.tolist()
    [90.0]
    """
    geoms, _, fits = simplify_to_budget(
        gdf.geometry.to_numpy(), max_vertices=max_vertices, start_m=5.0, max_m=200.0
    )
    out = gpd.GeoDataFrame(geometry=geoms, crs=gdf.crs)
    if not fits:
        size = np.where(shapely.area(geoms) > 0, shapely.area(geoms), shapely.length(geoms))
        order = np.argsort(-size, kind="stable")
        used = np.cumsum(shapely.get_num_coordinates(geoms)[order])
        out = out.iloc[np.sort(order[used <= max_vertices])]
    return out[~out.geometry.is_empty].reset_index(drop=True)


def _outline(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=gdf.geometry.to_numpy(), crs=gdf.crs)


def context_frames(layers: Any) -> dict[str, gpd.GeoDataFrame]:
    """The context kinds found in ``layers``, each within its budget.

    Kinds: ``boundary``, ``district``, ``street``, ``water``; ``layers`` is a
    :class:`~urbanform.layers.types.Layers`.
    """
    vectors = layers.vectors
    raw: dict[str, gpd.GeoDataFrame] = {}
    if "boundary" in vectors:
        raw["boundary"] = _outline(vectors["boundary"])
    if "districts" in vectors:
        raw["district"] = _outline(vectors["districts"])
    streets = vectors.get("streets")
    if streets is not None and len(streets):
        if "highway" in streets.columns:
            streets = streets[streets["highway"].astype(str).isin(MAIN_HIGHWAYS)]
        raw["street"] = _outline(streets)
    landuse = vectors.get("landuse")
    if landuse is not None and "class" in landuse.columns:
        raw["water"] = _outline(landuse[landuse["class"] == "water"])
    return {k: fit_budget(v, CONTEXT_VERTICES[k]) for k, v in raw.items() if len(v)}
