"""Attach points to the walk graph at the nearest point of the nearest edge."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from urbanform.errors import CRSError, NetworkError
from urbanform.network.graph import WalkGraph

__all__ = ["Snapped", "snap_points"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapped:
    """Points attached to edges of a walk graph.

    Attributes
    ----------
    edge
        ``(n,)`` edge index, -1 where the point is not snapped.
    offset_m
        ``(n,)`` distance along the edge from ``edge_u`` to the snap point (0 where unsnapped).
    snap_m
        ``(n,)`` straight distance from the point to its snap point (inf where unsnapped).
    """

    edge: np.ndarray
    offset_m: np.ndarray
    snap_m: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the snapped points."""
        return self.edge >= 0

    @property
    def n_unsnapped(self) -> int:
        """How many points are farther than the maximum snap distance (or empty)."""
        return int((self.edge < 0).sum())

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    def subset(self, mask: np.ndarray) -> Snapped:
        """The snapped points selected by a boolean mask or an index array."""
        return Snapped(self.edge[mask], self.offset_m[mask], self.snap_m[mask])


def _point_xy(graph: WalkGraph, points: gpd.GeoSeries | np.ndarray) -> np.ndarray:
    """``(n, 2)`` coordinates in the graph's CRS; NaN rows for missing or empty points."""
    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if isinstance(points, gpd.GeoSeries):
        if points.crs is not None and not pyproj.CRS(points.crs).equals(graph.crs):
            raise CRSError(
                f"points are in {points.crs.to_string()} but the walk graph is in "
                f"{graph.crs.to_string()}; reproject the points with .to_crs() first"
            )
        geoms = points.to_numpy()
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        bad = present & (shapely.get_type_id(geoms) != 0)
        if bad.any():
            raise NetworkError(
                f"snap_points: {int(bad.sum())} geometries are not points; "
                "pass points (polygon centroids or boundary points) to snap"
            )
        return np.stack([shapely.get_x(geoms), shapely.get_y(geoms)], axis=1)
    xy = np.asarray(points, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise NetworkError(f"snap_points: expected an (n, 2) array of x, y; got shape {xy.shape}")
    return xy


def _segments(graph: WalkGraph) -> dict[str, np.ndarray]:
    """Straight pieces of all edges, their edge, offset along it and an STRtree (cached)."""
    if "segments" not in graph._cache:
        coords, eid = shapely.get_coordinates(graph.edge_geometry, return_index=True)
        s0 = np.flatnonzero(eid[1:] == eid[:-1])
        p0, p1 = coords[s0], coords[s0 + 1]
        seg_len = np.hypot(*(p1 - p0).T)
        cum = np.cumsum(np.r_[0.0, seg_len])
        first = np.r_[True, eid[s0][1:] != eid[s0][:-1]]
        off0 = cum[:-1] - cum[:-1][np.maximum.accumulate(np.where(first, np.arange(s0.size), 0))]
        lo, hi = np.minimum(p0, p1), np.maximum(p0, p1)
        tree = shapely.STRtree(shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]))
        graph._cache["segments"] = {
            "p0": p0, "d": p1 - p0, "len": seg_len, "edge": eid[s0], "off0": off0, "tree": tree,
        }  # fmt: skip
    return graph._cache["segments"]


def _nearest_within(
    graph: WalkGraph, xy: np.ndarray, radius_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(point, edge, offset, distance) of each point's nearest edge within ``radius_m``.

    Candidates are the edge pieces whose envelope meets the point's square of half-side
    ``radius_m`` (an STRtree envelope query): every piece within ``radius_m`` is among
    them, so the nearest is exact. Point-to-segment distances are computed in numpy.
    Ties go to the lowest edge index, then the smallest offset.
    """
    seg = _segments(graph)
    x, y = xy[:, 0], xy[:, 1]
    boxes = shapely.box(x - radius_m, y - radius_m, x + radius_m, y + radius_m)
    pi, si = seg["tree"].query(boxes)
    if pi.size == 0:
        return pi, pi, np.zeros(0), np.zeros(0)
    rel = xy[pi] - seg["p0"][si]
    d = seg["d"][si]
    sq = np.einsum("ij,ij->i", d, d)
    t = np.clip(np.einsum("ij,ij->i", rel, d) / np.where(sq > 0, sq, 1.0), 0.0, 1.0)
    dist = np.hypot(*(rel - t[:, None] * d).T)
    edge = seg["edge"][si]
    offset = seg["off0"][si] + t * seg["len"][si]
    order = np.lexsort((offset, edge, dist, pi))
    first = order[np.r_[True, pi[order][1:] != pi[order][:-1]]]
    first = first[dist[first] <= radius_m]
    return pi[first], edge[first], offset[first], dist[first]


def _nearest_edges(
    graph: WalkGraph, xy: np.ndarray, max_snap_m: float
) -> tuple[np.ndarray, ...]:
    """Nearest edge within ``max_snap_m``: (point index, edge, offset, distance).

    Most points lie close to a street: a first pass with a small radius settles them
    cheaply; the rest are searched again with the full ``max_snap_m``.
    """
    near_m = min(max_snap_m, 25.0)
    found = _nearest_within(graph, xy, near_m)
    if near_m < max_snap_m:
        rest = np.setdiff1d(np.arange(xy.shape[0]), found[0])
        if rest.size:
            more = _nearest_within(graph, xy[rest], max_snap_m)
            more = (rest[more[0]],) + more[1:]
            found = tuple(np.concatenate([a, b]) for a, b in zip(found, more, strict=True))
    return found


def snap_points(
    graph: WalkGraph, points: gpd.GeoSeries | np.ndarray, *, max_snap_m: float = 100.0
) -> Snapped:
    """Snap each point to the nearest point on the nearest edge of ``graph``.

    The nearest edge is found with the graph's STRtree (envelope query within the
    maximum distance, then exact distances, as ``STRtree.query_nearest`` with
    ``max_distance`` would, but faster on dense networks); the offset along it with
    :func:`shapely.line_locate_point`.

    Parameters
    ----------
    graph
        The walk graph.
    points
        A point GeoSeries (in the graph's CRS) or an ``(n, 2)`` array of x, y.
    max_snap_m
        Points farther than this from every edge stay unsnapped (``edge`` -1,
        ``snap_m`` inf); the caller counts and reports them.

    Returns
    -------
    Snapped
        Edge index, offset along the edge from its ``u`` end and snap distance per point.

    Raises
    ------
    CRSError
        If the points' CRS differs from the graph's.
    NetworkError
        If ``max_snap_m`` is negative or a geometry is not a point.

    Examples
    --------
    >>> import numpy as np
    >>> from urbanform.network import graph_from_arrays
    >>> g = graph_from_arrays([[0, 0], [100, 0]], [0], [1], crs="EPSG:32648")
    >>> s = snap_points(g, np.array([[30.0, 4.0], [50.0, 500.0]]), max_snap_m=100)
    >>> s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()
    ([0, -1], [30.0, 0.0], [4.0, inf])
    """
    if not max_snap_m >= 0:
        raise NetworkError(f"snap_points: max_snap_m must be >= 0; got {max_snap_m}")
    xy = _point_xy(graph, points)
    n = xy.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.zeros(n)
    snap = np.full(n, np.inf)
    valid = np.flatnonzero(np.isfinite(xy).all(axis=1))
    if valid.size:
        pi, ei, off, dist = _nearest_edges(graph, xy[valid], max_snap_m)
        idx = valid[pi]
        edge[idx] = ei
        snap[idx] = dist
        offset[idx] = np.clip(off, 0.0, graph.edge_length_m[ei])
    if (edge < 0).any():
        logger.info("snap: %d of %d points beyond %g m", int((edge < 0).sum()), n, max_snap_m)
    return Snapped(edge=edge, offset_m=offset, snap_m=snap)
