"""Pieces of --tile-km that need no cluster: the tile grid, the subset, the small pieces,
and a tile's windowed read (only the features of its tile and halo)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from urbanform.analyses.context import Context
from urbanform.layers.harmonise import load_layers
from urbanform.layers.read import Window
from urbanform.layers.types import Layers, LayerSpec
from urbanform.tiles import WHOLE_READS, Grid, _small_piece_keys, _subset

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
    # a line's key: its middle point and length
    assert _small_piece_keys(Context(_layers(lines)), 0.10).tolist() == [[25.0, 300.0, 50.0]]
    assert _small_piece_keys(Context(_layers(lines)), 0.01).tolist() == []


def test_subset_keeps_whole_features_touching_the_box_and_drops_small_pieces() -> None:
    lines = [
        shapely.LineString([(0, 0), (5000, 0)]),  # touches the box, kept whole
        shapely.LineString([(3000, 3000), (4000, 3000)]),  # far away
        shapely.LineString([(10, 10), (20, 10)]),  # in the box, but a small piece
    ]
    sub = _subset(_layers(lines), (0.0, -100.0, 100.0, 100.0), np.array([[15.0, 10.0, 10.0]]),
                  _no_population)
    streets = sub.vectors["streets"]
    assert streets["name"].tolist() == ["s0"] and streets.length.iloc[0] == 5000.0


def test_grid_puts_each_point_in_exactly_one_tile() -> None:
    grid = Grid((0.0, 0.0), 1000.0, (2, 2))
    pts = gpd.GeoSeries(shapely.points([[0, 0], [1000, 999], [2000, 2000], [999.5, 1000]]))
    owners = [[t for t in grid.tiles() if grid.inside(pts, t)[i]] for i in range(len(pts))]
    # (1000, 999): column 1 row 0; the far corner (2000, 2000) goes to the last tile
    assert owners == [[(0, 0)], [(1, 0)], [(1, 1)], [(0, 1)]]


def _no_population() -> gpd.GeoDataFrame:
    raise AssertionError("the whole population is read only for a box without residents")


X0, Y0 = 400_000.0, 3_390_000.0  # UTM 48N, near Chengdu


def _write(tmp_path: Path, name: str, role: str, gdf: gpd.GeoDataFrame) -> LayerSpec:
    path = tmp_path / f"{name}.gpkg"
    gdf.to_file(path, engine="pyogrio")
    return LayerSpec(name=name, role=role, source=str(path), file=f"layers/{name}.yml")


@pytest.fixture
def city(tmp_path: Path) -> list[LayerSpec]:
    """Streets in WGS 84 (three rows 700 m apart of 100 lines of 1 km, reprojected on
    reading), and a census polygon [0, 3000] x [0, 500] of 3,000 residents over three
    residential blocks of 800 x 500 m (the second and third lie beyond the window's box).
    """
    utm = pyproj.CRS(CRS)
    lines = [shapely.LineString([(X0 + 1000 * i, Y0 + 700 * j), (X0 + 1000 * (i + 1),
                                                                  Y0 + 700 * j)])
             for j in range(3) for i in range(100)]
    streets = gpd.GeoDataFrame({"name": [f"s{i}" for i in range(300)]}, geometry=lines,
                               crs=utm).to_crs(4326)
    blocks = [shapely.box(X0 + 1000 * i, Y0, X0 + 1000 * i + 800, Y0 + 500) for i in range(3)]
    land = gpd.GeoDataFrame({"class": ["residential"] * 3}, geometry=blocks, crs=utm)
    census = gpd.GeoDataFrame({"population": [3000.0]},
                              geometry=[shapely.box(X0, Y0, X0 + 3000, Y0 + 500)], crs=utm)
    return [
        _write(tmp_path, "streets", "streets", streets),
        _write(tmp_path, "landuse", "landuse", land),
        _write(tmp_path, "census", "population", census),
    ]


BOX = (X0 - 100.0, Y0 - 100.0, X0 + 900.0, Y0 + 900.0)


def test_window_reads_only_features_near_the_box(city: list[LayerSpec]) -> None:
    whole = load_layers(city, crs=CRS)
    part = load_layers(city, crs=CRS, window=Window(BOX, pyproj.CRS(CRS)))
    # rows 0, 700 m (and 1,400 m): the first line of each row touches the box; a read
    # may hold a few more (the box in degrees is grown), never all 300
    assert len(whole.vectors["streets"]) == 300
    assert 2 <= len(part.vectors["streets"]) <= 10
    box = shapely.box(*BOX)
    want = whole.vectors["streets"][whole.vectors["streets"].intersects(box)]
    got = part.vectors["streets"][part.vectors["streets"].intersects(box)]
    assert got["name"].tolist() == want["name"].tolist() == ["s0", "s100"]
    assert all(a.equals_exact(b, 0) for a, b in zip(got.geometry, want.geometry, strict=True))


def test_window_reads_all_land_a_read_census_polygon_is_placed_on(
    city: list[LayerSpec],
) -> None:
    # 3,000 residents over 3 x 500,000 m2 of housing: 1,000 on the block in the box.
    # Had the land been read in the box only, the block would get all 3,000.
    part = load_layers(city, crs=CRS, window=Window(BOX, pyproj.CRS(CRS)))
    pop = part.vectors["population"]
    inside = pop[pop.intersects(shapely.box(*BOX))]
    assert inside["population"].tolist() == pytest.approx([1000.0])
    assert pop["population"].sum() == pytest.approx(3000.0)


def test_whole_roles_are_read_whole(city: list[LayerSpec]) -> None:
    assert {"boundary", "districts", "stations"} <= set(WHOLE_READS)
    part = load_layers(city, crs=CRS, window=Window(BOX, pyproj.CRS(CRS)),
                       whole_roles=("streets",))
    assert len(part.vectors["streets"]) == 300


def test_an_empty_window_keeps_the_layer_and_its_fields(city: list[LayerSpec]) -> None:
    far = (X0 + 500_000.0, Y0, X0 + 501_000.0, Y0 + 1000.0)
    part = load_layers(city, crs=CRS, window=Window(far, pyproj.CRS(CRS)))
    streets = part.vectors["streets"]
    # nothing touches the box: one feature is read for its fields and lies outside
    assert "name" in streets.columns and not streets.intersects(shapely.box(*far)).any()


def test_window_in_another_crs_holds_the_whole_box() -> None:
    utm, wgs = pyproj.CRS(CRS), pyproj.CRS(4326)
    box = (X0, Y0, X0 + 20_000.0, Y0 + 20_000.0)
    x0, y0, x1, y1 = Window(box, utm).bbox_in(wgs)
    # every point along the box's edges, reprojected independently, lies inside
    t = np.linspace(0.0, 1.0, 1001)
    xs = np.concatenate([box[0] + t * 20_000, np.full_like(t, box[2]),
                         box[0] + t * 20_000, np.full_like(t, box[0])])
    ys = np.concatenate([np.full_like(t, box[1]), box[1] + t * 20_000,
                         np.full_like(t, box[3]), box[1] + t * 20_000])
    lon, lat = pyproj.Transformer.from_crs(utm, wgs, always_xy=True).transform(xs, ys)
    assert (lon > x0).all() and (lon < x1).all() and (lat > y0).all() and (lat < y1).all()


def test_a_layer_without_geometry_is_read_whole_in_a_window(tmp_path: Path) -> None:
    import pandas as pd
    import pyogrio

    from urbanform.layers.read import read_source

    path = tmp_path / "table.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"jobs": [5, 7]}), path, layer="table")
    spec = LayerSpec(name="table", role="jobs", source=str(path), crs=CRS)
    # GDAL cannot filter a table by a box: the window is not applied, nothing fails
    got = read_source(spec, Window(BOX, pyproj.CRS(CRS)))
    assert got["jobs"].tolist() == read_source(spec)["jobs"].tolist() == [5, 7]
