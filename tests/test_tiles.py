"""Pieces of --tile-km that need no cluster: the tile grid, the subset, the small pieces."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from urbanform.analyses.context import Context
from urbanform.layers.types import Layers
from urbanform.tiles import Grid, _small_piece_rows, _subset

CRS = "EPSG:32648"


def _layers(streets: list[shapely.LineString]) -> Layers:
    gdf = gpd.GeoDataFrame({"name": [f"s{i}" for i in range(len(streets))]},
                           geometry=streets, crs=CRS)
    return Layers(pyproj.CRS(CRS), vectors={"streets": gdf})


def test_small_pieces_are_named_on_the_whole_network() -> None:
    # two connected lines of 500 m (one piece of 1,000 m) and a 50 m line on its own:
    # 50 / 1,050 = 4.8% of the network, under 10%, over 1%
    lines = [
        shapely.LineString([(0, 0), (500, 0)]),
        shapely.LineString([(500, 0), (1000, 0)]),
        shapely.LineString([(0, 300), (50, 300)]),
    ]
    assert _small_piece_rows(Context(_layers(lines)), 0.10).tolist() == [2]
    assert _small_piece_rows(Context(_layers(lines)), 0.01).tolist() == []


def test_subset_keeps_whole_features_touching_the_box_and_drops_small_pieces() -> None:
    lines = [
        shapely.LineString([(0, 0), (5000, 0)]),  # touches the box, kept whole
        shapely.LineString([(3000, 3000), (4000, 3000)]),  # far away
        shapely.LineString([(10, 10), (20, 10)]),  # in the box, but a small piece
    ]
    sub = _subset(_layers(lines), (0.0, -100.0, 100.0, 100.0), np.array([2]))
    streets = sub.vectors["streets"]
    assert streets["name"].tolist() == ["s0"] and streets.length.iloc[0] == 5000.0


def test_grid_puts_each_point_in_exactly_one_tile() -> None:
    grid = Grid((0.0, 0.0), 1000.0, (2, 2))
    pts = gpd.GeoSeries(shapely.points([[0, 0], [1000, 999], [2000, 2000], [999.5, 1000]]))
    owners = [[t for t in grid.tiles() if grid.inside(pts, t)[i]] for i in range(len(pts))]
    # (1000, 999): column 1 row 0; the far corner (2000, 2000) goes to the last tile
    assert owners == [[(0, 0)], [(1, 0)], [(1, 1)], [(0, 1)]]
