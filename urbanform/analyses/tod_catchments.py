"""Per-station walking distances and catchment pieces, many stations per network pass.

The ``tod`` analysis needs, for every station on its own, the walking distance to the
station's nearest entrance (for the residents and jobs of that station) and the street
pieces walkable within each ring radius (for the catchment polygon). One search per
station and ring repeats the set-up work on the whole graph each time; here stations are
grouped in spatial batches and each batch is searched in one compiled Dijkstra call
(:func:`scipy.sparse.csgraph.dijkstra` with one virtual source per station and
``limit`` = the largest radius) on the part of the graph the batch can reach: the nodes
within the radius of an entrance in a straight line (a walk is never shorter than the
straight line, so no walk within the radius leaves that part). The distances are the
same floats as :func:`urbanform.network.nearest_distance` and
:func:`urbanform.network.reached_edges` give station by station: both use the walking
arithmetic of :mod:`urbanform.network` (:func:`~urbanform.network.end_costs`,
:func:`~urbanform.network.via_nearer_end`, :func:`~urbanform.network.same_edge_walk_m`,
:func:`~urbanform.network.reach_intervals`).

The catchment polygons (buffer the pieces, dissolve them per station, clip to the
circle) stay one GEOS union per station and ring, exactly as before; a whole edge is
buffered once for every station and ring that walks it (:func:`piece_bands`). GEOS runs
without the GIL, so stations are dissolved on a few threads (:data:`POLYGON_THREADS`).
The cheaper unions tried (one buffer of a MultiLineString, merged or simplified pieces,
``grid_size``, pre-unioned groups, faces of the street graph) were slower or changed
the polygons; benchmarks/README.md has the figures.

Only the units within reach of an entrance in a straight line are snapped
(:func:`snap_within_reach`): a walk is never shorter than the straight line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from urbanform.network import (
    Snapped,
    WalkGraph,
    end_costs,
    merge_intervals,
    near_street,
    reach_intervals,
    same_edge_walk_m,
    snap_points,
    substrings,
    via_nearer_end,
)
from urbanform.threads import in_chunks, thread_count

__all__ = [
    "StationSources",
    "DistanceBatch",
    "Pieces",
    "distance_batches",
    "pair_distances",
    "reached_pieces",
    "piece_geometries",
    "piece_bands",
    "concat_pieces",
    "station_walks",
    "snap_within_reach",
    "threaded_intersection",
    "threaded_buffer",
    "catchment_polygons",
]

log = logging.getLogger(__name__)

MAX_BATCH_CELLS = 1 << 22
"""Largest distance matrix of one batch (stations x local nodes), ~32 MB of float64."""

MAX_BATCH_STATIONS = 64
"""Most stations searched in one Dijkstra call."""

BAND_QUAD_SEGS = 4
"""Segments per quarter circle of the buffered pieces' round caps and joins."""

POLYGON_THREADS = thread_count(4)
"""Threads dissolving catchment polygons (GEOS work runs without the GIL)."""

_MARGIN_M = 1.0  # extra straight-line reach (local graph, units snapped), against rounding


@dataclass(frozen=True)
class StationSources:
    """Entrances of the stations, snapped to the walk graph.

    Attributes
    ----------
    station
        ``(n_entrances,)`` row of each entrance's station, in ``0 .. n_stations - 1``.
    xy
        ``(n_entrances, 2)`` entrance coordinates in the graph's CRS.
    snapped
        The entrances snapped to the graph (unsnapped ones reach nothing).
    n_stations
        Number of stations.
    """

    station: np.ndarray
    xy: np.ndarray
    snapped: Snapped
    n_stations: int

    def live(self) -> np.ndarray:
        """Mask of the entrances that start walks: snapped, with a finite snap distance."""
        return cast(np.ndarray, self.snapped.ok & np.isfinite(self.snapped.snap_m))


@dataclass(frozen=True)
class DistanceBatch:
    """Walking distances from a batch of stations to the nodes of their local graph.

    Attributes
    ----------
    stations
        ``(k,)`` station rows.
    nodes
        ``(m,)`` graph node index of each local node (sorted).
    dist_m
        ``(k, m + 1)`` distance from each station's nearest entrance (snap and along-edge
        parts included) to each local node, ``inf`` beyond the cut-off; the last column
        is ``inf`` and stands for every node outside the local graph.
    local
        ``(n_nodes,)`` column of each graph node in ``dist_m`` (``m`` when not local).
    """

    stations: np.ndarray
    nodes: np.ndarray
    dist_m: np.ndarray
    local: np.ndarray


@dataclass(frozen=True)
class Pieces:
    """Reached street pieces: one row per station, edge and merged interval."""

    station: np.ndarray
    edge: np.ndarray
    start_m: np.ndarray
    end_m: np.ndarray


def _groups(
    graph: WalkGraph, src: StationSources, *, cutoff_m: float, max_cells: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Spatially ordered station batches and the local nodes each batch can reach."""
    tree = cKDTree(graph.node_xy)
    live = src.live()
    near = tree.query_ball_point(src.xy[live], r=cutoff_m + _MARGIN_M)
    ent_st = src.station[live]
    per_station: list[list[np.ndarray]] = [[] for _ in range(src.n_stations)]
    for s, idx in zip(ent_st, near, strict=True):
        per_station[s].append(np.asarray(idx, dtype=np.int64))
    # strips of twice the cut-off, west to east inside each strip
    cx = np.bincount(ent_st, weights=src.xy[live, 0], minlength=src.n_stations)
    cy = np.bincount(ent_st, weights=src.xy[live, 1], minlength=src.n_stations)
    cnt = np.maximum(np.bincount(ent_st, minlength=src.n_stations), 1)
    strip = np.floor(cy / cnt / max(2.0 * cutoff_m, 1.0))
    order = [s for s in np.lexsort((cx / cnt, strip)) if per_station[s]]
    seen = np.zeros(graph.n_nodes, dtype=bool)
    batch: list[int] = []
    parts: list[np.ndarray] = []
    m = 0
    for s in order:
        mine = per_station[s][0] if len(per_station[s]) == 1 else np.unique(
            np.concatenate(per_station[s]))
        fresh = mine[~seen[mine]]
        if batch and ((len(batch) + 1) * (m + fresh.size) > max_cells
                      or len(batch) >= MAX_BATCH_STATIONS):
            nodes = np.sort(np.concatenate(parts))
            yield np.array(batch), nodes
            seen[nodes] = False
            batch, parts, m, fresh = [], [], 0, mine
        seen[fresh] = True
        batch.append(int(s))
        parts.append(fresh)
        m += fresh.size
    if batch:
        yield np.array(batch), np.sort(np.concatenate(parts))


def _start_matrix(
    graph: WalkGraph, src: StationSources, stations: np.ndarray, local: np.ndarray, m: int
) -> np.ndarray:
    """``(k, m)`` cost of entering each local node straight from each station's entrances."""
    k = stations.size
    row = np.full(src.n_stations, -1)
    row[stations] = np.arange(k)
    live = src.live() & (row[src.station] >= 0)
    edge, off = src.snapped.edge[live], src.snapped.offset_m[live]
    cost = src.snapped.snap_m[live].astype(np.float64)
    r = np.tile(row[src.station[live]], 2)
    nodes, weight = end_costs(graph, edge, off, cost)
    start = np.full(k * m, np.inf)
    col = local[nodes]
    ok = col < m
    np.minimum.at(start, r[ok] * m + col[ok], weight[ok])
    return start.reshape(k, m)


def distance_batches(
    graph: WalkGraph,
    src: StationSources,
    *,
    cutoff_m: float,
    max_cells: int = MAX_BATCH_CELLS,
) -> Iterator[DistanceBatch]:
    """Walking distances from every station, a spatial batch of stations at a time.

    Parameters
    ----------
    graph
        The walk graph.
    src
        The stations' entrances.
    cutoff_m
        Largest distance of interest; farther nodes get ``inf`` and the search stops.
    max_cells
        Bound on ``stations x local nodes`` of one batch (memory: 8 bytes a cell).

    Yields
    ------
    DistanceBatch
        Stations without a snapped entrance appear in no batch.
    """
    base = graph.csgraph()
    for stations, nodes in _groups(graph, src, cutoff_m=cutoff_m, max_cells=max_cells):
        m, k = nodes.size, stations.size
        local = np.full(graph.n_nodes, m, dtype=np.int64)
        local[nodes] = np.arange(m)
        sub = base[nodes][:, nodes].tocsr()
        start = _start_matrix(graph, src, stations, local, m)
        rows, cols = np.nonzero(start <= cutoff_m)
        counts = np.bincount(rows, minlength=k)
        ext = sp.csr_matrix(
            (
                np.concatenate([sub.data, start[rows, cols]]),
                np.concatenate([sub.indices, cols.astype(sub.indices.dtype)]),
                np.concatenate([sub.indptr, sub.indptr[-1] + np.cumsum(counts)]),
            ),
            shape=(m + k, m + k),
        )
        dist = dijkstra(ext, directed=True, indices=np.arange(m, m + k), limit=cutoff_m)
        dist[:, m:] = np.inf  # the virtual sources; column m then stands for "not local"
        dist = dist[:, : m + 1]
        dist[dist > cutoff_m] = np.inf
        yield DistanceBatch(stations, nodes, dist, local)


def _same_edge_m(
    graph: WalkGraph, src: StationSources, st: np.ndarray, edge: np.ndarray, off: np.ndarray
) -> np.ndarray:
    """Per pair: walk along the shared edge to the nearest entrance of the station on it.

    ``min(|o - o_d| + c_d)`` over the station's entrances ``d`` on the pair's edge
    (:func:`urbanform.network.same_edge_walk_m`); ``inf`` without one.
    """
    out = np.full(st.size, np.inf)
    live = src.live()
    d_key = src.station[live] * np.int64(graph.n_edges) + src.snapped.edge[live]
    p_key = st * np.int64(graph.n_edges) + edge
    shared = np.flatnonzero(np.isin(p_key, d_key))
    if shared.size == 0:
        return out
    ent = pd.DataFrame(
        {"key": d_key, "o_d": src.snapped.offset_m[live], "c_d": src.snapped.snap_m[live]}
    )
    pairs = pd.DataFrame({"key": p_key[shared], "pair": shared, "o": off[shared]})
    j = pairs.merge(ent, on="key")
    walk = same_edge_walk_m(j["o"].to_numpy(), j["o_d"].to_numpy(), j["c_d"].to_numpy())
    best = pd.Series(walk).groupby(j["pair"].to_numpy()).min()
    out[best.index.to_numpy()] = best.to_numpy()
    return out


def pair_distances(
    graph: WalkGraph,
    batch: DistanceBatch,
    src: StationSources,
    units: Snapped,
    st: np.ndarray,
    ui: np.ndarray,
    *,
    cutoff_m: float,
) -> np.ndarray:
    """Walking distance of each (station, unit) pair to the station's nearest entrance.

    Parameters
    ----------
    graph, batch, src
        The walk graph, one distance batch and the stations' entrances.
    units
        The snapped units (residents, jobs).
    st, ui
        Station row and unit row of each pair; every ``st`` must be in the batch.
    cutoff_m
        Distances above this are ``inf`` (at most the batch's cut-off).

    Returns
    -------
    numpy.ndarray
        ``(n_pairs,)`` snap + along-edge + network + along-edge + snap, in metres, as
        :func:`urbanform.network.nearest_distance` gives it for the station alone.
    """
    row = np.full(src.n_stations, -1)
    row[batch.stations] = np.arange(batch.stations.size)
    out = np.full(st.size, np.inf)
    ok = units.ok[ui]
    s, e = row[st[ok]], units.edge[ui[ok]]
    off, snap = units.offset_m[ui[ok]], units.snap_m[ui[ok]]
    dist_u = batch.dist_m[s, batch.local[graph.edge_u[e]]]
    dist_v = batch.dist_m[s, batch.local[graph.edge_v[e]]]
    via_end = via_nearer_end(graph, e, off, dist_u, dist_v)
    best = np.minimum(via_end, _same_edge_m(graph, src, st[ok], e, off))
    total = best + snap
    total[total > cutoff_m] = np.inf
    out[ok] = total
    return out


def _node_edges(graph: WalkGraph) -> tuple[np.ndarray, np.ndarray]:
    """Edge ends by node (CSR): ``ends[ptr[i]:ptr[i + 1]]`` = ``2 * edge + (end is v)``."""
    node = np.concatenate([graph.edge_u, graph.edge_v])
    end = np.concatenate([2 * np.arange(graph.n_edges), 2 * np.arange(graph.n_edges) + 1])
    order = np.argsort(node, kind="stable")
    ptr = np.zeros(graph.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(node, minlength=graph.n_nodes), out=ptr[1:])
    return end[order], ptr


def reached_pieces(
    graph: WalkGraph,
    batch: DistanceBatch,
    src: StationSources,
    *,
    cutoff_m: float,
    node_edges: tuple[np.ndarray, np.ndarray] | None = None,
) -> Pieces:
    """The parts of edges walkable within ``cutoff_m`` of each station of the batch.

    The same intervals as :func:`urbanform.network.reached_edges` for each station alone:
    from a reached end of an edge as far as the remaining distance goes, and both ways
    along an entrance's own edge; overlapping intervals merged. ``node_edges`` is the
    graph's edge ends by node (computed when not given; pass it for many batches).
    """
    k = batch.stations.size
    # (station, node) pairs within reach, then every edge at such a node: from the u end
    # as far as the remaining distance goes, or up to the v end
    si, col = np.nonzero(cutoff_m - batch.dist_m > 0)
    reach = cutoff_m - batch.dist_m[si, col]
    ends, ptr = _node_edges(graph) if node_edges is None else node_edges
    node = batch.nodes[col]
    deg = ptr[node + 1] - ptr[node]
    at = np.repeat(ptr[node] - np.cumsum(np.r_[0, deg[:-1]]), deg) + np.arange(deg.sum())
    e_end = ends[at]  # edge * 2 + (0 at its u end, 1 at its v end)
    sx, rx, e, is_v = np.repeat(si, deg), np.repeat(reach, deg), e_end // 2, e_end % 2 == 1
    su, eu, ru = sx[~is_v], e[~is_v], rx[~is_v]
    sv, ev, rv = sx[is_v], e[is_v], rx[is_v]
    row = np.full(src.n_stations, -1)
    row[batch.stations] = np.arange(k)
    live = src.live() & (row[src.station] >= 0)
    s_reach = cutoff_m - src.snapped.snap_m[live]
    go = s_reach > 0
    ss, se = row[src.station[live]][go], src.snapped.edge[live][go]
    s_off, s_reach = src.snapped.offset_m[live][go], s_reach[go]
    station = np.concatenate([su, sv, ss])
    edge, start, end = reach_intervals(graph, (eu, ru), (ev, rv), (se, s_off, s_reach))
    n_e = np.int64(graph.n_edges)
    key, start, end = merge_intervals(station * n_e + edge, start, end)
    keep = end > start
    key, start, end = key[keep], start[keep], end[keep]
    return Pieces(batch.stations[key // n_e], key % n_e, start, end)


def piece_geometries(graph: WalkGraph, pieces: Pieces) -> np.ndarray:
    """LineStrings of the pieces: whole edges as they are, parts cut with substrings."""
    length = graph.edge_length_m[pieces.edge]
    full = (pieces.start_m <= 0.0) & (pieces.end_m >= length)
    geoms = graph.edge_geometry[pieces.edge].copy()
    part = ~full
    if part.any():
        geoms[part] = substrings(geoms[part], pieces.start_m[part], pieces.end_m[part])
    return cast(np.ndarray, geoms)


def piece_bands(
    graph: WalkGraph, pieces: dict[float, Pieces], *, buffer_m: float
) -> dict[float, np.ndarray]:
    """The pieces of every ring buffered by ``buffer_m``, each whole edge buffered once.

    A piece covering its whole edge is the edge's geometry (:func:`piece_geometries`), so
    its band is the same for every station and ring that walks the edge; it is buffered
    once and shared. Parts of edges are buffered one by one.

    Returns
    -------
    dict
        Per ring, ``(n_pieces,)`` polygons in the order of its pieces.
    """
    full = {
        r: (p.start_m <= 0.0) & (p.end_m >= graph.edge_length_m[p.edge]) for r, p in pieces.items()
    }
    edges = np.unique(
        np.concatenate([p.edge[full[r]] for r, p in pieces.items()] + [[]]).astype(np.int64)
    )
    edge_bands = threaded_buffer(graph.edge_geometry[edges], buffer_m)
    out = {}
    for r, p in pieces.items():
        bands = np.empty(p.edge.size, dtype=object)
        bands[full[r]] = edge_bands[np.searchsorted(edges, p.edge[full[r]])]
        part = ~full[r]
        cut = substrings(graph.edge_geometry[p.edge[part]], p.start_m[part], p.end_m[part])
        bands[part] = threaded_buffer(np.asarray(cut, dtype=object), buffer_m)
        out[r] = bands
    return out


def concat_pieces(parts: list[Pieces]) -> Pieces:
    """Pieces of several batches in one, sorted by station (then edge and start)."""
    if not parts:
        z = np.zeros(0)
        return Pieces(z.astype(np.int64), z.astype(np.int64), z, z)
    station = np.concatenate([p.station for p in parts])
    order = np.argsort(station, kind="stable")
    return Pieces(
        station[order],
        np.concatenate([p.edge for p in parts])[order],
        np.concatenate([p.start_m for p in parts])[order],
        np.concatenate([p.end_m for p in parts])[order],
    )


def catchment_polygons(
    bands: np.ndarray, station: np.ndarray, circles: np.ndarray, *, threads: int | None = None
) -> np.ndarray:
    """Union of each station's buffered pieces, clipped to its straight-line circle.

    GEOS releases the GIL, so stations are dissolved on several threads; each station's
    polygon is computed exactly as on one thread.

    Parameters
    ----------
    bands
        Buffered pieces (polygons), sorted by ``station``.
    station
        Station row of each band.
    circles
        ``(n_stations,)`` straight-line circle (union of circles around the entrances).
    threads
        Worker threads; default :data:`POLYGON_THREADS`.

    Returns
    -------
    numpy.ndarray
        ``(n_stations,)`` polygons; an empty polygon for a station without pieces.
    """
    n = circles.size
    bounds = np.searchsorted(station, np.arange(n + 1))
    out = np.array([shapely.Polygon()] * n, dtype=object)
    busy = np.flatnonzero(np.diff(bounds) > 0)

    def dissolve(s: int) -> shapely.Geometry:
        # buffer piece by piece, then union: GEOS buffers one big noded multi-line slowly
        return shapely.intersection(shapely.union_all(bands[bounds[s] : bounds[s + 1]]), circles[s])

    workers = POLYGON_THREADS if threads is None else max(1, int(threads))
    if workers == 1 or busy.size < 2:  # pragma: no mutate - thread choice only
        polys = [dissolve(int(s)) for s in busy]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:  # pragma: no mutate - threads only
            polys = list(pool.map(dissolve, busy))
    out[busy] = polys
    return out


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``concatenate([arange(a, b) for a, b in zip(lo, hi)])``, without the loop."""
    n = hi - lo
    return np.repeat(lo - np.cumsum(n) + n, n) + np.arange(n.sum())


def station_walks(
    graph: WalkGraph,
    src: StationSources,
    units: Snapped,
    st: np.ndarray,
    ui: np.ndarray,
    *,
    radii_m: list[float],
    max_cells: int = MAX_BATCH_CELLS,
) -> tuple[np.ndarray, dict[float, Pieces]]:
    """Pair distances and the reached pieces of every ring, one network pass per batch.

    Parameters
    ----------
    graph, src, units
        The walk graph, the stations' entrances and the snapped units.
    st, ui
        Station row and unit row of each (station, unit) pair to measure.
    radii_m
        Ring radii; the largest is the cut-off of the pair distances.
    max_cells
        Memory bound of one batch (see :func:`distance_batches`).

    Returns
    -------
    tuple
        ``(n_pairs,)`` walking distances (``inf`` beyond the largest radius) and, per
        radius, the :class:`Pieces` walked within it, sorted by station.
    """
    r_max = max(radii_m)
    d = np.full(st.size, np.inf)
    parts: dict[float, list[Pieces]] = {r: [] for r in radii_m}
    n_batches = 0
    node_edges = _node_edges(graph)
    # pairs grouped by station once: a batch takes its stations' rows, not a scan of all pairs
    by_station = np.argsort(st, kind="stable")
    first = np.searchsorted(st[by_station], np.arange(src.n_stations + 1))
    for batch in distance_batches(graph, src, cutoff_m=r_max, max_cells=max_cells):
        sel = by_station[_ranges(first[batch.stations], first[batch.stations + 1])]
        d[sel] = pair_distances(graph, batch, src, units, st[sel], ui[sel], cutoff_m=r_max)
        for r in radii_m:
            parts[r].append(
                reached_pieces(graph, batch, src, cutoff_m=r, node_edges=node_edges)
            )
        n_batches += 1
    log.info("tod: %d stations searched in %d batches", src.n_stations, n_batches)
    return d, {r: concat_pieces(v) for r, v in parts.items()}


def _in_chunks(
    fn: Callable[[slice], np.ndarray], n: int, *, chunk: int, threads: int | None
) -> list[np.ndarray]:
    """``fn(slice)`` over ``range(n)`` cut in chunks, on :data:`POLYGON_THREADS` threads."""
    workers = POLYGON_THREADS if threads is None else max(1, int(threads))
    return in_chunks(fn, n, chunk=chunk, threads=workers)


def threaded_intersection(
    a: np.ndarray,
    b: np.ndarray,
    *,
    threads: int | None = None,
    chunk: int = 2048,  # pragma: no mutate - chunk size only: pairs are intersected one by one
) -> np.ndarray:
    """``shapely.intersection(a, b)`` element-wise, in chunks on several threads.

    The same geometries as one call (each pair is intersected on its own either way).
    """
    parts = _in_chunks(lambda s: shapely.intersection(a[s], b[s]), a.size, chunk=chunk,
                       threads=threads)  # pragma: no mutate - thread count only
    return np.asarray(np.concatenate(parts), dtype=object)


def threaded_buffer(
    lines: np.ndarray,
    distance_m: float,
    *,
    threads: int | None = None,
    chunk: int = 4096,  # pragma: no mutate - chunk size only: lines are buffered one by one
) -> np.ndarray:
    """``shapely.buffer(lines, distance_m, quad_segs=BAND_QUAD_SEGS)``, chunks on threads.

    The same polygons as one call (each line is buffered on its own either way).
    """
    parts = _in_chunks(lambda s: shapely.buffer(lines[s], distance_m, quad_segs=BAND_QUAD_SEGS),
                       lines.size, chunk=chunk, threads=threads)
    return np.asarray(np.concatenate(parts), dtype=object)


def snap_within_reach(
    graph: WalkGraph,
    units: gpd.GeoSeries,
    entrance_xy: np.ndarray,
    *,
    reach_m: float,
    max_snap_m: float,
    min_piece_share: float = 0.0,
) -> tuple[Snapped, np.ndarray]:
    """Snap the units within ``reach_m`` of an entrance in a straight line; check the rest.

    A walk is never shorter than the straight line, so a unit farther than ``reach_m``
    (+ 1 m against rounding) from every entrance is out of reach whatever its snap; it
    stays unsnapped, and is only checked for a street within ``max_snap_m``
    (:func:`urbanform.network.near_street`, for the warning about units off the streets).
    Both run in chunks on :data:`POLYGON_THREADS` threads; the graph's snapping index is
    built by the first snap (the caller snaps the entrances first).

    Returns
    -------
    tuple
        The units snapped (unsnapped beyond reach) and the ``(n,)`` mask of the units
        :func:`urbanform.network.snap_points` would snap.
    """
    xy = np.stack([shapely.get_x(units.values), shapely.get_y(units.values)], axis=1)
    finite = np.isfinite(xy).all(axis=1)
    near = np.zeros(len(units), dtype=bool)
    if finite.any() and len(entrance_xy):
        d, _ = cKDTree(entrance_xy).query(xy[finite], k=1, distance_upper_bound=reach_m + _MARGIN_M)
        near[finite] = np.isfinite(d)
    inside, outside = np.flatnonzero(near), np.flatnonzero(~near)
    workers = POLYGON_THREADS
    # each point is snapped on its own, so chunks on threads give the same snaps
    with ThreadPoolExecutor(max_workers=workers) as pool:  # pragma: no mutate - thread count only
        snapped = pool.map(lambda i: snap_points(graph, units.iloc[i], max_snap_m=max_snap_m,
                                                 min_piece_share=min_piece_share),
                           np.array_split(inside, workers))
        checked = pool.map(lambda i: near_street(graph, units.iloc[i], max_snap_m=max_snap_m,
                                                 min_piece_share=min_piece_share),
                           np.array_split(outside, workers))
        parts, on_far = list(snapped), list(checked)
    edge = np.full(len(units), -1, dtype=np.int64)
    offset, snap_m = np.zeros(len(units)), np.full(len(units), np.inf)
    edge[inside] = np.concatenate([p.edge for p in parts])
    offset[inside] = np.concatenate([p.offset_m for p in parts])
    snap_m[inside] = np.concatenate([p.snap_m for p in parts])
    on_street = edge >= 0
    on_street[outside] = np.concatenate(on_far)
    island = None  # the units snapped past a skipped small piece (within reach only)
    if any(p.island is not None for p in parts):
        island = np.zeros(len(units), dtype=bool)
        island[inside] = np.concatenate(
            [p.island if p.island is not None else np.zeros(len(p), bool) for p in parts]
        )
    log.info("tod: %d of %d units within reach of an entrance snapped", int(near.sum()), len(units))
    return Snapped(edge, offset, snap_m, island), on_street
