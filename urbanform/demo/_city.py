"""Build the whole demo city once: every layer comes from the same generated plan."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from urbanform.demo import _landuse, _points
from urbanform.demo._candidates import candidate_sites
from urbanform.demo._landcover import make_landcover
from urbanform.demo._plan import Plan, make_plan
from urbanform.demo._streets import STREET_SPILL_M, lattice_blocks, lattice_lines, make_lattice
from urbanform.demo._styles import CENTRE_XY, STYLES
from urbanform.layers.types import RasterLayer


def _gdf(data: dict[str, Any] | pd.DataFrame, geometry: Any, crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(data).reset_index(drop=True), geometry=geometry, crs=crs)


def _points_gdf(df: pd.DataFrame, crs: str) -> gpd.GeoDataFrame:
    geom = gpd.points_from_xy(df["x"], df["y"])
    return _gdf(df.drop(columns=["x", "y"]), geom, crs)


def _local_grids(
    plan: Plan, banks: list[Any], seed: int
) -> tuple[_landuse.Blocks, dict[str, np.ndarray]]:
    """Street lines and blocks of every district's lattice."""
    wet = plan.river.buffer(5.0)
    dry_blocks = shapely.union_all([plan.river, plan.corridors, *banks])
    lines, blocks = [], []
    for di, (style, geom) in enumerate(zip(STYLES, plan.districts, strict=True)):
        rng = np.random.default_rng([seed, 10 + di])
        lat = make_lattice(geom, style, rng)
        street_region = geom.buffer(STREET_SPILL_M).intersection(plan.boundary).difference(wet)
        lines.append(lattice_lines(lat, street_region, district=style.name))
        g, corners, whole = lattice_blocks(lat, geom.difference(dry_blocks))
        blocks.append((g, corners, whole, np.full(len(g), di)))
    streets = {
        "geometry": np.concatenate([part[0] for part in lines]),
        "name": np.concatenate([part[1] for part in lines]),
        "highway": np.concatenate([part[2] for part in lines]),
    }
    merged = _landuse.Blocks(*(np.concatenate(col) for col in zip(*blocks, strict=True)))
    return merged, streets


def _streets_gdf(plan: Plan, local: dict[str, np.ndarray], crs: str) -> gpd.GeoDataFrame:
    major = pd.DataFrame(plan.major_roads)
    minor = pd.DataFrame(local).assign(bridge=0, tunnel=0)
    df = pd.concat([major, minor], ignore_index=True)
    df[["bridge", "tunnel"]] = df[["bridge", "tunnel"]].astype(np.int64)
    return _gdf(df.drop(columns="geometry"), df["geometry"].to_numpy(), crs)


def _pieces(geom: Any, code: str, districts: tuple[Any, ...]) -> list[tuple[Any, str]]:
    out = []
    for d in districts:
        for part in shapely.get_parts(geom.intersection(d)):
            if part.geom_type == "Polygon" and part.area > 1.0:
                out.append((part, code))
    return out


def _park_layers(
    blocks: _landuse.Blocks, banks: list[Any], large: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    mid = _landuse.corner_squares(
        blocks, rng, side_m=_landuse.MID_SIDE_M, per_km2="mid_km2", corner=0
    )
    pocket = _landuse.corner_squares(
        blocks, rng, side_m=_landuse.POCKET_SIDE_M, per_km2="pocket_km2", corner=2
    )
    return np.concatenate([blocks.geometry[large], np.asarray(banks, dtype=object), mid, pocket])


def _park_names(parks: np.ndarray) -> list[str]:
    area = shapely.area(parks)
    kind = np.where(area >= 5000, "Park", np.where(area >= 2000, "Garden", "Pocket Park"))
    number = pd.Series(kind).groupby(kind).cumcount().to_numpy() + 1
    return [f"{k} {n}" for k, n in zip(kind, number, strict=True)]


def build_city(seed: int, scale: float, crs: str) -> dict[str, gpd.GeoDataFrame | RasterLayer]:
    """Generate every layer of the demo city for ``seed`` and ``scale``."""
    plan = make_plan(seed, scale=scale)
    banks = _landuse.bank_parks(plan.river, plan.districts, avoid=plan.corridors)
    blocks, local = _local_grids(plan, banks, seed)
    rng = np.random.default_rng([seed, 2])
    blocks.code = _landuse.assign_codes(blocks, rng, factor=plan.factor)
    large = _landuse.place_large_parks(blocks, plan.districts, rng)
    parks = _park_layers(blocks, banks, large, rng)

    landuse = list(zip(blocks.geometry, blocks.code, strict=True))
    landuse += _pieces(plan.river, "E1", plan.districts)
    landuse += _pieces(plan.corridors, "S1", plan.districts)
    landuse += [(b, "G1") for b in banks]
    pop = _points.population_points(blocks, parks, rng)
    jobs = _points.job_points(blocks, rng, total_jobs=0.97 * pop["workers"].sum())
    names = list(plan.district_names)
    return {
        "boundary": _gdf({"name": ["Demo City"]}, [plan.boundary], crs),
        "districts": _gdf(
            {"name": names, "character": [s.character for s in STYLES]}, list(plan.districts), crs
        ),
        "landuse": _gdf({"LU_CODE": [c for _, c in landuse]}, [g for g, _ in landuse], crs),
        "parks": _gdf({"name": _park_names(parks)}, parks, crs),
        "stations": _points_gdf(
            _points.station_points(plan.boundary, plan.river, rng, factor=plan.factor), crs
        ),
        "population": _points_gdf(pop, crs),
        "jobs": _points_gdf(jobs, crs),
        "facilities": _points_gdf(_points.facility_points(blocks, rng), crs),
        "streets": _streets_gdf(plan, local, crs),
        "landcover": make_landcover(
            plan.boundary, landuse, plan.districts, np.random.default_rng([seed, 3]), crs=crs
        ),
        "candidates": candidate_sites(
            blocks, parks, CENTRE_XY, inner_m=8000.0 * plan.factor, crs=crs
        ),
    }
