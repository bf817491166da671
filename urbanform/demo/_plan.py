"""The city plan: boundary, districts, river and the major roads (rings, axes, radials)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from urbanform.demo._styles import (
    CENTRE_XY,
    EXTRA_SECTORS,
    RING_RADII_M,
    RIVER_WIDTH_M,
    STYLES,
    TARGET_AREA_M2,
)

CIRCLE_STEPS = 1440  # ring vertices: one every 0.25 degree
RADIAL_ANGLES_DEG: tuple[float, ...] = (45.0, 100.0, 140.0, 230.0, 250.0, 290.0, 330.0)
RADIAL_NAMES: tuple[str, ...] = (
    "Longquan Avenue", "Shuangqing Road", "Shuhan Road", "Guanghua Avenue",
    "Wuhou Avenue", "Tianfu Avenue", "Chengyu Avenue",
)
RING_NAMES: tuple[str, ...] = ("First Ring Road", "Second Ring Road", "Third Ring Road")
ELEVATED_ANGLE_DEG = 300.0


@dataclass(frozen=True)
class Plan:
    """The large-scale layout of the city (all coordinates in DEMO_CRS)."""

    factor: float
    boundary: shapely.Polygon
    district_names: tuple[str, ...]
    districts: tuple[BaseGeometry, ...]
    river: BaseGeometry
    major_roads: list[dict[str, Any]]
    corridors: BaseGeometry


def polar(radius_m: np.ndarray | float, angle_deg: np.ndarray | float) -> np.ndarray:
    """Points at ``radius_m`` and ``angle_deg`` (CCW from east) around the centre."""
    a = np.deg2rad(angle_deg)
    x = CENTRE_XY[0] + np.asarray(radius_m) * np.cos(a)
    y = CENTRE_XY[1] + np.asarray(radius_m) * np.sin(a)
    return np.stack(np.broadcast_arrays(x, y), axis=-1)


def _circle(radius_m: float, *, start_deg: float = 0.0) -> np.ndarray:
    """Closed ring of vertices every 0.25 degree, starting and ending at ``start_deg``."""
    angles = (start_deg + np.arange(CIRCLE_STEPS + 1) * (360.0 / CIRCLE_STEPS)) % 360.0
    angles[-1] = angles[0]
    return polar(radius_m, angles)


def make_boundary(rng: np.random.Generator, *, factor: float) -> shapely.Polygon:
    """A wobbly disc of exactly ``TARGET_AREA_M2 * factor**2``."""
    theta = np.deg2rad(np.arange(CIRCLE_STEPS) * (360.0 / CIRCLE_STEPS))
    radius = np.ones_like(theta)
    for k, amp in ((2, 0.05), (3, 0.035), (5, 0.02), (7, 0.01)):
        radius += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    # area of the polar polygon for unit scale, then scale to the target area
    xy = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=-1)
    unit_area = shapely.Polygon(xy).area
    r0 = np.sqrt(TARGET_AREA_M2 * factor**2 / unit_area)
    return shapely.Polygon(xy * r0 + np.asarray(CENTRE_XY))


def _sector_of(angle_deg: float, start: float, end: float) -> bool:
    return (angle_deg - start) % 360.0 < (end - start)


def _district_of(point: shapely.Point, *, factor: float) -> str:
    dx, dy = point.x - CENTRE_XY[0], point.y - CENTRE_XY[1]
    r = np.hypot(dx, dy) / factor
    ang = float(np.rad2deg(np.arctan2(dy, dx)) % 360.0)
    band = 0 if r < RING_RADII_M[0] else (1 if r < RING_RADII_M[1] else 2)
    for name, extra_band, start, end in EXTRA_SECTORS:
        if band == extra_band and _sector_of(ang, start, end):
            return name
    for style in STYLES:
        if style.band == band and any(_sector_of(ang, a, b) for a, b in style.angles_deg):
            return style.name
    raise AssertionError(f"no district at radius {r:.0f} m angle {ang:.1f}")  # pragma: no cover


def make_districts(
    boundary: shapely.Polygon, *, factor: float
) -> tuple[tuple[str, ...], tuple[BaseGeometry, ...]]:
    """Split ``boundary`` along the first two rings and radial cuts into districts."""
    r1, r2 = RING_RADII_M[0] * factor, RING_RADII_M[1] * factor
    far = 3.0 * np.sqrt(TARGET_AREA_M2 / np.pi) * factor
    cuts = [boundary.exterior, shapely.LineString(_circle(r1)), shapely.LineString(_circle(r2))]
    for ang in (100.0, 250.0, 330.0):
        cuts.append(shapely.LineString(polar(np.array([r1 - 1.0, r2 + 1.0]), ang)))
    for ang in (45.0, 140.0, 230.0, 290.0, 330.0):
        cuts.append(shapely.LineString(polar(np.array([r2 - 1.0, far]), ang)))
    faces = shapely.get_parts(shapely.polygonize([shapely.union_all(cuts)]))
    inside = shapely.contains_properly(boundary, shapely.point_on_surface(faces))
    faces = faces[inside]
    owner = [_district_of(shapely.point_on_surface(f), factor=factor) for f in faces]
    names = tuple(s.name for s in STYLES)
    geoms = tuple(
        shapely.union_all([f for f, o in zip(faces, owner, strict=True) if o == name])
        for name in names
    )
    return names, geoms


def make_river(
    rng: np.random.Generator, boundary: shapely.Polygon, *, factor: float
) -> BaseGeometry:
    """A meandering river band from west-north-west to east-south-east through the core."""
    half = 1.8 * np.sqrt(TARGET_AREA_M2 / np.pi) * factor
    x = np.arange(-half, half, 40.0)
    wavelength = 7800.0 * factor
    phase = rng.uniform(0, 2 * np.pi)
    amp = 1300.0 * factor
    y = -0.28 * x + amp * (np.sin(2 * np.pi * x / wavelength + phase) - np.sin(phase))
    y += 0.25 * amp * np.sin(2 * np.pi * x / (0.37 * wavelength) + 2 * phase)
    y += rng.uniform(-500.0, 500.0) * factor
    line = shapely.LineString(np.stack([x + CENTRE_XY[0], y + CENTRE_XY[1]], axis=-1))
    band = line.buffer(RIVER_WIDTH_M / 2.0, cap_style="flat", quad_segs=4)
    return shapely.make_valid(band.intersection(boundary))


def _split_bridges(line: BaseGeometry, river_zone: BaseGeometry) -> list[tuple[Any, int]]:
    """Cut ``line`` where it crosses ``river_zone``; crossings become bridge pieces."""
    inside = shapely.get_parts(line.intersection(river_zone))
    ends = [shapely.Point(c) for g in inside for c in (g.coords[0], g.coords[-1])]
    cuts = sorted({float(line.project(p)) for p in ends})
    if not cuts:
        return [(line, 0)]
    stops = [0.0, *cuts, line.length]
    pieces = []
    for a, b in zip(stops[:-1], stops[1:], strict=True):
        if b - a < 0.5:
            continue
        piece = substring(line, a, b)
        mid = piece.interpolate(0.5, normalized=True)
        pieces.append((piece, int(river_zone.contains(mid))))
    return pieces


def _road(geom: BaseGeometry, name: str, highway: str, bridge: int = 0) -> dict[str, Any]:
    return {"geometry": geom, "name": name, "highway": highway, "bridge": bridge, "tunnel": 0}


def make_major_roads(
    boundary: shapely.Polygon, river: BaseGeometry, *, factor: float
) -> list[dict[str, Any]]:
    """Ring roads and axes (bridged over the river), radials (cut by it), one flyover."""
    zone = river.buffer(5.0)
    far = 3.0 * np.sqrt(TARGET_AREA_M2 / np.pi) * factor
    roads: list[dict[str, Any]] = []
    bridged = [
        (shapely.LineString(_circle(r * factor, start_deg=ELEVATED_ANGLE_DEG)), name)
        for r, name in zip(RING_RADII_M, RING_NAMES, strict=True)
    ]
    axis_r = np.array([far, far])
    bridged.append((shapely.LineString(polar(axis_r, np.array([270.0, 90.0]))), "Renmin Road"))
    bridged.append((shapely.LineString(polar(axis_r, np.array([180.0, 0.0]))), "Dongfeng Road"))
    for line, name in bridged:
        for part in shapely.get_parts(line.intersection(boundary)):
            for piece, bridge in _split_bridges(part, zone):
                roads.append(_road(piece, name, "primary", bridge))
    r1 = RING_RADII_M[0] * factor
    for ang, name in zip(RADIAL_ANGLES_DEG, RADIAL_NAMES, strict=True):
        line = shapely.LineString(polar(np.array([r1, far]), ang))
        for part in shapely.get_parts(line.intersection(boundary).difference(zone)):
            roads.append(_road(part, name, "secondary"))
    # an elevated expressway from the first to the third ring: its ends are the start
    # and end points of both rings, and it flies over every street in between
    ends = polar(np.array([RING_RADII_M[0], RING_RADII_M[2]]) * factor, ELEVATED_ANGLE_DEG)
    roads.append(_road(shapely.LineString(ends), "Airport Elevated Expressway", "primary", 1))
    return roads


def make_plan(seed: int, *, scale: float) -> Plan:
    """Boundary, districts, river, major roads and their land corridors."""
    factor = float(np.sqrt(scale))
    rng = np.random.default_rng([seed, 1])
    boundary = make_boundary(rng, factor=factor)
    names, districts = make_districts(boundary, factor=factor)
    river = make_river(rng, boundary, factor=factor)
    roads = make_major_roads(boundary, river, factor=factor)
    ground = [r["geometry"] for r in roads if not r["bridge"]]
    corridors = shapely.union_all(shapely.buffer(ground, 15.0, quad_segs=2))
    corridors = corridors.intersection(boundary).difference(river)
    return Plan(factor, boundary, names, districts, river, roads, corridors)
