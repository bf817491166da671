"""tod_catchments: batched station searches equal one search per station.

A jittered 14 x 14 street grid (100 m blocks, seeded, EPSG:32648) with 6 stations (one of
them with two entrances) and 300 residents. The reference for each station is the
network engine's single-station answer: ``nearest_distance`` from the residents to that
station's entrances, and ``reached_edges`` from them.
"""

from __future__ import annotations

from unittest import mock

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from urbanform.analyses import tod
from urbanform.analyses import tod_catchments as tc
from urbanform.analyses.context import Context
from urbanform.layers.types import Layers
from urbanform.network import (
    graph_from_lines,
    nearest_distance,
    reached_edges,
    snap_points,
    snapping,
)

CRS = pyproj.CRS(32648)
X0, Y0 = 400_000.0, 3_390_000.0
RADII_M = [500.0, 800.0]
# station of each entrance; station 2 has two entrances
ENT_STATION = np.array([0, 1, 2, 2, 3, 4, 5])
ENT_XY = np.array([[150, 220], [720, 310], [430, 880], [520, 930], [1110, 1120],
                   [260, 1210], [1250, 140]], dtype=float) + (X0, Y0)


def _grid(side: int = 14, spacing_m: float = 100.0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.stack([ii, jj], axis=-1) * spacing_m + rng.uniform(-20, 20, size=(side, side, 2))
    xy += (X0, Y0)
    a = np.concatenate([xy[:-1, :].reshape(-1, 2), xy[:, :-1].reshape(-1, 2)])
    b = np.concatenate([xy[1:, :].reshape(-1, 2), xy[:, 1:].reshape(-1, 2)])
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    drop = rng.random(lines.size) < 0.1  # some missing streets make detours
    return gpd.GeoDataFrame(geometry=lines[~drop], crs=CRS)


@pytest.fixture(scope="module")
def city():
    graph = graph_from_lines(_grid())
    rng = np.random.default_rng(11)
    unit_xy = rng.uniform(0, 1300, size=(300, 2)) + (X0, Y0)
    units = snap_points(graph, unit_xy, max_snap_m=100)
    ent = snap_points(graph, ENT_XY, max_snap_m=100)
    src = tc.StationSources(station=ENT_STATION, xy=ENT_XY, snapped=ent, n_stations=6)
    # every (station, unit) pair, so that nothing depends on a straight-line filter
    st, ui = (g.ravel() for g in np.meshgrid(np.arange(6), np.arange(300), indexing="ij"))
    return graph, units, src, st, ui


def _single_station_m(graph, units, src, st, ui) -> np.ndarray:
    out = np.empty(st.size)
    for s in range(src.n_stations):
        sel = st == s
        out[sel] = nearest_distance(graph, units.subset(ui[sel]),
                                    src.snapped.subset(src.station == s), cutoff_m=RADII_M[-1])
    return out


def test_batched_pair_distances_equal_single_station_searches(city):
    graph, units, src, st, ui = city
    d, _ = tc.station_walks(graph, src, units, st, ui, radii_m=RADII_M)
    np.testing.assert_array_equal(d, _single_station_m(graph, units, src, st, ui))


def test_batched_residents_per_station_equal_single_station_counts(city):
    graph, units, src, st, ui = city
    d, _ = tc.station_walks(graph, src, units, st, ui, radii_m=RADII_M)
    ref = _single_station_m(graph, units, src, st, ui)
    counts = np.bincount(st[d <= 500.0], minlength=6)
    assert counts.tolist() == np.bincount(st[ref <= 500.0], minlength=6).tolist()


def test_small_batches_give_the_same_distances(city):
    graph, units, src, st, ui = city
    one, _ = tc.station_walks(graph, src, units, st, ui, radii_m=RADII_M)
    # room for about one station's local graph per batch: 6 batches
    many, _ = tc.station_walks(graph, src, units, st, ui, radii_m=RADII_M, max_cells=200)
    np.testing.assert_array_equal(many, one)


@pytest.mark.parametrize("radius_m", RADII_M)
def test_reached_pieces_equal_reached_edges_per_station(city, radius_m):
    graph, units, src, st, ui = city
    _, pieces = tc.station_walks(graph, src, units, st, ui, radii_m=RADII_M)
    p = pieces[radius_m]
    for s in range(src.n_stations):
        ref = reached_edges(graph, src.snapped.subset(src.station == s), cutoff_m=radius_m)
        mine = p.station == s
        got = np.stack([p.edge[mine], p.start_m[mine], p.end_m[mine]], axis=1)
        np.testing.assert_array_equal(got, ref[["edge", "start_m", "end_m"]].to_numpy())


def test_station_without_a_snapped_entrance_reaches_nothing(city):
    graph, units, src, st, ui = city
    far = snap_points(graph, np.vstack([ENT_XY, [[X0 + 9000, Y0 + 9000]]]), max_snap_m=100)
    src7 = tc.StationSources(station=np.r_[ENT_STATION, 6], xy=np.vstack(
        [ENT_XY, [[X0 + 9000, Y0 + 9000]]]), snapped=far, n_stations=7)
    d, pieces = tc.station_walks(graph, src7, units, np.full(300, 6), np.arange(300),
                                 radii_m=RADII_M)
    assert (np.isinf(d).all(), int((pieces[800.0].station == 6).sum())) == (True, 0)


def test_threaded_polygons_equal_one_thread(city):
    graph, units, src, st, ui = city
    _, pieces = tc.station_walks(graph, src, units, st, ui, radii_m=RADII_M)
    p = pieces[800.0]
    bands = shapely.buffer(tc.piece_geometries(graph, p), 50.0, quad_segs=4)
    circles = shapely.buffer(shapely.points(ENT_XY[[0, 1, 2, 4, 5, 6]]), 800.0)
    one = tc.catchment_polygons(bands, p.station, circles, threads=1)
    two = tc.catchment_polygons(bands, p.station, circles, threads=2)
    assert all(shapely.equals_exact(one, two, tolerance=0.0))


def test_tod_station_table_counts_equal_single_station_counts(city):
    graph, units, src, st, ui = city
    rng = np.random.default_rng(11)
    unit_xy = rng.uniform(0, 1300, size=(300, 2)) + (X0, Y0)
    pop = gpd.GeoDataFrame({"population": np.arange(1.0, 301.0)},
                           geometry=shapely.points(unit_xy), crs=CRS)
    names = [f"S{s}" for s in ENT_STATION]  # sorted names: S0..S5 keep the station rows
    stations = gpd.GeoDataFrame({"name": names, "line": "L1"},
                                geometry=shapely.points(ENT_XY), crs=CRS)
    layers = Layers(crs=CRS, vectors={"streets": _grid(), "stations": stations,
                                      "population": pop})
    p = tod.validate_params({"radius_m": RADII_M}, where="test")
    table = tod.run(Context(layers), name="tod", params=p, target=None).layers["stations"]
    ref = _single_station_m(graph, units, src, st, ui)
    within = ref <= 500.0
    expected = np.bincount(st[within], weights=pop["population"].to_numpy()[ui[within]],
                           minlength=6)
    np.testing.assert_array_equal(table["residents_500"].to_numpy(), expected)


def test_threaded_intersection_equals_one_call():
    a = shapely.buffer(shapely.points(np.arange(10.0) * 30 + X0, np.full(10, Y0)), 40.0)
    b = shapely.box(X0 - 100, Y0 - 10, X0 + 120, Y0 + 100)
    out = tc.threaded_intersection(a, np.full(10, b), threads=2, chunk=3)
    assert all(shapely.equals_exact(out, shapely.intersection(a, b), tolerance=0.0))


def test_near_street_equals_snap_points_ok(city):
    graph = city[0]
    rng = np.random.default_rng(5)
    # inside the grid, around its edge and far off it: every answer, and points near 100 m
    xy = rng.uniform(-400, 1700, size=(3000, 2)) + (X0, Y0)
    np.testing.assert_array_equal(snapping.near_street(graph, xy, max_snap_m=100),
                                  snap_points(graph, xy, max_snap_m=100).ok)


def _snap_every_unit(ctx, u, ent, *, name, p):
    """The snapping before units out of reach were skipped: every unit snapped."""
    graph = ctx.walk_graph(needed_by=name)
    units = snap_points(graph, u.frame.geometry, max_snap_m=p["max_snap_m"])
    return graph, (units, snap_points(graph, ent.geometry, max_snap_m=p["max_snap_m"])), units.ok


def test_units_out_of_reach_give_the_same_result_as_snapping_every_unit():
    rng = np.random.default_rng(3)
    # residents on and far off the grid (beyond 800 m of every entrance, some off-street)
    unit_xy = np.vstack([rng.uniform(0, 1300, size=(200, 2)),
                         rng.uniform(-1500, 2800, size=(200, 2))]) + (X0, Y0)
    pop = gpd.GeoDataFrame({"population": np.arange(1.0, 401.0)},
                           geometry=shapely.points(unit_xy), crs=CRS)
    stations = gpd.GeoDataFrame({"name": [f"S{s}" for s in ENT_STATION], "line": "L1"},
                                geometry=shapely.points(ENT_XY), crs=CRS)
    layers = Layers(crs=CRS, vectors={"streets": _grid(), "stations": stations,
                                      "population": pop})
    p = tod.validate_params({"radius_m": [300, 600], "indicator_radius_m": 700}, where="test")
    new = tod.run(Context(layers), name="tod", params=p, target=None)
    with mock.patch.object(tod, "_snap", _snap_every_unit):
        ref = tod.run(Context(layers), name="tod", params=p, target=None)
    assert new.warnings == ref.warnings and "units" in new.warnings[0]
    np.testing.assert_array_equal(new.units["station_m"].to_numpy(),
                                  ref.units["station_m"].to_numpy())
    pd.testing.assert_frame_equal(new.layers["stations"].drop(columns="geometry"),
                                  ref.layers["stations"].drop(columns="geometry"))


def _mix_by_intersection(polygons, landuse) -> np.ndarray:
    """Reference: every land-use polygon cut by every catchment (the method before)."""
    classes = landuse["class"].to_numpy()
    k = len(np.unique(classes))
    out = np.full(len(polygons), np.nan)
    for i, poly in enumerate(polygons):
        area = shapely.area(shapely.intersection(poly, landuse.geometry.values))
        per_class = np.array([area[classes == c].sum() for c in np.unique(classes)])
        share = per_class[per_class > 0] / per_class.sum()
        out[i] = -(share * np.log(share)).sum() / np.log(k)
    return out


def test_landuse_mix_counts_contained_polygons_whole_as_if_cut():
    # 20 m blocks of three classes; catchments that hold some blocks whole and cut others
    ii, jj = np.meshgrid(np.arange(12), np.arange(12), indexing="ij")
    boxes = shapely.box(X0 + ii.ravel() * 20, Y0 + jj.ravel() * 20,
                        X0 + ii.ravel() * 20 + 20, Y0 + jj.ravel() * 20 + 20)
    classes = np.array(["res", "com", "park"])[(ii + 2 * jj).ravel() % 3]
    landuse = gpd.GeoDataFrame({"class": classes}, geometry=boxes, crs=CRS)
    polygons = shapely.buffer(shapely.points([X0 + 70, X0 + 150], [Y0 + 90, Y0 + 130]),
                              [55.0, 73.0], quad_segs=4)
    assert shapely.contains_properly(polygons[0], boxes).sum() > 10
    np.testing.assert_allclose(tod.landuse_mix(polygons, landuse),
                               _mix_by_intersection(polygons, landuse), rtol=1e-12)


@pytest.mark.parametrize("radius_m", RADII_M)
def test_shared_edge_bands_equal_each_piece_buffered(city, radius_m):
    graph, units, src, st, ui = city
    _, pieces = tc.station_walks(graph, src, units, st, ui, radii_m=RADII_M)
    bands = tc.piece_bands(graph, pieces, buffer_m=50.0)[radius_m]
    each = shapely.buffer(tc.piece_geometries(graph, pieces[radius_m]), 50.0, quad_segs=4)
    assert shapely.equals_exact(bands, each, tolerance=0.0).all()


def test_threaded_buffer_equals_one_call():
    start = np.stack([X0 + np.arange(10.0) * 30, np.full(10, Y0)], axis=1)
    lines = shapely.linestrings(np.stack([start, start + [10.0, 60.0]], axis=1))
    out = tc.threaded_buffer(lines, 50.0, threads=2, chunk=3)
    assert shapely.equals_exact(out, shapely.buffer(lines, 50.0, quad_segs=4), tolerance=0.0).all()
