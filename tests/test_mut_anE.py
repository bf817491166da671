"""Mutation tests for urbanform/analyses/tod.py and tod_catchments.py (helper anE).

Each test pins one behaviour; expected values are worked out by hand in a comment or by an
independent method (shapely, networkx, numpy), never taken from the code under test.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from urbanform.analyses import tod
from urbanform.analyses import tod_catchments as tc
from urbanform.analyses.context import Context
from urbanform.layers.types import Layers
from urbanform.network import graph_from_lines, snap_points

CRS = pyproj.CRS(32648)
X0, Y0 = 400_000.0, 3_390_000.0


def _xy(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


def _line(*pts: tuple[float, float]) -> shapely.LineString:
    return shapely.LineString([_xy(*p) for p in pts])


def _disc(x: float, y: float, r: float) -> shapely.Polygon:
    # the straight-line circle as the method describes it: 16 segments a quarter
    return shapely.Point(_xy(x, y)).buffer(r, quad_segs=16)


def _band(line: shapely.LineString) -> shapely.Polygon:
    # a walked piece widened by CATCHMENT_BUFFER_M = 50 m (docs: "widened by 50 m on each
    # side"), 4 segments a quarter circle for the round caps (BAND_QUAD_SEGS)
    return line.buffer(50.0, quad_segs=4)


# ---------------------------------------------------------------------------------------
# tod.py on the river streets of tests/test_tod.py
#
#     north bank (0,300) ---- (150,300) ---------------------- (1000,300)
#                                 |  bridge
#     south bank (0,0) ------ (150,0) ------------------------ (1000,0)
# ---------------------------------------------------------------------------------------

RIVER = [[(0, 0), (150, 0)], [(150, 0), (1000, 0)], [(0, 300), (150, 300)],
         [(150, 300), (1000, 300)], [(150, 0), (150, 300)]]


def _points(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=shapely.points([_xy(*p) for p in xy]), crs=CRS)


def _ctx(*, stations, population, jobs=None, landuse=None, streets=RIVER) -> Context:
    lines = gpd.GeoDataFrame(geometry=[_line(*seg) for seg in streets], crs=CRS)
    vectors = {"stations": stations, "population": population, "streets": lines}
    if jobs is not None:
        vectors["jobs"] = jobs
    if landuse is not None:
        vectors["landuse"] = landuse
    return Context(Layers(crs=CRS, vectors=vectors))


def _run(ctx: Context, **params):
    p = tod.validate_params(params, where="analyses/tod.yml")
    return tod.run(ctx, name="tod", params=p, target=None)


def _residents() -> gpd.GeoDataFrame:
    return _points([{"population": 100.0}, {"population": 10.0}], [(450, 0), (0, 300)])


def test_connector_is_drawn_in_a_ring_exactly_as_wide_as_its_snap_and_not_in_a_narrower() -> None:
    # A's entrance (300, 80) snaps 80 m to (300, 0) on the south bank. Ring 80 m: the snap
    # takes the whole 80 m, so no street is walked, but the connector is within the ring
    # (snap <= r): the catchment is the connector (300, 80)-(300, 0) widened by 50 m, clipped
    # to the 80 m circle around the entrance. Ring 50 m: the snap alone is beyond it, so
    # the catchment is empty.
    st = _points([{"name": "A", "line": ""}], [(300, 80)])
    res = _run(_ctx(stations=st, population=_residents()), radius_m=[50, 80])
    area = res.layers["stations"][["area_ha_50", "area_ha_80"]].iloc[0].tolist()
    expected = _band(_line((300, 80), (300, 0))).intersection(_disc(300, 80, 80)).area
    assert area[0] == 0.0
    assert area[1] == pytest.approx(expected / 1e4, rel=1e-9)
    # the walkable share of the 80 m ring: that area over the disc's
    share = res.layers["stations"]["walkable_share_80"].iloc[0]
    assert share == pytest.approx(expected / _disc(300, 80, 80).area, rel=1e-9)


def test_network_catchment_buffers_its_pieces_itself_when_not_given_bands() -> None:
    # one street (0, 0)-(1000, 0); A's entrance (300, 30) snaps 30 m to (300, 0) and has
    # 200 - 30 = 170 m left each way: the piece 130..470 (given by hand). The catchment is
    # the piece and the connector (300, 30)-(300, 0), each widened by 50 m, clipped to the
    # 200 m circle around the entrance.
    graph = graph_from_lines(gpd.GeoDataFrame(geometry=[_line((0, 0), (1000, 0))], crs=CRS))
    ent = gpd.GeoDataFrame({"station": [0]}, geometry=[shapely.Point(_xy(300, 30))], crs=CRS)
    ent_snap = snap_points(graph, ent.geometry, max_snap_m=100)
    pieces = tc.Pieces(np.array([0]), np.array([0]), np.array([130.0]), np.array([470.0]))
    circles = np.array([_disc(300, 30, 200)], dtype=object)
    (poly,) = tod._network_catchments(graph, ent, ent_snap, pieces, r=200.0, circles=circles)
    expected = shapely.union_all([_band(_line((130, 0), (470, 0))),
                                  _band(_line((300, 30), (300, 0)))]).intersection(circles[0])
    assert poly.area == pytest.approx(expected.area, rel=1e-9)
    assert poly.symmetric_difference(expected).area < 1e-6


def test_landuse_mix_without_any_land_use_area_is_nan_not_an_error() -> None:
    # land use of lines only: no class with an area (k = 0), so no mix; ln 0 is never taken
    lu = gpd.GeoDataFrame({"class": ["road", "rail"]}, crs=CRS,
                          geometry=[shapely.LineString([(0, 0), (10, 0)]),
                                    shapely.LineString([(0, 5), (10, 5)])])
    out = tod.landuse_mix(np.array([shapely.box(0, -1, 10, 6)]), lu)
    assert out.shape == (1,) and math.isnan(out[0])


# ---------------------------------------------------------------------------------------
# tod_catchments.py
# ---------------------------------------------------------------------------------------


def _graph(*lines: list[tuple[float, float]]):
    return graph_from_lines(gpd.GeoDataFrame(geometry=[_line(*seg) for seg in lines], crs=CRS))


def test_snap_within_reach_skips_no_small_piece_by_default() -> None:
    # min_piece_share defaults to 0 (as snap_points': "0 skips nothing"): the 5 m piece at
    # y = 50 (5 of 1,005 m of network) is kept, so (2, 45) snaps 5 m to it, not 45 m to
    # the main street, and (300, 5) snaps 5 m to the main street; nothing is an island
    graph = _graph([(0, 0), (1000, 0)], [(0, 50), (5, 50)])
    units = gpd.GeoSeries(shapely.points([_xy(2, 45), _xy(300, 5)]), crs=CRS)
    snapped, on_street = tc.snap_within_reach(graph, units, np.array([_xy(0, 0)]),
                                              reach_m=500.0, max_snap_m=100.0)
    assert snapped.snap_m.tolist() == [pytest.approx(5.0), pytest.approx(5.0)]
    assert snapped.edge[0] != snapped.edge[1]
    assert snapped.island is None
    assert on_street.tolist() == [True, True]


def test_station_without_bands_gets_an_empty_polygon() -> None:
    # the docstring's contract: "an empty polygon for a station without pieces", a
    # Polygon (the catchments layer holds polygons), not an empty collection
    bands = np.array([shapely.box(0, 0, 10, 10), shapely.box(100, 0, 110, 10)], dtype=object)
    circles = np.array([shapely.box(0, 0, 1000, 1000)] * 3, dtype=object)
    out = tc.catchment_polygons(bands, np.array([0, 2]), circles, threads=1)
    assert out[1].is_empty and out[1].geom_type == "Polygon"
    assert [g.geom_type for g in out] == ["Polygon", "Polygon", "Polygon"]


def _src(graph, xy_local: list[tuple[float, float]], station: list[int]) -> tc.StationSources:
    xy = np.array([_xy(*p) for p in xy_local])
    return tc.StationSources(np.array(station), xy, snap_points(graph, xy, max_snap_m=100),
                             max(station) + 1)


def test_station_walks_give_inf_for_an_unsnapped_unit_and_a_unit_beyond_reach() -> None:
    # one street (0, 0)-(1000, 0), station at (0, 0); units: (100, 10) walks 10 + 100 = 110 m;
    # (900, 0) walks 900 m, beyond the 500 m ring; (50, 500) is 500 m off the street and
    # not snapped: both inf, never NaN
    graph = _graph([(0, 0), (1000, 0)])
    src = _src(graph, [(0, 0)], [0])
    units = snap_points(graph, np.array([_xy(100, 10), _xy(900, 0), _xy(50, 500)]),
                        max_snap_m=100)
    d, _ = tc.station_walks(graph, src, units, np.zeros(3, dtype=np.int64), np.arange(3),
                            radii_m=[500.0])
    assert d.dtype == np.float64
    assert d[0] == pytest.approx(110.0)
    assert np.isposinf(d[1]) and np.isposinf(d[2])


def test_reached_pieces_without_node_edges_given() -> None:
    # street (0, 0)-(100, 0)-(300, 0); the station at (50, 0) walks 120 m: the first edge
    # whole (50 m each way) and, from the node (100, 0) reached at 50 m, 70 m of the second
    # edge: (100, 0)-(170, 0)
    graph = _graph([(0, 0), (100, 0)], [(100, 0), (300, 0)])
    src = _src(graph, [(50, 0)], [0])
    (batch,) = tc.distance_batches(graph, src, cutoff_m=120.0)
    pieces = tc.reached_pieces(graph, batch, src, cutoff_m=120.0)
    got = tc.piece_geometries(graph, pieces)
    assert pieces.station.tolist() == [0, 0]
    expected = [_line((0, 0), (100, 0)), _line((100, 0), (170, 0))]
    assert sorted(shapely.length(got).tolist()) == [pytest.approx(70.0), pytest.approx(100.0)]
    for line in expected:
        assert any(shapely.equals(g, line) for g in got)


def _piece_rows(graph, pieces: tc.Pieces) -> list[tuple[int, float, float, float, float]]:
    # (station, x0, x1, y, length) of each piece, in local coordinates: independent of the
    # graph's edge numbering and direction
    rows = []
    for s, g in zip(pieces.station.tolist(), tc.piece_geometries(graph, pieces), strict=True):
        xy = shapely.get_coordinates(g) - (X0, Y0)
        rows.append((s, round(xy[:, 0].min(), 6), round(xy[:, 0].max(), 6),
                     round(xy[0, 1], 6), round(g.length, 6)))
    return sorted(rows)


def test_reached_pieces_of_a_batch_hold_its_own_stations_only_with_their_snap_deducted() -> None:
    # two 400 m streets 1 km apart. S0 (100, 40) snaps 40 m to (100, 0): with 150 m it walks
    # 110 m each way along its street: 0..210 (the node (0, 0), reached at 140 m, adds
    # nothing more). S1 (300, 1030) snaps 30 m: 120 m each way, 180..400. max_cells 1 puts
    # them in two batches (each has one local node): each batch's pieces are its own
    # station's, never the other batch's entrance edge
    graph = _graph([(0, 0), (400, 0)], [(0, 1000), (400, 1000)])
    src = _src(graph, [(100, 40), (300, 1030)], [0, 1])
    batches = list(tc.distance_batches(graph, src, cutoff_m=150.0, max_cells=1))
    assert [b.stations.tolist() for b in batches] == [[0], [1]]
    got = [_piece_rows(graph, tc.reached_pieces(graph, b, src, cutoff_m=150.0)) for b in batches]
    assert got == [[(0, 0.0, 210.0, 0.0, 210.0)], [(1, 180.0, 400.0, 1000.0, 220.0)]]
    # 40.5 m: S0 has 0.5 m left after its 40 m snap, a 1 m piece 99.5..100.5
    got = _piece_rows(graph, tc.reached_pieces(graph, batches[0], src, cutoff_m=40.5))
    assert got == [(0, 99.5, 100.5, 0.0, 1.0)]


def test_tod_indicators_by_district_with_a_target() -> None:
    # residents (450, 0) 100: walks 450 m; (0, 300) 10: walks 600 m; (900, 300) 1: walks
    # 150 + 300 + 750 = 1,200 m, beyond 800 m. Districts: "west" (x < 300) holds (0, 300),
    # "east" (x 300..1000) the other two, "far" nobody. Target pop_share >= 0.995:
    # city 110 / 111 = 0.99099 (not met), west 10 / 10 (met), east 100 / 101 = 0.990 (not
    # met), far: no value. jobs_share has no target (the target names pop_share) and,
    # without jobs, 0 / 0: no value
    from urbanform.results import Target

    pop = _points([{"population": 100.0}, {"population": 10.0}, {"population": 1.0}],
                  [(450, 0), (0, 300), (900, 300)])
    st = _points([{"name": "A", "line": ""}], [(0, 0)])
    ctx = _ctx(stations=st, population=pop)
    boxes = [((-50, -50), (300, 350)), ((300, -50), (1000, 350)), ((5000, 0), (5100, 100))]
    ctx.layers.vectors["districts"] = gpd.GeoDataFrame(
        {"name": ["west", "east", "far"]}, crs=CRS,
        geometry=[shapely.box(*_xy(*a), *_xy(*b)) for a, b in boxes])
    p = tod.validate_params({}, where="analyses/tod.yml")
    res = tod.run(ctx, name="tod", params=p, target=Target("pop_share", ">=", 0.995))
    pop_share = res.indicators["pop_share"]
    assert pop_share.target == Target("pop_share", ">=", 0.995)
    assert (pop_share.city.value, pop_share.city.met) == (pytest.approx(110 / 111), False)
    got = {d: (v.value, v.met) for d, v in pop_share.districts.items()}
    assert got == {"east": (pytest.approx(100 / 101), False), "far": (None, None),
                   "west": (1.0, True)}
    jobs_share = res.indicators["jobs_share"]
    assert jobs_share.target is None
    assert sorted(jobs_share.districts) == ["east", "far", "west"]
    assert (pop_share.label, pop_share.unit) == (
        "Residents within walking distance of a rail station", "share")
    assert (jobs_share.label, jobs_share.unit) == (
        "Jobs within walking distance of a rail station", "share")


def test_tod_warnings_come_in_order_snapping_unnamed_features_no_jobs() -> None:
    # an unnamed entrance (900, 0) lies 900 m from station A, beyond the 300 m join
    # (docs/osm.md: left out, and counted); the resident (600, 150) of 7 is 150 m from both
    # banks, beyond max_snap_m 100; no jobs layer. All three warnings, in that order
    st = _points([{"name": "A", "line": "", "kind": "station"},
                  {"name": None, "line": "", "kind": "entrance"}], [(0, 0), (900, 0)])
    pop = _points([{"population": 100.0}, {"population": 7.0}], [(450, 0), (600, 150)])
    res = _run(_ctx(stations=st, population=pop))
    assert res.warnings == [
        "1 population units (7 residents) lie farther than 100 m from any street and count "
        "as not within reach",
        "1 unnamed station entrances, stop positions or station features lie farther than "
        "300 m from every named station and are left out",
        "no jobs layer: jobs and jobs_share are not computed and activity density counts "
        "residents only",
    ]
    assert res.extra == {"stations": 1, "entrances": 1}
    # the result's units keep the layers' CRS
    assert res.units.crs == CRS


# eight stations, each entrance on the west node of its own 10 m street (so each station
# reaches its own nodes only); G has two entrances 400 m apart. With a 50 m cut-off the
# batches go by strips of 2 x 50 = 100 m of the stations' mean y (y 0..100, 100..200, ...;
# Y0 is a multiple of 100), west to east by mean x inside a strip (distance_batches:
# "spatial batches"): A (0, 60), B (100, 40) | C (500, 190) | D (0, 210), E (500, 290) |
# F (0, 310) | G (mean (200, 450)), H (300, 440)
_STATIONS = {"A": [(0, 60)], "B": [(100, 40)], "C": [(500, 190)], "D": [(0, 210)],
             "E": [(500, 290)], "F": [(0, 310)], "G": [(0, 450), (400, 450)],
             "H": [(300, 440)]}
_ROW = {"A": 3, "B": 0, "C": 6, "D": 1, "E": 7, "F": 2, "G": 5, "H": 4}  # station rows


def _eight_stations():
    pts = [(_ROW[k], p) for k, ps in _STATIONS.items() for p in ps]
    graph = _graph(*[[p, (p[0] + 10, p[1])] for _, p in pts])
    return graph, _src(graph, [p for _, p in pts], [s for s, _ in pts])


def test_distance_batches_go_by_strips_of_twice_the_cutoff_then_west_to_east() -> None:
    graph, src = _eight_stations()
    # max_cells 1: one station a batch, so the batches show the order
    batches = list(tc.distance_batches(graph, src, cutoff_m=50.0, max_cells=1))
    assert [b.stations.tolist() for b in batches] == [[_ROW[k]] for k in "ABCDEFGH"]


def test_station_with_two_far_entrances_takes_the_nodes_of_both() -> None:
    # G's batch holds the two nodes of each of its streets: 0 m at each entrance, 10 m at
    # each east end
    graph, src = _eight_stations()
    (g,) = [b for b in tc.distance_batches(graph, src, cutoff_m=50.0, max_cells=1)
            if b.stations.tolist() == [_ROW["G"]]]
    assert g.nodes.size == 4
    assert sorted(g.dist_m[0, :4].tolist()) == [0.0, 0.0, 10.0, 10.0]


def test_station_walks_log_their_batches(caplog) -> None:
    import logging

    # max_cells 1: eight stations in eight batches; the pair (A, unit at (5, 60)) walks 5 m
    caplog.set_level(logging.INFO, logger="urbanform.analyses.tod_catchments")
    graph, src = _eight_stations()
    units = snap_points(graph, np.array([_xy(5, 60)]), max_snap_m=100)
    d, _ = tc.station_walks(graph, src, units, np.array([_ROW["A"]]), np.array([0]),
                            radii_m=[50.0], max_cells=1)
    assert d.tolist() == [pytest.approx(5.0)]
    assert "tod: 8 stations searched in 8 batches" in [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("role", ["stations", "population", "streets"])
def test_tod_names_itself_when_a_layer_is_missing(role) -> None:
    # the LayerError a user sees names the analysis that needs the layer (the text of
    # urbanform/layers/types.py Layers.vector; docs/errors.md lists LayerError only)
    ctx = _ctx(stations=_points([{"name": "A", "line": ""}], [(0, 0)]), population=_residents())
    del ctx.layers.vectors[role]
    from urbanform.errors import LayerError

    with pytest.raises(LayerError) as e:
        _run(ctx)
    assert str(e.value) == (f"analysis 'tod' needs a vector layer with role '{role}'; add "
                            f"layers/{role}.yml with 'role: {role}' and a 'source'")


def test_tod_population_without_residents_is_an_error_naming_the_analysis() -> None:
    from urbanform.errors import AnalysisError

    pop = _points([{"population": 0.0}], [(450, 0)])
    with pytest.raises(AnalysisError) as e:
        _run(_ctx(stations=_points([{"name": "A", "line": ""}], [(0, 0)]), population=pop))
    assert str(e.value) == ("analysis 'tod': the population layer holds no residents (total 0); "
                            "check its 'population' field mapping in layers/*.yml")


def test_node_entered_from_the_entrance_exactly_at_the_cutoff_is_reached() -> None:
    # streets (0, 0)-(100, 0) and (0, 0)-(0, -100); the entrance (70, 30) snaps 30 m to
    # (70, 0): it enters (0, 0) at 30 + 70 = 100 m, exactly the 100 m cut-off (reached,
    # as tests/test_edges.py pins for nearest_distance), and (100, 0) at 30 + 30 = 60 m
    graph = _graph([(0, 0), (100, 0)], [(0, 0), (0, -100)])
    src = _src(graph, [(70, 30)], [0])
    (b,) = tc.distance_batches(graph, src, cutoff_m=100.0)
    node = {tuple(np.round(p - (X0, Y0), 6)): i for i, p in enumerate(graph.node_xy)}
    assert b.dist_m[0, b.local[node[(0.0, 0.0)]]] == pytest.approx(100.0)
    assert b.dist_m[0, b.local[node[(100.0, 0.0)]]] == pytest.approx(60.0)


def test_tod_units_are_numbered_residents_first_then_jobs() -> None:
    # two population units and two job units: one table of four rows, numbered 0..3
    pop = _points([{"population": 100.0}, {"population": 10.0}], [(450, 0), (0, 300)])
    jobs = _points([{"jobs": 30.0}, {"jobs": 5.0}], [(300, 0), (900, 0)])
    res = _run(_ctx(stations=_points([{"name": "A", "line": ""}], [(0, 0)]), population=pop,
                    jobs=jobs), radius_m=[500])
    assert res.units.index.tolist() == [0, 1, 2, 3]
    assert res.units["is_job"].tolist() == [False, False, True, True]
    # walks: 450, 600 (beyond 500), 300, 900 (beyond)
    assert res.units["station_m"].iloc[[0, 2]].tolist() == [pytest.approx(450.0),
                                                            pytest.approx(300.0)]
    assert np.isnan(res.units["station_m"].iloc[[1, 3]]).all()
    # the indicator numerators: 0 (not None) for the units beyond reach
    assert res.units["pop_share__num"].tolist() == [100.0, 0.0, 0.0, 0.0]
    assert res.units["jobs_share__num"].tolist() == [0.0, 0.0, 30.0, 0.0]
    assert res.units["pop_share__num"].dtype == np.float64


def test_catchments_smaller_than_a_hectare_have_a_density_and_a_walkable_share() -> None:
    # A stands on the south bank at (300, 0); the resident (320, 0) of 10 walks 20 m.
    # Rings of 30 m and 0.5 m: the walked street widened by 50 m covers the whole circle,
    # so each catchment is its circle (64 segments): 2,827 m2 and 0.78 m2, walkable share 1;
    # activity = 10 residents per (circle area / 10,000) ha
    st = _points([{"name": "A", "line": ""}], [(300, 0)])
    pop = _points([{"population": 10.0}], [(320, 0)])
    res = _run(_ctx(stations=st, population=pop), radius_m=[0.5, 30])
    row = res.layers["stations"].iloc[0]
    for r, ring in ((30.0, "30"), (0.5, "0.5")):
        disc_ha = _disc(300, 0, r).area / 1e4
        assert row[f"area_ha_{ring}"] == pytest.approx(disc_ha, rel=1e-9)
        assert row[f"walkable_share_{ring}"] == pytest.approx(1.0, rel=1e-9)
    assert row["residents_30"] == 10.0 and row["residents_0.5"] == 0.0
    assert row["activity_per_ha_30"] == pytest.approx(10.0 / (_disc(300, 0, 30).area / 1e4))
    assert row["activity_per_ha_0.5"] == 0.0
    assert res.layers["stations"]["walkable_share_30"].dtype == np.float64


def test_catchment_layer_rows_are_numbered_across_rings() -> None:
    # two stations, two rings: four rows (800 m ring first, stations in name order),
    # numbered 0..3, not 0, 1, 0, 1
    st = _points([{"name": "B", "line": ""}, {"name": "A", "line": ""}], [(1000, 0), (0, 0)])
    res = _run(_ctx(stations=st, population=_residents()))
    layer = res.layers["catchments"]
    assert layer.index.tolist() == [0, 1, 2, 3]
    assert list(zip(layer["radius_m"], layer["station"], strict=True)) == [
        (800.0, "A"), (800.0, "B"), (500.0, "A"), (500.0, "B")]


def test_units_past_a_skipped_small_piece_are_counted_apart_from_the_entrances() -> None:
    # a 5 m piece (500..505, 100), under 1 % of the 2,305 m network, is skipped. The
    # resident (503, 96) of 50 and a job unit (501, 96) of 30 jobs lie 4 m from it and
    # 96 m from the south bank: both snap to the bank (2 units, 50 residents: job units
    # hold no residents); A's entrance (0, 0) is on the main network: no entrance warning
    streets = [*RIVER, [(500, 100), (505, 100)]]
    pop = _points([{"population": 50.0}], [(503, 96)])
    jobs = _points([{"jobs": 30.0}], [(501, 96)])
    res = _run(_ctx(stations=_points([{"name": "A", "line": ""}], [(0, 0)]), population=pop,
                    jobs=jobs, streets=streets), radius_m=[800])
    assert res.warnings == [
        "2 population and job units (50 residents) lie nearest to a small piece of street "
        "network cut off from the rest (under min_piece_share of its length) and were snapped "
        "to the main network instead",
    ]


def test_tod_unknown_parameter_is_named_with_the_file() -> None:
    # merge_params' message with the file name and tod's parameters, sorted (TodParams)
    from urbanform.errors import AnalysisError

    with pytest.raises(AnalysisError) as e:
        tod.validate_params({"radius": 500}, where="analyses/tod.yml")
    assert str(e.value) == (
        "analyses/tod.yml: unknown parameter 'radius' in 'params'; valid parameters: "
        "distance, indicator_radius_m, max_snap_m, min_piece_share, radius_m")


def test_tod_logs_both_city_shares_and_names_its_result(caplog) -> None:
    import logging

    # ring 500 m: residents (450, 0) 100 within, (0, 300) 300 beyond (600 m): 100 / 400;
    # jobs (300, 0) 30 within, (900, 0) 10 beyond: 30 / 40
    caplog.set_level(logging.INFO, logger="urbanform.analyses.tod")
    pop = _points([{"population": 100.0}, {"population": 300.0}], [(450, 0), (0, 300)])
    jobs = _points([{"jobs": 30.0}, {"jobs": 10.0}], [(300, 0), (900, 0)])
    res = _run(_ctx(stations=_points([{"name": "A", "line": ""}], [(0, 0)]), population=pop,
                    jobs=jobs), radius_m=[500])
    assert "tod: pop_share 0.25, jobs_share 0.75" in [r.getMessage() for r in caplog.records]
    assert res.name == "tod"


def test_distance_batches_keep_stations_times_local_nodes_within_max_cells() -> None:
    # seven stations on the nodes of a street with a node every 100 m; with a 50 m cut-off
    # each reaches its own node only, so k stations hold k x k cells: max_cells 9 takes
    # 3 x 3 = 9, not 4 x 4 = 16: batches of 3, 3 and 1, each within the bound
    graph = _graph(*[[(100 * i, 0), (100 * i + 100, 0)] for i in range(7)])
    src = _src(graph, [(100 * i, 0) for i in range(7)], list(range(7)))
    batches = list(tc.distance_batches(graph, src, cutoff_m=50.0, max_cells=9))
    assert [(b.stations.size, b.nodes.size) for b in batches] == [(3, 3), (3, 3), (1, 1)]
