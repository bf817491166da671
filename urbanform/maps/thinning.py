"""Web-map layers that stay light at any city size: a feature and a vertex budget.

A web map draws at most :data:`MAP_FEATURES` features and about :data:`LAYER_VERTICES`
vertices per layer, whatever the size of the city; ``results.gpkg`` always keeps every
feature at full detail. :func:`thin_for_map` applies the budget to one result layer:

- lines and polygons are simplified feature by feature (part by part, topology kept
  within each part) at :data:`SIMPLIFY_M`, and at doubled tolerances up to
  :data:`MAX_SIMPLIFY_M` while the layer is over its vertex budget;
- a layer with more features than the budget, or still over the vertex budget at the
  largest tolerance, is shown *aggregated* as H3 cells (:func:`aggregate_h3`): the
  finest resolution whose cells fit the budget, with the number of features and the
  sums of the count fields (residents, jobs, area, walked length) per cell. Its
  title says so and names the GeoPackage layer that holds every feature.

Simplifying part by part is linear in the vertices; GEOS's topology-preserving
simplifier on one huge multi-geometry (a network service area of 200,000 vertices) is
not, and was the cause of runs that did not finish.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from h3ronpy import ContainmentMode
from h3ronpy import vector as h3v

from urbanform.grid import hex_strings, latlng_cells, projected_lat_lng
from urbanform.results import LayerStyle

__all__ = [
    "COUNT_FIELDS",
    "LAYER_VERTICES",
    "MAP_FEATURES",
    "MAX_SIMPLIFY_M",
    "SIMPLIFY_M",
    "VERTICES_PER_FEATURE",
    "aggregate_h3",
    "simplify_to_budget",
    "thin_for_map",
]

log = logging.getLogger(__name__)

MAP_FEATURES = 2_500
"""Most features a web map draws, shared among its layers; a layer over its share is
shown as H3 cells. About 0.3 kB each in the page: with the vertex budget, a map stays
under about 1 MB at any city size."""

LAYER_VERTICES = 12_000
"""Vertex budget of one web-map layer (about 0.3 MB of GeoJSON)."""

VERTICES_PER_FEATURE = 8
"""Vertices a layer may draw per feature of its share of :data:`MAP_FEATURES` (an H3 cell
has 7)."""

SIMPLIFY_M = 3.0
"""First simplification tolerance (metres) of lines and polygons on web maps."""

MAX_SIMPLIFY_M = 96.0
"""Largest tolerance tried before a layer over its vertex budget is aggregated."""

COUNT_FIELDS = ("population", "residents", "dwellings", "jobs", "workers", "area_m2", "length_m")
"""Fields that add up: summed per H3 cell when a layer is aggregated."""

_FINEST_RES, _COARSEST_RES = 10, 3
_LINE_SAMPLE_M = 100.0
_SAMPLE = 50_000  # points indexed to rule out resolutions before all are
# mean H3 cell area (m2) by resolution, for choosing a fill resolution
_CELL_M2 = {r: 4.357449416078e12 / 7**r for r in range(16)}


def _vertices(geoms: np.ndarray) -> int:
    return int(shapely.get_num_coordinates(geoms).sum())


def _simplify_parts(geoms: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Simplify every part of every geometry on its own; multi-geometries reassembled."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    simple = shapely.simplify(parts, tolerance_m, preserve_topology=True)
    out = np.asarray(geoms, dtype=object).copy()
    types = shapely.get_type_id(geoms)
    single = np.isin(types, (0, 1, 2, 3))
    # a single-part geometry is its own (only) part
    first = np.searchsorted(idx, np.arange(len(geoms)))
    has = first < len(idx)
    pick = single & has
    out[pick] = simple[first[pick]]
    for type_id, build in ((5, shapely.multilinestrings), (6, shapely.multipolygons)):
        rows = np.flatnonzero(types == type_id)
        if not rows.size:
            continue
        sel = np.isin(idx, rows)
        _, local = np.unique(idx[sel], return_inverse=True)
        built = build(simple[sel], indices=local)
        out[np.unique(idx[sel])] = built
    return out


def _least_vertices(geoms: np.ndarray) -> int:
    """Fewest vertices the parts of ``geoms`` can keep: 4 per polygon ring, 2 per other part.

    Parts are made (``get_parts``) only of multi-polygons and collections: a multi-line
    of a million pieces is counted without a shapely object per piece.
    """
    types = shapely.get_type_id(geoms)
    rings = np.maximum(shapely.get_num_interior_rings(geoms), 0)
    least = np.where(types == 3, 4 * (1 + rings), 2 * (types >= 0))  # single parts
    multi = (types == 4) | (types == 5)  # points and lines: 2 each
    least[multi] = 2 * shapely.get_num_geometries(geoms[multi])
    mixed = types >= 6  # multi-polygons, collections: part by part
    least[mixed] = 0
    parts = shapely.get_parts(geoms[mixed])
    ring_n = np.maximum(shapely.get_num_interior_rings(parts), 0)
    in_parts = np.where(shapely.get_type_id(parts) == 3, 4 * (1 + ring_n), 2)
    return int(least.sum()) + int(in_parts.sum())


def simplify_to_budget(
    geoms: np.ndarray,
    *,
    max_vertices: int = LAYER_VERTICES,
    start_m: float = SIMPLIFY_M,
    max_m: float = MAX_SIMPLIFY_M,
) -> tuple[np.ndarray, float, bool]:
    """Simplify lines and polygons at ``start_m``, doubling the tolerance while over budget.

    Parameters
    ----------
    geoms
        Geometries in a metric CRS.
    max_vertices
        Vertex budget of the whole array.
    start_m, max_m
        First and largest tolerance, in metres.

    Returns
    -------
    tuple
        The simplified geometries, the tolerance used (m) and whether they fit.

    Examples
    --------
    >>> import shapely, numpy as np
    >>> wiggly = shapely.LineString([(x, (x % 2) * 0.5) for x in range(1001)])
    >>> out, tol, fits = simplify_to_budget(np.array([wiggly]), max_vertices=10)
    >>> int(shapely.get_num_coordinates(out)[0]), tol, fits
    (2, 3.0, True)
    """
    if _least_vertices(geoms) > max_vertices:  # no tolerance can make it fit
        return np.asarray(geoms, dtype=object), start_m, False
    tol = start_m
    while True:
        out = _simplify_parts(geoms, tol)
        fits = _vertices(out) <= max_vertices
        if fits or tol * 2 > max_m:
            return out, tol, fits
        tol *= 2


def _to_lnglat(xy: np.ndarray, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    if crs is None or crs.equals("EPSG:4326"):
        return xy[:, 1], xy[:, 0]
    return projected_lat_lng(xy, crs)


def _samples(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, x/y, weight) samples of the features, for counting per cell.

    Points as they are, polygons at a representative point (weight 1), lines at the
    midpoints of their pieces of at most 100 m (weight: length).
    """
    geoms = gdf.geometry.to_numpy()
    kinds = set(gdf.geom_type.unique())
    if kinds <= {"LineString", "MultiLineString"}:
        dense = shapely.segmentize(geoms, _LINE_SAMPLE_M)
        # coordinates and part offsets as arrays: no shapely object per part
        _, coords, offsets = shapely.to_ragged_array(dense, include_z=False)
        part_end = offsets[0]
        geom_end = offsets[1] if len(offsets) > 1 else np.arange(len(geoms) + 1)
        row = np.repeat(np.arange(len(geoms)), np.diff(geom_end))
        part = np.repeat(np.arange(part_end.size - 1), np.diff(part_end))
        # each segment's midpoint carries its length
        same = part[1:] == part[:-1]
        mid = (coords[1:] + coords[:-1])[same] / 2.0
        seg = np.hypot(*(coords[1:] - coords[:-1])[same].T)
        return row[part[1:][same]], mid, seg
    points = np.where(
        shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms)
    )
    ok = ~shapely.is_empty(points)
    rows = np.flatnonzero(ok)
    return rows, shapely.get_coordinates(points[ok]), np.ones(rows.size)


def _cells_fitting(lat: np.ndarray, lng: np.ndarray, max_cells: int) -> tuple[np.ndarray, int]:
    """H3 cells of the points at the finest resolution with at most ``max_cells`` cells.

    Each resolution is indexed from the coordinates (H3 cells are not nested). A sample
    of the points rules out the resolutions that are surely too fine (its cells are a
    subset of all the points' cells) before all the points are indexed.
    """
    step = max(1, lat.size // _SAMPLE)
    res = _FINEST_RES
    while res > _COARSEST_RES:
        sample = pa.array(h3v.coordinates_to_cells(lat[::step], lng[::step], res)).to_numpy()
        if np.unique(sample).size <= max_cells:
            break
        res -= 1
    while True:
        cells = latlng_cells(lat, lng, res)
        if np.unique(cells).size <= max_cells or res <= _COARSEST_RES:
            return cells, res
        res -= 1


def _fill_cells(gdf: gpd.GeoDataFrame, max_cells: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(row, cell) of the H3 cells whose centre lies in each polygon, at a fitting resolution."""
    wgs = gdf.to_crs(4326) if gdf.crs is not None else gdf
    area = float(gdf.geometry.area.sum()) if gdf.crs is not None and gdf.crs.is_projected else 0
    res = next(
        (r for r in range(_FINEST_RES, _COARSEST_RES - 1, -1) if area / _CELL_M2[r] <= max_cells),
        _COARSEST_RES,
    )
    wkb = pa.array(shapely.to_wkb(wgs.geometry.to_numpy()).tolist(), type=pa.binary())
    lists = pa.array(h3v.wkb_to_cells(wkb, res, ContainmentMode.ContainsCentroid))
    rows = np.repeat(np.arange(len(gdf)), np.diff(lists.offsets.to_numpy()))
    return rows, lists.flatten().to_numpy(), res


def aggregate_h3(
    gdf: gpd.GeoDataFrame, *, max_cells: int = MAP_FEATURES, fill: bool = False
) -> tuple[gpd.GeoDataFrame, int]:
    """Features summarised on the H3 cells they fall in (EPSG:4326 polygons).

    Points count in the cell they are in, polygons at their representative point (or,
    with ``fill``, in every cell whose centre they cover), lines by length. Columns:
    ``hex_id``, ``features`` (how many features touch the cell) and, for points and
    polygons counted at a point, the sums of the :data:`COUNT_FIELDS` present in ``gdf``;
    for lines ``length_m``, their length inside the cell.

    Returns
    -------
    tuple
        The cells and their H3 resolution.
    """
    is_line = set(gdf.geom_type.unique()) <= {"LineString", "MultiLineString"}
    if fill:
        rows, cells, res = _fill_cells(gdf, max_cells)
    else:
        rows, xy, weight = _samples(gdf)
        lat, lng = _to_lnglat(xy, gdf.crs)
        cells, res = _cells_fitting(lat, lng, max_cells)
    frame = pd.DataFrame({"cell": cells, "row": rows})
    if is_line:
        frame["length_m"] = weight
    elif not fill:  # one sample per feature: its counts go to its cell
        for c in (c for c in COUNT_FIELDS if c in gdf.columns):
            frame[c] = gdf[c].to_numpy(dtype=float)[rows]
    agg = frame.groupby("cell", sort=True).agg(
        features=("row", "nunique"), **{c: (c, "sum") for c in frame.columns[2:]}
    )
    ids = pa.array(agg.index.to_numpy(dtype=np.uint64))
    polys = shapely.from_wkb(
        pa.array(h3v.cells_to_wkb_polygons(ids)).to_numpy(zero_copy_only=False)
    )
    out = agg.reset_index(drop=True)
    out.insert(0, "hex_id", hex_strings(agg.index.to_numpy(dtype=np.uint64)))
    if is_line:
        out["length_m"] = out["length_m"].round(1)
    return gpd.GeoDataFrame(out, geometry=polys, crs=4326), res


def _aggregated(gdf: gpd.GeoDataFrame, style: LayerStyle, *, gpkg_layer: str | None,
                fill: bool, max_features: int) -> tuple[gpd.GeoDataFrame, LayerStyle]:
    cells, res = aggregate_h3(gdf, max_cells=max_features, fill=fill)
    value = style.value_field
    field = next(
        (f for f in (value, "population", "residents", "jobs", "length_m", "area_m2")
         if f and f in cells.columns and f in COUNT_FIELDS),
        "features",
    )
    where = f"results.gpkg, layer {gpkg_layer}" if gpkg_layer else "results.gpkg"
    title = style.title if style.title is not None else (gpkg_layer or "layer")
    title_zh = None
    if style.title_zh is not None:
        title_zh = (
            f"{style.title_zh}（{len(gdf):,}个要素汇总为{len(cells):,}个H3格网，"
            f"分辨率{res}；全部要素见 results.gpkg）"
        )
    log.info("web map: %s aggregated to %d H3 cells (res %d)", title, len(cells), res)
    return cells, LayerStyle(
        title=f"{title}: {len(gdf):,} features as {len(cells):,} H3 cells (res {res}); "
        f"each feature in {where}",
        title_zh=title_zh,
        value_field=field,
        ramp="seq",
        labels=dict(style.labels or {}),
        aggregated={"features": len(gdf), "cells": len(cells), "resolution": res},
    )


def thin_for_map(
    gdf: gpd.GeoDataFrame,
    style: LayerStyle | None = None,
    *,
    max_features: int = MAP_FEATURES,
    max_vertices: int = LAYER_VERTICES,
    gpkg_layer: str | None = None,
) -> tuple[gpd.GeoDataFrame, LayerStyle]:
    """A copy of a result layer that fits the web-map budget (see the module docstring).

    Parameters
    ----------
    gdf
        The result layer, in the working (metric) CRS.
    style
        Its :class:`~urbanform.results.LayerStyle` (default: the empty style).
    max_features, max_vertices
        The layer's budget.
    gpkg_layer
        The GeoPackage layer holding every feature, named in an aggregated layer's title.

    Returns
    -------
    tuple of geopandas.GeoDataFrame and LayerStyle
        ``gdf`` itself when it fits, a simplified copy (same CRS), or H3 cells
        (EPSG:4326); and the style to draw it with (for H3 cells, one that describes the
        aggregation; for a simplified copy, the title says so).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = gpd.GeoDataFrame({"population": [5.0, 1.0, 9.0]},
    ...     geometry=shapely.points([[0, 0], [1, 1], [2000, 2000]]), crs=32648)
    >>> cells, style = thin_for_map(pts, max_features=2)
    >>> sorted(cells[["features", "population"]].to_numpy().tolist())
    [[1.0, 9.0], [2.0, 6.0]]
    >>> style.aggregated
    {'features': 3, 'cells': 2, 'resolution': 10}
    """
    style = style if style is not None else LayerStyle()
    kinds = set(gdf.geom_type.unique())
    if len(gdf) > max_features:
        return _aggregated(gdf, style, gpkg_layer=gpkg_layer, fill=False,
                           max_features=max_features)
    if kinds <= {"Point", "MultiPoint"} or gdf.crs is None or not gdf.crs.is_projected:
        return gdf, style
    geoms, tol, fits = simplify_to_budget(gdf.geometry.to_numpy(), max_vertices=max_vertices)
    if not fits:
        polygons = kinds <= {"Polygon", "MultiPolygon"}
        return _aggregated(gdf, style, gpkg_layer=gpkg_layer, fill=polygons,
                           max_features=max_features)
    out = gdf.copy()
    out.geometry = geoms
    out = out[~shapely.is_empty(geoms)]
    if tol > SIMPLIFY_M:
        title = style.title if style.title is not None else (gpkg_layer or "")
        title_zh = None if style.title_zh is None else f"{style.title_zh}（简化至{tol:g}米）"
        style = replace(style, title=f"{title} (simplified to {tol:g} m)", title_zh=title_zh)
    return out, style
