"""Multi-source walking distances on a :class:`~urbanform.network.graph.WalkGraph`.

A walk from an origin to a destination is: snap + along-edge + network + along-edge +
snap. All destinations of one set are searched at once: a virtual super-source is
linked to both ends of every destination's edge (weight: snap + along-edge offset) and
one compiled Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`, ``limit=cutoff_m``) runs
from it. Origins then take the shorter of their edge's two ends, or the direct walk
along the edge when a destination lies on the same edge. Nothing loops over points in
Python.
"""

from __future__ import annotations

import logging
from typing import cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from urbanform.errors import NetworkError
from urbanform.network.graph import WalkGraph
from urbanform.network.snapping import Snapped

__all__ = [
    "distance_from_sources",
    "nearest_distance",
    "component_report",
    "end_costs",
    "via_nearer_end",
    "same_edge_walk_m",
]

logger = logging.getLogger(__name__)


def _check_cutoff(cutoff_m: float) -> float:
    cutoff = float(cutoff_m)
    if not cutoff >= 0:
        raise NetworkError(f"cutoff_m must be a distance >= 0 in metres; got {cutoff_m!r}")
    return cutoff


def _source_costs(
    graph: WalkGraph, sources: Snapped, extra_m: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Snapped sources' edge, offset and start cost (snap + extra), unsnapped dropped."""
    ok = sources.ok
    cost = sources.snap_m.astype(np.float64)
    if extra_m is not None:
        extra = np.broadcast_to(np.asarray(extra_m, dtype=np.float64), cost.shape)
        cost = cost + extra
    ok = ok & np.isfinite(cost)
    edge = sources.edge[ok]
    return edge, sources.offset_m[ok], cost[ok], ok


def end_costs(
    graph: WalkGraph, edge: np.ndarray, offset_m: np.ndarray, cost_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where walks from points on edges enter the graph's nodes, and at what cost.

    A point at ``offset_m`` along its ``edge`` (from the ``u`` end), already ``cost_m``
    into its walk (snap distance and any extra), reaches the ``u`` end after
    ``cost_m + offset_m`` and the ``v`` end after ``cost_m + length - offset_m``.

    Returns
    -------
    tuple
        ``(2 n,)`` node indices (every ``u`` end, then every ``v`` end) and their costs
        in metres.

    Examples
    --------
    >>> from urbanform.network import graph_from_arrays
    >>> g = graph_from_arrays([[0, 0], [100, 0]], [0], [1], crs="EPSG:32648")
    >>> nodes, cost = end_costs(g, np.array([0]), np.array([30.0]), np.array([5.0]))
    >>> nodes.tolist(), cost.tolist()
    ([0, 1], [35.0, 75.0])
    """
    nodes = np.concatenate([graph.edge_u[edge], graph.edge_v[edge]])
    cost = np.concatenate([cost_m + offset_m, cost_m + graph.edge_length_m[edge] - offset_m])
    return nodes, cost


def via_nearer_end(
    graph: WalkGraph,
    edge: np.ndarray,
    offset_m: np.ndarray,
    dist_u: np.ndarray,
    dist_v: np.ndarray,
) -> np.ndarray:
    """Walk from a point on an edge to a destination through the nearer end of the edge.

    ``dist_u`` and ``dist_v`` are the network distances from the destination to the
    ``u`` and ``v`` end of each point's ``edge``; the point walks ``offset_m`` to the
    ``u`` end or ``length - offset_m`` to the ``v`` end, whichever sum is shorter
    (the snap distance is not included).

    Examples
    --------
    >>> from urbanform.network import graph_from_arrays
    >>> g = graph_from_arrays([[0, 0], [100, 0]], [0], [1], crs="EPSG:32648")
    >>> via_nearer_end(g, np.array([0]), np.array([30.0]), np.array([50.0]),
    ...                np.array([0.0])).tolist()
    [70.0]
    """
    via_u = dist_u + offset_m
    via_v = dist_v + (graph.edge_length_m[edge] - offset_m)
    return cast(np.ndarray, np.minimum(via_u, via_v))


def same_edge_walk_m(
    offset_m: np.ndarray, dest_offset_m: np.ndarray, dest_cost_m: np.ndarray
) -> np.ndarray:
    """Walk along a shared edge from a point to a destination on the same edge.

    Per pair: ``|offset_m - dest_offset_m| + dest_cost_m``, summed as
    :func:`nearest_distance` sums it (``(c - o_d) + o`` from a destination behind,
    ``(c + o_d) - o`` from one ahead), so both give the same floats.

    Examples
    --------
    >>> same_edge_walk_m(np.array([40.0, 40.0]), np.array([40.0, 10.0]),
    ...                  np.array([8.0, 2.0])).tolist()
    [8.0, 32.0]
    """
    o, o_d, c_d = offset_m, dest_offset_m, dest_cost_m
    behind = np.where(o_d <= o, (c_d - o_d) + o, np.inf)
    ahead = np.where(o_d >= o, (c_d + o_d) - o, np.inf)
    return np.minimum(behind, ahead)


def distance_from_sources(
    graph: WalkGraph,
    sources: Snapped,
    *,
    cutoff_m: float,
    source_extra_m: np.ndarray | None = None,
) -> np.ndarray:
    """Walking distance from the nearest source to every node, in one Dijkstra pass.

    Parameters
    ----------
    graph
        The walk graph.
    sources
        Snapped sources (unsnapped ones are ignored).
    cutoff_m
        Nodes farther than this get ``inf``; the search stops there.
    source_extra_m
        Optional cost added at each source (scalar or ``(n_sources,)``), in metres.

    Returns
    -------
    numpy.ndarray
        ``(n_nodes,)`` distance in metres: snap + along-edge offset + network path.

    Raises
    ------
    NetworkError
        If ``cutoff_m`` is negative or not a number.
    """
    cutoff = _check_cutoff(cutoff_m)
    edge, offset, cost, _ = _source_costs(graph, sources, source_extra_m)
    n = graph.n_nodes
    if edge.size == 0:
        return np.full(n, np.inf)
    nodes, weight = end_costs(graph, edge, offset, cost)
    start = np.full(n, np.inf)
    np.minimum.at(start, nodes, weight)
    linked = np.flatnonzero(start <= cutoff)
    if linked.size == 0:
        return np.full(n, np.inf)
    rank, base = graph.search_csgraph()
    data = np.concatenate([base.data, start[linked]])
    indices = np.concatenate([base.indices, rank[linked]])
    indptr = np.concatenate([base.indptr, [base.indptr[-1] + linked.size]])
    ext = sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))
    dist = dijkstra(ext, directed=True, indices=n, limit=cutoff)
    out = dist[rank]  # back to the graph's node order
    out[out > cutoff] = np.inf
    return cast(np.ndarray, out)


def _same_edge_distance(
    o_edge: np.ndarray, o_off: np.ndarray, d_edge: np.ndarray, d_off: np.ndarray, d_cost: np.ndarray
) -> np.ndarray:
    """Per origin: min over destinations on its edge of |offset difference| + destination cost.

    min_d |o - o_d| + c_d = min(o + min_{o_d <= o}(c_d - o_d), -o + min_{o_d >= o}(c_d + o_d)),
    computed with grouped running minima over origins and destinations sorted together
    (the pairwise form, with the same sums, is :func:`same_edge_walk_m`).
    """
    n_o = o_edge.size
    edge = np.concatenate([o_edge, d_edge])
    off = np.concatenate([o_off, d_off])
    is_dest = np.concatenate([np.zeros(n_o, bool), np.ones(d_edge.size, bool)])
    best = np.full(n_o, np.inf)
    for sign in (1.0, -1.0):
        # ascending offsets for the left side, descending for the right side; on ties
        # destinations come first so that a destination at the same offset counts
        order = np.lexsort((~is_dest, sign * off, edge))
        val = np.where(is_dest, np.concatenate([np.zeros(n_o), d_cost]) - sign * off, np.inf)
        run = pd.Series(val[order]).groupby(edge[order]).cummin().to_numpy()
        pos = order < n_o
        cand = np.empty(n_o)
        cand[order[pos]] = run[pos] + sign * off[order[pos]]
        best = np.minimum(best, cand)
    return best


def nearest_distance(
    graph: WalkGraph, origins: Snapped, destinations: Snapped, *, cutoff_m: float
) -> np.ndarray:
    """Walking distance from each origin to its nearest destination.

    Parameters
    ----------
    graph
        The walk graph.
    origins, destinations
        Snapped points (see :func:`~urbanform.network.snap_points`).
    cutoff_m
        Distances above this are returned as ``inf``.

    Returns
    -------
    numpy.ndarray
        ``(n_origins,)`` snap + along-edge + network + along-edge + snap, in metres;
        ``inf`` where the origin is unsnapped, unreachable or beyond ``cutoff_m``.

    Raises
    ------
    NetworkError
        If ``cutoff_m`` is negative or not a number.

    Examples
    --------
    >>> import numpy as np
    >>> from urbanform.network import graph_from_arrays, snap_points
    >>> g = graph_from_arrays([[0, 0], [100, 0], [100, 100]], [0, 1], [1, 2], crs="EPSG:32648")
    >>> o = snap_points(g, np.array([[20.0, 3.0]]))
    >>> d = snap_points(g, np.array([[96.0, 60.0]]))
    >>> nearest_distance(g, o, d, cutoff_m=1000).tolist()  # 3 + 80 + 60 + 4
    [147.0]
    """
    cutoff = _check_cutoff(cutoff_m)
    node_dist = distance_from_sources(graph, destinations, cutoff_m=cutoff)
    out = np.full(len(origins), np.inf)
    ok = origins.ok
    e, off, snap = origins.edge[ok], origins.offset_m[ok], origins.snap_m[ok]
    best = via_nearer_end(graph, e, off, node_dist[graph.edge_u[e]], node_dist[graph.edge_v[e]])
    d_edge, d_off, d_cost, _ = _source_costs(graph, destinations, None)
    shared = np.isin(e, d_edge)
    if shared.any():
        direct = _same_edge_distance(e[shared], off[shared], d_edge, d_off, d_cost)
        best[shared] = np.minimum(best[shared], direct)
    total = best + snap
    total[total > cutoff] = np.inf
    out[ok] = total
    return out


def component_report(
    graph: WalkGraph, origins: Snapped, weights: np.ndarray | None = None
) -> pd.DataFrame:
    """What lies on the connected components outside the largest one.

    Parameters
    ----------
    graph
        The walk graph.
    origins
        Snapped origins (population units, ...).
    weights
        ``(n_origins,)`` weight of each origin (population); 1 each when None.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``component`` (every label but 0), columns ``n_nodes``, ``n_edges``,
        ``n_origins`` and ``weight``; sorted by weight, then size, descending.
    """
    w = np.ones(len(origins)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(origins),):
        raise NetworkError(
            f"component_report: weights have shape {w.shape}, expected ({len(origins)},)"
        )
    n_comp = int(graph.component.max()) + 1 if graph.n_nodes else 0
    ok = origins.ok
    comp_o = graph.component[graph.edge_u[origins.edge[ok]]]
    frame = pd.DataFrame(
        {
            "n_nodes": np.bincount(graph.component, minlength=n_comp),
            "n_edges": np.bincount(graph.component[graph.edge_u], minlength=n_comp),
            "n_origins": np.bincount(comp_o, minlength=n_comp),
            "weight": np.bincount(comp_o, weights=np.nan_to_num(w[ok]), minlength=n_comp),
        },
        index=pd.RangeIndex(n_comp, name="component"),
    ).iloc[1:]
    return frame.sort_values(["weight", "n_nodes"], ascending=False, kind="stable")
