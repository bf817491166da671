"""Where to act: the H3 cells with the most residents a target leaves uncovered.

For every analysis whose target is a share of residents (``pop_share``,
``pop_share_<category>`` or jobs-housing's ``balanced_share``, op ``>=`` or ``>``), the
units' uncovered residents
(``den - num`` of the targeted indicator) are summed per H3 cell at the workspace's
finest resolution, and the :data:`TOP` cells with the most are listed, largest first
(ties by cell id), each with:

- ``hex_id``: the cell (15-character H3 string);
- ``district``: the district holding most of the cell's uncovered residents
  (``None`` outside every district);
- ``population``: residents in the cell (the indicator's denominator);
- ``not_covered``: residents in the cell the indicator does not count as covered;
- ``nearest_m``: straight-line distance in metres from the cell's uncovered residents
  (their weighted centre) to the nearest existing destination: a park counting for the
  smallest tier (``park_coverage``), a facility of the category or categories of the
  indicator (``living_circle``), a station (``tod``); ``None`` without one (and for
  ``balanced_share``, whose residents are short of a balanced district, not of a place);
- ``nearest``: what ``nearest_m`` measures to (``parks``, ``facilities``, ``stations``).

The list is ``analyses.NAME.priorities`` in ``summary.json`` (empty for analyses
without such a target: forest cover is a share of land, and TOD's ``jobs_share`` a share
of jobs) and a table in the report.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from urbanform.grid import H3Memo, hex_strings, memo_cells
from urbanform.layers.types import Layers
from urbanform.results import DEN, NUM, AnalysisResult

__all__ = ["TOP", "RESIDENT_SHARES", "priorities", "destinations"]

TOP = 20
"""The number of cells listed per analysis."""

_EPS = 1e-9


RESIDENT_SHARES = ("pop_share", "balanced_share")
"""Indicator keys (and ``pop_share_<category>``) whose denominator is residents."""


def _target_key(result: AnalysisResult) -> str | None:
    for key, ind in result.indicators.items():
        t = ind.target
        residents = key.startswith(RESIDENT_SHARES)
        if t is not None and residents and ind.unit == "share" and t.op in (">=", ">"):
            return key
    return None


def destinations(result: AnalysisResult, layers: Layers, key: str) -> tuple[str, Any] | None:
    """(role, geometries) the nearest distance of a cell is measured to, or ``None``."""
    if result.kind == "park_coverage" and "parks" in layers.vectors:
        parks = layers.vectors["parks"]
        polys = parks[parks.geom_type.isin(["Polygon", "MultiPolygon"])]
        tiers = result.params.get("tiers") or []
        least = min((float(t["min_area_m2"]) for t in tiers), default=0.0)
        polys = polys[polys.area >= least]
        return "parks", polys.geometry.to_numpy()
    if result.kind == "living_circle" and "facilities" in layers.vectors:
        fac = layers.vectors["facilities"]
        cats = list(result.params.get("categories") or [])
        cat = key.removeprefix("pop_share_")
        wanted = [cat] if key != "pop_share_all" and cat in cats else cats
        return "facilities", fac[fac["category"].isin(wanted)].geometry.to_numpy()
    if result.kind in ("tod", "tod_catchments") and "stations" in layers.vectors:
        return "stations", layers.vectors["stations"].geometry.to_numpy()
    return None


def priorities(
    result: AnalysisResult,
    layers: Layers,
    *,
    resolution: int,
    top: int = TOP,
    memo: H3Memo | None = None,
) -> list[dict[str, Any]]:
    """The ``top`` cells with the most uncovered residents (see the module text).

    ``memo`` is the run's H3 memo (:func:`urbanform.grid.memo_cells`): units already
    indexed for the H3 summaries are not indexed again.
    """
    key = _target_key(result)
    units = result.units
    if key is None or units is None or not len(units) or f"{key}{NUM}" not in units.columns:
        return []
    num = units[f"{key}{NUM}"].to_numpy(dtype=float)
    den = units[f"{key}{DEN}"].to_numpy(dtype=float)
    short = np.clip(np.nan_to_num(den - num), 0.0, None)
    xy = shapely.get_coordinates(units.geometry.values)
    frame = pd.DataFrame(
        {
            "cell": memo_cells(units.geometry, (resolution,), memo, xy=xy)[resolution],
            "den": np.nan_to_num(den),
            "short": short,
            "wx": xy[:, 0] * short,
            "wy": xy[:, 1] * short,
            "district": units["district"].to_numpy() if "district" in units.columns else None,
        }
    )
    cells = frame.groupby("cell", sort=True)[["den", "short", "wx", "wy"]].sum()
    cells = cells[cells["short"] > _EPS]
    if not len(cells):
        return []
    ids = cells.index.to_numpy(dtype=np.uint64)
    cells["hex_id"] = hex_strings(ids)
    cells = cells.sort_values(["short", "hex_id"], ascending=[False, True]).head(top)
    main = _main_district(frame)
    centres = shapely.points(cells["wx"] / cells["short"], cells["wy"] / cells["short"])
    dest = destinations(result, layers, key)
    nearest = _nearest(centres, dest[1]) if dest is not None else np.full(len(cells), np.nan)
    return [
        {
            "hex_id": str(hex_id),
            "district": main.get(cell),
            "population": float(row["den"]),
            "not_covered": float(row["short"]),
            "nearest_m": None if not np.isfinite(d) else round(float(d), 1),
            "nearest": dest[0] if dest is not None else None,
        }
        for (cell, row), hex_id, d in zip(cells.iterrows(), cells["hex_id"], nearest, strict=True)
    ]


def _main_district(frame: pd.DataFrame) -> dict[Any, str | None]:
    """Cell -> the district with most of its uncovered residents."""
    if frame["district"].isna().all():
        return {}
    by = (
        frame.dropna(subset=["district"])
        .groupby(["cell", "district"], sort=True)["short"]
        .sum()
        .reset_index()
        .sort_values(["cell", "short", "district"], ascending=[True, False, True])
        .drop_duplicates("cell")
    )
    return {c: str(d) for c, d in zip(by["cell"], by["district"], strict=True)}


def _nearest(points: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest of ``geoms`` (NaN when there is none)."""
    if len(geoms) == 0:
        return np.full(len(points), np.nan)
    tree = shapely.STRtree(geoms)
    _, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    return np.asarray(dist, dtype=float)


def priority_cells(items: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """The listed cells as polygons in EPSG:4326 (``hex_id`` and the listed fields)."""
    from h3ronpy import cells_parse
    from h3ronpy import vector as h3v

    if not items:
        return gpd.GeoDataFrame({"hex_id": []}, geometry=[], crs=4326)
    ids = pa.array(cells_parse(pa.array([i["hex_id"] for i in items])))
    polys = shapely.from_wkb(
        pa.array(h3v.cells_to_wkb_polygons(ids)).to_numpy(zero_copy_only=False)
    )
    return gpd.GeoDataFrame(pd.DataFrame(items), geometry=polys, crs=4326)
