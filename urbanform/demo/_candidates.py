"""Candidate park sites of the demo city, for ``urbanform site``.

Deterministic and drawn from no random generator, so the other demo layers stay
exactly as they were: one square site of ``SIDE_M`` (clipped to its block) in blocks
of a redevelopable land use whose centre lies outside every park's service radius,
at most one per ``GRID_M`` square cell (the largest such block there).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from urbanform.demo._landuse import Blocks

SIDE_M = 90.0
"""Side of a candidate square (8,100 m² before clipping: a 500 m park)."""
GRID_M = 500.0
"""At most one candidate per square cell of this side."""
MIN_AREA_M2 = 5000.0
"""Candidates smaller than this after clipping are dropped."""
CODES = ("R2", "R3", "B1", "B2", "M1", "M2", "U")
"""Land uses a city could turn into a park (residential, commercial, industrial, other)."""
_COST_PER_M2 = {0: 3.0, 1: 2.0}
"""Relative land cost per 1,000 m², inside and outside ``inner_m`` of the centre."""


def _served(parks: np.ndarray) -> shapely.Geometry:
    """Where a park of 2,000 m² or more serves (500 m or 300 m by size)."""
    area = shapely.area(parks)
    radius = np.where(area >= 5000, 500.0, np.where(area >= 2000, 300.0, 0.0))
    keep = radius > 0
    return shapely.union_all(shapely.buffer(parks[keep], radius[keep], quad_segs=8))


def candidate_sites(
    blocks: Blocks,
    parks: np.ndarray,
    centre_xy: tuple[float, float],
    *,
    inner_m: float,
    crs: str,
) -> gpd.GeoDataFrame:
    """Candidate park sites: ``name``, ``area_m2``, ``land_cost`` and square polygons."""
    code = np.asarray(blocks.code, dtype=object)
    geoms = np.asarray(blocks.geometry, dtype=object)
    centre = shapely.point_on_surface(geoms)
    # the whole city's unions prepared (indexed) and given first, which is how shapely
    # uses a prepared geometry: each test is then logarithmic, not linear, in its size
    served, parkland = _served(parks), shapely.union_all(parks)
    shapely.prepare(served)
    shapely.prepare(parkland)
    ok = np.isin(code, CODES) & blocks.whole & ~shapely.intersects(served, centre)
    ok &= ~shapely.intersects(parkland, geoms)
    xy = shapely.get_coordinates(centre[ok])
    squares = shapely.box(xy[:, 0] - SIDE_M / 2, xy[:, 1] - SIDE_M / 2,
                          xy[:, 0] + SIDE_M / 2, xy[:, 1] + SIDE_M / 2)
    sites = shapely.intersection(squares, geoms[ok])
    area = shapely.area(sites)
    frame = pd.DataFrame({"cell_x": np.floor(xy[:, 0] / GRID_M),
                          "cell_y": np.floor(xy[:, 1] / GRID_M),
                          "area_m2": area, "x": xy[:, 0], "y": xy[:, 1]})
    frame = frame[(area >= MIN_AREA_M2) & (shapely.get_type_id(sites) == 3)]
    frame = frame.sort_values(["cell_x", "cell_y", "area_m2", "x", "y"],
                              ascending=[True, True, False, True, True])
    frame = frame.drop_duplicates(["cell_x", "cell_y"]).sort_values(["y", "x"])
    inner = np.hypot(frame["x"] - centre_xy[0], frame["y"] - centre_xy[1]) < inner_m
    cost = np.where(inner, _COST_PER_M2[0], _COST_PER_M2[1]) * frame["area_m2"].to_numpy()
    return gpd.GeoDataFrame(
        {
            "name": [f"Site {i + 1}" for i in range(len(frame))],
            "area_m2": frame["area_m2"].round(1).to_numpy(),
            "land_cost": np.round(cost / 1000.0, 1),
        },
        geometry=sites[frame.index.to_numpy()],
        crs=crs,
    )
