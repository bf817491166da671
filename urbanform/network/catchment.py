"""The parts of the walk graph reachable within a distance: network catchments."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from urbanform.network.distances import _check_cutoff, _source_costs, distance_from_sources
from urbanform.network.graph import WalkGraph
from urbanform.network.snapping import Snapped

__all__ = ["merge_intervals", "reach_intervals", "reached_edges", "substrings"]


def substrings(geoms: np.ndarray, start_m: np.ndarray, end_m: np.ndarray) -> np.ndarray:
    """Vectorised :func:`shapely.ops.substring` for ``0 <= start_m < end_m <= length``.

    Parameters
    ----------
    geoms
        LineStrings.
    start_m, end_m
        Distance along each line where its piece starts and ends.

    Returns
    -------
    numpy.ndarray
        The pieces as LineStrings, in the direction of the input lines.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = geoms.size
    coords, gi = shapely.get_coordinates(geoms, return_index=True)
    step = np.zeros(gi.size)
    same = gi[1:] == gi[:-1]
    step[1:] = np.where(same, np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    total = np.cumsum(step)
    first = np.r_[True, ~same]
    cum = total - total[np.maximum.accumulate(np.where(first, np.arange(gi.size), 0))]
    inside = (cum > start_m[gi]) & (cum < end_m[gi])
    a = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start_m))
    b = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end_m))
    piece = np.concatenate([np.arange(n), gi[inside], np.arange(n)])
    key = np.concatenate([np.full(n, -np.inf), cum[inside], np.full(n, np.inf)])
    xy = np.concatenate([a, coords[inside], b])
    order = np.lexsort((key, piece))
    return np.asarray(shapely.linestrings(xy[order], indices=piece[order]), dtype=object)


def reach_intervals(
    graph: WalkGraph,
    from_u: tuple[np.ndarray, np.ndarray],
    from_v: tuple[np.ndarray, np.ndarray],
    from_points: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The parts of edges a walk covers with the distance it has left, possibly overlapping.

    Parameters
    ----------
    graph
        The walk graph.
    from_u, from_v
        ``(edge, reach_m)``: edges entered at their ``u`` (or ``v``) end with ``reach_m``
        metres left; the walk goes along the edge from that end as far as it reaches.
    from_points
        ``(edge, offset_m, reach_m)``: walks starting on an edge (a source's snap point)
        with ``reach_m`` left; they go both ways along it.

    Returns
    -------
    tuple
        ``edge``, ``start_m`` and ``end_m`` (from the ``u`` end, within the edge), in the
        order u ends, v ends, points.
    """
    length = graph.edge_length_m
    (eu, ru), (ev, rv), (se, s_off, s_reach) = from_u, from_v, from_points
    edge = np.concatenate([eu, ev, se])
    start = np.concatenate([np.zeros(eu.size), np.maximum(length[ev] - rv, 0.0), s_off - s_reach])
    end = np.concatenate([np.minimum(ru, length[eu]), length[ev], s_off + s_reach])
    start = np.clip(start, 0.0, length[edge])
    end = np.clip(end, 0.0, length[edge])
    return edge, start, end


def _edge_intervals(
    graph: WalkGraph, sources: Snapped, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reached (edge, start_m, end_m) intervals, possibly overlapping."""
    node_dist = distance_from_sources(graph, sources, cutoff_m=cutoff)
    reach_u = cutoff - node_dist[graph.edge_u]
    reach_v = cutoff - node_dist[graph.edge_v]
    eu = np.flatnonzero(reach_u > 0)
    ev = np.flatnonzero(reach_v > 0)
    s_edge, s_off, s_cost, _ = _source_costs(graph, sources, None)
    s_reach = cutoff - s_cost
    live = s_reach > 0
    s_edge, s_off, s_reach = s_edge[live], s_off[live], s_reach[live]
    return reach_intervals(
        graph, (eu, reach_u[eu]), (ev, reach_v[ev]), (s_edge, s_off, s_reach)
    )


def merge_intervals(
    edge: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of intervals ``[start, end]`` per key (an edge or any integer), sorted."""
    order = np.lexsort((start, edge))
    edge, start, end = edge[order], start[order], end[order]
    run_end = pd.Series(end).groupby(edge).cummax().to_numpy()
    new = np.ones(edge.size, dtype=bool)
    new[1:] = (edge[1:] != edge[:-1]) | (start[1:] > run_end[:-1])
    group = np.cumsum(new) - 1
    merged_end = np.full(group[-1] + 1 if group.size else 0, -np.inf)
    np.maximum.at(merged_end, group, end)
    return edge[new], start[new], merged_end


def reached_edges(graph: WalkGraph, sources: Snapped, *, cutoff_m: float) -> gpd.GeoDataFrame:
    """The parts of edges walkable within ``cutoff_m`` of the nearest source.

    Parameters
    ----------
    graph
        The walk graph.
    sources
        Snapped sources (stations, park access points, ...); unsnapped ones are ignored.
    cutoff_m
        Walking distance, snap and along-edge parts included.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per reached piece: ``edge``, ``start_m``, ``end_m`` (along the edge from
        its ``u`` end), ``full`` (whole edge reached) and the piece's geometry, in the
        graph's CRS. Buffer and dissolve it for a catchment polygon.

    Raises
    ------
    NetworkError
        If ``cutoff_m`` is negative or not a number.
    """
    cutoff = _check_cutoff(cutoff_m)
    edge, start, end = merge_intervals(*_edge_intervals(graph, sources, cutoff))
    keep = end > start
    edge, start, end = edge[keep], start[keep], end[keep]
    length = graph.edge_length_m[edge]
    full = (start <= 0.0) & (end >= length)
    geoms = graph.edge_geometry[edge].copy()
    part = ~full
    if part.any():
        geoms[part] = substrings(geoms[part], start[part], end[part])
    return gpd.GeoDataFrame(
        {"edge": edge, "start_m": start, "end_m": end, "full": full},
        geometry=gpd.GeoSeries(geoms, crs=graph.crs),
        crs=graph.crs,  # pragma: no mutate - the geometry column already has this CRS
    )
