"""Attach points to the walk graph at the nearest point of the nearest edge."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy.spatial import cKDTree

from urbanform.errors import CRSError, NetworkError
from urbanform.network.graph import WalkGraph
from urbanform.threads import in_chunks, thread_count

__all__ = ["Snapped", "island_warning", "main_edges", "near_street", "snap_points"]

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
    island: np.ndarray | None = None
    """``(n,)`` True where the point's nearest street within reach is a skipped small piece
    (see ``min_piece_share`` of :func:`snap_points`); ``None`` when nothing was skipped."""

    @property
    def n_island(self) -> int:
        """How many points would have snapped onto a skipped small piece of network."""
        return 0 if self.island is None else int(self.island.sum())

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
        island = None if self.island is None else self.island[mask]
        return Snapped(self.edge[mask], self.offset_m[mask], self.snap_m[mask], island)

    @staticmethod
    def concat(parts: list[Snapped]) -> Snapped:
        """The points of ``parts``, one after the other (each point snaps on its own)."""
        islands = [p.island for p in parts]
        island = None
        if any(i is not None for i in islands):
            island = np.concatenate([
                np.zeros(len(p), dtype=bool) if i is None else i
                for p, i in zip(parts, islands, strict=True)
            ])
        return Snapped(
            np.concatenate([p.edge for p in parts]),
            np.concatenate([p.offset_m for p in parts]),
            np.concatenate([p.snap_m for p in parts]),
            island,
        )


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
        # GEOS >= 3.12 refuses the x of an empty point: read present points only
        xy = np.full((geoms.size, 2), np.nan)
        xy[present, 0] = shapely.get_x(geoms[present])
        xy[present, 1] = shapely.get_y(geoms[present])
        return xy
    xy = np.asarray(points, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise NetworkError(f"snap_points: expected an (n, 2) array of x, y; got shape {xy.shape}")
    return xy


_PIECE_M = 40.0  # edge pieces indexed by their midpoints are at most this long
_K = 8  # nearest piece midpoints examined per point first
_K_MORE = 48  # then for the points those left unsettled, before the exact fallback
_CHUNK = 131_072  # pragma: no mutate - points per pass: memory and speed only
_KD_THREADS = thread_count(2)  # pragma: no mutate - threads: the same answer


def main_edges(graph: WalkGraph, min_piece_share: float) -> np.ndarray | None:
    """Edge indices of the pieces holding at least ``min_piece_share`` of the network length.

    ``None`` when every edge qualifies (nothing to skip).

    Examples
    --------
    >>> from urbanform.network import graph_from_arrays
    >>> g = graph_from_arrays([[0, 0], [1000, 0], [0, 50], [5, 50]], [0, 2], [1, 3],
    ...     crs="EPSG:32648")
    >>> main_edges(g, 0.01).tolist(), main_edges(g, 0.0)
    ([0], None)
    """
    if min_piece_share <= 0 or graph.n_edges == 0:
        return None
    comp = graph.component[graph.edge_u]
    length = np.bincount(comp, weights=graph.edge_length_m)
    big = length >= min_piece_share * graph.edge_length_m.sum()
    keep = big[comp]
    return None if keep.all() else np.flatnonzero(keep)


def _segments(graph: WalkGraph, edges: np.ndarray | None = None) -> dict[str, Any]:
    """Straight segments of the edges (edge, offset along it) and a k-d tree of piece midpoints.

    Each segment is cut into pieces no longer than ``_PIECE_M``; the nearest point of a
    segment is within ``_PIECE_M / 2`` of one of its pieces' midpoints. ``edges`` limits
    the segments to those edges (default: all). Built once per edge set, cached.
    """
    key = "segments" if edges is None else f"segments:{len(edges)}:{hash(edges.tobytes())}"
    if key not in graph._cache:
        geoms = graph.edge_geometry if edges is None else graph.edge_geometry[edges]
        coords, eid = shapely.get_coordinates(geoms, return_index=True)
        if edges is not None:
            eid = edges[eid]
        s0 = np.flatnonzero(eid[1:] == eid[:-1])
        p0, d = coords[s0], coords[s0 + 1] - coords[s0]
        seg_len = np.hypot(d[:, 0], d[:, 1])
        cum = np.cumsum(np.r_[0.0, seg_len])[:-1]
        first = np.r_[True, eid[s0][1:] != eid[s0][:-1]]
        off0 = cum - cum[np.maximum.accumulate(np.where(first, np.arange(s0.size), 0))]
        k = np.maximum(np.ceil(seg_len / _PIECE_M).astype(np.int64), 1)
        seg_of_piece = np.repeat(np.arange(s0.size), k)
        j = np.arange(seg_of_piece.size) - np.repeat(np.cumsum(k) - k, k)
        frac = (j + 0.5) / k[seg_of_piece]
        mid = p0[seg_of_piece] + d[seg_of_piece] * frac[:, None]
        graph._cache[key] = {
            "p0": p0, "d": d, "len": seg_len, "edge": eid[s0], "off0": off0,
            "piece_seg": seg_of_piece, "kdtree": cKDTree(mid, balanced_tree=False),
        }  # fmt: skip
    segments: dict[str, Any] = graph._cache[key]
    return segments


def _pieces_within(seg: dict[str, Any], xy: np.ndarray, radius_m: float) -> tuple[np.ndarray, ...]:
    """(point, segment) pairs for every piece midpoint within ``radius_m`` of each point."""
    hits = seg["kdtree"].query_ball_point(xy, radius_m)
    counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    if counts.sum() == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pieces = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits if h])
    return np.repeat(np.arange(len(hits)), counts), seg["piece_seg"][pieces]


def _pick_nearest(
    seg: dict[str, Any], xy: np.ndarray, pi: np.ndarray, si: np.ndarray, radius_m: float
) -> tuple[np.ndarray, ...]:
    """Among candidate (point, segment) pairs, each point's nearest within ``radius_m``.

    Returns (point, edge, offset, distance); ties go to the lowest edge, then offset.
    Grouped minima (``np.minimum.reduceat``) instead of a sort keep this linear.
    """
    if pi.size == 0:
        return pi, pi, np.zeros(0), np.zeros(0)
    if np.any(pi[1:] < pi[:-1]):
        order = np.argsort(pi, kind="stable")
        pi, si = pi[order], si[order]
    rel = xy[pi] - seg["p0"][si]
    d = seg["d"][si]
    sq = np.einsum("ij,ij->i", d, d)
    t = np.clip(np.einsum("ij,ij->i", rel, d) / np.where(sq > 0, sq, 1.0), 0.0, 1.0)
    dist = np.hypot(*(rel - t[:, None] * d).T)
    edge = seg["edge"][si]
    offset = seg["off0"][si] + t * seg["len"][si]
    # per point (pairs are grouped by point): least distance, then edge, then offset
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    group = np.cumsum(np.r_[True, pi[1:] != pi[:-1]]) - 1
    best = np.minimum.reduceat(dist, starts)
    tie = dist == best[group]
    big = np.iinfo(np.int64).max
    best_edge = np.minimum.reduceat(np.where(tie, edge, big), starts)
    tie &= edge == best_edge[group]
    best_off = np.minimum.reduceat(np.where(tie, offset, np.inf), starts)
    ok = best <= radius_m
    return pi[starts][ok], best_edge[ok], best_off[ok], best[ok]


def _pick_nearest_k(
    seg: dict[str, Any], xy: np.ndarray, ik: np.ndarray, radius_m: float
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """:func:`_pick_nearest` for ``(n, k)`` k-d tree candidates, on 2-D arrays.

    Returns the found (point, edge, offset, distance) and every point's least distance
    (inf without candidate). The arithmetic is :func:`_pick_nearest`'s, element by element.
    """
    valid = ik < seg["piece_seg"].size
    si = seg["piece_seg"][np.where(valid, ik, 0)]
    p0, d = seg["p0"][si], seg["d"][si]
    rx, ry = xy[:, 0, None] - p0[..., 0], xy[:, 1, None] - p0[..., 1]
    dx, dy = d[..., 0], d[..., 1]
    del p0, d
    sq = dx * dx + dy * dy
    t = np.clip((rx * dx + ry * dy) / np.where(sq > 0, sq, 1.0), 0.0, 1.0)
    dist = np.hypot(rx - t * dx, ry - t * dy)
    dist[~valid] = np.inf
    best = dist.min(axis=1)
    tie = dist == best[:, None]
    edge = seg["edge"][si]
    best_edge = np.where(tie, edge, np.iinfo(np.int64).max).min(axis=1)
    tie &= edge == best_edge[:, None]
    offset = seg["off0"][si] + t * seg["len"][si]
    best_off = np.where(tie, offset, np.inf).min(axis=1)
    ok = np.flatnonzero(best <= radius_m)
    return (ok, best_edge[ok], best_off[ok], best[ok]), best


def _settle_chunk(
    seg: dict[str, Any],
    xy: np.ndarray,
    rest: np.ndarray,
    s: slice,
    *,
    k: int,
    max_snap_m: float,
    every: bool,
    workers: int,
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Points ``rest[s]`` on their ``k`` nearest pieces (the k-d tree on ``workers`` threads).

    Returns which of them are settled, and the settled ones' (point, edge, offset,
    distance).
    """
    part = xy[rest[s]]
    dk, ik = seg["kdtree"].query(
        part, k=k, distance_upper_bound=max_snap_m + _PIECE_M / 2, workers=workers
    )
    dk, ik = dk.reshape(part.shape[0], k), ik.reshape(part.shape[0], k)
    (pi, *rest_of), best = _pick_nearest_k(seg, part, ik, max_snap_m)
    # settled: no other piece is near enough, or every piece was a candidate
    ok = (dk[:, -1] == np.inf) | (best <= dk[:, -1] - _PIECE_M / 2) | every
    keep = ok[pi]
    return ok, (rest[s][pi[keep]], *(a[keep] for a in rest_of))


def _nearest_edges(
    graph: WalkGraph, xy: np.ndarray, max_snap_m: float, edges: np.ndarray | None = None
) -> tuple[np.ndarray, ...]:
    """Nearest edge within ``max_snap_m`` of each point: (point, edge, offset, distance).

    The ``_K`` nearest piece midpoints (k-d tree) give candidates; the answer is exact when
    the best distance is at most the ``_K``-th midpoint distance minus half a piece (no
    other segment can be nearer). The few other points try the ``_K_MORE`` nearest the
    same way, and the last few are searched exactly: every segment within ``max_snap_m``
    has a piece midpoint within ``max_snap_m + _PIECE_M / 2``. The answer is sorted by
    point.
    """
    seg = _segments(graph, edges)
    n_pieces = seg["piece_seg"].size
    found: list[tuple[np.ndarray, ...]] = []
    rest = np.arange(xy.shape[0] if n_pieces else 0)
    for k in (min(_K, n_pieces), min(_K_MORE, n_pieces)):  # the few unsettled: more candidates
        if rest.size == 0:
            break
        # (chunk, k) arrays stay in the CPU's cache; chunks run on _KD_THREADS threads
        # (numpy and the k-d tree work without the GIL), their answers kept in order; one
        # chunk gives the threads to its k-d tree query instead
        one = rest.size <= _CHUNK
        chunks = in_chunks(
            functools.partial(_settle_chunk, seg, xy, rest, k=k, max_snap_m=max_snap_m,
                              every=k == n_pieces, workers=_KD_THREADS if one else 1),
            rest.size, chunk=_CHUNK, threads=_KD_THREADS,
        )
        settled = np.concatenate([ok for ok, _ in chunks])
        found.extend(one for _, one in chunks)
        rest = rest[~settled]
    if rest.size:
        p2, s2 = _pieces_within(seg, xy[rest], max_snap_m + _PIECE_M / 2)
        found.append(_pick_nearest(seg, xy, rest[p2], s2, max_snap_m))
    if not found:
        return tuple(np.zeros(0, dtype=t) for t in (np.int64, np.int64, float, float))
    out = tuple(np.concatenate(a) for a in zip(*found, strict=True))
    order = np.argsort(out[0], kind="stable")  # by point, as one pass would give them
    return tuple(a[order] for a in out)


def snap_points(
    graph: WalkGraph,
    points: gpd.GeoSeries | np.ndarray,
    *,
    max_snap_m: float = 100.0,
    min_piece_share: float = 0.0,
) -> Snapped:
    """Snap each point to the nearest point on the nearest edge of ``graph``.

    The candidates come from a k-d tree of short edge pieces (cached on the graph),
    then exact point-segment distances pick the nearest, as ``STRtree.query_nearest``
    with ``max_distance`` would, but faster and without one shapely object per segment;
    the offset along the edge is measured on the nearest segment.

    Parameters
    ----------
    graph
        The walk graph.
    points
        A point GeoSeries (in the graph's CRS) or an ``(n, 2)`` array of x, y.
    max_snap_m
        Points farther than this from every edge stay unsnapped (``edge`` -1,
        ``snap_m`` inf); the caller counts and reports them.
    min_piece_share
        Connected pieces of the network holding less than this share of its total
        length (an underground passage, a courtyard path) are skipped: points snap to
        the larger pieces only, and :attr:`Snapped.island` marks the points whose
        nearest street was a skipped piece. 0 (the default here) skips nothing; the
        analyses pass their ``min_piece_share`` parameter (0.01).

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
    edges = main_edges(graph, min_piece_share)
    island = None
    if valid.size:
        pi, ei, off, dist = _nearest_edges(graph, xy[valid], max_snap_m, edges)
        idx = valid[pi]
        edge[idx] = ei
        snap[idx] = dist
        offset[idx] = np.clip(off, 0.0, graph.edge_length_m[ei])
        if edges is not None:  # nearer to a skipped piece than to the snap found?
            island = np.zeros(n, dtype=bool)
            small = np.setdiff1d(np.arange(graph.n_edges), edges, assume_unique=True)
            # only points with a small piece's midpoint within reach can be nearer to it
            reach = max_snap_m + _PIECE_M / 2
            d1, _ = _segments(graph, small)["kdtree"].query(
                xy[valid], k=1, distance_upper_bound=reach, workers=_KD_THREADS
            )
            near = valid[np.isfinite(d1)]
            if near.size:
                pa, _, _, da = _nearest_edges(graph, xy[near], max_snap_m, small)
                island[near[pa]] = da < snap[near[pa]]
    if (edge < 0).any():
        logger.info("snap: %d of %d points beyond %g m", int((edge < 0).sum()), n, max_snap_m)
    return Snapped(edge=edge, offset_m=offset, snap_m=snap, island=island)


def island_warning(snapped: Snapped, weight: np.ndarray, what: str, unit: str) -> list[str]:
    """A warning counting the points that would have snapped onto skipped small pieces.

    Examples
    --------
    >>> s = Snapped(np.array([0, 0]), np.zeros(2), np.ones(2), np.array([True, False]))
    >>> island_warning(s, np.array([40.0, 60.0]), "population units", "residents")[0][:44]
    '1 population units (40 residents) lie neares'
    """
    if not snapped.n_island:
        return []
    hit = snapped.island
    assert hit is not None
    return [
        f"{int(hit.sum())} {what} ({float(weight[hit].sum()):,.0f} {unit}) lie nearest to a "
        "small piece of street network cut off from the rest (under min_piece_share of its "
        "length) and were snapped to the main network instead"
    ]


def near_street(
    graph: WalkGraph,
    points: gpd.GeoSeries | np.ndarray,
    *,
    max_snap_m: float = 100.0,
    min_piece_share: float = 0.0,
) -> np.ndarray:
    """Which points :func:`snap_points` would snap, without snapping most of them.

    A point is near a street when an edge lies within ``max_snap_m``. Every edge piece's
    midpoint lies on its edge, so a midpoint closer than ``max_snap_m`` settles it, and
    none within ``max_snap_m`` + half a piece rules it out (see :func:`_nearest_edges`);
    only the points in between are snapped. The answer is ``snap_points(...).ok``.

    Parameters
    ----------
    graph
        The walk graph.
    points
        A point GeoSeries (in the graph's CRS) or an ``(n, 2)`` array of x, y.
    max_snap_m, min_piece_share
        As for :func:`snap_points`.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` boolean mask.

    Examples
    --------
    >>> import numpy as np
    >>> from urbanform.network import graph_from_arrays
    >>> g = graph_from_arrays([[0, 0], [100, 0]], [0], [1], crs="EPSG:32648")
    >>> near_street(g, np.array([[30.0, 4.0], [50.0, 500.0]]), max_snap_m=100).tolist()
    [True, False]
    """
    if not max_snap_m >= 0:
        raise NetworkError(f"near_street: max_snap_m must be >= 0; got {max_snap_m}")
    xy = _point_xy(graph, points)
    out = np.zeros(xy.shape[0], dtype=bool)
    valid = np.flatnonzero(np.isfinite(xy).all(axis=1))
    edges = main_edges(graph, min_piece_share)
    seg = _segments(graph, edges)
    # either branch answers snap_points(...).ok: the test below is a shortcut only
    if valid.size == 0 or seg["piece_seg"].size == 0:  # pragma: no mutate - shortcut only
        return snap_points(graph, xy, max_snap_m=max_snap_m, min_piece_share=min_piece_share).ok
    d, _ = seg["kdtree"].query(xy[valid], k=1, distance_upper_bound=max_snap_m + _PIECE_M / 2)
    sure = d <= max_snap_m * (1.0 - 1e-9)  # margin against rounding of the midpoints
    out[valid[sure]] = True
    unsure = valid[~sure & np.isfinite(d)]
    if unsure.size:
        out[unsure] = snap_points(
            graph, xy[unsure], max_snap_m=max_snap_m, min_piece_share=min_piece_share
        ).ok
    return out
