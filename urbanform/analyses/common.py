"""Building blocks shared by the analyses: districts, population units, land-use pieces.

Conventions: every frame is in the working CRS; ``district`` holds the district name or
``None`` for what lies outside every district; areas are split at district edges and
additive values (population, jobs, ...) are shared out in proportion to area.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.transform
import shapely
from pyproj import Transformer

from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError, LayerError
from urbanform.layers.types import RasterLayer

__all__ = [
    "assign_districts",
    "split_by_districts",
    "value_pieces",
    "value_units",
    "resident_units",
    "landuse_pieces",
    "residential_land",
    "empty_pieces",
    "raster_units",
    "POP_FIELDS",
]

POP_FIELDS: tuple[str, ...] = ("population", "dwellings", "workers")


def assign_districts(points: gpd.GeoSeries, districts: gpd.GeoDataFrame | None) -> np.ndarray:
    """District name of each point (``None`` outside every district).

    A point on a shared edge goes to the first district (in input order) containing it.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> d = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 10, 10)], crs=32648)
    >>> pts = gpd.GeoSeries(shapely.points([[5, 5], [50, 5]]), crs=32648)
    >>> assign_districts(pts, d).tolist()
    ['a', None]
    """
    out = np.full(len(points), None, dtype=object)
    if districts is None or len(points) == 0:
        return out
    # the tree holds the (many) points and is queried with the (few) districts
    tree = shapely.STRtree(points.values)
    di, pi = tree.query(districts.geometry.values, predicate="intersects")
    order = np.lexsort((di, pi))
    pi, di = pi[order], di[order]
    first = np.unique(pi, return_index=True)[1]
    names = districts["name"].astype(str).to_numpy()
    out[pi[first]] = names[di[first]]
    return out


def split_by_districts(
    gdf: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame | None,
    *,
    prorate: tuple[str, ...] = (),
) -> gpd.GeoDataFrame:
    """Split polygons at district edges; share out ``prorate`` columns by area.

    Parts outside every district are kept with ``district = None``. The result has
    the input columns, ``district`` and ``area_m2`` (area of each piece).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> d = gpd.GeoDataFrame({"name": ["w", "e"]},
    ...     geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=32648)
    >>> g = gpd.GeoDataFrame({"population": [100.0]}, geometry=[shapely.box(5, 0, 20, 10)],
    ...     crs=32648)
    >>> s = split_by_districts(g, d, prorate=("population",))
    >>> sorted(zip(s["district"], s["population"].round(3)))
    [('e', 66.667), ('w', 33.333)]
    """
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()].copy()
    area = gdf.geometry.area.to_numpy()
    if districts is None or gdf.empty:
        gdf["district"] = None
        gdf["area_m2"] = area
        return gdf
    gdf["_src"] = np.arange(len(gdf))
    gdf["_src_area"] = area
    d = districts[["name", "geometry"]].rename(columns={"name": "district"})
    pieces = gpd.overlay(gdf, d, how="identity", keep_geom_type=True)
    pieces = pieces[~pieces.geometry.is_empty].copy()
    pieces["area_m2"] = pieces.geometry.area
    frac = np.divide(
        pieces["area_m2"].to_numpy(),
        pieces["_src_area"].to_numpy(),
        out=np.zeros(len(pieces)),
        where=pieces["_src_area"].to_numpy() > 0,
    )
    for col in prorate:
        if col in pieces.columns:
            pieces[col] = pieces[col].astype(float) * frac
    # object first: a string column (pandas 3) turns None back into NaN
    district = pieces["district"].astype(object)
    pieces["district"] = district.where(district.notna(), None)
    return pieces.drop(columns=["_src", "_src_area"]).reset_index(drop=True)


def raster_units(raster: RasterLayer, *, field: str, crs: Any) -> gpd.GeoDataFrame:
    """Pixel centroids of a count raster (population, jobs) as points in ``crs``.

    Pixels that are nodata, non-finite or zero are left out; ``field`` holds the value.
    """
    data = np.asarray(raster.data, dtype=float)
    valid = np.isfinite(data) & (data != raster.nodata) & (data > 0)
    rows, cols = np.nonzero(valid)
    xs, ys = rasterio.transform.xy(raster.transform, rows, cols, offset="center")
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if raster.crs != crs:
        xs, ys = Transformer.from_crs(raster.crs, crs, always_xy=True).transform(xs, ys)
    return gpd.GeoDataFrame({field: data[rows, cols]}, geometry=shapely.points(xs, ys), crs=crs)


def value_pieces(
    ctx: Context, role: str, *, fields: tuple[str, ...], needed_by: str
) -> gpd.GeoDataFrame:
    """The features of a count layer (population, jobs) split at district edges.

    Points stay points; polygons are split at district edges with their counts shared
    out by area; a raster becomes pixel-centroid points. Missing optional count fields
    become NaN. The result has ``district`` and the ``fields`` columns.
    """
    layers = ctx.layers
    if role in layers.rasters:
        gdf = raster_units(layers.rasters[role], field=fields[0], crs=layers.crs)
    else:
        gdf = layers.vector(role, needed_by=needed_by)
    if fields[0] not in gdf.columns:
        raise LayerError(
            f"layer role {role!r} has no {fields[0]!r} field; map it in layers/*.yml with "
            f"'fields: {{{fields[0]}: YOUR_COLUMN}}'"
        )
    gdf = gdf[[c for c in fields if c in gdf.columns] + ["geometry"]].copy()
    for col in fields:
        if col not in gdf.columns:
            gdf[col] = np.nan
        gdf[col] = pd.to_numeric(gdf[col], errors="coerce").astype(float)
    districts = ctx.districts()
    geom_types = set(gdf.geom_type.unique())
    if geom_types <= {"Point", "MultiPoint"}:
        gdf = gdf.explode(index_parts=False) if "MultiPoint" in geom_types else gdf
        gdf["district"] = assign_districts(gdf.geometry, districts)
        return gdf.reset_index(drop=True)
    is_pt = gdf.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
    if districts is not None and is_pt.any():
        # points and polygons together (several layers of one role): the overlay that
        # splits polygons at district edges refuses mixed geometry types
        pts = gdf[is_pt].explode(index_parts=False)
        pts["district"] = assign_districts(pts.geometry, districts)
        polys = split_by_districts(gdf[~is_pt], districts, prorate=fields)
        both = pd.concat([pts, polys], ignore_index=True)
        return gpd.GeoDataFrame(both, geometry="geometry", crs=gdf.crs)
    return split_by_districts(gdf, districts, prorate=fields)


def value_units(
    ctx: Context, role: str, *, fields: tuple[str, ...], needed_by: str
) -> gpd.GeoDataFrame:
    """Points that carry the counts of a layer: the units of walking analyses.

    Polygon pieces (split at district edges) become their representative points, so
    a unit always lies inside its piece and its district. Cached per run.
    """
    key = f"units:{role}:{','.join(fields)}"
    if key not in ctx.cache:
        pieces = value_pieces(ctx, role, fields=fields, needed_by=needed_by)
        if not pieces.empty and not set(pieces.geom_type.unique()) <= {"Point"}:
            pieces = pieces.set_geometry(pieces.geometry.representative_point())
        ctx.cache[key] = pieces[[*fields, "district", "geometry"]].reset_index(drop=True)
    out: gpd.GeoDataFrame = ctx.cache[key].copy()
    return out


def resident_units(ctx: Context, *, needed_by: str) -> gpd.GeoDataFrame:
    """Population units (:func:`value_units` of ``population``, ``dwellings``, ``workers``).

    Raises
    ------
    AnalysisError
        When the population layer holds no residents at all.
    """
    units = value_units(ctx, "population", fields=POP_FIELDS, needed_by=needed_by)
    total = float(np.nansum(units["population"].to_numpy(dtype=float)))
    if not total > 0:
        raise AnalysisError(
            f"analysis {needed_by!r}: the population layer holds no residents (total "
            f"{total:g}); check its 'population' field mapping in layers/*.yml"
        )
    return units


def landuse_pieces(ctx: Context, classes: tuple[str, ...], *, needed_by: str) -> gpd.GeoDataFrame:
    """Land-use polygons of the given canonical classes, dissolved, split at district edges.

    Overlapping land-use polygons are dissolved per class first so that no area counts
    twice. The result has ``class``, ``district`` and ``area_m2``. Cached per run.
    """
    key = f"landuse:{','.join(sorted(classes))}"
    if key not in ctx.cache:
        ctx.cache[key] = _landuse_pieces(ctx, classes, needed_by=needed_by)
    out: gpd.GeoDataFrame = ctx.cache[key].copy()
    return out


def _landuse_pieces(ctx: Context, classes: tuple[str, ...], *, needed_by: str) -> gpd.GeoDataFrame:
    lu = ctx.layers.vector("landuse", needed_by=needed_by)
    sel = lu[lu["class"].isin(classes)]
    if sel.empty:
        raise LayerError(
            f"analysis {needed_by!r}: the landuse layer has no feature of class "
            f"{', '.join(classes)}; check the 'classes' mapping in its layers/*.yml"
        )
    merged = (
        sel[["class", "geometry"]]
        .dissolve(by="class", as_index=False)
        .explode(index_parts=False)
        .reset_index(drop=True)
    )
    return split_by_districts(merged, ctx.districts())


def residential_land(ctx: Context, *, needed_by: str) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Residential land pieces (:func:`landuse_pieces`), or ``None`` and why there are none."""
    if not ctx.layers.has("landuse"):
        return None, "no landuse layer (it needs residential land; add layers/landuse.yml)"
    lu = ctx.layers.vector("landuse", needed_by=needed_by)
    if not lu["class"].eq("residential").any():
        return None, (
            "the landuse layer has no residential land; check the 'classes' mapping of its "
            "layers/*.yml"
        )
    return landuse_pieces(ctx, ("residential",), needed_by=needed_by), None


def empty_pieces(crs: Any) -> gpd.GeoDataFrame:
    """No land-use pieces: the columns of :func:`landuse_pieces`, no row."""
    return gpd.GeoDataFrame(
        {
            "class": pd.Series([], dtype=object),  # pragma: no mutate - object: empty default
            "district": pd.Series([], dtype=object),  # pragma: no mutate - object: empty default
            "area_m2": pd.Series([], dtype=float),
        },
        geometry=gpd.GeoSeries([], crs=crs),  # pragma: no mutate - crs= below sets it too
        crs=crs,  # pragma: no mutate - the geometry above carries the same CRS
    )
