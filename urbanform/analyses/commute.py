"""Jobs and workers on the H3 grid: local ratios and the minimum commute (excess commuting).

The theoretical minimum mean commute is the optimum of the transportation problem used
in excess-commuting studies (Hamilton 1982; White 1988): resident workers of each cell
are the supply, the jobs of each cell (scaled so that the totals match) the demand, and
the cost is the straight-line distance between cell centres. It is solved exactly with
the network simplex of POT (``ot.emd``).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import h3
import numpy as np
import ot
import pandas as pd
import pyproj
import scipy.sparse
import shapely
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from urbanform.checks import check_memory
from urbanform.errors import AnalysisError
from urbanform.grid import hex_strings, latlng_cells, projected_lat_lng
from urbanform.results import LayerStyle

__all__ = [
    "cells_of",
    "cell_centres",
    "cell_polygons",
    "cell_table",
    "local_ratio",
    "min_mean_commute_km",
    "commute_figures",
    "method_text",
    "OD_COLUMNS",
]

log = logging.getLogger(__name__)

OD_COLUMNS: tuple[str, ...] = ("origin_x", "origin_y", "dest_x", "dest_y")
"""Required columns of an origin-destination CSV (optional column ``count``, default 1)."""

_EMD_MAX_ITER = 50_000_000


def cells_of(xy: np.ndarray, *, crs: Any, resolution: int) -> np.ndarray:
    """H3 cell (15-character string) of each point given in ``crs``."""
    if len(xy) == 0:
        return np.array([], dtype=object)
    lat, lng = projected_lat_lng(np.asarray(xy, dtype=float), crs)
    return hex_strings(latlng_cells(lat, lng, resolution))


def cell_centres(hex_ids: np.ndarray, *, crs: Any) -> np.ndarray:
    """Centres of H3 cells as an ``(n, 2)`` array in ``crs``."""
    if len(hex_ids) == 0:
        return np.zeros((0, 2))
    latlng = np.array([h3.cell_to_latlng(c) for c in hex_ids], dtype=float)
    to_crs = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_crs.transform(latlng[:, 1], latlng[:, 0])
    return np.column_stack([x, y])


def cell_polygons(hex_ids: np.ndarray, *, crs: Any) -> np.ndarray:
    """H3 cell polygons in ``crs`` (vertices projected one by one)."""
    rings = [h3.cell_to_boundary(c) for c in hex_ids]
    if not rings:
        return np.array([], dtype=object)
    counts = np.array([len(r) + 1 for r in rings])
    latlng = np.array([v for r in rings for v in (*r, r[0])], dtype=float)
    to_crs = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_crs.transform(latlng[:, 1], latlng[:, 0])
    idx = np.repeat(np.arange(len(rings)), counts)
    rings_xy = shapely.linearrings(np.column_stack([x, y]), indices=idx)
    return cast(np.ndarray, shapely.polygons(rings_xy))


def cell_table(units: gpd.GeoDataFrame, *, resolution: int) -> pd.DataFrame:
    """Jobs and workers per non-empty H3 cell (index ``hex_id``, sorted).

    Built once per run and shared by :func:`local_ratio` and :func:`commute_figures`.
    """
    xy = shapely.get_coordinates(units.geometry.values)
    hexes = cells_of(xy, crs=units.crs, resolution=resolution)
    table = (
        pd.DataFrame({"hex_id": hexes, "jobs": units["jobs"].to_numpy(float),
                      "workers": units["workers"].to_numpy(float)})
        .groupby("hex_id", sort=True)[["jobs", "workers"]]
        .sum()
    )
    return table[(table["jobs"] > 0) | (table["workers"] > 0)]


def _pairs_within(xy: np.ndarray, radius_m: float) -> float:
    """Roughly how many pairs of points lie within ``radius_m`` (uniform density)."""
    n = float(len(xy))
    if n < 2:
        return n
    w, h = np.ptp(xy, axis=0)
    area = max(float(w) * float(h), 1.0)
    return min(n * n, n + n * n * min(1.0, math.pi * radius_m**2 / area))


def _within_sum(xy: np.ndarray, values: np.ndarray, *, radius_m: float) -> np.ndarray:
    """For each point, the sum of ``values`` over the points within ``radius_m`` (itself too)."""
    neighbours = cKDTree(xy).query_ball_point(xy, r=radius_m)
    lens = np.array([len(n) for n in neighbours])
    indptr = np.concatenate([[0], np.cumsum(lens)])
    indices = np.concatenate(neighbours).astype(np.int64) if len(xy) else np.array([], int)
    a = scipy.sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(xy),) * 2)
    return np.asarray(a @ values, dtype=float)


def local_ratio(
    table: pd.DataFrame, *, crs: Any, radius_m: float, resolution: int
) -> tuple[gpd.GeoDataFrame, LayerStyle]:
    """Jobs per worker within ``radius_m`` of each non-empty H3 cell.

    Parameters
    ----------
    table
        Jobs and workers per H3 cell (:func:`cell_table`).
    crs
        The metric CRS of the result.
    radius_m
        Commute radius: cells whose centres lie within it (straight line) are summed.
    resolution
        H3 resolution of ``table`` (for the layer title).

    Returns
    -------
    tuple of geopandas.GeoDataFrame and LayerStyle
        Cell polygons in ``crs`` with ``hex_id``, ``jobs``, ``workers``,
        ``jobs_within_m``, ``workers_within_m`` and ``local_ratio`` (NaN without workers),
        and the layer's style.
    """
    hexes = table.index.to_numpy(dtype=object)
    xy = cell_centres(hexes, crs=crs)
    pairs = _pairs_within(xy, radius_m)
    check_memory(
        pairs, bytes_each=64,
        what=f"about {pairs:,.0f} pairs of H3 cells (resolution {resolution}) within "
        f"{radius_m:,.0f} m",
        hint="use a lower params.h3_resolution or a smaller params.commute_radius_m",
    )
    jobs_w = _within_sum(xy, table["jobs"].to_numpy(), radius_m=radius_m)
    workers_w = _within_sum(xy, table["workers"].to_numpy(), radius_m=radius_m)
    ratio = np.divide(jobs_w, workers_w, out=np.full(len(xy), np.nan), where=workers_w > 0)
    out = gpd.GeoDataFrame(
        {"hex_id": hexes, "jobs": table["jobs"].to_numpy(), "workers": table["workers"].to_numpy(),
         "jobs_within_m": jobs_w, "workers_within_m": workers_w, "local_ratio": ratio},
        geometry=cell_polygons(hexes, crs=crs),
        crs=crs,
    )
    log.info("local ratio on %d H3 cells at resolution %d", len(out), resolution)
    return out, LayerStyle(
        title=f"Jobs per resident worker within {radius_m:,.0f} m (H3 resolution {resolution})",
        title_zh=f"{radius_m:,.0f} 米范围内职住比",
        value_field="local_ratio",
        ramp="diverging",
        popup_fields=["hex_id", "jobs", "workers", "jobs_within_m", "workers_within_m",
                      "local_ratio"],
        labels={
            "en": {"jobs_within_m": f"Jobs within {radius_m:,.0f} m",
                   "workers_within_m": f"Workers within {radius_m:,.0f} m",
                   "local_ratio": "Local jobs per worker"},
            "zh": {"jobs_within_m": "范围内就业岗位", "workers_within_m": "范围内就业居民",
                   "local_ratio": "局部职住比"},
        },
    )


def min_mean_commute_km(
    supply_xy: np.ndarray, supply: np.ndarray, demand_xy: np.ndarray, demand: np.ndarray
) -> float:
    """Minimum mean straight-line trip length (km) that sends all supply to the demand.

    Supply (workers) and demand (jobs) are normalised to the same total, so the demand
    is scaled to the workers. Solved exactly (``ot.emd``, network simplex).

    Parameters
    ----------
    supply_xy, demand_xy
        ``(n, 2)`` and ``(m, 2)`` coordinates in metres.
    supply, demand
        Non-negative weights with positive totals.

    Examples
    --------
    Two workers at x = 0 and x = 10 km, two jobs 1 km and 2 km north of them:

    >>> min_mean_commute_km(np.array([[0, 0], [10_000, 0]]), np.array([1.0, 1.0]),
    ...                     np.array([[0, 1_000], [10_000, 2_000]]), np.array([1.0, 1.0]))
    1.5
    """
    a = np.asarray(supply, dtype=float)
    b = np.asarray(demand, dtype=float)
    if a.sum() <= 0 or b.sum() <= 0:
        raise AnalysisError("minimum commute: workers and jobs must both have a positive total")
    cost_km = cdist(np.asarray(supply_xy, float), np.asarray(demand_xy, float)) / 1000.0
    plan, info = ot.emd(a / a.sum(), b / b.sum(), cost_km, numItermax=_EMD_MAX_ITER, log=True)
    if info.get("result_code", 1) != 1:
        log.warning("transport problem: %s", info.get("warning"))
    return round(float((plan * cost_km).sum()), 9)


def _coarsen(table: pd.DataFrame, resolution: int, *, max_cells: int) -> tuple[pd.DataFrame, int]:
    """Aggregate cells to parents until at most ``max_cells`` remain."""
    while len(table) > max_cells and resolution > 0:
        resolution -= 1
        parents = [h3.cell_to_parent(c, resolution) for c in table.index]
        table = table.groupby(np.array(parents, dtype=object), sort=True).sum()
    return table, resolution


def _read_od(path: str, *, crs: Any, od_crs: str | None) -> pd.DataFrame:
    file = Path(path)
    if not file.is_file():
        raise AnalysisError(f"params.od: origin-destination file {path!r} not found; "
                            "give a CSV path (relative to the working directory)")
    od = pd.read_csv(file)
    missing = [c for c in OD_COLUMNS if c not in od.columns]
    if missing:
        raise AnalysisError(f"params.od: {path!r} has no column {missing[0]!r}; "
                            f"needed: {', '.join(OD_COLUMNS)} and optionally count")
    od = od.assign(count=od["count"] if "count" in od.columns else 1.0)
    if od_crs is not None:
        t = pyproj.Transformer.from_crs(od_crs, crs, always_xy=True)
        od["origin_x"], od["origin_y"] = t.transform(od["origin_x"].to_numpy(),
                                                     od["origin_y"].to_numpy())
        od["dest_x"], od["dest_y"] = t.transform(od["dest_x"].to_numpy(), od["dest_y"].to_numpy())
    return od


def _actual_mean_km(od: pd.DataFrame, *, crs: Any, resolution: int) -> float:
    """Observed mean trip length (km) between the H3 cell centres of origins and destinations."""
    o = cells_of(od[["origin_x", "origin_y"]].to_numpy(float), crs=crs, resolution=resolution)
    d = cells_of(od[["dest_x", "dest_y"]].to_numpy(float), crs=crs, resolution=resolution)
    dist_km = np.hypot(*(cell_centres(o, crs=crs) - cell_centres(d, crs=crs)).T) / 1000.0
    w = od["count"].to_numpy(float)
    return float((w * dist_km).sum() / w.sum())


def commute_figures(
    table: pd.DataFrame,
    *,
    crs: Any,
    resolution: int,
    max_cells: int = 3000,
    od: str | None = None,
    od_crs: str | None = None,
) -> dict[str, Any]:
    """Compute the minimum mean commute on H3 cells and, with OD data, the observed mean.

    ``table`` holds jobs and workers per H3 cell at ``resolution`` (:func:`cell_table`);
    ``crs`` is the metric CRS its distances are measured in.

    Returns a JSON-ready dict with ``min_mean_commute_km``, ``transport_h3_resolution``,
    ``transport_cells``, and with ``od`` also ``actual_mean_commute_km`` and
    ``excess_commuting`` (1 - minimum / actual); ``warnings`` lists what to report.
    """
    coarse, res = _coarsen(table, resolution, max_cells=max_cells)
    warnings: list[str] = []
    if res != resolution:
        warnings.append(
            f"the transport problem has {len(table):,} non-empty H3 cells at resolution "
            f"{resolution} (limit {max_cells:,}); it was solved on {len(coarse):,} cells at "
            f"resolution {res}"
        )
    sup = coarse[coarse["workers"] > 0]
    dem = coarse[coarse["jobs"] > 0]
    km = min_mean_commute_km(
        cell_centres(sup.index.to_numpy(object), crs=crs), sup["workers"].to_numpy(),
        cell_centres(dem.index.to_numpy(object), crs=crs), dem["jobs"].to_numpy(),
    )
    out: dict[str, Any] = {
        "min_mean_commute_km": km,
        "transport_h3_resolution": res,
        "transport_cells": len(coarse),
        "transport_h3_resolution_requested": resolution,
    }
    if od is not None:
        actual = _actual_mean_km(_read_od(od, crs=crs, od_crs=od_crs), crs=crs, resolution=res)
        out["actual_mean_commute_km"] = actual
        out["excess_commuting"] = 1.0 - km / actual if actual > 0 else None
    log.info("minimum mean commute %.3f km on %d cells (resolution %d)", km, len(coarse), res)
    out["warnings"] = warnings
    return out


def method_text(extra: dict[str, Any]) -> str:
    """Plain-words method of the minimum-commute figures in ``extra``."""
    text = (
        "The theoretical minimum mean commute "
        f"({extra['min_mean_commute_km']:.2f} km) solves the transportation problem of "
        "excess-commuting studies exactly (network simplex) on "
        f"{extra['transport_cells']:,} H3 cells at resolution "
        f"{extra['transport_h3_resolution']}: resident workers are the supply, jobs scaled to "
        "the same total the demand, straight-line distances between cell centres the cost"
    )
    if extra["transport_h3_resolution"] != extra["transport_h3_resolution_requested"]:
        text += " (cells were aggregated to a coarser resolution to keep the problem small)"
    actual = extra.get("actual_mean_commute_km")
    if actual is not None and math.isfinite(actual):
        text += (
            f"; the observed mean over the origin-destination data, measured the same way, "
            f"is {actual:.2f} km"
        )
    return text + "."
