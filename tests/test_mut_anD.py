"""Mutation tests (issue 14 item 6, helper anD): park_coverage, common, living_circle.

Each test pins one behaviour; expected values are worked out by hand in a comment or by
an independent method, never taken from the code under test.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from urbanform.analyses import common, park_coverage
from urbanform.analyses import living_circle as lc
from urbanform.analyses.context import Context
from urbanform.layers.types import Layers

CRS = pyproj.CRS(32648)
WHERE = "analyses/park.yml"


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


def land(*boxes, cls="residential"):
    return gdf(boxes, **{"class": [cls] * len(boxes)})


# -- park_coverage, network distance: recomputed in every test ---------------------------
# (tests/test_mut_anA.py computes this case once and caches it, so mutmut credits only its
# first test; the tests here run it afresh.) Layout and hand walks, as in test_mut_anA.py:
# Streets: S1 y = 0, x 0..2000 (main); S2 y = 1000, x 0..400 (cut off, 400 m = 17% of the
# length: kept); S3 y = 40, x 1000..1004 (4 m, under 1%: skipped, an "island").
# Parks: A (100..200, 10..60) 5,000 m² -> 500 m, 12 edge points every 25 m, all <= 60 m
# from S1; the one nearest the east, (200, 10), snaps 10 m to (200, 0).
# B (1500..1550, 10..50) 2,000 m² -> 300 m, 8 points every 22.5 m; from the west the best
# is (1505, 10) (snap 10) or (1500, 27.5) (snap 27.5): walk = (1500 - x) + 15.
# C (1800..1810, 100..110) 100 m²: does not count. D (1000..1100, 300..360) 6,000 m²:
# its 13 edge points lie >= 300 m from S1: unsnapped, D serves nobody.
# Residents: P1 (650, 5) 100: 5 + 450 + 10 = 465 to A, covered; P2 (1300, -5) 40: 5 + 200
# + 15 = 220 to B, covered; P3 (100, 1010) 30 on S2: cut off; P4 (1002, 45) 20: nearest
# street is S3 (skipped), snapped to S1 45 m away: not covered; P5 (800, 300) 10: 300 m
# from any street, unsnapped; P6 (680, -20) 7: 20 + 480 + 10 = 510: not covered.
# Land L (600..700, -60..-10), spacing 50: samples (625, -25) and (675, -25), 2,500 m²
# each: 25 + 425 + 10 = 460 covered; 25 + 475 + 10 = 510 not.

NET_STREETS = gdf([shapely.LineString([(0, 0), (2000, 0)]),
                   shapely.LineString([(0, 1000), (400, 1000)]),
                   shapely.LineString([(1000, 40), (1004, 40)])])
NET_PARKS = gdf([shapely.box(100, 10, 200, 60), shapely.box(1500, 10, 1550, 50),
                 shapely.box(1800, 100, 1810, 110), shapely.box(1000, 300, 1100, 360)],
                name=["A", "B", "C", "D"])
NET_POP = gdf([shapely.Point(650, 5), shapely.Point(1300, -5), shapely.Point(100, 1010),
               shapely.Point(1002, 45), shapely.Point(800, 300), shapely.Point(680, -20)],
              population=[100.0, 40.0, 30.0, 20.0, 10.0, 7.0])
NET_LAND = (shapely.box(600, -60, 700, -10),)


def net_ctx(parks=NET_PARKS, pop=NET_POP, land_boxes=NET_LAND, streets=NET_STREETS):
    vectors = {"parks": parks, "streets": streets}
    if land_boxes is not None:
        vectors["landuse"] = land(*land_boxes)
    if pop is not None:
        vectors["population"] = pop
    return Context(Layers(crs=CRS, vectors=vectors))


def net_run(parks=NET_PARKS, pop=NET_POP, land_boxes=NET_LAND, *, ctx=None, **params):
    ctx = net_ctx(parks, pop, land_boxes) if ctx is None else ctx
    p = park_coverage.validate_params({"distance": "network", **params}, where=WHERE)
    return park_coverage.run(ctx, name="park", params=p, target=None)


def test_net_warnings_whole_text_fresh():
    """Every warning of the network case, whole (hand counts above): 33 access points
    (A 12, B 8, D 13), D's 13 unsnapped; P4 on the island; P5 unsnapped; P3 on S2, a
    piece cut off from the main network (component 1)."""
    assert net_run().warnings == [
        "1 parks under 2,000 m² do not count",
        "13 of 33 park access points lie farther than 100 m from any street and are not used",
        "1 counting parks have no access point near a street: they serve nobody",
        "1 population units (20 residents) lie nearest to a small piece of street network "
        "cut off from the rest (under min_piece_share of its length) and were snapped to the "
        "main network instead",
        "1 population units (10 residents) lie farther than the snapping limit from any "
        "street and count as not covered",
        "1 population units (30 residents) snap to streets cut off from the main network",
    ]


def test_net_land_samples_warn_in_square_metres():
    """Land samples use the same warnings, in m²: a land piece on S2 (cut off) at
    (100..150, 1010..1060), one sample (125, 1035) of 2,500 m², 35 m from S2; a piece
    (900..950, 200..250), sample (925, 225), 225 m from S1: unsnapped."""
    res = net_run(pop=None, land_boxes=(*NET_LAND, shapely.box(100, 1010, 150, 1060),
                                        shapely.box(900, 200, 950, 250)))
    assert res.warnings[-2:] == [
        "1 land samples (2,500 m²) lie farther than the snapping limit from any street and "
        "count as not covered",
        "1 land samples (2,500 m²) snap to streets cut off from the main network",
    ]
    # covered: the sample at 460 m only: 2,500 of 4 x 2,500
    assert res.indicators["area_share"].city.value == pytest.approx(0.25)


def test_net_service_areas_fresh():
    """A: sources at x 100..200 (snap 10) reach 490 m along S1: x 0..690 -> 690 m.
    B: x 1505 - 290 = 1215 to 1550 + 290 = 1840 -> 625 m (test_mut_anA.py)."""
    areas = net_run().layers["service_areas"]
    assert list(areas.columns) == ["tier", "min_area_m2", "radius_m", "length_m", "geometry"]
    assert areas[["tier", "min_area_m2", "radius_m"]].values.tolist() == [
        [1, 5000, 500], [2, 2000, 300]]
    assert areas["length_m"].tolist() == pytest.approx([690, 625])
    assert areas.geometry.iloc[0].bounds == pytest.approx((0, 0, 690, 0))
    assert areas.geometry.iloc[1].bounds == pytest.approx((1215, 0, 1840, 0))
    assert areas.crs == CRS


def test_net_service_area_of_a_second_tier_only():
    """Only B counts (A, D removed): no first-tier row, B's 625 m in a row of tier 2."""
    parks = NET_PARKS.iloc[[1, 2]].reset_index(drop=True)
    areas = net_run(parks=parks).layers["service_areas"]
    assert areas[["tier", "radius_m"]].values.tolist() == [[2, 300]]
    assert areas["length_m"].tolist() == pytest.approx([625])


def test_net_gaps_fresh():
    """The uncovered sample (675, -25): cell x 650..700, y -50..0 clipped to L (y < -10),
    area counted 2,500 m²; P6 (680, -20), 7 residents, lies in it."""
    gaps = net_run().layers["gaps"]
    assert list(gaps.columns) == ["district", "area_m2", "geometry", "population"]
    assert gaps[["area_m2", "population"]].values.ravel().tolist() == pytest.approx([2500, 7])
    assert gaps.geometry.iloc[0].bounds == pytest.approx((650, -50, 700, -10))
    assert gaps["district"].tolist() == [None]
    assert gaps.crs == CRS


def test_net_units_fresh():
    """Units: land samples 460 (covered), 510 (not); people 465, 220, then not covered."""
    u = net_run().units
    land_u = u[u["unit"] == "residential_land"]
    assert land_u["walk_m"].tolist() == pytest.approx([460, math.inf])
    assert land_u[["area_share__num", "area_share__den"]].values.ravel().tolist() == [
        2500, 2500, 0, 2500]
    people = u[u["unit"] == "population"]
    assert people["walk_m"].tolist()[:2] == pytest.approx([465, 220])
    assert people["covered"].tolist() == [True, True, False, False, False, False]
    assert people["pop_share__num"].tolist() == [100, 40, 0, 0, 0, 0]
    assert people["pop_share__den"].tolist() == [100, 40, 30, 20, 10, 7]
    res = net_run()
    assert res.indicators["pop_share"].city.value == pytest.approx(140 / 207)
    assert res.layers["parks"]["access_points"].tolist() == [12, 8, 0, 0]


def test_net_max_snap_applies_to_access_points_and_residents():
    """max_snap_m 30. Edge points (boundary_points: ceil(L / 25) points from the ring's
    first vertex, shapely.box starts at (maxx, miny)): A's ring from (200, 10), 12 points
    25 m apart; within 30 m of S1 (y = 0) are (200, 10), (100, 10), (125, 10), (150, 10),
    (175, 10): 5. B's ring from (1550, 10), 8 points 22.5 m apart: (1550, 10), (1500, 27.5),
    (1505, 10), (1527.5, 10): 4. D: none. 33 - 9 = 24 farther than 30 m.
    Residents: P4 (45 m from S1) and P5 are now both unsnapped: 20 + 10 = 30 residents."""
    res = net_run(max_snap_m=30)
    assert ("24 of 33 park access points lie farther than 30 m from any street and are not "
            "used") in res.warnings
    assert ("2 population units (30 residents) lie farther than the snapping limit from any "
            "street and count as not covered") in res.warnings
    assert res.layers["parks"]["access_points"].tolist() == [5, 4, 0, 0]


def test_net_snaps_shared_in_a_run_keep_their_piece_share():
    """Two park analyses of one run (one context) with different min_piece_share: the
    second does not reuse the first's snaps. With share 0 the 4 m street S3 is kept, so
    P4 (1002, 45) snaps 5 m onto it: no island warning, and S2 and S3 both count as cut
    off: P3 30 + P4 20 = 50 residents."""
    ctx = net_ctx()
    first = net_run(ctx=ctx)
    assert any("lie nearest to a small piece" in w for w in first.warnings)
    second = net_run(ctx=ctx, min_piece_share=0)
    assert not any("lie nearest to a small piece" in w for w in second.warnings)
    assert second.warnings[-1] == (
        "2 population units (50 residents) snap to streets cut off from the main network")


# -- living_circle on the 5 x 5 grid of tests/test_living_circle.py, recomputed per test ---
# (that file computes these cases once in module-scoped fixtures, which mutmut credits
# to their first test only.) Streets along x, y = 0, 100, ..., 500 (local metres shifted
# by X0, Y0), 100 m segments.
# Residents: A (150, 10) snaps to (150, 0), 10 m; B (490, 450) to (500, 450), 10 m;
# C (250, 260) to (250, 300), 40 m.
# K1 (120, 5) snaps to (120, 0), 5 m; K2 (305, 380) to (300, 380), 5 m; P (410, 508) to
# (410, 500), 8 m.
# Walks: A-K1 same edge 10 + 30 + 5 = 45; B-K2 10 + 50 + 200 + 20 + 5 = 285; C-K2 40 + 50
# + 80 + 5 = 175; B-P 10 + 50 + 90 + 8 = 158; A-P and C-P exceed 300.

X0, Y0 = 400_000.0, 3_390_000.0


def _lc_grid(extra=()):
    segs = []
    for i in range(6):
        for j in range(5):
            segs.append(shapely.LineString([(X0 + 100 * i, Y0 + 100 * j),
                                            (X0 + 100 * i, Y0 + 100 * (j + 1))]))
            segs.append(shapely.LineString([(X0 + 100 * j, Y0 + 100 * i),
                                            (X0 + 100 * (j + 1), Y0 + 100 * i)]))
    return gpd.GeoDataFrame(geometry=[*segs, *extra], crs=CRS)


def _lc_points(rows, col):
    return gpd.GeoDataFrame({col: [r[2] for r in rows]},
                            geometry=[shapely.Point(X0 + r[0], Y0 + r[1]) for r in rows],
                            crs=CRS)


LC_RESIDENTS = [(150, 10, 100.0), (490, 450, 200.0), (250, 260, 50.0)]
LC_FACILITIES = [(120, 5, "kindergarten"), (305, 380, "kindergarten"),
                 (410, 508, "playground")]
LC_PARAMS = {"level": 5, "distance_m": 300, "categories": ["kindergarten", "playground"]}


def lc_run(residents=LC_RESIDENTS, facilities=LC_FACILITIES, params=LC_PARAMS, *,
           extra_streets=(), districts=None):
    vectors = {"streets": _lc_grid(extra_streets),
               "population": _lc_points(residents, "population"),
               "facilities": _lc_points(facilities, "category")}
    if districts is not None:
        vectors["districts"] = districts
    ctx = Context(Layers(crs=CRS, vectors=vectors))
    p = lc.validate_params(params, where="analyses/t.yml")
    return lc.run(ctx, name="t", params=p, target=None)


def test_lc_grid_units_fresh():
    """Distances, snaps, n_missing and num/den of each unit (walks above)."""
    res = lc_run()
    u = res.units
    np.testing.assert_allclose(u["dist_kindergarten"], [45.0, 285.0, 175.0])
    np.testing.assert_allclose(u["dist_playground"], [np.nan, 158.0, np.nan])
    np.testing.assert_allclose(u["snap_m"], [10.0, 10.0, 40.0])
    assert u["n_missing"].tolist() == [1, 0, 1]
    assert u["pop_share_all__num"].tolist() == [0.0, 200.0, 0.0]
    assert u["pop_share_all__den"].tolist() == [100.0, 200.0, 50.0]
    assert u["pop_share_kindergarten__num"].tolist() == [100.0, 200.0, 50.0]
    assert u["pop_share_playground__num"].tolist() == [0.0, 200.0, 0.0]
    assert u["pop_share_playground__den"].tolist() == [100.0, 200.0, 50.0]
    assert u.crs == CRS
    assert res.warnings == []


def test_lc_grid_indicators_fresh():
    """Kindergarten all 350 of 350; playground and all: B's 200 of 350."""
    ind = lc_run().indicators
    assert list(ind) == ["pop_share_all", "pop_share_kindergarten", "pop_share_playground"]
    assert ind["pop_share_kindergarten"].city.value == pytest.approx(1.0)
    assert ind["pop_share_playground"].city.value == pytest.approx(200 / 350)
    assert ind["pop_share_all"].city.value == pytest.approx(200 / 350)


def test_lc_grid_layers_fresh():
    """Deficits: A (100) and C (50) miss the playground; facilities: the three, snapped
    5, 5 and 8 m."""
    res = lc_run()
    d = res.layers["deficits"]
    assert d["population"].tolist() == [100.0, 50.0]
    assert d["missing"].tolist() == ["playground", "playground"]
    assert d["n_missing"].tolist() == [1, 1]
    np.testing.assert_allclose(d["dist_kindergarten"], [45.0, 175.0])
    assert d["dist_playground"].isna().all()
    assert (d.geometry.x - X0).tolist() == [150.0, 250.0]
    f = res.layers["facilities"]
    assert f["category"].tolist() == ["kindergarten", "kindergarten", "playground"]
    np.testing.assert_allclose(f["snap_m"], [5.0, 5.0, 8.0])
    assert (d.crs, f.crs) == (CRS, CRS)
    assert res.extra == {"disconnected_components": []}


def test_lc_island_fresh():
    """A street piece x 1500..1600 (y = 0), not connected, with a resident of 30 at
    (1550, 5): no facility on it, cut off; one piece of 2 nodes with 1 unit, 30 residents.
    Kindergarten share 350 / 380."""
    island = [shapely.LineString([(X0 + 1500, Y0), (X0 + 1600, Y0)])]
    res = lc_run([*LC_RESIDENTS, (1550, 5, 30.0)], extra_streets=island)
    assert res.indicators["pop_share_kindergarten"].city.value == pytest.approx(350 / 380)
    assert res.warnings == [
        "1 population unit (30 residents) lie on street pieces without any facility and "
        "count as not covered",
        "1 street pieces cut off from the main network hold 1 population unit (30 residents)",
    ]
    pieces = res.extra["disconnected_components"]
    assert [(p["n_nodes"], p["n_origins"], p["population"]) for p in pieces] == [(2, 1, 30.0)]
    assert pieces[0]["component"] == 1  # the main network is component 0


# -- park_coverage, straight line -----------------------------------------------------------


def park_run(parks, residential=(), *, population=None, districts=None, **params):
    vectors = {"parks": parks}
    if residential:
        vectors["landuse"] = land(*residential)
    if population is not None:
        vectors["population"] = population
    if districts is not None:
        vectors["districts"] = districts
    p = park_coverage.validate_params(params, where=WHERE)
    return park_coverage.run(Context(Layers(crs=CRS, vectors=vectors)), name="park", params=p,
                             target=None)


BIG = gdf([shapely.box(0, 0, 100, 100)], name=["Big"])  # 10,000 m²: serves 500 m


def test_park_units_without_landuse_are_the_population_units_only():
    """No land use: the units table holds the population units alone, with their own
    columns (no empty land-unit columns such as area_m2), numbered 0..n-1. P1 (300, 50)
    is 200 m from the park edge: covered; P2 (900, 50) 800 m: not."""
    res = park_run(BIG, population=gdf([shapely.Point(300, 50), shapely.Point(900, 50)],
                                       population=[5.0, 3.0]))
    u = res.units
    assert list(u.columns) == ["population", "district", "geometry", "covered", "unit",
                               "pop_share__num", "pop_share__den"]
    assert u[["pop_share__num", "pop_share__den"]].values.tolist() == [[5, 5], [0, 3]]
    assert list(u.index) == [0, 1]


def test_park_units_of_land_and_population_are_numbered_once():
    """Land and population units in one table, numbered 0..n-1 without repeats: two land
    pieces (x 550..600 covered, 600..650 not) and two population points."""
    res = park_run(BIG, [shapely.box(550, 20, 650, 80)],
                   population=gdf([shapely.Point(300, 50), shapely.Point(900, 50)],
                                  population=[5.0, 3.0]))
    u = res.units
    assert u["unit"].tolist() == ["residential_land"] * 2 + ["population"] * 2
    assert list(u.index) == [0, 1, 2, 3]


def test_net_access_points_skip_small_street_pieces():
    """Access points snap with min_piece_share too. Park E (995..1045, 45..85), 2,000 m²
    -> 300 m, sits north of the 4 m island S3 (x 1000..1004, y 40): every one of its 8
    edge points is nearer S3 than S1 (e.g. (1045, 45): 41.3 m against 45 m). S3 is under
    1% of the length, so the points snap to S1 instead; from (1045, 45) -> (1045, 0) a
    resident at (1200, 5) walks 5 + 155 + 45 = 205 m: covered."""
    parks = gdf([shapely.box(995, 45, 1045, 85)], name=["E"])
    res = net_run(parks=parks, pop=gdf([shapely.Point(1200, 5)], population=[10.0]))
    assert res.indicators["pop_share"].city.value == 1.0
    assert res.layers["parks"]["access_points"].tolist() == [8]


TIER_TEXT = ("parks of at least 5,000 m² serve 500 m; parks of at least 2,000 m² serve 300 m; "
             "parks under 2,000 m² do not count")
HEAD = (f"Park service areas after GB/T 50563: {TIER_TEXT} (a park's area is its polygon "
        "area, touching or overlapping polygons with the same name merged). ")


def test_net_method_text_fresh():
    """The network method paragraph, whole (as in test_mut_anA.py, computed afresh), with
    the parameters' values: access points every 20 m, snap 80 m, samples 40 m."""
    res = net_run(access_spacing_m=20, max_snap_m=80, sample_spacing_m=40)
    assert res.method == HEAD + (
        "Distance (network) is walked on the street network, one pass per tier, to access "
        "points every 20 m along the outer edge of the parks of that tier or a larger one and "
        "to mapped entrances, from points snapped to the nearest street within 80 m; farther "
        "points count as not covered, and the service areas shown are the walked streets. "
        "Residential land is sampled with a 40 m grid of points, each weighing its share of "
        "its piece's area. Residents walk from population points and polygon or pixel "
        "centroids.")


def test_park_fractional_residents_count():
    """Units with less than one resident (pieces of split polygons, pixel shares) count:
    0.5 residents 200 m from the park edge (covered), 2 residents 800 m away (not):
    0.5 / 2.5 = 0.2."""
    res = park_run(BIG, population=gdf([shapely.Point(300, 50), shapely.Point(900, 50)],
                                       population=[0.5, 2.0]))
    assert res.indicators["pop_share"].city.value == pytest.approx(0.2)


def test_park_parameter_errors_name_the_file():
    """Whole messages (urbanform/analyses/params.py wording), each naming the file."""
    from urbanform.errors import AnalysisError

    cases = {
        "radius": f"{WHERE}: unknown parameter 'radius' in 'params'; valid parameters: "
                  "access_spacing_m, distance, max_snap_m, min_piece_share, sample_spacing_m, "
                  "tiers",
        "distance": f"{WHERE}: params.distance must be one of euclidean, network, got 'walk'",
        "min_piece_share": f"{WHERE}: params.min_piece_share must be a share from 0 to below "
                           "1 (0.01 = 1% of the network's length; 0 snaps to every piece), "
                           "got 1.5",
    }
    values = {"radius": 500, "distance": "walk", "min_piece_share": 1.5}
    for key, want in cases.items():
        with pytest.raises(AnalysisError) as e:
            park_coverage.validate_params({key: values[key]}, where=WHERE)
        assert str(e.value) == want


def test_classify_parks_merges_each_name_on_its_own():
    """Two pairs of touching same-name parks far apart: "a" x 0..50 + 50..100 (y 0..50,
    5,000 m²) and "b" x 500..540 + 540..580 (y 0..25, 2,000 m²): two parks, each keeping
    its own name, area and tier."""
    parks = gdf([shapely.box(0, 0, 50, 50), shapely.box(500, 0, 540, 25),
                 shapely.box(50, 0, 100, 50), shapely.box(540, 0, 580, 25)],
                name=["a", "b", "a", "b"])
    out = park_coverage.classify_parks(parks, tiers=[{"min_area_m2": 5000, "radius_m": 500},
                                                     {"min_area_m2": 2000, "radius_m": 300}])
    got = sorted(zip(out["name"], out["area_m2"], out["tier"], strict=True))
    assert got == [("a", 5000.0, 1), ("b", 2000.0, 2)]


def test_park_gaps_without_landuse_keep_the_working_crs():
    """No land use: the gaps layer is empty but in the working CRS (it is written with
    the other layers)."""
    res = park_run(BIG, population=gdf([shapely.Point(300, 50)], population=[5.0]))
    assert (len(res.layers["gaps"]), res.layers["gaps"].crs) == (0, CRS)


def test_classify_parks_tiers_are_whole_numbers():
    """The parks layer's ``tier`` (a popup field) is an integer column, 1 / 2 / 0, not
    1.0 / 2.0 / 0.0: areas 5,000, 2,000 and 100 m²."""
    parks = gdf([shapely.box(0, 0, 100, 50), shapely.box(200, 0, 240, 50),
                 shapely.box(300, 0, 310, 10)], name=["a", "b", "c"])
    out = park_coverage.classify_parks(parks, tiers=[{"min_area_m2": 5000, "radius_m": 500},
                                                     {"min_area_m2": 2000, "radius_m": 300}])
    assert out["tier"].dtype == np.int64
    assert out["tier"].tolist() == [1, 2, 0]


# -- common ----------------------------------------------------------------------------------

TWO_D = gdf([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], name=["w", "e"])


def test_split_by_districts_outside_part_has_district_none():
    """Bug fix: the part outside every district has district None (docstring, module
    conventions), not NaN (pandas 3 stores the overlay's names as strings, where NaN
    stays NaN). Box x 15..25 (100 m², 4 residents): x 15..20 in e (2), 20..25 outside
    (2)."""
    g = gdf([shapely.box(15, 0, 25, 10)], population=[4.0])
    s = common.split_by_districts(g, TWO_D, prorate=("population",))
    assert s["district"].tolist() == ["e", None]
    assert s["population"].tolist() == [2.0, 2.0]
    assert s["area_m2"].tolist() == [50.0, 50.0]


def test_split_by_districts_polygon_on_a_district_edge_gives_no_line_piece():
    """A polygon exactly covering district e touches w along x = 10: the split keeps the
    one area piece (no zero-area line piece in w)."""
    g = gdf([shapely.box(10, 0, 20, 10)], population=[8.0])
    s = common.split_by_districts(g, TWO_D, prorate=("population",))
    assert (s["district"].tolist(), s["population"].tolist(), set(s.geom_type)) == (
        ["e"], [8.0], {"Polygon"})


def test_value_pieces_points_and_polygons_without_districts_keep_their_order():
    """Without districts, one role of points and polygons comes back in input order,
    numbered 0..n-1, district None, with the piece areas (points 0 m²)."""
    both = gdf([shapely.Point(1, 1), shapely.box(5, 0, 15, 10),
                shapely.MultiPoint([(12, 1), (30, 1)])], population=[4, 10, 2])
    ctx = Context(Layers(crs=CRS, vectors={"population": both}))
    out = common.value_pieces(ctx, "population", fields=("population",), needed_by="a")
    assert out["population"].tolist() == [4.0, 10.0, 2.0]
    assert out["district"].tolist() == [None, None, None]
    assert out["area_m2"].tolist() == [0.0, 100.0, 0.0]
    assert list(out.index) == [0, 1, 2]


def test_lc_empty_deficits_layer_keeps_a_text_missing_field():
    """Everyone covered (A alone: K1 45 m away, a playground at (180, 6): 10 + 30 + 6 =
    46 m): the deficits layer has no row, and its ``missing`` field is still a text
    (object) column, not a number column, in the written layer."""
    res = lc_run(LC_RESIDENTS[:1], [(120, 5, "kindergarten"), (180, 6, "playground")])
    d = res.layers["deficits"]
    assert len(d) == 0
    assert d["missing"].dtype == object


def test_landuse_pieces_columns_and_parts():
    """Docstring: the result has class, district and area_m2 (and the geometry), nothing
    else. A 100 m² box in w and a two-part multipolygon outside (2 x 50 m²): three
    pieces, the parts one by one, district None outside."""
    lu = gdf([shapely.box(0, 0, 10, 10),
              shapely.MultiPolygon([shapely.box(30, 0, 35, 10), shapely.box(40, 0, 45, 10)])],
             **{"class": ["residential", "residential"]})
    ctx = Context(Layers(crs=CRS, vectors={"landuse": lu, "districts": TWO_D}))
    p = common.landuse_pieces(ctx, ("residential",), needed_by="a")
    assert list(p.columns) == ["class", "district", "geometry", "area_m2"]
    assert p[["district", "area_m2"]].values.tolist() == [["w", 100.0], [None, 50.0],
                                                          [None, 50.0]]


def test_landuse_pieces_without_landuse_name_the_analysis():
    """The missing-layer message names the analysis (urbanform/layers/types.py wording)."""
    from urbanform.errors import LayerError

    with pytest.raises(LayerError) as e:
        common.landuse_pieces(Context(Layers(crs=CRS, vectors={})), ("residential",),
                              needed_by="park500")
    assert str(e.value) == ("analysis 'park500' needs a vector layer with role 'landuse'; add "
                            "layers/landuse.yml with 'role: landuse' and a 'source'")


def test_split_by_districts_shares_out_the_counts_of_a_tiny_polygon():
    """A 0.5 m² polygon (x 9.5..10.5, y 0..0.5) with 3 residents straddles x = 10: half
    its area in w, half in e -> 1.5 residents each (sizes under 1 m² are shared too)."""
    g = gdf([shapely.box(9.5, 0, 10.5, 0.5)], population=[3.0])
    s = common.split_by_districts(g, TWO_D, prorate=("population",))
    got = sorted(zip(s["district"], s["population"], s["area_m2"], strict=True))
    assert got == [("e", 1.5, 0.25), ("w", 1.5, 0.25)]


def test_lc_parameter_errors_name_the_file():
    """Whole messages (urbanform/analyses/params.py wording), each naming the file."""
    from urbanform.errors import AnalysisError

    share = ("must be a share from 0 to below 1 (0.01 = 1% of the network's length; 0 snaps "
             "to every piece), got 1")
    cases = [({"max_snap_m": 0}, "params.max_snap_m must be a positive number, got 0"),
             ({"minutes": 5, "speed_m_s": 0}, "params.speed_m_s must be a positive number, got 0"),
             ({"minutes": 0}, "params.minutes must be a positive number, got 0"),
             ({"distance_m": 0}, "params.distance_m must be a positive number, got 0"),
             ({"min_piece_share": 1}, f"params.min_piece_share {share}")]
    for params, want in cases:
        with pytest.raises(AnalysisError) as e:
            lc.validate_params(params, where="c.yml")
        assert str(e.value) == f"c.yml: {want}"


def test_lc_minutes_give_a_fractional_distance():
    """1.01 minutes at 1.0 m/s: 1.01 x 60 = 60.6 m, kept to the decimal."""
    assert lc.validate_params({"minutes": 1.01}, where="c.yml").distance_m == pytest.approx(60.6)


def test_lc_missing_layers_and_residents_name_the_analysis():
    """Whole messages naming the analysis 't' (urbanform/layers/types.py and common.py
    wording): no streets, no facilities, no residents."""
    from urbanform.errors import AnalysisError, LayerError

    p = lc.validate_params(LC_PARAMS, where="c.yml")
    pop = _lc_points(LC_RESIDENTS, "population")
    fac = _lc_points(LC_FACILITIES, "category")
    cases = [({"population": pop, "facilities": fac}, LayerError,
              "analysis 't' needs a vector layer with role 'streets'; add layers/streets.yml "
              "with 'role: streets' and a 'source'"),
             ({"population": pop, "streets": _lc_grid()}, LayerError,
              "analysis 't' needs a vector layer with role 'facilities'; add "
              "layers/facilities.yml with 'role: facilities' and a 'source'"),
             ({"population": pop.assign(population=0.0), "facilities": fac,
               "streets": _lc_grid()}, AnalysisError,
              "analysis 't': the population layer holds no residents (total 0); check its "
              "'population' field mapping in layers/*.yml")]
    for vectors, err, want in cases:
        with pytest.raises(err) as e:
            lc.run(Context(Layers(crs=CRS, vectors=vectors)), name="t", params=p, target=None)
        assert str(e.value) == want


def test_lc_multipoint_facilities_alone_are_split_into_points():
    """A facilities layer holding only one MultiPoint of two kindergartens, (120, 5) and
    (305, 380): two facilities, snapped 5 m each; the result is named after the run."""
    fac = gpd.GeoDataFrame({"category": ["kindergarten"]}, crs=CRS, geometry=[
        shapely.MultiPoint([(X0 + 120, Y0 + 5), (X0 + 305, Y0 + 380)])])
    vectors = {"streets": _lc_grid(), "population": _lc_points(LC_RESIDENTS, "population"),
               "facilities": fac}
    p = lc.validate_params({**LC_PARAMS, "categories": ["kindergarten"]}, where="c.yml")
    res = lc.run(Context(Layers(crs=CRS, vectors=vectors)), name="t", params=p, target=None)
    assert res.name == "t"
    f = res.layers["facilities"]
    assert (f.geometry.x - X0).tolist() == [120.0, 305.0]
    assert f["snap_m"].tolist() == [5.0, 5.0]
    # as on the grid: A 45 m, B 285 m, C 175 m
    np.testing.assert_allclose(res.units["dist_kindergarten"], [45.0, 285.0, 175.0])


def test_lc_snaps_shared_in_a_run_keep_their_piece_share():
    """Two living-circle analyses of one run (one context) with different min_piece_share
    do not share snaps. A 4 m street (510..514, 50), not connected, well under 1% of the
    6,000 m grid; a unit of 10 at (512, 52) is 2 m from it and 12 m from x = 500. Share
    0.01: snapped to the grid instead (island warning). Share 0: snapped to the 4 m
    piece, which has no facility."""
    vectors = {"streets": _lc_grid([shapely.LineString([(X0 + 510, Y0 + 50),
                                                         (X0 + 514, Y0 + 50)])]),
               "population": _lc_points([*LC_RESIDENTS, (512, 52, 10.0)], "population"),
               "facilities": _lc_points(LC_FACILITIES, "category")}
    ctx = Context(Layers(crs=CRS, vectors=vectors))
    first = lc.run(ctx, name="t", params=lc.validate_params(LC_PARAMS, where="c.yml"),
                   target=None)
    assert any("lie nearest to a small piece" in w for w in first.warnings)
    second = lc.run(ctx, name="t0", target=None, params=lc.validate_params(
        {**LC_PARAMS, "min_piece_share": 0}, where="c.yml"))
    assert not any("lie nearest to a small piece" in w for w in second.warnings)
    assert ("1 population unit (10 residents) lie on street pieces without any facility and "
            "count as not covered") in second.warnings


def test_assign_districts_uses_the_district_shape_not_its_box():
    """A triangular district (0, 0), (10, 0), (0, 10): (2, 2) lies inside it; (8, 8) lies
    inside its bounding box but outside the triangle (8 + 8 > 10): no district."""
    tri = gdf([shapely.Polygon([(0, 0), (10, 0), (0, 10)])], name=["t"])
    pts = gpd.GeoSeries(shapely.points([[2, 2], [8, 8]]), crs=CRS)
    assert common.assign_districts(pts, tri).tolist() == ["t", None]


def test_lc_facility_without_geometry_is_left_out():
    """A kindergarten row without geometry (and no MultiPoint in the layer) is left out:
    one facility, K1 (120, 5), snapped 5 m; A walks 45 m to it."""
    fac = gpd.GeoDataFrame({"category": ["kindergarten", "kindergarten"]}, crs=CRS,
                           geometry=[shapely.Point(X0 + 120, Y0 + 5), None])
    vectors = {"streets": _lc_grid(), "population": _lc_points(LC_RESIDENTS[:1], "population"),
               "facilities": fac}
    p = lc.validate_params({**LC_PARAMS, "categories": ["kindergarten"]}, where="c.yml")
    res = lc.run(Context(Layers(crs=CRS, vectors=vectors)), name="t", params=p, target=None)
    assert res.layers["facilities"]["snap_m"].tolist() == [5.0]
    assert res.units["dist_kindergarten"].tolist() == pytest.approx([45.0])


def test_value_pieces_points_and_polygons_with_districts_are_numbered_once():
    """Points and polygons of one role with districts (the bug-fix case of test_mut_anA):
    point (1, 1) in w, a polygon x 5..15 split into w and e, a multipoint (12, 1) in e and
    (30, 1) outside: five rows numbered 0..4, like every other value_pieces answer."""
    both = gdf([shapely.Point(1, 1), shapely.box(5, 0, 15, 10),
                shapely.MultiPoint([(12, 1), (30, 1)])], population=[4, 10, 2])
    ctx = Context(Layers(crs=CRS, vectors={"population": both, "districts": TWO_D}))
    out = common.value_pieces(ctx, "population", fields=("population",), needed_by="a")
    assert list(out.index) == [0, 1, 2, 3, 4]
    assert sorted(out["population"].tolist()) == [2.0, 2.0, 4.0, 5.0, 5.0]
