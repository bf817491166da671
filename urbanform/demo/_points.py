"""Point layers of the demo city: buildings, workplaces, facilities, rail stations."""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from urbanform.demo._landuse import Blocks
from urbanform.demo._plan import polar
from urbanform.demo._styles import (
    CENTRE_SPACING,
    JOBS_HA,
    LIVING_CIRCLES,
    RESIDENTIAL_CODES,
    RING_RADII_M,
    STATION_SPACING_M,
    STYLES,
    TARGET_AREA_M2,
)

PEOPLE_FACTOR = {"R1": 0.55, "R2": 1.0, "R3": 0.75}
PEOPLE_PER_DWELLING = 2.6
JOBS_PER_POINT = 120.0
INNER_LOOP_M = 1800.0  # the core loop line (rings are at 3.2, 6.5 and 9.2 km)
SYLLABLES_A = (
    "Jin", "Wen", "Qing", "Kuan", "Tai", "Shu", "Hua", "Chun", "Long", "Feng", "Yu", "Ping",
    "Xi", "Dong", "Nan", "Bei", "Hong", "Bai", "Jiu", "Shi", "Gao", "Yan", "Sha", "He",
)
SYLLABLES_B = (
    "li", "shu", "yang", "xing", "ba", "ma", "qiao", "lin", "men", "gang", "tang", "ping",
    "jiang", "shan", "hu", "yuan", "cheng", "ting", "zi", "wan", "kou", "ba", "ling", "po",
)


def sample_in_blocks(
    blocks: Blocks, idx: np.ndarray, rng: np.random.Generator, *, margin: float = 0.08
) -> tuple[np.ndarray, np.ndarray]:
    """One random point in each block ``idx`` (repeats allowed); drops misses.

    Returns (xy, kept) where ``kept`` indexes into ``idx``.
    """
    uv = rng.uniform(margin, 1.0 - margin, size=(len(idx), 2))
    c = blocks.corners[idx]
    u, v = uv[:, :1], uv[:, 1:]
    xy = (1 - u) * (1 - v) * c[:, 0] + u * (1 - v) * c[:, 1] + u * v * c[:, 2]
    xy += (1 - u) * v * c[:, 3]
    ok = shapely.contains_xy(blocks.geometry[idx], xy[:, 0], xy[:, 1])
    return xy[ok], np.flatnonzero(ok)


def _outside(xy: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    pts = shapely.points(xy)
    hit, _ = shapely.STRtree(polygons).query(pts, predicate="intersects")
    keep = np.ones(len(xy), bool)
    keep[hit] = False
    return keep


def population_points(
    blocks: Blocks, parks: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Residential buildings with population, dwellings and workers."""
    assert blocks.code is not None, "assign_codes must run before population_points"
    res = np.flatnonzero(np.isin(blocks.code, RESIDENTIAL_CODES))
    area_ha = shapely.area(blocks.geometry[res]) / 1e4
    bph = np.array([s.buildings_ha for s in STYLES])[blocks.district[res]]
    pph = np.array([s.people_ha for s in STYLES])[blocks.district[res]]
    pph = pph * np.array([PEOPLE_FACTOR[c] for c in blocks.code[res]])
    n = np.maximum(rng.poisson(area_ha * bph), 1)
    rep = np.repeat(np.arange(res.size), n)
    xy, kept = sample_in_blocks(blocks, res[rep], rng)
    rep = rep[kept]
    keep = _outside(xy, parks)
    xy, rep = xy[keep], rep[keep]
    per_building = (pph * area_ha / n)[rep] * rng.lognormal(0.0, 0.35, size=rep.size)
    population = np.maximum(np.round(per_building), 1).astype(np.int64)
    dwellings = np.maximum(np.round(population / PEOPLE_PER_DWELLING), 1).astype(np.int64)
    workers = rng.binomial(population, 0.55).astype(np.int64)
    return pd.DataFrame(
        {"x": xy[:, 0], "y": xy[:, 1], "population": population, "dwellings": dwellings,
         "workers": workers}
    )


def job_points(
    blocks: Blocks, rng: np.random.Generator, *, total_jobs: float
) -> pd.DataFrame:
    """Workplaces with ``jobs``, scaled so the city total is ``total_jobs``."""
    assert blocks.code is not None, "assign_codes must run before job_points"
    idx = np.flatnonzero(np.isin(blocks.code, list(JOBS_HA)))
    area_ha = shapely.area(blocks.geometry[idx]) / 1e4
    factor = np.array([s.jobs_factor for s in STYLES])[blocks.district[idx]]
    jobs = area_ha * np.array([JOBS_HA[c] for c in blocks.code[idx]]) * factor
    n = np.maximum(np.round(jobs / JOBS_PER_POINT), 1).astype(int)
    rep = np.repeat(np.arange(idx.size), n)
    xy, kept = sample_in_blocks(blocks, idx[rep], rng)
    rep = rep[kept]
    raw = (jobs / n)[rep] * rng.lognormal(0.0, 0.4, size=rep.size)
    values = np.maximum(np.round(raw * total_jobs / raw.sum()), 1).astype(np.int64)
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "jobs": values})


def _centres(
    blocks: Blocks, host: np.ndarray, spacing_m: float, di: int, rng: np.random.Generator
) -> np.ndarray:
    """Host block of each point of a jittered lattice over district ``di``'s blocks."""
    mine = np.flatnonzero(host & (blocks.district == di))
    if mine.size == 0:
        return mine
    x0, y0, x1, y1 = shapely.total_bounds(blocks.geometry[mine])
    xs = np.arange(x0 + rng.uniform(0, spacing_m), x1, spacing_m)
    ys = np.arange(y0 + rng.uniform(0, spacing_m), y1, spacing_m)
    gx, gy = (g.ravel() for g in np.meshgrid(xs, ys))
    if gx.size == 0:
        return np.empty(0, dtype=int)
    tree = shapely.STRtree(blocks.geometry[mine])
    _, bi = tree.query_nearest(
        shapely.points(gx, gy), max_distance=spacing_m / 3.0, all_matches=False
    )
    return np.unique(mine[bi])


def facility_points(blocks: Blocks, rng: np.random.Generator) -> pd.DataFrame:
    """GB 50180 facilities grouped in community centres, one lattice per circle level.

    A district's ``service_level`` sets how dense the centres are and how often a centre
    lacks one of its facilities, so some districts meet living-circle targets and others
    do not.
    """
    assert blocks.code is not None, "assign_codes must run before facility_points"
    host = np.isin(blocks.code, (*RESIDENTIAL_CODES, "A1", "A2", "A3", "A5", "B1"))
    cats, targets = [], []
    for di, style in enumerate(STYLES):
        present_p = min(0.985, 0.45 + 0.42 * style.service_level)
        for distance_m, categories in LIVING_CIRCLES.values():
            spacing = CENTRE_SPACING * distance_m / style.service_level
            centre = _centres(blocks, host, spacing, di, rng)
            for cat in categories:
                at = centre[rng.random(centre.size) < present_p]
                targets.append(at)
                cats.append(np.full(at.size, cat, dtype=object))
    target = np.concatenate(targets)
    xy, kept = sample_in_blocks(blocks, target, rng, margin=0.2)
    category = np.concatenate(cats)[kept]
    number = pd.Series(category).groupby(category).cumcount().to_numpy() + 1
    name = [f"{c.replace('_', ' ').title()} {k}" for c, k in zip(category, number, strict=True)]
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "category": category, "name": name})


def _station_names(count: int, rng: np.random.Generator) -> list[str]:
    combos = np.array([a + b for a in SYLLABLES_A for b in SYLLABLES_B])
    combos = np.unique(combos)
    extra = int(max(0, count - combos.size))
    picked = list(rng.permutation(combos)[: count - extra])
    picked += [f"{picked[i % len(picked)]} {i // len(picked) + 2}" for i in range(extra)]
    return picked


def _line_defs(factor: float) -> list[tuple[str, np.ndarray]]:
    """(line name, station xy) for every rail line."""
    r2 = RING_RADII_M[1] * factor
    step = r2 / round(r2 / STATION_SPACING_M)
    reach = 1.2 * np.sqrt(TARGET_AREA_M2 / np.pi) * factor
    along = np.arange(-np.floor(reach / step), np.floor(reach / step) + 1) * step
    lines = [
        ("Line 1", polar(np.abs(along), np.where(along < 0, 270.0, 90.0))),
        ("Line 2", polar(np.abs(along), np.where(along < 0, 180.0, 0.0))),
    ]
    for name, radius in (("Line 3", r2), ("Line 6", INNER_LOOP_M * factor)):
        n_loop = 4 * round(2 * np.pi * radius / STATION_SPACING_M / 4)
        lines.append((name, polar(radius, 45.0 + np.arange(n_loop) * 360.0 / n_loop)))
    for extra, ang in enumerate((45.0, 135.0)):
        lines.append(
            (f"Line {4 + extra}", polar(np.abs(along), np.where(along < 0, ang + 180, ang)))
        )
    return lines


def station_points(
    boundary: BaseGeometry, river: BaseGeometry, rng: np.random.Generator, *, factor: float
) -> pd.DataFrame:
    """Stations every ~1.3 km along the lines; shared positions are transfer stations."""
    frames = []
    for line, xy in _line_defs(factor):
        frames.append(pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "line": line}))
    df = pd.concat(frames, ignore_index=True)
    df["x"], df["y"] = df["x"].round(3), df["y"].round(3)
    pts = shapely.points(df[["x", "y"]].to_numpy())
    dry = ~shapely.intersects(river.buffer(60.0), pts)
    df = df[shapely.contains(boundary, pts) & dry].reset_index(drop=True)
    key = df["x"].astype(str) + "," + df["y"].astype(str)
    uniq = pd.unique(key)
    names = dict(zip(uniq, _station_names(len(uniq), rng), strict=True))
    centre = polar(0.0, 0.0).round(3)
    names[f"{centre[0]},{centre[1]}"] = "Tianfu Square"
    df["name"] = key.map(names)
    return cast(pd.DataFrame, df[["x", "y", "name", "line"]])
