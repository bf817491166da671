"""The local street lattice of each district: street and footway lines and the blocks.

Each district has a rotated, jittered lattice of lines. A line is a polyline whose
vertices sit half-way between the lines that cross it, so lines cross *between*
vertices, never at a shared vertex (like real, un-noded GIS centrelines). Every
``fine_k``-th line is a street; the others are footways through the blocks. Blocks are
the polygons between streets, traced exactly along the street polylines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from urbanform.demo._styles import CENTRE_XY, DistrictStyle

MIN_PIECE_M = 3.0
MIN_BLOCK_M2 = 150.0
STREET_SPILL_M = 4.0


@dataclass
class Lattice:
    """Lattice geometry of one district in local (rotated) coordinates."""

    origin: np.ndarray  # world xy of local (0, 0)
    e1: np.ndarray
    e2: np.ndarray
    spacing_m: float
    k: int
    rows: np.ndarray  # (n_b, n_a - 1, 2) row polylines, local
    cols: np.ndarray  # (n_a, n_b - 1, 2) column polylines, local
    cross: np.ndarray  # (n_b, n_a, 2) crossing points, local (NaN on the edge)
    row_off: int
    col_off: int

    def world(self, local: np.ndarray) -> np.ndarray:
        """Local (a, b) coordinates -> world xy."""
        return cast(np.ndarray, self.origin + local[..., :1] * self.e1 + local[..., 1:2] * self.e2)


def _local_bounds(geom: BaseGeometry, e1: np.ndarray, e2: np.ndarray) -> np.ndarray:
    xy = shapely.get_coordinates(geom) - np.asarray(CENTRE_XY)
    a, b = xy @ e1, xy @ e2
    return np.array([a.min(), b.min(), a.max(), b.max()])


def _crossings(
    a: np.ndarray, b: np.ndarray, jr: np.ndarray, jc: np.ndarray, spacing_m: float
) -> np.ndarray:
    """Where row j (vertices jittered by ``jr``) crosses column i (jittered by ``jc``)."""
    s = spacing_m
    n_b, n_a = b.size, a.size
    cross = np.full((n_b, n_a, 2), np.nan)
    r0, r1 = jr[1:-1, :-1], jr[1:-1, 1:]  # row j, vertices either side of column i
    c0, c1 = jc[1:-1, :-1].T, jc[1:-1, 1:].T  # column i, vertices either side of row j
    rm, dr = (r0 + r1) / 2.0, r1 - r0
    cm, dc = (c0 + c1) / 2.0, c1 - c0
    w = (rm + dr * cm / s) / (1.0 - dr * dc / s**2)
    t = cm + dc * w / s
    cross[1:-1, 1:-1, 0] = a[None, 1:-1] + t
    cross[1:-1, 1:-1, 1] = b[1:-1, None] + w
    return cross


def make_lattice(
    district: BaseGeometry, style: DistrictStyle, rng: np.random.Generator
) -> Lattice:
    """Jittered lattice covering ``district`` in the style's orientation and spacing."""
    theta = np.deg2rad(style.grid_angle_deg + rng.uniform(-4.0, 4.0))
    e1 = np.array([np.cos(theta), np.sin(theta)])
    e2 = np.array([-np.sin(theta), np.cos(theta)])
    s = style.street_spacing_m / style.fine_k
    amin, bmin, amax, bmax = _local_bounds(district, e1, e2)
    a0 = (np.floor(amin / s) - 2 + rng.uniform()) * s
    b0 = (np.floor(bmin / s) - 2 + rng.uniform()) * s
    a = a0 + s * np.arange(int(np.ceil((amax - a0) / s)) + 3)
    b = b0 + s * np.arange(int(np.ceil((bmax - b0) / s)) + 3)
    amp = style.jitter * s
    jr = rng.uniform(-amp, amp, size=(b.size, a.size - 1))
    jc = rng.uniform(-amp, amp, size=(a.size, b.size - 1))
    rows = np.empty((b.size, a.size - 1, 2))
    rows[..., 0] = a[None, :-1] + s / 2.0
    rows[..., 1] = b[:, None] + jr
    cols = np.empty((a.size, b.size - 1, 2))
    cols[..., 0] = a[:, None] + jc
    cols[..., 1] = b[None, :-1] + s / 2.0
    return Lattice(
        origin=np.asarray(CENTRE_XY),
        e1=e1,
        e2=e2,
        spacing_m=s,
        k=style.fine_k,
        rows=rows,
        cols=cols,
        cross=_crossings(a, b, jr, jc, s),
        row_off=int(rng.integers(style.fine_k)),
        col_off=int(rng.integers(style.fine_k)),
    )


def _line_names(
    count: int, offset: int, k: int, *, label: str, district: str
) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(count)
    street = (idx - offset) % k == 0
    number = (idx - offset) // k + 1
    names = np.where(street, np.char.add(f"{district} {label} ", number.astype(str)), "")
    highway = np.where(street, np.where(number % 4 == 0, "tertiary", "residential"), "footway")
    return names.astype(object), highway.astype(object)


def lattice_lines(
    lat: Lattice, region: BaseGeometry, *, district: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street and footway polylines clipped to ``region``: (geometry, name, highway)."""
    geoms = np.concatenate(
        [shapely.linestrings(lat.world(lat.rows)), shapely.linestrings(lat.world(lat.cols))]
    )
    rn, rh = _line_names(len(lat.rows), lat.row_off, lat.k, label="Street", district=district)
    cn, ch = _line_names(len(lat.cols), lat.col_off, lat.k, label="Road", district=district)
    names, highway = np.concatenate([rn, cn]), np.concatenate([rh, ch])
    shapely.prepare(region)
    keep = shapely.intersects(region, geoms)
    clipped = shapely.intersection(geoms[keep], region)
    parts, idx = shapely.get_parts(clipped, return_index=True)
    ok = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) >= MIN_PIECE_M)
    src = np.flatnonzero(keep)[idx[ok]]
    return parts[ok], names[src], highway[src]


def _block_rings(lat: Lattice, i0: np.ndarray, j0: np.ndarray) -> np.ndarray:
    """Boundary vertices of the blocks with lower-left street crossing (i0, j0)."""
    k, x, r, c = lat.k, lat.cross, lat.rows, lat.cols
    seq = []
    for p in range(k):
        seq += [x[j0, i0 + p], r[j0, i0 + p]]
    for p in range(k):
        seq += [x[j0 + p, i0 + k], c[i0 + k, j0 + p]]
    for p in range(k):
        seq += [x[j0 + k, i0 + k - p], r[j0 + k, i0 + k - p - 1]]
    for p in range(k):
        seq += [x[j0 + k - p, i0], c[i0, j0 + k - p - 1]]
    return np.stack(seq, axis=1)


def lattice_blocks(
    lat: Lattice, region: BaseGeometry
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocks between streets clipped to ``region``: (geometry, corners, whole).

    ``corners`` is (n, 4, 2) world xy of the block's street crossings (for placing
    points by bilinear interpolation); ``whole`` says the block was not clipped.
    """
    n_b, n_a = lat.cross.shape[:2]
    ii = np.arange(1 + (lat.col_off - 1) % lat.k, n_a - 1 - lat.k, lat.k)
    jj = np.arange(1 + (lat.row_off - 1) % lat.k, n_b - 1 - lat.k, lat.k)
    i0, j0 = (g.ravel() for g in np.meshgrid(ii, jj))
    rings = lat.world(_block_rings(lat, i0, j0))
    k = lat.k
    corner_idx = [(j0, i0), (j0, i0 + k), (j0 + k, i0 + k), (j0 + k, i0)]
    corners = np.stack([lat.world(lat.cross[j, i]) for j, i in corner_idx], axis=1)
    blocks = shapely.polygons(rings)
    shapely.prepare(region)
    touch = shapely.intersects(region, blocks)
    blocks, corners = blocks[touch], corners[touch]
    whole = shapely.contains_properly(region, blocks)
    cut = shapely.intersection(blocks[~whole], region)
    parts, idx = shapely.get_parts(cut, return_index=True)
    is_poly = shapely.get_type_id(parts) == 3
    parts, idx = parts[is_poly], idx[is_poly]
    big = shapely.area(parts) >= MIN_BLOCK_M2
    parts, idx = parts[big], idx[big]
    cut_corners = corners[~whole][idx]
    geoms = np.concatenate([blocks[whole], parts])
    return (
        geoms,
        np.concatenate([corners[whole], cut_corners]),
        np.concatenate([np.ones(whole.sum(), bool), np.zeros(len(parts), bool)]),
    )
