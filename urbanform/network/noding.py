"""Build a :class:`~urbanform.network.graph.WalkGraph` from street lines.

Street centrelines from a GIS are often not noded: two streets cross without a shared
vertex. :func:`graph_from_lines` inserts a vertex where ground-level lines truly cross or
touch (a grid of the segments' envelopes gives the candidate pairs, GEOS computes the
intersections, all vectorised), and then splits every line at each vertex it shares with
another line.
Bridges and tunnels are left out of the crossing step, so they join the network only at
their ends and at vertices they share with other lines, as in OSM.
"""

from __future__ import annotations

import logging
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from urbanform.errors import CRSError, LayerError, NetworkError
from urbanform.network.graph import WalkGraph, label_components

__all__ = ["graph_from_lines"]

logger = logging.getLogger(__name__)

_NO_EDGE = (
    "streets layer: no street segment of non-zero length remains; "
    "check that the layer holds street centrelines"
)
_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
               "MultiLineString", "MultiPolygon", "GeometryCollection")  # fmt: skip
_FALSY = {"", "no", "false", "0", "none", "nan", "null", "n", "f"}


def graph_from_lines(
    lines: gpd.GeoDataFrame,
    *,
    node_crossings: bool = True,
    bridge_field: str | None = "bridge",
    tunnel_field: str | None = "tunnel",
    layer_field: str | None = "layer",
) -> WalkGraph:
    """Build the walk graph from a ``streets`` line layer.

    Parameters
    ----------
    lines
        LineStrings / MultiLineStrings in a metric CRS (MultiLineStrings are exploded;
        empty and missing geometries are skipped, Z is dropped).
    node_crossings
        True for GIS centrelines: lines are noded where they cross or touch, except
        where either line is a bridge or tunnel. False for OSM ways: lines connect only
        where they share a vertex (exact coordinate match).
    bridge_field, tunnel_field
        Columns whose truthy values (anything but empty, ``no``, ``false``, ``0``)
        mark a line as a bridge / tunnel; None or a missing column: not used.
    layer_field
        Column with the OSM-style vertical layer; a non-zero value marks the line as
        off the ground. None or a missing column: not used.

    Returns
    -------
    WalkGraph
        Nodes at intersections and line ends, duplicate and zero-length edges removed,
        components labelled (0 = largest).

    Raises
    ------
    CRSError
        If ``lines`` has no CRS or a geographic one.
    LayerError
        If ``lines`` holds geometries other than lines.
    NetworkError
        If no edge of non-zero length remains.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (200, 0)]),
    ...                                    LineString([(100, -100), (100, 100)])],
    ...                          crs="EPSG:32648")
    >>> g = graph_from_lines(lines)
    >>> g.n_nodes, g.n_edges
    (5, 4)
    """
    geoms, elevated = _prepare_lines(lines, bridge_field, tunnel_field, layer_field)
    if node_crossings and (~elevated).sum() > 1:
        ground = np.flatnonzero(~elevated)
        geoms = geoms.copy()
        geoms[ground] = _insert_crossings(geoms[ground])
    coords, line_id = _clean_coordinates(geoms)
    if line_id.size == 0:
        raise NetworkError(_NO_EDGE)
    node_xy, edge_u, edge_v, edge_geoms = _split_at_shared_vertices(coords, line_id)
    edge_u, edge_v, edge_geoms, length_m = _drop_duplicate_edges(edge_u, edge_v, edge_geoms)
    if edge_u.size == 0:
        raise NetworkError(_NO_EDGE)
    used, edge_u, edge_v = _compact_nodes(node_xy.shape[0], edge_u, edge_v)
    node_xy = node_xy[used]
    logger.info("walk graph: %d nodes, %d edges", node_xy.shape[0], edge_u.size)
    return WalkGraph(
        crs=lines.crs,
        node_xy=node_xy,
        edge_u=edge_u,
        edge_v=edge_v,
        edge_length_m=length_m,
        edge_geometry=edge_geoms,
        component=label_components(edge_u, edge_v, node_xy.shape[0]),
    )


def _truthy(values: pd.Series) -> np.ndarray:
    """Whether each flag value is set (True, 1, 'yes', 'viaduct', ...; not 0, 'no', empty)."""
    number = pd.to_numeric(values, errors="coerce")
    text = values.astype("string").str.strip().str.lower().fillna("")
    flag = np.where(number.notna(), number.fillna(0.0) != 0, ~text.isin(_FALSY))
    return np.asarray(flag, dtype=bool)


def _elevation_flags(
    lines: gpd.GeoDataFrame,
    bridge_field: str | None,
    tunnel_field: str | None,
    layer_field: str | None,
) -> np.ndarray:
    """Per row: whether the line is a bridge, a tunnel or on a non-zero layer."""
    flags = np.zeros(len(lines), dtype=bool)
    for name in (bridge_field, tunnel_field):
        if name is not None and name in lines.columns:
            flags |= _truthy(lines[name])
    if layer_field is not None and layer_field in lines.columns:
        layer = pd.to_numeric(lines[layer_field], errors="coerce").fillna(0.0)
        flags |= layer.to_numpy(dtype=np.float64) != 0.0
    return flags


def _prepare_lines(
    lines: gpd.GeoDataFrame,
    bridge_field: str | None,
    tunnel_field: str | None,
    layer_field: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Validated single-part 2-D lines and their elevated flags."""
    if lines.crs is None:
        raise CRSError("streets layer has no CRS; set one (e.g. layers/streets.yml 'crs:')")
    if lines.crs.is_geographic:
        raise CRSError(
            f"streets layer is in geographic CRS {lines.crs.to_string()}; "
            "reproject it to the workspace's metric CRS first"
        )
    geoms = lines.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms)
    bad = present & ~np.isin(types, [1, 5])
    if bad.any():
        found = sorted(set(shapely.get_type_id(geoms[bad]).tolist()))
        names = ", ".join(_TYPE_NAMES[t] for t in found)
        raise LayerError(
            f"streets layer: {int(bad.sum())} features are {names}, not lines; "
            "give LineString or MultiLineString geometries"
        )
    flags = _elevation_flags(lines, bridge_field, tunnel_field, layer_field)
    parts, row = shapely.get_parts(geoms[present], return_index=True)
    if shapely.has_z(parts).any():
        parts = shapely.force_2d(parts)
    return np.asarray(parts, dtype=object), flags[present][row]


def _orient(o: np.ndarray, d: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Cross product (d - o) x (q - o): > 0 left turn, < 0 right turn, 0 collinear."""
    cross = (d[:, 0] - o[:, 0]) * (q[:, 1] - o[:, 1]) - (d[:, 1] - o[:, 1]) * (q[:, 0] - o[:, 0])
    return cast(np.ndarray, cross)


def _may_meet(p0: np.ndarray, p1: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether segments a and b may meet anywhere but at an end vertex they share."""
    a0, a1, b0, b1 = p0[a], p1[a], p0[b], p1[b]
    o1, o2 = _orient(a0, a1, b0), _orient(a0, a1, b1)
    o3, o4 = _orient(b0, b1, a0), _orient(b0, b1, a1)
    apart = (o1 * o2 > 0) | (o3 * o4 > 0)
    shared_end = np.zeros(a.size, dtype=bool)
    for pa in (a0, a1):
        for pb in (b0, b1):
            shared_end |= (pa[:, 0] == pb[:, 0]) & (pa[:, 1] == pb[:, 1])
    collinear = (o1 == 0) & (o2 == 0)
    return cast(np.ndarray, ~apart & ~(shared_end & ~collinear))


def _envelope_pairs(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)``, ``i < j``, of boxes ``[lo, hi]`` that intersect (touching counts).

    The boxes are put on a grid of square cells about the median box's size; two boxes
    are compared when they share a cell, and a pair is kept in one cell only, the one
    holding the lower-left corner of their intersection. The pairs are those of an
    STRtree query of the boxes against themselves, without a geometry per box. Returned
    sorted by ``i``, then ``j``.
    """
    n = lo.shape[0]
    origin = lo.min(axis=0) if n else np.zeros(2)
    size = max(float(np.median((hi - lo).max(axis=1))) if n else 1.0, 1.0)
    while True:  # a few long boxes would put each in many cells: coarser cells then
        c0 = np.floor((lo - origin) / size).astype(np.int64)
        c1 = np.floor((hi - origin) / size).astype(np.int64)
        span = c1 - c0 + 1
        count = span[:, 0] * span[:, 1]
        if count.sum() <= 4 * n:
            break
        size *= 2.0
    ny = int(c1[:, 1].max()) + 1 if n else 1
    box = np.repeat(np.arange(n), count)
    k = np.arange(box.size) - np.repeat(np.cumsum(count) - count, count)
    cell = (c0[box, 0] + k // span[box, 1]) * ny + c0[box, 1] + k % span[box, 1]
    order = np.argsort(cell, kind="stable")
    cell, box = cell[order], box[order]
    del k, order
    new = np.r_[True, cell[1:] != cell[:-1]]
    start = np.flatnonzero(new)
    end = np.r_[start[1:], cell.size][np.cumsum(new) - 1]  # end of each entry's cell
    lx, ly, hx, hy = lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]
    out_i, out_j = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    step = 1 << 20  # pragma: no mutate - entries per pass: memory only
    for e0 in range(0, cell.size, step):
        pos = np.arange(e0, min(e0 + step, cell.size))
        after = end[pos] - pos - 1  # each entry meets the entries after it in its cell
        first = np.repeat(pos, after)
        second = first + 1 + np.arange(first.size) - np.repeat(np.cumsum(after) - after, after)
        i, j = box[first], box[second]
        meet = (lx[i] <= hx[j]) & (lx[j] <= hx[i]) & (ly[i] <= hy[j]) & (ly[j] <= hy[i])
        i, j, here = i[meet], j[meet], cell[first[meet]]
        rx = np.floor((np.maximum(lx[i], lx[j]) - origin[0]) / size).astype(np.int64)
        ry = np.floor((np.maximum(ly[i], ly[j]) - origin[1]) / size).astype(np.int64)
        once = rx * ny + ry == here
        out_i.append(np.minimum(i[once], j[once]))
        out_j.append(np.maximum(i[once], j[once]))
    i, j = np.concatenate(out_i), np.concatenate(out_j)
    order = np.lexsort((j, i))
    return i[order], j[order]


def _segment_candidates(coords: np.ndarray, line_id: np.ndarray) -> tuple[np.ndarray, ...]:
    """Segments of all lines and the pairs (a, b) of segments of different lines that may meet.

    Pairs come from the segments' envelopes (:func:`_envelope_pairs`); pairs that are
    clearly apart (strict orientation test) or that only share an end vertex without
    overlapping are dropped in numpy (in chunks, to bound memory), so GEOS only sees true
    crossings, touches and overlaps. Returns segment start indices and the pairs, ``a``
    on the line that comes first.
    """
    s0 = np.flatnonzero(line_id[1:] == line_id[:-1])
    p0, p1 = coords[s0], coords[s0 + 1]
    a, b = _envelope_pairs(np.minimum(p0, p1), np.maximum(p0, p1))
    keep = line_id[s0][a] < line_id[s0][b]
    a, b = a[keep], b[keep]
    chunk = 2_000_000  # pragma: no mutate - batch size only (bounds memory)
    keep = np.concatenate(
        [np.zeros(0, bool)]
        + [_may_meet(p0, p1, a[k : k + chunk], b[k : k + chunk]) for k in range(0, a.size, chunk)]
    )
    return s0, a[keep], b[keep]


def _insert_crossings(geoms: np.ndarray) -> np.ndarray:
    """Insert, into each line, a vertex at every point where it meets another line.

    The same intersection coordinates go into both lines, so the later shared-vertex
    split joins them exactly.
    """
    coords, vid = shapely.get_coordinates(geoms, return_index=True)
    s0, a, b = _segment_candidates(coords, vid)
    if a.size == 0:
        return geoms
    p0 = coords[s0]
    pts, pair = _meeting_points(p0, coords[s0 + 1], a, b)
    if pts.shape[0] == 0:
        return geoms
    vpos = _cumulative_length(coords, vid)
    on_seg = np.concatenate([a[pair], b[pair]])
    pts = np.concatenate([pts, pts])
    pos = vpos[s0[on_seg]] + np.hypot(*(pts - p0[on_seg]).T)
    line = vid[s0[on_seg]]
    all_line = np.concatenate([vid, line])
    all_pos = np.concatenate([vpos, pos])
    is_new = np.concatenate([np.zeros(vid.size, np.int8), np.ones(line.size, np.int8)])
    order = np.lexsort((is_new, all_pos, all_line))
    all_xy = np.concatenate([coords, pts])[order]
    logger.debug("noding: %d crossing points inserted", pts.shape[0] // 2)
    return cast(np.ndarray, shapely.linestrings(all_xy, indices=all_line[order]))


def _proper_crossings(
    p0: np.ndarray, p1: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which pairs cross properly, and where, to the double GEOS returns.

    A pair crosses properly when each segment's ends lie strictly on both sides of the
    other (with a margin far above rounding error) at an angle that is not tiny. The
    crossing is computed in extended precision (``np.longdouble``) and rounded to the
    nearest double; pairs whose extended value lies, within its error bound, near the
    middle between two doubles, or whose point falls outside either segment's envelope,
    are left to GEOS.
    """
    a0, a1, b0, b1 = p0[a], p1[a], p0[b], p1[b]
    o = np.stack([_orient(a0, a1, b0), _orient(a0, a1, b1),
                  _orient(b0, b1, a0), _orient(b0, b1, a1)])  # fmt: skip
    la, lb = np.hypot(*(a1 - a0).T), np.hypot(*(b1 - b0).T)
    tol = 1e-12 * (la + lb + 1.0) ** 2  # rounding error is below 1e-15 * span**2
    proper = (o[0] * o[1] < 0) & (o[2] * o[3] < 0) & (np.abs(o).min(axis=0) > tol)
    del o
    mid = (np.maximum(np.minimum(a0, a1), np.minimum(b0, b1))
           + np.minimum(np.maximum(a0, a1), np.maximum(b0, b1))) / 2.0  # fmt: skip
    ld = np.longdouble
    # differences taken in extended precision (in doubles they are rounded unless the
    # coordinates are close, e.g. near the CRS origin)
    m = mid.astype(ld)
    da, db = a1.astype(ld) - a0.astype(ld), b1.astype(ld) - b0.astype(ld)
    ra, rb = a0.astype(ld) - m, b0.astype(ld) - m
    wp, wq = da[:, 0] * db[:, 1], da[:, 1] * db[:, 0]
    w = wp - wq
    proper &= np.abs(w.astype(np.float64)) > 1e-2 * la * lb  # angle above ~0.6 degrees
    with np.errstate(divide="ignore", invalid="ignore"):
        t = ((rb[:, 0] - ra[:, 0]) * db[:, 1] - (rb[:, 1] - ra[:, 1]) * db[:, 0]) / w
        along = ra + t[:, None] * da
        exact = along + m
        # error bound of exact: t loses up to a factor cond (at most ~100 after the
        # angle test) in the cross products; the last sum rounds once
        cond = (np.abs(wp) + np.abs(wq)) / np.abs(w)
        err = np.finfo(ld).eps * (
            4.0 * cond[:, None] * (np.abs(along) + np.abs(rb - ra)) + np.abs(exact)
        )
    xy = exact.astype(np.float64)
    ulp = np.spacing(np.abs(xy))
    with np.errstate(invalid="ignore"):
        frac = (np.abs(exact - xy.astype(ld)) + err).astype(np.float64) / ulp
    proper &= np.all(np.isfinite(xy) & (frac < 0.48), axis=1)
    for s0, s1 in ((a0, a1), (b0, b1)):
        proper &= np.all((xy >= np.minimum(s0, s1)) & (xy <= np.maximum(s0, s1)), axis=1)
    return proper, xy[proper]


def _meeting_points(
    p0: np.ndarray, p1: np.ndarray, a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates where segments a and b meet, and the pair index of each, in pair order.

    Proper crossings (nearly all pairs) are computed in numpy; touches, overlaps and
    near-degenerate pairs go to GEOS (``shapely.intersection``).
    """
    proper = np.zeros(a.size, dtype=bool)
    xy = [np.zeros((0, 2))]
    chunk = 2_000_000  # pragma: no mutate - batch size only (bounds memory)
    for k in range(0, a.size, chunk):
        ok, pts = _proper_crossings(p0, p1, a[k : k + chunk], b[k : k + chunk])
        proper[k : k + chunk] = ok
        xy.append(pts)
    rest = np.flatnonzero(~proper)
    ra, rb = a[rest], b[rest]
    meet = shapely.intersection(
        shapely.linestrings(np.stack([p0[ra], p1[ra]], axis=1)),
        shapely.linestrings(np.stack([p0[rb], p1[rb]], axis=1)),
    )
    more, at = shapely.get_coordinates(meet, return_index=True)
    pair = np.concatenate([np.flatnonzero(proper), rest[at]])
    order = np.argsort(pair, kind="stable")
    return np.concatenate(xy + [more])[order], pair[order]


def _cumulative_length(coords: np.ndarray, line_id: np.ndarray) -> np.ndarray:
    """Distance along its line of every vertex (0 at each line's first vertex)."""
    step = np.zeros(coords.shape[0])
    same = line_id[1:] == line_id[:-1]
    step[1:] = np.where(same, np.hypot(*(coords[1:] - coords[:-1]).T), 0.0)
    total = np.cumsum(step)
    first = np.ones(line_id.size, dtype=bool)
    first[1:] = ~same
    start = np.maximum.accumulate(np.where(first, np.arange(line_id.size), 0))
    return total - total[start]


def _clean_coordinates(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices with consecutive duplicates removed; lines left with < 2 vertices dropped."""
    coords, line_id = shapely.get_coordinates(geoms, return_index=True)
    keep = np.ones(line_id.size, dtype=bool)
    keep[1:] = (line_id[1:] != line_id[:-1]) | np.any(coords[1:] != coords[:-1], axis=1)
    coords, line_id = coords[keep], line_id[keep]
    counts = np.bincount(line_id, minlength=len(geoms))
    ok = counts[line_id] >= 2
    return coords[ok], line_id[ok]


def _coordinate_groups(coords: np.ndarray) -> np.ndarray:
    """Integer id per vertex, equal for equal coordinates."""
    order = np.lexsort((coords[:, 1], coords[:, 0]))
    srt = coords[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = np.any(srt[1:] != srt[:-1], axis=1)
    gid = np.empty(order.size, dtype=np.int64)
    gid[order] = np.cumsum(new) - 1
    return gid


def _split_at_shared_vertices(
    coords: np.ndarray, line_id: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split lines at their ends and at every vertex used more than once.

    Returns node coordinates, edge end nodes and edge geometries.
    """
    gid = _coordinate_groups(coords)
    n = line_id.size
    first = np.ones(n, dtype=bool)
    first[1:] = line_id[1:] != line_id[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = first[1:]
    is_node = first | last | (np.bincount(gid)[gid] > 1)
    interior = is_node & ~first & ~last
    rep = np.where(interior, 2, 1)
    xy = np.repeat(coords, rep, axis=0)
    vgid = np.repeat(gid, rep)
    # an edge starts at each line's first vertex and at the 2nd copy of an interior node
    starts_v = np.repeat(first, rep)
    second = np.zeros(xy.shape[0], dtype=bool)
    second[np.cumsum(rep)[interior] - 1] = True
    edge_id = np.cumsum(starts_v | second) - 1
    e_first = np.flatnonzero(np.r_[True, edge_id[1:] != edge_id[:-1]])
    e_last = np.r_[e_first[1:], edge_id.size] - 1
    node_groups, node_of = np.unique(vgid[np.r_[e_first, e_last]], return_inverse=True)
    n_e = e_first.size
    edge_u, edge_v = node_of[:n_e].astype(np.int64), node_of[n_e:].astype(np.int64)
    node_xy = np.empty((node_groups.size, 2))
    node_xy[node_of] = np.concatenate([xy[e_first], xy[e_last]])
    edge_geoms = shapely.linestrings(xy, indices=edge_id)
    return node_xy, edge_u, edge_v, np.asarray(edge_geoms, dtype=object)


def _drop_duplicate_edges(
    edge_u: np.ndarray, edge_v: np.ndarray, geoms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Remove zero-length edges and edges equal to another between the same nodes.

    Returns the kept edges' ends, geometries and lengths (``shapely.length``, float64).
    """
    length = shapely.length(geoms)
    ok = length > 0
    edge_u, edge_v, geoms, length = edge_u[ok], edge_v[ok], geoms[ok], length[ok]
    a, b = np.minimum(edge_u, edge_v), np.maximum(edge_u, edge_v)
    order = np.lexsort((length, b, a))
    a_s, b_s, g_s = a[order], b[order], geoms[order]
    dup = np.zeros(order.size, dtype=bool)
    cand = np.flatnonzero((a_s[1:] == a_s[:-1]) & (b_s[1:] == b_s[:-1])) + 1
    if cand.size:
        dup[cand] = shapely.equals(g_s[cand], g_s[cand - 1])
    keep = np.sort(order[~dup])
    if dup.any():
        logger.debug("noding: %d duplicate edges removed", int(dup.sum()))
    return edge_u[keep], edge_v[keep], geoms[keep], length[keep].astype(np.float64)


def _compact_nodes(
    n_nodes: int, edge_u: np.ndarray, edge_v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drop nodes no edge uses; renumber the edges' nodes."""
    used = np.zeros(n_nodes, dtype=bool)
    used[edge_u] = True
    used[edge_v] = True
    new_id = np.cumsum(used) - 1
    return used, new_id[edge_u], new_id[edge_v]
