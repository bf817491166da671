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


def _point_geometries(graph: WalkGraph, points: gpd.GeoSeries | np.ndarray) -> np.ndarray:
    """Shapely points in the graph's CRS from a GeoSeries / GeoDataFrame or an (n, 2) array."""
    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if isinstance(points, gpd.GeoSeries):
        if points.crs is not None and not pyproj.CRS(points.crs).equals(graph.crs):
            raise CRSError(
                f"points are in {points.crs.to_string()} but the walk graph is in "
                f"{graph.crs.to_string()}; reproject the points with .to_crs() first"
            )
        geoms = points.to_numpy()
        bad = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        bad &= shapely.get_type_id(np.where(bad, geoms, None)) != 0
        if bad.any():
            raise NetworkError(
                f"snap_points: {int(bad.sum())} geometries are not points; "
                "pass points (polygon centroids or boundary points) to snap"
            )
        return np.asarray(geoms, dtype=object)
    xy = np.asarray(points, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise NetworkError(f"snap_points: expected an (n, 2) array of x, y; got shape {xy.shape}")
    finite = np.isfinite(xy).all(axis=1)
    geoms = np.full(xy.shape[0], None, dtype=object)
    geoms[finite] = shapely.points(xy[finite])
    return geoms


def snap_points(
    graph: WalkGraph, points: gpd.GeoSeries | np.ndarray, *, max_snap_m: float = 100.0
) -> Snapped:
    """Snap each point to the nearest point on the nearest edge of ``graph``.

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
    geoms = _point_geometries(graph, points)
    n = geoms.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.zeros(n)
    snap = np.full(n, np.inf)
    valid = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if valid.size:
        (pi, ei), dist = graph.edge_tree().query_nearest(
            geoms[valid], max_distance=max_snap_m, return_distance=True, all_matches=False
        )
        idx = valid[pi]
        edge[idx] = ei
        snap[idx] = dist
        offset[idx] = shapely.line_locate_point(graph.edge_geometry[ei], geoms[idx])
        offset[idx] = np.clip(offset[idx], 0.0, graph.edge_length_m[ei])
    if (edge < 0).any():
        logger.info("snap: %d of %d points beyond %g m", int((edge < 0).sum()), n, max_snap_m)
    return Snapped(edge=edge, offset_m=offset, snap_m=snap)
