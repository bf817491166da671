"""H3 grid summaries of analysis units (vectorised with h3ronpy).

A cell's value of indicator ``K`` is the sum of the ``K__num`` of the units inside it
over the sum of their ``K__den``: the same rule as for districts and the city, so the
cell sums add up to the district and city figures exactly.
"""

from __future__ import annotations

import hashlib
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from h3ronpy import cells_parse, cells_to_string, change_resolution
from h3ronpy import vector as h3v
from pyproj import Transformer

from urbanform.results import DEN, NUM
from urbanform.threads import in_chunks, thread_count

__all__ = [
    "cells_at",
    "cells_of_points",
    "hex_strings",
    "latlng_cells",
    "projected_lat_lng",
    "coarsen",
    "h3_summaries",
    "h3_summary",
    "indicator_keys",
    "memo_cells",
    "H3Memo",
]


def indicator_keys(units: pd.DataFrame) -> list[str]:
    """Indicator keys present in ``units`` (columns ``K__num`` with a matching ``K__den``)."""
    return [
        c[: -len(NUM)]
        for c in units.columns
        if c.endswith(NUM) and c[: -len(NUM)] + DEN in units.columns
    ]


H3Memo = dict[str, dict[int, np.ndarray]]
"""The H3 cells of one run's units, by coordinates and resolution (:func:`memo_cells`)."""


H3_THREADS = thread_count(2)  # pragma: no mutate - threads: the same cells
"""Threads indexing points on the H3 grid (h3ronpy works without the GIL)."""

_H3_CHUNK = 262_144  # pragma: no mutate - points per call: speed only


def latlng_cells(lat: np.ndarray, lng: np.ndarray, resolution: int) -> np.ndarray:
    """H3 cell (uint64) of each latitude/longitude, in chunks on :data:`H3_THREADS` threads.

    The same cells as one ``h3ronpy.vector.coordinates_to_cells`` call; each point's
    cell depends on that point alone.
    """
    if lat.size == 0:
        return np.zeros(0, dtype=np.uint64)

    def part(s: slice) -> np.ndarray:
        cells = h3v.coordinates_to_cells(lat[s], lng[s], resolution)
        return np.asarray(pa.array(cells).to_numpy())

    return np.concatenate(in_chunks(part, lat.size, chunk=_H3_CHUNK, threads=H3_THREADS))


def cells_of_points(points: gpd.GeoSeries, resolution: int) -> np.ndarray:
    """H3 cell (as uint64) of each point.

    Examples
    --------
    >>> import geopandas as gpd, shapely, h3
    >>> p = gpd.GeoSeries([shapely.Point(104.0665, 30.5728)], crs=4326)
    >>> h3.int_to_str(int(cells_of_points(p, 9)[0])) == h3.latlng_to_cell(30.5728, 104.0665, 9)
    True
    """
    return cells_at(points, (resolution,))[resolution]


def _lat_lng(
    points: gpd.GeoSeries, xy: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of the points (``xy``: their coordinates, when known)."""
    xy = shapely.get_coordinates(points.values) if xy is None else xy
    if points.crs is not None and not points.crs.equals("EPSG:4326"):
        return projected_lat_lng(xy, points.crs)
    return np.asarray(xy[:, 1], dtype=float), np.asarray(xy[:, 0], dtype=float)


def projected_lat_lng(xy: np.ndarray, crs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of ``(n, 2)`` coordinates in ``crs``, on :data:`H3_THREADS`.

    PROJ works without the GIL; each thread has its own ``Transformer`` (pyproj's
    transformers are not shared between threads). Each point is transformed alone, so
    the answer is that of one call.
    """
    n = xy.shape[0]

    def part(s: slice) -> tuple[np.ndarray, np.ndarray]:
        tf = Transformer.from_crs(crs, 4326, always_xy=True)
        lng, lat = tf.transform(xy[s, 0], xy[s, 1])
        return np.asarray(lat, dtype=float), np.asarray(lng, dtype=float)

    # one piece per thread; small arrays in one call
    done = in_chunks(part, n, chunk=max(_H3_CHUNK, -(-n // H3_THREADS)), threads=H3_THREADS)
    return np.concatenate([d[0] for d in done]), np.concatenate([d[1] for d in done])


def hex_strings(cells: np.ndarray) -> np.ndarray:
    """H3 cells (uint64) as their 15-character strings, an object array of ``str``."""
    strings = cells_to_string(pa.array(np.asarray(cells, dtype=np.uint64)))
    return np.asarray(pa.array(strings).to_numpy(zero_copy_only=False), dtype=object)


def cells_at(
    points: gpd.GeoSeries, resolutions: tuple[int, ...], *, xy: np.ndarray | None = None
) -> dict[int, np.ndarray]:
    """H3 cell (uint64) of each point at each resolution, the points projected once.

    Each resolution is indexed from the coordinates: H3 cells are not nested, so a
    point's cell at a coarser resolution is not always the parent of its finer cell.
    """
    if len(points) == 0:
        return {res: np.zeros(0, dtype=np.uint64) for res in resolutions}
    lat, lng = _lat_lng(points, xy)
    return {res: latlng_cells(lat, lng, res) for res in resolutions}


def h3_summaries(
    units: gpd.GeoDataFrame,
    resolutions: tuple[int, ...],
    *,
    memo: H3Memo | None = None,
) -> dict[int, gpd.GeoDataFrame]:
    """:func:`h3_summary` at each resolution, the units projected once (:func:`cells_at`).

    ``memo`` (a dict kept by the caller) reuses the cells of units at the same
    coordinates: the living-circle levels, say, share their population units.
    """
    cells = memo_cells(units.geometry, resolutions, memo)
    return {res: h3_summary(units, resolution=res, cells=cells[res]) for res in resolutions}


def memo_cells(
    points: gpd.GeoSeries,
    resolutions: tuple[int, ...],
    memo: H3Memo | None,
    *,
    xy: np.ndarray | None = None,
) -> dict[int, np.ndarray]:
    """:func:`cells_at`, reusing the cells of points at the same coordinates from ``memo``.

    ``memo`` is a dict kept by the caller for one run (None: nothing kept). The H3
    summaries and the "where to act" cells of one run index each set of units once.
    ``xy`` are the points' coordinates (``shapely.get_coordinates``) when the caller
    has them.
    """
    xy = np.ascontiguousarray(shapely.get_coordinates(points.values) if xy is None else xy)
    key = f"{points.crs}:{hashlib.blake2b(xy.tobytes(), digest_size=16).hexdigest()}"
    known = (memo or {}).get(key, {})
    todo = tuple(r for r in resolutions if r not in known)
    cells = {**known, **(cells_at(points, todo, xy=xy) if todo else {})}
    if memo is not None:
        memo[key] = cells
    return cells


def coarsen(cells: gpd.GeoDataFrame, resolution: int) -> gpd.GeoDataFrame:
    """An :func:`h3_summary` table regrouped on the parents of its cells at ``resolution``.

    Sums (``population``, ``K__num``, ``K__den``) add up and values are recomputed from
    them, so each parent holds its children's totals exactly. H3 cells are not nested:
    a parent's hexagon does not follow its children's outline exactly, so this is for
    display (web maps), not for the H3 outputs.
    """
    if not len(cells) or resolution >= int(cells["resolution"].iloc[0]):
        return cells
    ids = pa.array(cells_parse(pa.array(cells["hex_id"].to_numpy(dtype=str)))).to_numpy()
    parents = pa.array(change_resolution(pa.array(ids), resolution)).to_numpy()
    keys = indicator_keys(cells)
    sums = [c for c in ("population",) if c in cells.columns]
    sums += [c for k in keys for c in (k + NUM, k + DEN)]
    agg = pd.DataFrame(cells[sums].to_numpy(dtype=float), columns=sums).groupby(
        parents, sort=True
    ).sum()
    return _cell_frame(agg, resolution, keys)


def h3_summary(
    units: gpd.GeoDataFrame, *, resolution: int, cells: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Per-cell sums and values of every indicator in ``units``.

    Parameters
    ----------
    units
        Points with ``K__num`` / ``K__den`` columns (and optionally ``population``).
    resolution
        H3 resolution (0-15).
    cells
        The units' cells at ``resolution``, when already known (:func:`cells_at`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell holding at least one unit, in EPSG:4326: ``hex_id`` (the
        15-character H3 string), ``resolution``, ``population`` (if given), and per
        indicator ``K__num``, ``K__den`` and ``K`` (NaN where the denominator is 0).
    """
    keys = indicator_keys(units)
    sum_cols = [c for k in keys for c in (k + NUM, k + DEN)]
    if "population" in units.columns:
        sum_cols = ["population", *sum_cols]
    if cells is None:
        cells = cells_of_points(units.geometry, resolution)
    frame = pd.DataFrame(units[sum_cols].to_numpy(dtype=float), columns=sum_cols)
    frame["cell"] = cells
    agg = frame.groupby("cell", sort=True)[sum_cols].sum()
    return _cell_frame(agg, resolution, keys)


def _cell_frame(agg: pd.DataFrame, resolution: int, keys: list[str]) -> gpd.GeoDataFrame:
    """Cells (index: uint64 ids) with their sums -> the summary table with polygons."""
    ids = agg.index.to_numpy(dtype=np.uint64)
    hex_ids = hex_strings(ids)
    polys = shapely.from_wkb(
        pa.array(h3v.cells_to_wkb_polygons(pa.array(ids))).to_numpy(zero_copy_only=False)
    )
    out = agg.reset_index(drop=True)
    for k in keys:
        den = out[k + DEN].to_numpy()
        out[k] = np.divide(
            out[k + NUM].to_numpy(), den, out=np.full(len(out), np.nan), where=den > 0
        )
    out.insert(0, "resolution", resolution)
    out.insert(0, "hex_id", hex_ids.astype(str))
    return gpd.GeoDataFrame(out, geometry=polys, crs=4326)
