"""Land-use codes for the blocks, and the parks of every size tier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from urbanform.demo._styles import CENTRE_XY, CODES, RING_RADII_M, STYLES

GREEN_BELT_HALF_WIDTH_M = 900.0
LARGE_PARK_MAX_M2 = 600_000.0
POCKET_SIDE_M = (20.0, 42.0)  # 400-1,764 m2: below the 2,000 m2 floor
MID_SIDE_M = (48.0, 68.0)  # 2,304-4,624 m2
CORNER_INSET_M = 14.0


@dataclass
class Blocks:
    """All blocks of the city between streets."""

    geometry: np.ndarray
    corners: np.ndarray  # (n, 4, 2) street crossings around the block
    whole: np.ndarray  # bool: not clipped
    district: np.ndarray  # int index into STYLES
    code: np.ndarray | None = None


def smooth_field(
    xy: np.ndarray, rng: np.random.Generator, *, wavelength_m: float, n_waves: int = 4
) -> np.ndarray:
    """A smooth random field with unit variance at points ``xy`` (sum of plane waves)."""
    angles = rng.uniform(0, np.pi, n_waves)
    lengths = wavelength_m * rng.uniform(0.7, 1.4, n_waves)
    phases = rng.uniform(0, 2 * np.pi, n_waves)
    k = np.stack([np.cos(angles), np.sin(angles)], axis=-1) * (2 * np.pi / lengths)[:, None]
    rel = xy - np.asarray(CENTRE_XY)
    return cast(np.ndarray, np.sqrt(2.0 / n_waves) * np.sin(rel @ k.T + phases).sum(axis=-1))


def assign_codes(blocks: Blocks, rng: np.random.Generator, *, factor: float) -> np.ndarray:
    """Draw one land-use code per block: district weights, clustered by smooth fields."""
    weights = np.array([[s.landuse.get(c, 0.0) for c in CODES] for s in STYLES])
    with np.errstate(divide="ignore"):
        logw = np.log(weights / weights.sum(axis=1, keepdims=True))
    xy = shapely.get_coordinates(shapely.centroid(blocks.geometry))
    fields = np.stack(
        [smooth_field(xy, rng, wavelength_m=2200.0) for _ in CODES], axis=-1
    )
    score = logw[blocks.district] + 1.5 * fields + rng.gumbel(size=(len(xy), len(CODES)))
    radius = np.hypot(*(xy - np.asarray(CENTRE_XY)).T)
    belt = np.abs(radius - RING_RADII_M[2] * factor) < GREEN_BELT_HALF_WIDTH_M
    score[belt, CODES.index("G2")] += 2.0  # the ecological belt along the third ring
    score[:, CODES.index("G1")] = -np.inf  # parks are placed, not drawn
    return cast(np.ndarray, np.asarray(CODES, dtype=object)[np.argmax(score, axis=1)])


def _lattice_points(
    geom: BaseGeometry, spacing_m: float, rng: np.random.Generator
) -> np.ndarray:
    x0, y0, x1, y1 = geom.bounds
    xs = np.arange(x0 + rng.uniform(0, spacing_m), x1, spacing_m)
    ys = np.arange(y0 + rng.uniform(0, spacing_m), y1, spacing_m)
    gx, gy = (g.ravel() for g in np.meshgrid(xs, ys))
    jit = rng.uniform(-0.2, 0.2, size=(2, gx.size)) * spacing_m
    return np.stack([gx + jit[0], gy + jit[1]], axis=-1)


def place_large_parks(
    blocks: Blocks, districts: tuple[BaseGeometry, ...], rng: np.random.Generator
) -> np.ndarray:
    """Turn the block under each point of a per-district park lattice into a park (G1).

    Returns the indices of the new park blocks.
    """
    assert blocks.code is not None, "assign_codes must run before place_large_parks"
    tree = shapely.STRtree(blocks.geometry)
    area = shapely.area(blocks.geometry)
    chosen = []
    for di, (style, geom) in enumerate(zip(STYLES, districts, strict=True)):
        pts = shapely.points(_lattice_points(geom, style.park_spacing_m, rng))
        pi, bi = tree.query(pts, predicate="within")
        ok = (blocks.district[bi] == di) & (area[bi] >= 5000.0) & (area[bi] <= LARGE_PARK_MAX_M2)
        ok &= ~np.isin(blocks.code[bi], ("E1", "S1"))
        chosen.append(np.unique(bi[ok]))
    idx = np.concatenate(chosen)
    blocks.code[idx] = "G1"
    return idx


def corner_squares(
    blocks: Blocks,
    rng: np.random.Generator,
    *,
    side_m: tuple[float, float],
    per_km2: str,
    corner: int,
) -> np.ndarray:
    """Small square parks in one corner of built-up blocks.

    ``per_km2`` names the style attribute with their density; ``corner`` (0-3) picks
    the block corner, so parks of different tiers do not overlap.
    """
    assert blocks.code is not None, "assign_codes must run before corner_squares"
    built = np.isin(blocks.code, ("R1", "R2", "R3", "B1", "A1", "A2", "A3")) & blocks.whole
    area_km2 = np.bincount(
        blocks.district, weights=shapely.area(blocks.geometry), minlength=len(STYLES)
    ) / 1e6
    picks = []
    for di, style in enumerate(STYLES):
        cand = np.flatnonzero(built & (blocks.district == di))
        n = min(cand.size, rng.poisson(getattr(style, per_km2) * area_km2[di]))
        picks.append(rng.choice(cand, size=n, replace=False))
    idx = np.concatenate(picks).astype(int)
    c = blocks.corners[idx]
    base = c[:, corner]
    u = c[:, (corner + 1) % 4] - base
    v = c[:, (corner + 3) % 4] - base
    u /= np.linalg.norm(u, axis=1)[:, None]
    v /= np.linalg.norm(v, axis=1)[:, None]
    side = rng.uniform(*side_m, size=len(idx))[:, None]
    p0 = base + CORNER_INSET_M * (u + v)
    ring = np.stack([p0, p0 + side * u, p0 + side * (u + v), p0 + side * v], axis=1)
    squares = shapely.polygons(ring)
    inside = shapely.within(squares, blocks.geometry[idx]) & shapely.is_valid(squares)
    return cast(np.ndarray, squares[inside])


def bank_parks(
    river: BaseGeometry, districts: tuple[BaseGeometry, ...], *, avoid: BaseGeometry
) -> list[BaseGeometry]:
    """Riverside park strips on both banks, as wide as each district's style says.

    ``avoid`` (the major road corridors) is cut out of the strips.
    """
    strips: list[BaseGeometry] = []
    for style, geom in zip(STYLES, districts, strict=True):
        if style.bank_park_m <= 0:
            continue
        strip = river.buffer(style.bank_park_m, quad_segs=2).difference(river)
        strip = strip.intersection(geom).difference(avoid)
        strips.extend(
            p for p in shapely.get_parts(strip) if p.geom_type == "Polygon" and p.area > 500.0
        )
    return strips
