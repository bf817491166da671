"""park_coverage on hand-made layers in EPSG:32648 (answers worked out by hand).

Base layout (metres): a 100 m x 100 m park at (0..100, 0..100) -> 10,000 m², serves 500 m,
so its straight-line service area has straight edges at x = 600 (for 0 <= y <= 100),
x = -500, y = 600 and y = -500.
"""

from __future__ import annotations

import functools
import math

import geopandas as gpd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from urbanform.analyses import park_coverage
from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError, CRSError, LayerError
from urbanform.layers.types import Layers
from urbanform.results import Target

CRS = pyproj.CRS(32648)


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


def make_ctx(parks, residential, *, population=None, districts=None, other_land=()):
    land = gdf(
        [*residential, *other_land],
        **{"class": ["residential"] * len(residential) + ["industrial"] * len(other_land)},
    )
    vectors = {"parks": parks, "landuse": land}
    if population is not None:
        vectors["population"] = population
    if districts is not None:
        vectors["districts"] = districts
    return Context(Layers(crs=CRS, vectors=vectors))


def run(ctx, **params):
    p = park_coverage.validate_params(params, where="analyses/park.yml")
    return park_coverage.run(ctx, name="park", params=p, target=None)


PARK = gdf([shapely.box(0, 0, 100, 100)], name=["Central"])
R_IN = shapely.box(200, 20, 260, 80)  # 3,600 m², 100 m from the park: covered
R_HALF = shapely.box(550, 20, 650, 80)  # 6,000 m², x 550..600 covered: 3,000 m²
R_OUT = shapely.box(700, 0, 800, 100)  # 10,000 m², 600 m and more away: not covered


def test_area_share_exact_with_straddling_square():
    res = run(make_ctx(PARK, [R_IN, R_HALF, R_OUT], other_land=[shapely.box(0, 200, 50, 250)]))
    # covered 3,600 + 3,000 = 6,600 of 3,600 + 6,000 + 10,000 = 19,600 (industrial ignored)
    assert res.indicators["area_share"].city.value == pytest.approx(6600 / 19600, abs=1e-9)


def test_pop_share_points_by_location():
    pop = gdf([shapely.Point(230, 50), shapely.Point(750, 50)], population=[100.0, 300.0])
    res = run(make_ctx(PARK, [R_IN, R_HALF, R_OUT], population=pop))
    assert res.indicators["pop_share"].city.value == pytest.approx(100 / 400)


def test_pop_share_polygons_by_covered_area():
    pop = gdf([R_HALF, R_IN], population=[600.0, 200.0])
    res = run(make_ctx(PARK, [R_IN, R_HALF, R_OUT], population=pop))
    # half of R_HALF is covered: 300 of its 600; all 200 of R_IN
    assert res.indicators["pop_share"].city.value == pytest.approx(500 / 800, abs=1e-9)


def test_gaps_hold_uncovered_land_and_its_population():
    pop = gdf([shapely.Point(230, 50), shapely.Point(750, 50)], population=[100.0, 300.0])
    res = run(make_ctx(PARK, [R_IN, R_HALF, R_OUT], population=pop))
    gaps = res.layers["gaps"]
    # the east half of R_HALF (3,000 m², nobody) and R_OUT (10,000 m², 300 people)
    assert (gaps["area_m2"].sum(), gaps["population"].sum()) == pytest.approx((13000, 300))


def test_mid_size_park_serves_300_m_only():
    park = gdf([shapely.box(0, 0, 60, 50)], name=["Pocket"])  # 3,000 m² -> 300 m
    res = run(make_ctx(park, [shapely.box(300, 0, 400, 50)]))
    # service edge at x = 60 + 300 = 360: 60 x 50 of 100 x 50 covered (500 m would cover all)
    assert res.indicators["area_share"].city.value == pytest.approx(0.6, abs=1e-9)


def test_small_park_counts_nothing():
    park = gdf([shapely.box(0, 0, 50, 30)], name=["Tiny"])  # 1,500 m² < 2,000 m²
    res = run(make_ctx(park, [R_IN]))
    assert res.indicators["area_share"].city.value == 0.0
    assert res.layers["parks"]["counts"].tolist() == [False]


def test_district_split_of_a_straddling_square():
    districts = gdf(
        [shapely.box(-1000, -1000, 400, 1000), shapely.box(400, -1000, 2000, 1000)],
        name=["West", "East"],
    )
    res = run(make_ctx(PARK, [shapely.box(350, 0, 650, 100)], districts=districts))
    ind = res.indicators["area_share"]
    # West: x 350..400, all covered; East: x 400..650, covered to 600 -> 20,000 / 25,000
    got = (ind.districts["West"].value, ind.districts["East"].value, ind.city.value)
    assert got == pytest.approx((1.0, 0.8, 25000 / 30000), abs=1e-9)


TWIN = [shapely.box(0, 0, 25, 100), shapely.box(25, 0, 50, 100)]  # 2,500 m² each
R_NEAR_TWIN = shapely.box(500, 0, 550, 100)  # 450..500 m from the east edge (x = 50)


def test_same_name_touching_parks_are_merged():
    res = run(make_ctx(gdf(TWIN, name=["Twin", "Twin"]), [R_NEAR_TWIN]))
    # merged: one 5,000 m² park serving 500 m, edge at x = 550 covers the whole square
    assert res.indicators["area_share"].city.value == pytest.approx(1.0, abs=1e-9)


def test_differently_named_touching_parks_stay_apart():
    res = run(make_ctx(gdf(TWIN, name=["A", "B"]), [R_NEAR_TWIN]))
    # two 2,500 m² parks serving 300 m: edge at x = 350, the square starts at 500
    assert res.indicators["area_share"].city.value == 0.0


def test_units_carry_area_and_population_rows():
    pop = gdf([shapely.Point(230, 50)], population=[100.0])
    res = run(make_ctx(PARK, [R_IN, R_OUT], population=pop))
    u = res.units
    land = u[u["unit"] == "residential_land"]
    people = u[u["unit"] == "population"]
    assert (land["area_share__den"].sum(), land["pop_share__den"].sum()) == (13600, 0)
    assert (people["pop_share__den"].sum(), people["area_share__den"].sum()) == (100, 0)


def test_target_applies_to_its_indicator_only():
    pop = gdf([shapely.Point(230, 50)], population=[100.0])
    ctx = make_ctx(PARK, [R_IN, R_OUT], population=pop)
    p = park_coverage.validate_params({}, where="analyses/park.yml")
    res = park_coverage.run(ctx, name="park", params=p, target=Target("pop_share", ">=", 0.9))
    assert (res.indicators["pop_share"].city.met, res.indicators["area_share"].target) == (
        True,
        None,
    )


def test_service_areas_one_per_tier():
    parks = gdf([shapely.box(0, 0, 100, 100), shapely.box(1000, 0, 1060, 50)], name=["L", "M"])
    res = run(make_ctx(parks, [R_IN]))
    areas = res.layers["service_areas"]
    assert areas["radius_m"].tolist() == [500, 300]
    # a 100 m square buffered by 500 m: 100² + 4 x 100 x 500 + the corner circle drawn as a
    # 64-gon (16 segments a quarter): 64/2 x 500² x sin(2 pi / 64)
    circle = 32 * 500**2 * math.sin(2 * math.pi / 64)
    assert areas["area_m2"].iloc[0] == pytest.approx(10000 + 200000 + circle, rel=1e-9)


def test_unknown_distance_is_rejected():
    with pytest.raises(AnalysisError, match="params.distance must be one of"):
        park_coverage.validate_params({"distance": "manhattan"}, where="analyses/park.yml")


def test_tier_without_radius_is_rejected():
    with pytest.raises(AnalysisError, match=r"tiers\[0\] must have exactly the keys"):
        park_coverage.validate_params({"tiers": [{"min_area_m2": 10}]}, where="analyses/p.yml")


# -- network distance -------------------------------------------------------------------
# Streets: y = 0 from x = -200 to 1600, and x = 400 from y = -300 to 300 (crossing at
# (400, 0)). Park L = (0..100, 10..110), 10,000 m², 500 m; its access point (100, 10)
# (every 25 m along the edge, starting at the ring's first vertex) snaps 10 m to (100, 0).
# Park M = (1000..1060, 10..60), 3,000 m², 300 m; nearest access point to the east is
# (1060, 10), 10 m from the street.
STREETS = gdf([shapely.LineString([(-200, 0), (1600, 0)]),
               shapely.LineString([(400, -300), (400, 300)])])
NET_PARKS = gdf([shapely.box(0, 10, 100, 110), shapely.box(1000, 10, 1060, 60)], name=["L", "M"])
NET_POP = gdf(
    [shapely.Point(400, 5),     # 5 + 300 + 10 = 315 to L: covered
     shapely.Point(590, 5),     # 5 + 490 + 10 = 505: not covered (490 m in a straight line)
     shapely.Point(250, 150),   # 150 m from any street: unsnapped
     shapely.Point(580, -5),    # 5 + 480 + 10 = 495: covered
     shapely.Point(405, 200),   # 5 + 200 + 300 + 10 = 515: not covered
     shapely.Point(1150, 5),    # 5 + 90 + 10 = 105 to M (300 m): covered
     shapely.Point(1400, 5)],   # 5 + 340 + 10 = 355 to M: beyond its 300 m
    population=[100.0, 200.0, 50.0, 150.0, 100.0, 40.0, 60.0],
)
# Residential: (375..425, -40..-10): 4 samples of 375 m², all within ~360 m: covered.
# (500..600, -50..-25): samples at x 512.5, 537.5, 562.5, 587.5 (y -37.5), 625 m² each,
# walking 37.5 + (x - 100) + 10 = 460, 485, 510, 535: two covered.
NET_LAND = [shapely.box(375, -40, 425, -10), shapely.box(500, -50, 600, -25)]


@functools.cache
def network_result():  # computed once, only read by the tests
    ctx = make_ctx(NET_PARKS, NET_LAND, population=NET_POP)
    ctx.layers.vectors["streets"] = STREETS
    return run(ctx, distance="network", sample_spacing_m=25)


def test_network_pop_share_walked():
    res = network_result()
    # covered 100 + 150 + 40 of 700
    assert res.indicators["pop_share"].city.value == pytest.approx(290 / 700)


def test_network_area_share_from_grid_samples():
    res = network_result()
    # (1,500 + 2 x 625) / (1,500 + 2,500)
    assert res.indicators["area_share"].city.value == pytest.approx(2750 / 4000)


def test_network_walk_distance_of_a_unit():
    units = network_result().units
    people = units[units["unit"] == "population"]
    assert people["walk_m"].iloc[0] == pytest.approx(315)


def test_network_reports_unsnapped_residents():
    res = network_result()
    assert any("1 population units (50 residents) lie farther" in w for w in res.warnings)


def test_network_gaps_hold_unwalkable_land_and_people():
    gaps = network_result().layers["gaps"]
    # two 625 m² samples of the second square; nobody lives in it
    assert (gaps["area_m2"].sum(), gaps["population"].sum()) == pytest.approx((1250, 0))


def test_input_order_does_not_change_the_result():
    pop = gdf([shapely.Point(230, 50), shapely.Point(750, 50)], population=[100.0, 300.0])
    a = run(make_ctx(PARK, [R_IN, R_HALF, R_OUT], population=pop))
    b = run(make_ctx(PARK, [R_OUT, R_IN, R_HALF], population=pop.iloc[::-1]))
    got = [(x.indicators[k].city.value) for x in (a, b) for k in ("area_share", "pop_share")]
    assert got[:2] == pytest.approx(got[2:], abs=1e-12)


def test_geographic_working_crs_is_rejected():
    ctx = make_ctx(PARK, [R_IN])
    ctx.layers.crs = pyproj.CRS(4326)
    with pytest.raises(CRSError, match="needs a metric working CRS"):
        run(ctx)


@settings(max_examples=10, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(st.integers(-900, 900), st.integers(-900, 900), st.integers(10, 200)),
        min_size=1, max_size=4,
    )
)
def test_area_share_is_a_share_and_matches_plain_shapely(boxes):
    squares = [shapely.box(x, y, x + s, y + s) for x, y, s in boxes]
    res = run(make_ctx(PARK, squares))
    # independent: area of (union of squares) within 500 m of the park / union area
    land = shapely.union_all(squares)
    near = land.intersection(PARK.geometry.iloc[0].buffer(500, quad_segs=16))
    value = res.indicators["area_share"].city.value
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(near.area / land.area, abs=1e-9)


def test_network_access_points_beyond_the_snap_limit_are_dropped():
    res = network_result()
    # L: 16 points; the 5 on its north edge (y = 110) are 110 m from the street -> 11 left;
    # M: 9 points, all within 60 m of the street
    assert res.layers["parks"]["access_points"].tolist() == [11, 9]
    assert "5 of 25 park access points lie farther than 100 m" in " ".join(res.warnings)


# -- without land use (issue 13, item 3) ---------------------------------------------------
POP_2 = gdf([shapely.Point(230, 50), shapely.Point(750, 50)], population=[100.0, 300.0])


def ctx_without_landuse(population=None, *, land=None):
    vectors = {"parks": PARK}
    if population is not None:
        vectors["population"] = population
    if land is not None:
        vectors["landuse"] = land
    return Context(Layers(crs=CRS, vectors=vectors))


def test_pop_share_without_landuse():
    res = run(ctx_without_landuse(POP_2))
    # 230 m from the park edge: 100 covered; 750 m: 300 not
    assert list(res.indicators) == ["pop_share"]
    assert res.indicators["pop_share"].city.value == pytest.approx(100 / 400)


def test_missing_area_share_is_explained():
    res = run(ctx_without_landuse(POP_2))
    assert any(
        w.startswith("area_share is not computed: no landuse layer (it needs residential land")
        for w in res.warnings
    )


def test_landuse_without_residential_land_gives_pop_share_only():
    land = gdf([shapely.box(200, 20, 260, 80)], **{"class": ["industrial"]})
    res = run(ctx_without_landuse(POP_2, land=land))
    assert list(res.indicators) == ["pop_share"]
    assert any("the landuse layer has no residential land" in w for w in res.warnings)


def test_network_pop_share_without_landuse():
    ctx = ctx_without_landuse(NET_POP)
    ctx.layers.vectors["parks"] = NET_PARKS
    ctx.layers.vectors["streets"] = STREETS
    res = run(ctx, distance="network")
    # as with land use: covered 100 + 150 + 40 of 700
    assert res.indicators["pop_share"].city.value == pytest.approx(290 / 700)


def test_neither_landuse_nor_population_is_an_error():
    with pytest.raises(LayerError, match=r"needs residential land \(area_share\) or a population"):
        run(ctx_without_landuse())


def test_workspace_without_landuse_runs_end_to_end(tmp_path):
    from conftest import write_tiny_workspace

    from urbanform.pipeline import run_workspace
    from urbanform.workspace import load_workspace

    root = write_tiny_workspace(tmp_path / "tiny", analyses={"park": "kind: park_coverage\n"})
    (root / "layers" / "landuse.yml").unlink()
    ws = load_workspace(root, out=tmp_path / "out")
    run = run_workspace(ws)
    # pop_share of the tiny city, by hand in conftest: 150 of 500 residents
    assert run.summary["analyses"]["park"]["indicators"]["pop_share"]["city"]["value"] == 0.3
    assert "area_share" not in run.summary["analyses"]["park"]["indicators"]
