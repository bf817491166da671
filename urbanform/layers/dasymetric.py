"""Census polygons onto housing: dasymetric placement of counts given as polygons.

Population given per sub-district (jiedao, shequ) polygon or per H3 cell is placed on the
residential land inside each polygon, in proportion to residential area, or to floor area
when a ``buildings`` layer is given (``floor_area``, else footprint area times ``floors``,
else footprint area; only the parts of buildings on residential land count when there is
a land-use layer). Jobs polygons go the same way onto commercial, industrial and public
land. A polygon without such land keeps its own area, and a warning names it. Counts are
conserved polygon by polygon.

This is the masked area interpolation of tobler (``masked_area_interpolate``), written
here because tobler needs Python 3.12.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd

from urbanform.layers.types import Layers

__all__ = ["TARGET_CLASSES", "COUNT_FIELDS", "dasymetric", "building_weights", "place_counts"]

log = logging.getLogger(__name__)

TARGET_CLASSES: dict[str, tuple[str, ...]] = {
    "population": ("residential",),
    "jobs": ("commercial", "industrial", "public"),
}
"""Land-use classes that receive each count role."""

COUNT_FIELDS: dict[str, tuple[str, ...]] = {
    "population": ("population", "dwellings", "workers"),
    "jobs": ("jobs",),
}

_POLYS = ("Polygon", "MultiPolygon")


def building_weights(buildings: gpd.GeoDataFrame) -> np.ndarray:
    """Each building's weight: ``floor_area``, else footprint area x ``floors``, else area.

    Missing values fall back to the next rule.

    Examples
    --------
    >>> import shapely
    >>> b = gpd.GeoDataFrame({"floors": [3.0, np.nan]}, crs=32648,
    ...     geometry=[shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)])
    >>> building_weights(b).tolist()
    [300.0, 100.0]
    """
    area = buildings.geometry.area.to_numpy(dtype=float)
    w = area.copy()
    if "floors" in buildings.columns:
        floors = buildings["floors"].to_numpy(dtype=float)
        w = np.where(np.isfinite(floors), area * floors, w)
    if "floor_area" in buildings.columns:
        fa = buildings["floor_area"].to_numpy(dtype=float)
        w = np.where(np.isfinite(fa), fa, w)
    return cast(np.ndarray, w)


def _targets(
    land: gpd.GeoDataFrame | None, buildings: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    """Target pieces with weight ``_w``: buildings (on the land, if any), else the land."""
    if buildings is not None and len(buildings):
        b = gpd.GeoDataFrame(
            {"_w": building_weights(buildings), "_a": buildings.geometry.area.to_numpy()},
            geometry=buildings.geometry.values,
            crs=buildings.crs,
        )
        b = b[b["_a"] > 0]
        if land is not None:
            b = gpd.overlay(b, land[["geometry"]], how="intersection", keep_geom_type=True)
            b["_w"] = b["_w"] * b.geometry.area / b["_a"]
        return b[["_w", "geometry"]]
    if land is None or not len(land):
        return None
    return gpd.GeoDataFrame({"_w": land.geometry.area.to_numpy()}, geometry=land.geometry.values)


def dasymetric(
    polys: gpd.GeoDataFrame,
    fields: tuple[str, ...],
    *,
    land: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Place the counts of ``polys`` on the land (or buildings) inside each polygon.

    Parameters
    ----------
    polys
        Count polygons (metric CRS) with the ``fields`` columns.
    fields
        Count columns to share out (other columns are copied).
    land
        Non-overlapping polygons that may receive counts (for example residential land).
    buildings
        Building footprints with optional ``floors`` / ``floor_area`` weights.

    Returns
    -------
    (geopandas.GeoDataFrame, numpy.ndarray)
        The pieces carrying the counts (polygons without target keep their own geometry)
        and the row positions of those polygons in ``polys``.

    Examples
    --------
    >>> import shapely
    >>> p = gpd.GeoDataFrame({"population": [100.0]}, crs=32648,
    ...     geometry=[shapely.box(0, 0, 100, 10)])
    >>> land = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 20, 10),
    ...     shapely.box(50, 0, 80, 10)], crs=32648)
    >>> out, lonely = dasymetric(p, ("population",), land=land)
    >>> out["population"].tolist(), out.geometry.area.tolist(), lonely.tolist()
    ([40.0, 60.0], [200.0, 300.0], [])
    """
    src = polys.reset_index(drop=True)
    targets = _targets(land, buildings)
    if targets is None:
        return src, np.arange(0)
    keyed = gpd.GeoDataFrame({"_src": np.arange(len(src))}, geometry=src.geometry.values)
    keyed = keyed.set_crs(src.crs, allow_override=True)
    targets = targets.assign(_ta=targets.geometry.area.to_numpy())
    targets = targets[targets["_ta"] > 0].set_crs(src.crs, allow_override=True)
    pieces = gpd.overlay(keyed, targets, how="intersection", keep_geom_type=True)
    pieces = pieces[~pieces.geometry.is_empty]
    weight = pieces["_w"].to_numpy() * pieces.geometry.area.to_numpy() / pieces["_ta"].to_numpy()
    which = pieces["_src"].to_numpy()
    total = np.bincount(which, weights=weight, minlength=len(src))
    keep = total[which] > 0
    pieces, weight, which = pieces[keep], weight[keep], which[keep]
    share = weight / total[which]
    other = [c for c in src.columns if c != src.geometry.name]
    placed = src[other].iloc[which].reset_index(drop=True)
    for col in fields:
        if col in placed.columns:
            placed[col] = placed[col].to_numpy(dtype=float) * share
    placed = gpd.GeoDataFrame(placed, geometry=pieces.geometry.values, crs=src.crs)
    lonely = np.flatnonzero(total <= 0)
    if len(lonely):
        placed = gpd.GeoDataFrame(
            pd.concat([placed, src.iloc[lonely]], ignore_index=True), crs=src.crs
        )
    return placed, lonely


def _target_land(layers: Layers, classes: tuple[str, ...]) -> gpd.GeoDataFrame | None:
    lu = layers.vectors.get("landuse")
    if lu is None:
        return None
    sel = lu[lu["class"].isin(classes)]
    if sel.empty:
        return sel[["geometry"]]
    return sel[["geometry"]].dissolve().explode(index_parts=False).reset_index(drop=True)


def _labels(polys: gpd.GeoDataFrame, rows: np.ndarray) -> str:
    if "name" in polys.columns:
        names = [str(v) for v in polys["name"].iloc[rows[:6]]]
    else:
        names = [f"feature {i + 1}" for i in rows[:6]]
    return ", ".join(names) + (", ..." if len(rows) > 6 else "")


def place_counts(layers: Layers, warn: Callable[[str], None]) -> None:
    """Replace count polygons (population, jobs) by their placed pieces, in ``layers``.

    Nothing changes for point or raster counts, or without a land-use or buildings layer.
    """
    buildings = layers.vectors.get("buildings")
    for role, classes in TARGET_CLASSES.items():
        gdf = layers.vectors.get(role)
        if gdf is None:
            continue
        is_poly = gdf.geom_type.isin(_POLYS).to_numpy()
        if not is_poly.any():  # points or cells: nothing to place (and no land to dissolve)
            continue
        land = _target_land(layers, classes)
        if land is None and buildings is None:
            continue
        polys = gdf[is_poly].reset_index(drop=True)
        placed, lonely = dasymetric(polys, COUNT_FIELDS[role], land=land, buildings=buildings)
        rest = gdf[~is_poly]
        frames = [f for f in (rest, placed) if len(f)]
        layers.vectors[role] = gpd.GeoDataFrame(
            pd.concat(frames, ignore_index=True), geometry="geometry", crs=gdf.crs
        )
        what = "buildings" if buildings is not None else f"{' or '.join(classes)} land"
        log.info("%s: %d polygons placed on %s", role, len(polys) - len(lonely), what)
        if len(lonely):
            count = COUNT_FIELDS[role][0]
            n = float(polys[count].iloc[lonely].sum())
            warn(
                f"role {role!r}: {len(lonely)} of {len(polys)} polygons hold no {what} "
                f"({_labels(polys, lonely)}); their {n:,.0f} {count} stay spread over the "
                "polygon's own area"
            )
