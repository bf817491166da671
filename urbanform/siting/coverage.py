"""Candidate-by-unit coverage matrices, computed with each analysis's own distance code.

A *unit* is a row of the baseline run's units frame (a population point or the
representative point of a population piece; a land sample of the network method; a
residential piece of the euclidean method) that is not yet covered for the indicator.
``cover[j, u]`` is True where candidate ``j``, added to the parks or facilities, would
cover ``u``:

* ``park_coverage``: the candidate is classified like any park (its area picks its tier
  and radius, :func:`~urbanform.analyses.park_coverage.classify_parks`); ``euclidean``:
  the unit lies in the candidate buffered by its radius (the same buffers the analysis
  unions); ``network``: the unit walks to one of the candidate's access points (every
  ``access_spacing_m`` along its edge) within its radius, with the analysis's snapping
  and multi-source shortest paths (one pass per candidate, never per unit).
* ``living_circle``: the candidate is a facility of one category at its point; the unit
  walks to it within ``distance_m``.

The residential pieces of the euclidean method are whole pieces split at the existing
service areas; a new service area may cover part of one. Such a piece counts here by its
representative point, so the coverage matrix is exact for points and close for pieces;
the value written by ``urbanform site`` always comes from re-running the analysis.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse

from urbanform import network
from urbanform.analyses import park_coverage, zonal
from urbanform.analyses.context import Context
from urbanform.analyses.living_circle import _points_xy, _snap
from urbanform.errors import AnalysisError
from urbanform.progress import Stage
from urbanform.results import DEN, NUM, AnalysisResult

__all__ = ["Coverage", "coverage_matrix", "open_units", "park_parts"]

log = logging.getLogger(__name__)

_QUAD_SEGS = 16
"""As :mod:`urbanform.analyses.park_coverage` buffers its parks."""


@dataclass
class Coverage:
    """The siting instance of one indicator.

    Attributes
    ----------
    matrix
        ``(n_candidates, n_units)`` boolean CSR matrix of new coverage.
    weight
        ``(n_units,)`` what covering each unit adds to the indicator's numerator.
    base
        The indicator's numerator before any site (city).
    total
        The indicator's denominator (city).
    """

    matrix: sparse.csr_matrix
    weight: np.ndarray
    base: float
    total: float

    def value(self, covered: float) -> float:
        """The indicator's city value with ``covered`` more weight."""
        return (self.base + covered) / self.total


def open_units(
    result: AnalysisResult, key: str
) -> tuple[gpd.GeoDataFrame, np.ndarray, float, float]:
    """The units of ``result`` not fully covered for ``key``: units, weights, base, total."""
    units = result.units
    num = np.nan_to_num(units[f"{key}{NUM}"].to_numpy(dtype=float))
    den = np.nan_to_num(units[f"{key}{DEN}"].to_numpy(dtype=float))
    gap = den - num
    open_ = (den > 0) & (gap > 1e-12 * max(float(den.max(initial=0.0)), 1.0))
    out = units.loc[open_].reset_index(drop=True)
    return out, gap[open_], float(num.sum()), float(den.sum())


def park_parts(candidates: gpd.GeoDataFrame, tiers: list[dict[str, float]]) -> gpd.GeoDataFrame:
    """The counting parts of each candidate park with its radius (``cand`` = row position).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> c = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 100), shapely.box(0, 0, 40, 40)])
    >>> t = [{"min_area_m2": 5000, "radius_m": 500}, {"min_area_m2": 2000, "radius_m": 300}]
    >>> parts = park_parts(c, t)
    >>> parts["cand"].tolist(), parts["radius_m"].tolist()
    ([0], [500.0])
    """
    keys = [f"\x00candidate {i}" for i in range(len(candidates))]  # unique: never merged
    frame = gpd.GeoDataFrame({"name": keys}, geometry=candidates.geometry.values,
                             crs=candidates.crs)
    parts = park_coverage.classify_parks(frame, tiers=tiers)
    parts = parts[parts["counts"].to_numpy()].copy()
    parts["cand"] = parts["name"].map({k: i for i, k in enumerate(keys)}).astype(np.int64)
    return parts[["cand", "radius_m", "geometry"]].reset_index(drop=True)


def _matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    data = np.ones(len(rows), dtype=bool)
    m = sparse.csr_matrix((data, (rows, cols)), shape=shape, dtype=bool)
    m.sum_duplicates()
    return m


def _park_euclidean(parts: gpd.GeoDataFrame, units: gpd.GeoDataFrame, n: int) -> sparse.csr_matrix:
    buffers = shapely.buffer(parts.geometry.values, parts["radius_m"].to_numpy(),
                             quad_segs=_QUAD_SEGS)
    pts = shapely.point_on_surface(units.geometry.values)
    ui, bi = shapely.STRtree(buffers).query(pts, predicate="intersects")
    return _matrix(parts["cand"].to_numpy()[bi], ui, (n, len(units)))


def _walk_matrix(
    graph: network.WalkGraph,
    origins: network.Snapped,
    access: network.Snapped,
    group: np.ndarray,
    groups: tuple[np.ndarray, np.ndarray],
    n: int,
    step: Stage | None,
) -> sparse.csr_matrix:
    """Units within walking reach of each group of access points.

    ``group`` is each access point's group; ``groups`` holds each group's candidate and
    cutoff in metres. One multi-source pass per group (a candidate or one of its
    parts), over every unit at once.
    """
    owner, cutoff_m = groups
    rows, cols = [], []
    live = np.flatnonzero(origins.ok)
    sub = origins.subset(live)
    for k in range(len(owner)):
        sel = access.ok & (group == k)
        if sel.any() and len(live):
            d = network.nearest_distance(graph, sub, access.subset(sel),
                                         cutoff_m=float(cutoff_m[k]))
            hit = live[d <= cutoff_m[k] + 1e-6]
            rows.append(np.full(len(hit), owner[k], dtype=np.int64))
            cols.append(hit)
        if step is not None:
            step.advance()
    r = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.empty(0, dtype=np.int64)
    return _matrix(r, c, (n, len(origins)))


def _park_network(
    ctx: Context,
    parts: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    n: int,
    *,
    params: Mapping[str, Any],
    name: str,
    step: Stage | None,
) -> sparse.csr_matrix:
    graph = ctx.walk_graph(needed_by=name)
    snap = {"max_snap_m": params["max_snap_m"], "min_piece_share": params["min_piece_share"]}
    xy = shapely.get_coordinates(shapely.point_on_surface(units.geometry.values))
    origins = network.snap_points(graph, xy, **snap)
    pts, src = zonal.boundary_points(parts.geometry, spacing_m=params["access_spacing_m"])
    access = network.snap_points(graph, gpd.GeoSeries(pts, crs=parts.crs), **snap)
    groups = (parts["cand"].to_numpy(), parts["radius_m"].to_numpy(dtype=float))
    return _walk_matrix(graph, origins, access, np.asarray(src), groups, n, step)


def _facility_network(
    ctx: Context,
    candidates: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    *,
    params: Mapping[str, Any],
    name: str,
    step: Stage | None,
) -> sparse.csr_matrix:
    graph = ctx.walk_graph(needed_by=name)
    max_snap_m, share = float(params["max_snap_m"]), float(params["min_piece_share"])
    origins = _snap(graph, _points_xy(units.geometry), max_snap_m=max_snap_m,
                    min_piece_share=share)
    sites = _snap(graph, _points_xy(candidates.geometry), max_snap_m=max_snap_m,
                  min_piece_share=share)
    n = len(candidates)
    groups = (np.arange(n), np.full(n, float(params["distance_m"])))
    return _walk_matrix(graph, origins, sites, np.arange(n), groups, n, step)


def coverage_matrix(
    ctx: Context,
    result: AnalysisResult,
    candidates: gpd.GeoDataFrame,
    *,
    key: str,
    step: Stage | None = None,
) -> Coverage:
    """The coverage matrix of ``candidates`` for indicator ``key`` of a baseline ``result``.

    Parameters
    ----------
    ctx
        The run context of ``result`` (its walk graph is reused).
    result
        The baseline run of a ``park_coverage`` or ``living_circle`` analysis.
    candidates
        Candidate sites in the working CRS (polygons for parks, points for facilities).
    key
        The indicator: ``area_share``/``pop_share``, or ``pop_share_<category>``.
    step
        Advanced once per candidate (or candidate part) walked from.

    Raises
    ------
    AnalysisError
        For an analysis kind that siting does not handle.
    """
    units, weight, base, total = open_units(result, key)
    n, params = len(candidates), result.params
    if result.kind == "park_coverage":
        parts = park_parts(candidates, params["tiers"])
        if params["distance"] == "euclidean":
            m = _park_euclidean(parts, units, n)
        else:
            m = _park_network(ctx, parts, units, n, params=params, name=result.name, step=step)
    elif result.kind == "living_circle":
        m = _facility_network(ctx, candidates, units, params=params, name=result.name, step=step)
    else:
        raise AnalysisError(
            f"analysis {result.name!r} is of kind {result.kind!r}; siting handles "
            "park_coverage and living_circle"
        )
    log.info("coverage matrix: %d candidates x %d open units, %d pairs", n, len(units), m.nnz)
    return Coverage(m, weight, base, total)
