"""Mutation-testing pins for park_coverage, forest_cover, zonal and common (helper anA)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from affine import Affine

from urbanform.analyses import common, forest_cover, park_coverage, zonal
from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError, CRSError, LayerError, ResourceError
from urbanform.layers.types import Layers, RasterLayer
from urbanform.results import LayerStyle

CRS = pyproj.CRS(32648)
WHERE = "analyses/park.yml"
DEFAULT_TIERS = [{"min_area_m2": 5000.0, "radius_m": 500.0},
                 {"min_area_m2": 2000.0, "radius_m": 300.0}]


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


def land(*boxes, cls="residential"):
    return gdf(boxes, **{"class": [cls] * len(boxes)})


def park_run(parks, residential=(), *, population=None, districts=None, target=None, **params):
    vectors = {"parks": parks}
    if residential is not None:
        vectors["landuse"] = land(*residential) if residential else land(
            shapely.box(5000, 5000, 5010, 5010), cls="industrial")
    if population is not None:
        vectors["population"] = population
    if districts is not None:
        vectors["districts"] = districts
    p = park_coverage.validate_params(params, where=WHERE)
    return park_coverage.run(Context(Layers(crs=CRS, vectors=vectors)), name="park", params=p,
                             target=target)


# -- park_coverage: parameters ----------------------------------------------------------


def test_park_tiers_come_back_largest_first_as_floats():
    """Tiers given smallest first are sorted by min_area_m2, largest first (docstring)."""
    p = park_coverage.validate_params(
        {"tiers": [{"min_area_m2": 0, "radius_m": 100}, {"min_area_m2": 800, "radius_m": 200},
                   {"min_area_m2": 300, "radius_m": 150}]}, where=WHERE)
    assert p.tiers == [{"min_area_m2": 800.0, "radius_m": 200.0},
                       {"min_area_m2": 300.0, "radius_m": 150.0},
                       {"min_area_m2": 0.0, "radius_m": 100.0}]
    # min_area_m2 = 0 is allowed (every park counts); the other defaults stay
    assert (p.distance, p.access_spacing_m, p.max_snap_m, p.sample_spacing_m,
            p.min_piece_share) == ("euclidean", 25, 100, 50, 0.01)


@pytest.mark.parametrize("tiers", [[], "big", None, {"min_area_m2": 1, "radius_m": 2}])
def test_park_tiers_must_be_a_non_empty_list(tiers):
    """The whole error message for tiers that are not a non-empty list."""
    with pytest.raises(AnalysisError) as e:
        park_coverage.validate_params({"tiers": tiers}, where=WHERE)
    assert str(e.value) == (
        f"{WHERE}: params.tiers must be a non-empty list of {{min_area_m2, radius_m}}, "
        f"got {tiers!r}")


@pytest.mark.parametrize("tier", [5, {"min_area_m2": 1, "radius_m": 2, "x": 3}])
def test_park_tier_keys_are_checked(tier):
    """A tier that is not a dict, or has extra keys, is named with its position."""
    with pytest.raises(AnalysisError) as e:
        park_coverage.validate_params(
            {"tiers": [{"min_area_m2": 9, "radius_m": 9}, tier]}, where=WHERE)
    assert str(e.value) == (
        f"{WHERE}: params.tiers[1] must have exactly the keys min_area_m2 and radius_m, "
        f"got {tier!r}")


def test_park_tier_values_are_checked_by_name():
    """A zero radius is refused (radius must be above 0), naming tiers[i].radius_m."""
    with pytest.raises(AnalysisError) as e:
        park_coverage.validate_params(
            {"tiers": [{"min_area_m2": 9, "radius_m": 9}, {"min_area_m2": 1, "radius_m": 0}]},
            where=WHERE)
    assert str(e.value) == f"{WHERE}: params.tiers[1].radius_m must be a positive number, got 0"
    with pytest.raises(AnalysisError) as e:
        park_coverage.validate_params({"tiers": [{"min_area_m2": -1, "radius_m": 9}]},
                                      where=WHERE)
    assert str(e.value) == f"{WHERE}: params.tiers[0].min_area_m2 must be a positive number, got -1"


def test_park_repeated_tier_area_is_refused():
    with pytest.raises(AnalysisError) as e:
        park_coverage.validate_params(
            {"tiers": [{"min_area_m2": 10, "radius_m": 9}, {"min_area_m2": 10, "radius_m": 5}]},
            where=WHERE)
    assert str(e.value) == f"{WHERE}: params.tiers repeat a min_area_m2 value: [10.0, 10.0]"


@pytest.mark.parametrize("key", ["access_spacing_m", "max_snap_m", "sample_spacing_m"])
def test_park_spacings_must_be_positive(key):
    with pytest.raises(AnalysisError) as e:
        park_coverage.validate_params({key: 0}, where=WHERE)
    assert str(e.value) == f"{WHERE}: params.{key} must be a positive number, got 0"


def test_park_piece_share_is_checked():
    with pytest.raises(AnalysisError, match=r"params.min_piece_share must be a share"):
        park_coverage.validate_params({"min_piece_share": 1.5}, where=WHERE)
    assert park_coverage.validate_params({"min_piece_share": 0}, where=WHERE).min_piece_share == 0


# -- park_coverage: classify_parks / service_areas ----------------------------------------


def test_classify_parks_tier_edges_are_inclusive():
    """Areas exactly 5,000 and 2,000 m² reach their tier; 1,999 m² does not."""
    parks = gdf([shapely.box(0, 0, 100, 50), shapely.box(200, 0, 240, 50),
                 shapely.box(300, 0, 301, 1999)], name=["a", "b", "c"])
    out = park_coverage.classify_parks(parks, tiers=DEFAULT_TIERS)
    assert out["tier"].tolist() == [1, 2, 0]
    assert out["radius_m"].tolist()[:2] == [500.0, 300.0]
    assert math.isnan(out["radius_m"].iloc[2])
    assert out["counts"].tolist() == [True, True, False]
    assert list(out.columns) == ["name", "area_m2", "tier", "radius_m", "counts", "geometry"]


def test_classify_parks_without_name_column_and_blank_names():
    """No name column -> names None; blank names are not merged even when touching."""
    two = [shapely.box(0, 0, 40, 50), shapely.box(40, 0, 80, 50)]  # 2,000 m² each, touching
    out = park_coverage.classify_parks(gdf(two), tiers=DEFAULT_TIERS)
    assert out["name"].tolist() == [None, None]
    assert out["area_m2"].tolist() == [2000.0, 2000.0]
    out = park_coverage.classify_parks(gdf(two, name=[" ", " "]), tiers=DEFAULT_TIERS)
    assert out["name"].tolist() == [None, None]
    assert out["tier"].tolist() == [2, 2]


def test_classify_parks_drops_points_and_explodes_multipolygons():
    """Points (entrances) are not parks; a multipolygon park is one park per part."""
    mp = shapely.MultiPolygon([shapely.box(0, 0, 100, 50), shapely.box(500, 0, 540, 50)])
    out = park_coverage.classify_parks(
        gdf([mp, shapely.Point(10, 60)], name=["m", "gate"]), tiers=DEFAULT_TIERS)
    assert out["area_m2"].tolist() == [5000.0, 2000.0]
    assert out["name"].tolist() == ["m", "m"]


def test_classify_same_name_far_apart_stay_two_parks():
    """Same name but not touching: dissolved then exploded back into two parks."""
    parks = gdf([shapely.box(0, 0, 50, 50), shapely.box(500, 0, 550, 50)], name=["x", "x"])
    out = park_coverage.classify_parks(parks, tiers=DEFAULT_TIERS)
    assert sorted(out["area_m2"].tolist()) == [2500.0, 2500.0]


def test_service_areas_columns_and_skipped_tier():
    """Only tier 2 has parks: one row, tier 2, 2 parks, area of two disjoint buffers."""
    parks = park_coverage.classify_parks(
        gdf([shapely.box(0, 0, 40, 50), shapely.box(5000, 0, 5040, 50)], name=["a", "b"]),
        tiers=DEFAULT_TIERS)
    areas = park_coverage.service_areas(parks, tiers=DEFAULT_TIERS)
    assert list(areas.columns) == ["tier", "min_area_m2", "radius_m", "parks", "area_m2",
                                   "geometry"]
    assert areas[["tier", "min_area_m2", "radius_m", "parks"]].values.tolist() == [
        [2, 2000.0, 300.0, 2]]
    # each: 2,000 + 2 x (40 + 50) x 300 + 64-gon of radius 300 (32 x 300² x sin(2 pi/64))
    one = 2000 + 2 * 90 * 300 + 32 * 300**2 * math.sin(2 * math.pi / 64)
    assert areas["area_m2"].iloc[0] == pytest.approx(2 * one, rel=1e-9)
    assert areas.crs == CRS


def test_service_areas_none_counting_is_empty():
    parks = park_coverage.classify_parks(gdf([shapely.box(0, 0, 10, 10)]), tiers=DEFAULT_TIERS)
    areas = park_coverage.service_areas(parks, tiers=DEFAULT_TIERS)
    assert len(areas) == 0
    assert list(areas.columns) == ["tier", "min_area_m2", "radius_m", "parks", "area_m2",
                                   "geometry"]


# -- park_coverage: run (straight line) ---------------------------------------------------

BIG = shapely.box(0, 0, 100, 100)  # 10,000 m²: 500 m
SMALL = shapely.box(3000, 0, 3010, 10)  # 100 m²: does not count
TIER_TEXT = ("parks of at least 5,000 m² serve 500 m; parks of at least 2,000 m² serve 300 m; "
             "parks under 2,000 m² do not count")
HEAD = (f"Park service areas after GB/T 50563: {TIER_TEXT} (a park's area is its polygon "
        "area, touching or overlapping polygons with the same name merged). ")
EUCLID = ("Distance (euclidean) is the straight line from the park edge (each park polygon "
          "buffered by its radius). Residential land (land-use class residential) is split "
          "exactly at service-area and district edges. ")


def test_park_method_text_straight_line_with_and_without_population():
    """The method paragraph shown in the report (README: method text per analysis)."""
    pop = gdf([shapely.Point(150, 50)], population=[10.0])
    res = park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)], population=pop)
    assert res.method == HEAD + EUCLID + (
        "Residents count where they live: population polygons by the share of their area "
        "covered, points and raster pixels by location.")
    res = park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)])
    assert res.method == HEAD + EUCLID + "No population layer: only area_share."


def test_park_warnings_small_parks_and_no_population():
    res = park_run(gdf([BIG, SMALL, SMALL.buffer(0).union(shapely.box(3020, 0, 3021, 1))]),
                   [shapely.box(200, 0, 300, 100)])
    # two of the three parks are under 2,000 m² (the third is 2 parts: 3 small parks in all)
    assert res.warnings == [
        "3 parks under 2,000 m² do not count",
        "pop_share is not computed: no population layer; add layers/population.yml with "
        "'role: population'",
    ]


def test_park_warning_when_no_park_counts():
    pop = gdf([shapely.Point(150, 50)], population=[10.0])
    res = park_run(gdf([SMALL]), [shapely.box(200, 0, 300, 100)], population=pop)
    assert res.warnings == ["no park reaches 2,000 m²: nothing is covered"]
    assert (res.indicators["area_share"].city.value, res.indicators["pop_share"].city.value) \
        == (0.0, 0.0)
    assert len(res.layers["service_areas"]) == 0
    # every piece of land is a gap
    assert res.layers["gaps"]["area_m2"].sum() == pytest.approx(10000)


def test_park_warning_without_landuse_names_the_reason():
    pop = gdf([shapely.Point(150, 50)], population=[10.0])
    res = park_run(gdf([BIG]), None, population=pop)
    assert res.warnings == [
        "area_share is not computed: no landuse layer (it needs residential land; add "
        "layers/landuse.yml); pop_share needs only parks and residents"]
    assert list(res.indicators) == ["pop_share"]
    assert "area_share__num" not in res.units.columns
    assert res.units["unit"].tolist() == ["population"]
    assert res.units["pop_share__num"].tolist() == [10.0]


def test_park_neither_land_nor_population_whole_message():
    with pytest.raises(LayerError) as e:
        park_run(gdf([BIG]), None)
    assert str(e.value) == (
        "analysis 'park' needs residential land (area_share) or a population layer "
        "(pop_share), and has neither: no landuse layer (it needs residential land; add "
        "layers/landuse.yml); add layers/population.yml with 'role: population'")


def test_park_population_without_positive_value_whole_message():
    pop = gdf([shapely.Point(150, 50), shapely.Point(10, 10)], population=[0.0, np.nan])
    with pytest.raises(LayerError) as e:
        park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)], population=pop)
    assert str(e.value) == (
        "analysis 'park': the population layer holds no positive 'population' value; "
        "check its 'fields: {population: COLUMN}' mapping")


def test_park_zero_population_rows_are_left_out():
    """A 0-resident point is dropped: it is no unit (pop_share over the 10 residents)."""
    pop = gdf([shapely.Point(150, 50), shapely.Point(2000, 50)], population=[10.0, 0.0])
    res = park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)], population=pop)
    people = res.units[res.units["unit"] == "population"]
    assert people["pop_share__den"].tolist() == [10.0]


def test_park_styles_of_the_three_layers():
    """Layer titles, legend fields and ramps (the typed style objects)."""
    pop = gdf([shapely.Point(150, 50)], population=[10.0])
    res = park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)], population=pop)
    assert res.styles == {
        "parks": LayerStyle(
            title="Parks by service tier", title_zh="公园（按服务半径等级）",
            value_field="radius_m", ramp="seq", label_field="name",
            popup_fields=["name", "area_m2", "tier", "radius_m", "counts"]),
        "service_areas": LayerStyle(
            title="Park service areas", title_zh="公园服务范围", color="#31a354",
            popup_fields=["tier", "min_area_m2", "radius_m", "parks", "area_m2"]),
        "gaps": LayerStyle(
            title="Residential land outside every park service area",
            title_zh="公园服务范围外的居住用地", ramp="bad", value_field="population"),
    }
    res = park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)])
    assert res.styles["gaps"].value_field == "area_m2"


def test_park_result_params_kind_and_labels():
    res = park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)], access_spacing_m=10)
    assert (res.name, res.kind) == ("park", "park_coverage")
    assert dict(res.params) == {
        "distance": "euclidean", "tiers": DEFAULT_TIERS, "access_spacing_m": 10.0,
        "max_snap_m": 100.0, "sample_spacing_m": 50.0, "min_piece_share": 0.01}
    ind = res.indicators["area_share"]
    assert (ind.key, ind.unit, ind.label) == (
        "area_share", "share", "Residential land within a park's service radius")


def test_park_pop_label():
    pop = gdf([shapely.Point(150, 50)], population=[10.0])
    ind = park_run(gdf([BIG]), None, population=pop).indicators["pop_share"]
    assert (ind.unit, ind.label) == ("share", "Residents within a park's service radius")


def test_park_polygon_population_in_gaps_and_units():
    """A 600-resident polygon half covered: 300 in the gap, 300 covered.

    Park edge x = 100, radius 500: cover ends at x = 600; polygon x 550..650 (6,000 m²).
    """
    pop = gdf([shapely.box(550, 20, 650, 80)], population=[600.0])
    res = park_run(gdf([BIG]), [shapely.box(550, 20, 650, 80)], population=pop)
    gaps = res.layers["gaps"]
    assert gaps[["area_m2", "population"]].values.ravel().tolist() == pytest.approx([3000, 300])
    assert list(gaps.columns) == ["district", "area_m2", "geometry", "population"]
    people = res.units[res.units["unit"] == "population"]
    assert sorted(people["pop_share__num"]) == pytest.approx([0, 300])
    assert sorted(people["pop_share__den"]) == pytest.approx([300, 300])
    # population units are points inside their piece
    assert set(people.geom_type) == {"Point"}
    assert res.indicators["pop_share"].city.value == pytest.approx(0.5)


def test_park_area_units_are_points_with_coverage():
    """Residential land units: one per piece, covered flag and area num/den."""
    res = park_run(gdf([BIG]), [shapely.box(550, 20, 650, 80)])
    u = res.units
    assert u["unit"].tolist() == ["residential_land"] * 2
    assert u[["covered", "area_m2", "area_share__num", "area_share__den"]].values.tolist() == [
        [True, 3000.0, 3000.0, 3000.0], [False, 3000.0, 0.0, 3000.0]]
    assert set(u.geom_type) == {"Point"}
    # the covered piece's representative point lies at x < 600, the other at x > 600
    assert u.geometry.x.iloc[0] < 600 < u.geometry.x.iloc[1]
    assert u["district"].tolist() == [None, None]


# -- common ---------------------------------------------------------------------------------

TWO_D = gdf([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], name=["w", "e"])


def ctx_of(**vectors):
    rasters = vectors.pop("rasters", {})
    return Context(Layers(crs=CRS, vectors=vectors, rasters=rasters))


def test_assign_districts_first_in_input_order_wins():
    """A point on the shared edge x = 10 and one inside two overlapping districts."""
    overlap = gdf([shapely.box(0, 0, 20, 10), shapely.box(5, 0, 15, 10)], name=[7, 8])
    pts = gpd.GeoSeries(shapely.points([[10, 5], [1, 1], [12, 5], [99, 99]]), crs=CRS)
    assert common.assign_districts(pts, TWO_D).tolist() == ["w", "w", "e", None]
    # names come back as text; the first (larger) district wins for points in both
    assert common.assign_districts(pts, overlap).tolist() == ["7", "7", "7", None]
    rev = gdf([shapely.box(5, 0, 15, 10), shapely.box(0, 0, 20, 10)], name=["s", "b"])
    assert common.assign_districts(pts, rev).tolist() == ["s", "b", "s", None]


def test_assign_districts_without_districts_or_points():
    pts = gpd.GeoSeries(shapely.points([[1, 1]]), crs=CRS)
    assert common.assign_districts(pts, None).tolist() == [None]
    assert common.assign_districts(pts.iloc[:0], TWO_D).tolist() == []


def test_split_by_districts_keeps_outside_part_and_prorates():
    """Box x 5..25 (200 m², 100 residents): w 50, e 100, outside (x 20..25) 50 m² -> 25."""
    g = gdf([shapely.box(5, 0, 25, 10), None], population=[100, 7], jobs=[1, 1])
    s = common.split_by_districts(g, TWO_D, prorate=("population", "missing"))
    got = sorted(zip(s["district"].fillna("-"), s["area_m2"], s["population"], s["jobs"],
                     strict=True))
    assert got == [("-", 50.0, 25.0, 1), ("e", 100.0, 50.0, 1), ("w", 50.0, 25.0, 1)]
    assert list(s.columns) == ["population", "jobs", "district", "geometry", "area_m2"]
    assert list(s.index) == [0, 1, 2]


def test_split_by_districts_without_districts():
    g = gdf([shapely.box(0, 0, 2, 3), None], population=[5.0, 1.0])
    s = common.split_by_districts(g, None, prorate=("population",))
    assert s[["population", "area_m2"]].values.tolist() == [[5.0, 6.0]]
    assert s["district"].tolist() == [None]


def test_raster_units_leave_out_nodata_nonfinite_zero():
    """2 x 3 pixels of 10 m, top-left corner (100, 50): valid 5 and 2.5 only."""
    data = np.array([[5.0, -9.0, 0.0], [np.nan, 2.5, -1.0]])
    r = RasterLayer(name="pop", role="population", data=data,
                    transform=Affine(10, 0, 100, 0, -10, 50), crs=CRS, nodata=-9.0)
    u = common.raster_units(r, field="people", crs=CRS)
    assert u["people"].tolist() == [5.0, 2.5]
    # pixel centres: (105, 45) and (115, 35)
    assert shapely.get_coordinates(u.geometry.values).tolist() == [[105, 45], [115, 35]]
    assert u.crs == CRS


def test_raster_units_reprojected_to_the_working_crs():
    data = np.array([[1.0]])
    r = RasterLayer(name="pop", role="population", data=data,
                    transform=Affine(0.001, 0, 104.0, 0, -0.001, 31.0), crs=pyproj.CRS(4326),
                    nodata=None)
    u = common.raster_units(r, field="population", crs=CRS)
    want = pyproj.Transformer.from_crs(4326, 32648, always_xy=True).transform(104.0005, 30.9995)
    assert shapely.get_coordinates(u.geometry.values)[0] == pytest.approx(want)
    assert u.crs == CRS


def test_value_pieces_missing_field_whole_message():
    ctx = ctx_of(jobs=gdf([shapely.Point(1, 1)], other=[1]))
    with pytest.raises(LayerError) as e:
        common.value_pieces(ctx, "jobs", fields=("jobs",), needed_by="jh")
    assert str(e.value) == ("layer role 'jobs' has no 'jobs' field; map it in layers/*.yml "
                            "with 'fields: {jobs: YOUR_COLUMN}'")


def test_value_pieces_points_multipoints_and_optional_fields():
    """Text counts become numbers, a missing optional field NaN, multipoints explode."""
    pts = gdf([shapely.Point(1, 1), shapely.MultiPoint([(12, 1), (30, 1)])],
              population=["4", "x"], workers=[1, 2])
    out = common.value_pieces(ctx_of(population=pts, districts=TWO_D), "population",
                              fields=common.POP_FIELDS, needed_by="a")
    assert list(out.columns) == ["population", "workers", "dwellings", "geometry", "district"]
    assert out["population"].tolist()[0] == 4.0 and out["population"].isna().tolist() == [
        False, True, True]
    assert out["dwellings"].isna().all() and out["workers"].tolist() == [1.0, 2.0, 2.0]
    assert out["district"].fillna("-").tolist() == ["w", "e", "-"]
    assert list(out.index) == [0, 1, 2]


def test_value_pieces_polygons_split_and_prorated():
    polys = gdf([shapely.box(5, 0, 15, 10)], population=[10])
    out = common.value_pieces(ctx_of(population=polys, districts=TWO_D), "population",
                              fields=("population",), needed_by="a")
    assert sorted(zip(out["district"], out["population"], strict=True)) == [("e", 5.0), ("w", 5.0)]


def test_value_pieces_points_and_polygons_with_districts():
    """Bug fix: two population layers, points and polygons, with districts (the overlay
    refused mixed geometry types). Point (1, 1) 4 in w; multipoint 2 + 2 in e and
    outside; polygon x 5..15 of 10 split 5 / 5."""
    both = gdf([shapely.Point(1, 1), shapely.box(5, 0, 15, 10),
                shapely.MultiPoint([(12, 1), (30, 1)])], population=[4, 10, 2])
    out = common.value_pieces(ctx_of(population=both, districts=TWO_D), "population",
                              fields=("population",), needed_by="a")
    got = sorted(zip(out["district"].fillna("-"), out["population"], out.geom_type, strict=True))
    assert got == [("-", 2.0, "Point"), ("e", 2.0, "Point"), ("e", 5.0, "Polygon"),
                   ("w", 4.0, "Point"), ("w", 5.0, "Polygon")]
    assert out.crs == CRS
    units = common.value_units(ctx_of(population=both, districts=TWO_D), "population",
                               fields=("population",), needed_by="a")
    assert (set(units.geom_type), units["population"].sum()) == ({"Point"}, 18.0)


def test_value_pieces_from_a_raster():
    data = np.array([[3.0, 0.0]])
    r = RasterLayer(name="jobs", role="jobs", data=data,
                    transform=Affine(10, 0, 0, 0, -10, 10), crs=CRS, nodata=None)
    out = common.value_pieces(ctx_of(rasters={"jobs": r}, districts=TWO_D), "jobs",
                              fields=("jobs",), needed_by="a")
    assert out[["jobs", "district"]].values.tolist() == [[3.0, "w"]]


def test_value_units_points_of_polygons_cached():
    """Polygon pieces become points inside them; a second call reads the cache."""
    polys = gdf([shapely.box(5, 0, 15, 10)], population=[10])
    ctx = ctx_of(population=polys, districts=TWO_D)
    u = common.value_units(ctx, "population", fields=("population",), needed_by="a")
    assert list(u.columns) == ["population", "district", "geometry"]
    assert set(u.geom_type) == {"Point"}
    assert all(TWO_D.geometry[TWO_D["name"] == d].iloc[0].covers(p)
               for d, p in zip(u["district"], u.geometry, strict=True))
    assert list(ctx.cache) == ["units:population:population"]
    u.loc[0, "population"] = -1.0  # the caller's copy; the cache stays
    ctx.layers.vectors["population"] = polys.iloc[:0]
    again = common.value_units(ctx, "population", fields=("population",), needed_by="a")
    assert sorted(again["population"]) == [5.0, 5.0]


def test_value_units_keep_points_where_they_are():
    pts = gdf([shapely.Point(3, 4)], population=[2], dwellings=[1], workers=[1])
    u = common.value_units(ctx_of(population=pts), "population", fields=common.POP_FIELDS,
                           needed_by="a")
    assert shapely.get_coordinates(u.geometry.values).tolist() == [[3, 4]]
    assert list(u.columns) == ["population", "dwellings", "workers", "district", "geometry"]


def test_resident_units_without_residents_whole_message():
    pts = gdf([shapely.Point(3, 4), shapely.Point(5, 5)], population=[0, np.nan])
    with pytest.raises(AnalysisError) as e:
        common.resident_units(ctx_of(population=pts), needed_by="circle")
    assert str(e.value) == (
        "analysis 'circle': the population layer holds no residents (total 0); check its "
        "'population' field mapping in layers/*.yml")
    pts = gdf([shapely.Point(3, 4)], population=[0.5])
    assert common.resident_units(ctx_of(population=pts), needed_by="c")["population"].tolist() \
        == [0.5]


def test_landuse_pieces_dissolve_overlaps_per_class():
    """Two overlapping residential boxes (100 + 100 - 50 = 150 m²) count once."""
    lu = gdf([shapely.box(0, 0, 10, 10), shapely.box(5, 0, 15, 10), shapely.box(0, 0, 10, 10)],
             **{"class": ["residential", "residential", "green"]})
    ctx = ctx_of(landuse=lu, districts=TWO_D)
    p = common.landuse_pieces(ctx, ("residential",), needed_by="a")
    assert sorted(zip(p["district"], p["area_m2"], strict=True)) == [("e", 50.0), ("w", 100.0)]
    assert set(p["class"]) == {"residential"}
    both = common.landuse_pieces(ctx, ("residential", "green"), needed_by="a")
    assert both["area_m2"].sum() == 250.0
    assert sorted(ctx.cache) == ["landuse:green,residential", "landuse:residential"]
    # the same classes in another order share the cache entry
    ctx.layers.vectors["landuse"] = lu.iloc[:0]
    assert common.landuse_pieces(ctx, ("green", "residential"), needed_by="a")[
        "area_m2"].sum() == 250.0


def test_landuse_pieces_missing_class_whole_message():
    lu = gdf([shapely.box(0, 0, 10, 10)], **{"class": ["green"]})
    with pytest.raises(LayerError) as e:
        common.landuse_pieces(ctx_of(landuse=lu), ("residential", "mixed"), needed_by="a")
    assert str(e.value) == (
        "analysis 'a': the landuse layer has no feature of class residential, mixed; check "
        "the 'classes' mapping in its layers/*.yml")


def test_residential_land_reasons():
    assert common.residential_land(ctx_of(), needed_by="a") == (
        None, "no landuse layer (it needs residential land; add layers/landuse.yml)")
    lu = gdf([shapely.box(0, 0, 10, 10)], **{"class": ["green"]})
    assert common.residential_land(ctx_of(landuse=lu), needed_by="a") == (
        None, "the landuse layer has no residential land; check the 'classes' mapping of its "
        "layers/*.yml")
    lu = gdf([shapely.box(0, 0, 10, 10)], **{"class": ["residential"]})
    pieces, why = common.residential_land(ctx_of(landuse=lu), needed_by="a")
    assert (why, pieces["area_m2"].tolist()) == (None, [100.0])


def test_empty_pieces_columns():
    e = common.empty_pieces(CRS)
    assert (len(e), list(e.columns), e.crs) == (0, ["class", "district", "area_m2", "geometry"],
                                                CRS)
    assert [str(t) for t in e.dtypes.iloc[:3]] == ["object", "object", "float64"]


# -- zonal ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("crs", "name"), [(None, "none"), (4326, "WGS 84")])
def test_require_metric_whole_message(crs, name):
    with pytest.raises(CRSError) as e:
        zonal.require_metric(None if crs is None else pyproj.CRS(crs), needed_by="park500")
    assert str(e.value) == (
        f"analysis 'park500' needs a metric working CRS, got {name}; set 'crs' in "
        "urbanform.yml to a projected CRS such as the data's UTM zone")
    zonal.require_metric(CRS, needed_by="x")  # projected: no error


def test_cover_tiles_aligned_on_the_tile_grid():
    """Cover x -500..1500, y 200..700, tiles of 1000 aligned on 0: x -1000|0|1000."""
    tiles = zonal.cover_tiles(shapely.box(-500, 200, 1500, 700))
    assert sorted(shapely.bounds(tiles).tolist()) == [
        [-500, 200, 0, 700], [0, 200, 1000, 700], [1000, 200, 1500, 700]]
    tiles = zonal.cover_tiles(shapely.box(-500, 200, 1500, 700), tile_m=600)
    # columns -600|0|600|1200|1800, rows 0|600|1200
    assert sorted(shapely.bounds(tiles).tolist()) == [
        [-500, 200, 0, 600], [-500, 600, 0, 700], [0, 200, 600, 600], [0, 600, 600, 700],
        [600, 200, 1200, 600], [600, 600, 1200, 700], [1200, 200, 1500, 600],
        [1200, 600, 1500, 700]]
    assert zonal.cover_tiles(None).tolist() == [] and zonal.cover_tiles(shapely.Polygon()).size == 0


def test_cover_tiles_of_a_multipolygon_are_polygons():
    """Two parts touching a tile edge: slivers (lines) are left out, only areas stay."""
    cover = shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(20, 0, 1000, 10)])
    tiles = zonal.cover_tiles(cover)
    assert sorted(shapely.area(tiles).tolist()) == [100.0, 9800.0]
    assert set(shapely.get_type_id(tiles).tolist()) == {3}


def test_split_by_cover_across_tiles_and_columns():
    """Piece x 900..1100 (20,000 m², 200 people) and cover x 950..1050 cut at x = 1000.

    Inside: two parts of 5,000 m² (50 people each); outside: x 900..950 and 1050..1100
    as one part of 10,000 m² (100 people). A second piece far away stays whole outside.
    """
    pieces = gdf([shapely.box(900, 0, 1100, 100), shapely.box(5000, 0, 5010, 10)],
                 population=[200, 10], name=["a", "b"])
    s = zonal.split_by_cover(pieces, shapely.box(950, 0, 1050, 100), prorate=("population",))
    assert list(s.columns) == ["population", "name", "covered", "area_m2", "piece", "geometry"]
    assert s[["piece", "covered", "area_m2", "population"]].values.tolist() == [
        [0, True, 5000.0, 50.0], [0, True, 5000.0, 50.0], [0, False, 10000.0, 100.0],
        [1, False, 100.0, 10.0]]
    assert s["name"].tolist() == ["a", "a", "a", "b"]
    assert s.crs == CRS
    assert sorted(shapely.bounds(s.geometry.values[:2]).tolist()) == [
        [950, 0, 1000, 100], [1000, 0, 1050, 100]]


def test_split_by_cover_tile_size_and_given_tiles():
    pieces = gdf([shapely.box(0, 0, 100, 10)])
    cover = shapely.box(0, 0, 100, 10)
    assert len(zonal.split_by_cover(pieces, cover, tile_m=30)) == 4  # cut at 30, 60, 90
    tiles = zonal.cover_tiles(cover, tile_m=50)
    s = zonal.split_by_cover(pieces, tiles)
    assert s["area_m2"].tolist() == [500.0, 500.0] and s["covered"].all()


def test_split_by_cover_drops_line_touches_and_keeps_polygons():
    """Cover x 5..20 meets part A in an area and touches part B along x = 20.

    Inside: x 5..10 (50 m²) only, a Polygon; outside: x 0..5 and B (50 + 100 m²).
    """
    piece = shapely.MultiPolygon([shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)])
    s = zonal.split_by_cover(gdf([piece, shapely.box(100, 0, 110, 10)]),
                             shapely.box(5, 0, 20, 10))
    assert s[["piece", "covered", "area_m2"]].values.tolist() == [
        [0, True, 50.0], [0, False, 150.0], [1, False, 100.0]]
    assert s.geom_type.tolist() == ["Polygon", "MultiPolygon", "Polygon"]


def test_split_by_cover_without_cover_or_pieces():
    pieces = gdf([shapely.box(0, 0, 10, 10)], population=[3])
    s = zonal.split_by_cover(pieces, None, prorate=("population",))
    assert s[["covered", "area_m2", "population", "piece"]].values.tolist() == [
        [False, 100.0, 3.0, 0]]
    assert len(zonal.split_by_cover(pieces.iloc[:0], shapely.box(0, 0, 1, 1))) == 0


def test_points_in_cover_edges_and_tiles():
    pts = gpd.GeoSeries(shapely.points([[0, 5], [10, 10], [10.001, 5], [1500, 5]]))
    cover = shapely.box(0, 0, 10, 10)
    assert zonal.points_in_cover(pts, cover).tolist() == [True, True, False, False]
    wide = zonal.cover_tiles(shapely.box(0, 0, 2000, 10))
    assert zonal.points_in_cover(pts, wide).tolist() == [True, True, True, True]
    assert zonal.points_in_cover(pts, None).tolist() == [False] * 4
    assert zonal.points_in_cover(pts.iloc[:0], cover).tolist() == []


def test_sum_into_polygons_points_once_and_polygon_shares():
    """Targets A x 0..10, B x 10..20 (share the edge x = 10).

    Point on the edge (5) counts once; point in B (7); point outside (100) nowhere;
    polygon x 5..25 (200 m², 40) -> A 10, B 20 (5 m outside); NaN polygon adds 0.
    """
    v = gdf([shapely.Point(10, 5), shapely.Point(15, 5), shapely.Point(50, 50),
             shapely.box(5, 0, 25, 10), shapely.box(0, 0, 20, 10)],
            p=[5.0, 7.0, 100.0, 40.0, np.nan])
    t = gpd.GeoSeries([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    out = zonal.sum_into_polygons(v, "p", t)
    assert out.sum() == pytest.approx(5 + 7 + 40 * 15 / 20)
    assert out[1] - 7 - 20 in (0.0, 5.0)
    assert out[0] - 10 in (0.0, 5.0)
    only_polys = zonal.sum_into_polygons(v.iloc[3:], "p", t)
    assert only_polys.tolist() == pytest.approx([10.0, 20.0])
    only_pts = zonal.sum_into_polygons(v.iloc[1:3], "p", t)
    assert only_pts.tolist() == [0.0, 7.0]
    assert zonal.sum_into_polygons(v.iloc[:0], "p", t).tolist() == [0.0, 0.0]
    assert zonal.sum_into_polygons(v, "p", t.iloc[:0]).tolist() == []


def test_sum_into_polygons_zero_area_polygon_adds_nothing():
    v = gdf([shapely.Polygon([(1, 1), (2, 2), (3, 3)]), shapely.box(0, 0, 1, 1)], p=[9.0, 2.0])
    out = zonal.sum_into_polygons(v, "p", gpd.GeoSeries([shapely.box(0, 0, 10, 10)]))
    assert out.tolist() == [2.0]


def test_grid_samples_exact_positions_and_weights():
    """Spacing 25, centres at 12.5 + 25 k.

    A x -60..-10, y -60..-10: centres -37.5 and -12.5 each way -> 4 points, 625 m² each.
    B x 30..80, y 40..60 (1,000 m²): no centre inside (y 37.5 / 62.5): its
    representative point, 1,000 m². C x 0..100, y 0..30: x 12.5..87.5, y 12.5 -> 4 of 750.
    """
    pieces = gdf([shapely.box(-60, -60, -10, -10), shapely.box(30, 40, 80, 60),
                  shapely.box(0, 0, 100, 30)])
    s = zonal.grid_samples(pieces, spacing_m=25)
    assert s["piece"].tolist() == [0, 0, 0, 0, 1, 2, 2, 2, 2]
    assert s["weight_m2"].tolist() == [625.0] * 4 + [1000.0] + [750.0] * 4
    xy = shapely.get_coordinates(s.geometry.values).tolist()
    assert xy[:4] == [[-37.5, -37.5], [-12.5, -37.5], [-37.5, -12.5], [-12.5, -12.5]]
    assert pieces.geometry.iloc[1].contains(s.geometry.iloc[4])
    assert xy[5:] == [[12.5, 12.5], [37.5, 12.5], [62.5, 12.5], [87.5, 12.5]]
    assert s.crs == CRS


def test_grid_samples_offset_grid_two_rows():
    """x 110..160, y 205..260, spacing 20: centres x 110, 130, 150 inside? 110 is on the edge.

    Centres (10 + 20 k): x 130, 150 (110 lies on the edge: not inside), y 210, 230, 250.
    """
    s = zonal.grid_samples(gdf([shapely.box(110, 205, 160, 260)]), spacing_m=20)
    assert shapely.get_coordinates(s.geometry.values).tolist() == [
        [130, 210], [150, 210], [130, 230], [150, 230], [130, 250], [150, 250]]
    assert s["weight_m2"].tolist() == [50 * 55 / 6] * 6


def test_grid_samples_refuses_too_many_points():
    """Box 30 km x 10 km at 1 mm: (3e7 + 2) x (1e7 + 2) = 300,000,080,000,004 points."""
    pieces = gdf([shapely.box(1000, 5000, 31000, 15000)])
    with pytest.raises(ResourceError) as e:
        zonal.grid_samples(pieces, spacing_m=0.001)
    msg = str(e.value)
    assert msg.startswith("about 300,000,080,000,004 sample points 0.001 m apart would need ")
    assert msg.endswith("; use a larger params.sample_spacing_m (default 50)")


def test_boundary_points_spacing_parts_and_tiny_rings():
    """Ring of 400 m at 30 m: ceil(13.3) = 14 points 400/14 m apart from (100, 0).

    A multipolygon's two parts both belong to row 1; a 4 m ring gets one point; holes
    are not edges.
    """
    holed = shapely.box(0, 0, 100, 100).difference(shapely.box(40, 40, 60, 60))
    mp = shapely.MultiPolygon([shapely.box(200, 0, 201, 1), shapely.box(300, 0, 330, 30)])
    pts, src = zonal.boundary_points(gpd.GeoSeries([holed, mp]), spacing_m=30)
    assert src.tolist() == [0] * 14 + [1] + [1] * 4
    ring = shapely.get_exterior_ring(holed)
    want = [ring.interpolate(k * 400 / 14) for k in range(14)]
    assert [p.equals_exact(w, 1e-9) for p, w in zip(pts[:14], want, strict=True)] == [True] * 14
    assert shapely.get_coordinates(pts[14:15]).tolist() == [[201, 0]]
    assert shapely.get_coordinates(pts[15:]).tolist() == [[330, 0], [330, 30], [300, 30],
                                                          [300, 0]]


def test_boundary_points_refuse_too_many_points():
    """A 4e4 m ring at 1e-9 m: 4e13 + 1 points."""
    with pytest.raises(ResourceError) as e:
        zonal.boundary_points(gpd.GeoSeries([shapely.box(0, 0, 10000, 10000)]),
                              spacing_m=1e-9)
    msg = str(e.value)
    assert msg.startswith("about 40,000,000,000,001 edge points 1e-09 m apart would need ")
    assert msg.endswith("; use a larger params.access_spacing_m (default 25)")


# -- forest_cover -----------------------------------------------------------------------------

FWHERE = "analyses/forest.yml"
X0, Y0 = 400_000.0, 3_390_000.0


def lc(data, *, transform=None, crs=CRS, classes=None, nodata=0):
    return RasterLayer(
        name="landcover", role="landcover", data=np.asarray(data, dtype=np.uint8),
        transform=transform or Affine(30, 0, X0, 0, -30, Y0 + 150), crs=crs, nodata=nodata,
        classes={"forest": [10, 11], "water": [80]} if classes is None else classes)


def five_by_five():
    """5 x 5 pixels of 30 m over X0..X0+150, Y0..Y0+150: forest (10) but (0, 0) water
    (80) and (4, 4) cropland (40)."""
    data = np.full((5, 5), 10)
    data[0, 0], data[4, 4] = 80, 40
    return lc(data)


def forest_run(layers, **params):
    p = forest_cover.validate_params(params, where=FWHERE)
    return forest_cover.run(Context(layers), name="forest", params=p, target=None)


ALL = gdf([shapely.box(X0, Y0, X0 + 150, Y0 + 150)], name=["All"])


@pytest.mark.parametrize(("value", "want"), [("forest", ["forest"]), (11, [11]),
                                              ([1.5, "a"], [1.5, "a"])])
def test_forest_class_lists_accept_names_and_codes(value, want):
    p = forest_cover.validate_params({"classes": value, "exclude": value}, where=FWHERE)
    assert (p.classes, p.exclude, p.source) == (want, want, "auto")


@pytest.mark.parametrize("value", [[True], [None], [], {"a": 1}, 2.5])
def test_forest_class_lists_reject_other_values(value):
    with pytest.raises(AnalysisError) as e:
        forest_cover.validate_params({"classes": value}, where=FWHERE)
    assert str(e.value) == (f"{FWHERE}: params.classes must be a list of class names or raster "
                            f"codes, got {value!r}")


def test_forest_exclude_may_be_empty_but_not_bool():
    assert forest_cover.validate_params({"exclude": []}, where=FWHERE).exclude == []
    with pytest.raises(AnalysisError) as e:
        forest_cover.validate_params({"exclude": True}, where=FWHERE)
    # a single value is taken as a one-item list first
    assert str(e.value) == (f"{FWHERE}: params.exclude must be a list of class names or raster "
                            "codes, got [True]")


def test_forest_raster_units_are_100_m_blocks_at_weighted_centres():
    """30 m pixels -> blocks of 3 x 3 pixels (100 // 30): 4 units, in block order.

    Centres (pixel centres averaged): block (0, 0) x 45, y 105; (0, 1) x 120, y 105;
    (1, 0) x 45, y 30; (1, 1) x 120, y 30 (offsets from X0, Y0). Forest / land:
    (0, 0) 8 forest pixels of 900 m², water left out; (1, 1) 3 forest of 4 land.
    """
    res = forest_run(Layers(crs=CRS, vectors={"districts": ALL},
                            rasters={"landcover": five_by_five()}))
    u = res.units
    xy = (shapely.get_coordinates(u.geometry.values) - [X0, Y0]).tolist()
    assert np.ravel(xy).tolist() == pytest.approx([45, 105, 120, 105, 45, 30, 120, 30])
    assert u["share__num"].tolist() == pytest.approx([7200, 5400, 5400, 2700])
    assert u["share__den"].tolist() == pytest.approx([7200, 5400, 5400, 3600])
    assert u["district"].tolist() == ["All"] * 4
    assert list(u.columns) == ["district", "share__num", "share__den", "geometry"]
    assert res.indicators["share"].city.value == pytest.approx(20700 / 21600)


def test_forest_raster_units_in_another_working_crs():
    """Units come in ``crs``: the first block centre (X0 + 45, Y0 + 105) moved to 32647."""
    zones = gpd.GeoDataFrame({"district": ["All"]}, geometry=ALL.geometry.values, crs=CRS)
    u = forest_cover.raster_share_units(five_by_five(), zones, forest_codes=[10],
                                        exclude_codes=[80], crs=pyproj.CRS(32647))
    want = pyproj.Transformer.from_crs(32648, 32647, always_xy=True).transform(
        X0 + 45, Y0 + 105)
    assert shapely.get_coordinates(u.geometry.values)[0] == pytest.approx(want)
    assert u.crs == pyproj.CRS(32647)


def test_forest_geographic_pixels_areas_per_row():
    """2 x 1 pixels of 0.001 deg at 104 E, 30.000..30.002 N; each pixel's area by an
    equal-area projection on the same ellipsoid (independent of the geodesic code).

    0.001 deg is about 111 m: blocks of one pixel (100 // 111 -> at least 1): 2 units.
    """
    raster = lc([[10], [40]], transform=Affine(0.001, 0, 104.0, 0, -0.001, 30.002),
                crs=pyproj.CRS(4326))
    cea = pyproj.CRS("+proj=cea +ellps=WGS84")
    cells = gpd.GeoSeries([shapely.box(104.0, 30.001, 104.001, 30.002),
                           shapely.box(104.0, 30.0, 104.001, 30.001)], crs=4326)
    areas = cells.to_crs(cea).area.tolist()
    zone = gpd.GeoSeries([shapely.box(103.99, 29.99, 104.01, 30.01)], crs=4326).to_crs(CRS)
    res = forest_run(Layers(crs=CRS, vectors={"districts": gdf(zone.values, name=["A"])},
                            rasters={"landcover": raster}))
    u = res.units
    assert u["share__den"].tolist() == pytest.approx(areas, rel=1e-6)
    assert u["share__num"].tolist() == pytest.approx([areas[0], 0.0], rel=1e-6)


def test_forest_geographic_raster_small_pixels_make_blocks():
    """0.0001 deg (~11.1 m) pixels: blocks of 100 // 11.1 = 9 pixels; 10 x 10 -> 2 x 2."""
    raster = lc(np.full((10, 10), 10), transform=Affine(0.0001, 0, 104.0, 0, -0.0001, 30.001),
                crs=pyproj.CRS(4326))
    zone = gpd.GeoSeries([shapely.box(103.99, 29.99, 104.01, 30.01)], crs=4326).to_crs(CRS)
    res = forest_run(Layers(crs=CRS, vectors={"districts": gdf(zone.values, name=["A"])},
                            rasters={"landcover": raster}))
    assert len(res.units) == 4


def test_forest_projected_pixel_area_is_the_pixel_size():
    """10 m x 20 m pixels -> 200 m² each; 100 m / 10 m -> blocks of 10 columns."""
    raster = lc(np.full((2, 3), 10), transform=Affine(10, 0, X0, 0, -20, Y0 + 40))
    d = gdf([shapely.box(X0, Y0, X0 + 30, Y0 + 40)], name=["A"])
    u = forest_run(Layers(crs=CRS, vectors={"districts": d}, rasters={"landcover": raster})).units
    assert u["share__den"].tolist() == [1200.0]


def test_forest_study_zones_boundary_split_and_outside():
    """Boundary x 0..30 with district A x 0..10 only: zones A and None (outside)."""
    b = gdf([shapely.box(0, 0, 20, 10), shapely.box(20, 0, 30, 10)])
    ctx = Context(Layers(crs=CRS, vectors={"boundary": b,
                                           "districts": gdf([shapely.box(0, 0, 10, 10)],
                                                            name=["A"])}))
    z = forest_cover.study_zones(ctx, needed_by="f")
    assert list(z.columns) == ["district", "geometry"]
    assert sorted(zip(z["district"].map(repr), z.area, strict=True)) == [
        ("'A'", 100.0), ("None", 200.0)]
    ctx = Context(Layers(crs=CRS, vectors={"boundary": b}))
    z = forest_cover.study_zones(ctx, needed_by="f")
    assert (z["district"].tolist(), z.area.tolist()) == ([None], [300.0])


def test_forest_study_zones_from_districts_and_the_error():
    ctx = Context(Layers(crs=CRS, vectors={"districts": TWO_D}))
    z = forest_cover.study_zones(ctx, needed_by="f")
    assert z["district"].tolist() == ["w", "e"] and list(z.index) == [0, 1]
    with pytest.raises(LayerError) as e:
        forest_cover.study_zones(Context(Layers(crs=CRS)), needed_by="f")
    assert str(e.value) == (
        "analysis 'f' needs a 'boundary' or a 'districts' layer to know the land area; add "
        "layers/boundary.yml with 'role: boundary'")


def test_forest_unmapped_class_whole_message():
    layers = Layers(crs=CRS, vectors={"districts": ALL},
                    rasters={"landcover": lc(np.full((5, 5), 10), classes={"forest": [10]})})
    with pytest.raises(AnalysisError) as e:
        forest_run(layers)
    assert str(e.value) == (
        "analysis 'forest': params.exclude names class 'water' but raster layer 'landcover' "
        "maps no code to it; add 'classes: {water: [CODE]}' to its layers/*.yml or list raw "
        "codes")


def test_forest_method_text_landcover():
    layers = Layers(crs=CRS, vectors={"districts": ALL}, rasters={"landcover": five_by_five()})
    res = forest_run(layers)
    assert res.method == (
        "Forest cover = area of land-cover pixels of forest (codes 10, 11) / land area "
        "(classes water left out of the land area; codes 80; nodata ignored). Each pixel "
        "counts by the exact fraction of it inside the district (exactextract coverage), in "
        "m². The city value is over the boundary (or the union of the districts).")
    res = forest_run(layers, classes=["forest", 40], exclude=[])
    assert res.method == (
        "Forest cover = area of land-cover pixels of forest, 40 (codes 10, 11, 40) / land "
        "area (no class left out; codes none; nodata ignored). Each pixel counts by the exact "
        "fraction of it inside the district (exactextract coverage), in m². The city value "
        "is over the boundary (or the union of the districts).")
    # cropland counted as forest, water as land: 24 of 25 pixels
    assert res.indicators["share"].city.value == pytest.approx(24 / 25)
    assert (res.params["source"], res.layers, res.styles, res.warnings) == (
        "landcover", {}, {}, [])


def test_forest_runs_with_other_codes_are_not_mixed_up():
    """The raster units are cached by codes: a second run with other classes differs."""
    ctx = Context(Layers(crs=CRS, vectors={"districts": ALL},
                         rasters={"landcover": five_by_five()}))
    one = forest_cover.run(ctx, name="a", params=forest_cover.validate_params({}, where="a"),
                           target=None)
    two = forest_cover.run(ctx, name="b", params=forest_cover.validate_params(
        {"exclude": [40]}, where="b"), target=None)
    three = forest_cover.run(ctx, name="c", params=forest_cover.validate_params(
        {"classes": [40]}, where="c"), target=None)
    # water counts as land in b: 23 forest of 24 land (cropland left out)
    assert [r.indicators["share"].city.value for r in (one, two, three)] == pytest.approx(
        [23 / 24, 23 / 24, 1 / 24])
    assert len(ctx.cache) == 3


def test_forest_landuse_source_method_styles_and_label():
    lu = gdf([shapely.box(0, 0, 5, 10), shapely.box(8, 0, 10, 10)], **{"class": ["forest",
                                                                               "water"]})
    layers = Layers(crs=CRS, vectors={"districts": TWO_D, "landuse": lu})
    res = forest_run(layers)
    assert res.method == (
        "Forest cover = area of land-use polygons of class forest / land area: the district "
        "(or study area) minus the land-use polygons of class water (forest overlapping them "
        "counts as excluded), split exactly at district edges.")
    assert res.styles == {"forest": LayerStyle(
        title="Forest land", title_zh="林地", color="#1b7837",
        popup_fields=["district", "area_m2"])}
    ind = res.indicators["share"]
    assert (ind.unit, ind.label, res.kind, res.name) == (
        "share", "Forest cover (share of land area)", "forest_cover", "forest")
    # w: 50 forest of 100 - 20 water = 80; e: 0 of 100
    assert (ind.districts["w"].value, ind.districts["e"].value) == pytest.approx((50 / 80, 0))
    f = res.layers["forest"]
    assert (list(f.columns), f["area_m2"].tolist(), list(f.index)) == (
        ["district", "area_m2", "geometry"], [50.0], [0])
    assert forest_run(layers, exclude=[]).method.endswith(
        "minus the land-use polygons of class none (forest overlapping them counts as "
        "excluded), split exactly at district edges.")


def test_forest_landuse_units_points_and_water_left_out():
    """Forest x 0..5 overlapping water x 4..10: forest 40 m² only; units per piece."""
    lu = gdf([shapely.box(0, 0, 5, 10), shapely.box(4, 0, 10, 10)],
             **{"class": ["forest", "water"]})
    layers = Layers(crs=CRS, vectors={"districts": TWO_D.iloc[:1], "landuse": lu})
    res = forest_run(layers, source="landuse")
    u = res.units
    assert sorted(zip(u["share__num"], u["share__den"], strict=True)) == [(40.0, 40.0)]
    assert set(u.geom_type) == {"Point"} and u["district"].tolist() == ["w"]
    assert u.geometry.iloc[0].within(shapely.box(0, 0, 4, 10))


def test_forest_landuse_rejects_raster_codes_whole_message():
    lu = gdf([shapely.box(0, 0, 5, 10)], **{"class": ["forest"]})
    layers = Layers(crs=CRS, vectors={"districts": TWO_D, "landuse": lu})
    with pytest.raises(AnalysisError) as e:
        forest_run(layers, classes=["forest", 10], exclude=[80])
    assert str(e.value) == (
        "analysis 'forest': params.classes/exclude hold raster codes [10, 80] but the source "
        "is the landuse layer; use land-use class names such as 'forest' and 'water'")


def test_forest_explicit_landuse_source_beats_the_raster():
    lu = gdf([shapely.box(0, 0, 5, 10)], **{"class": ["forest"]})
    layers = Layers(crs=CRS, vectors={"districts": TWO_D.iloc[:1], "landuse": lu},
                    rasters={"landcover": five_by_five()})
    res = forest_run(layers, source="landuse")
    assert (res.params["source"], res.indicators["share"].city.value) == ("landuse", 0.5)


def test_forest_no_land_warning():
    """All water: no land area, a warning and no value."""
    lu = gdf([shapely.box(0, 0, 20, 10)], **{"class": ["water"]})
    res = forest_run(Layers(crs=CRS, vectors={"districts": TWO_D, "landuse": lu}))
    assert res.warnings == ["no land area found in the study area: forest cover is undefined"]


def test_forest_needs_a_metric_crs():
    layers = Layers(crs=pyproj.CRS(4326), vectors={"districts": TWO_D})
    with pytest.raises(CRSError, match="analysis 'forest' needs a metric working CRS"):
        forest_run(layers)


# -- second round: survivors of the first runs ----------------------------------------------


def test_raster_units_values_are_floats_from_integer_rasters():
    r = RasterLayer(name="pop", role="population", data=np.array([[3, 0]], dtype=np.int32),
                    transform=Affine(10, 0, 0, 0, -10, 10), crs=CRS, nodata=None)
    u = common.raster_units(r, field="population", crs=CRS)
    assert (u["population"].tolist(), str(u["population"].dtype)) == ([3.0], "float64")


def test_value_units_cache_key_names_every_field():
    pts = gdf([shapely.Point(3, 4)], population=[2], workers=[1])
    ctx = ctx_of(population=pts)
    common.value_units(ctx, "population", fields=("population", "workers"), needed_by="a")
    assert list(ctx.cache) == ["units:population:population,workers"]


def test_value_and_resident_units_name_the_analysis_when_the_layer_is_missing():
    """Layers.vector's message names who needs the layer (docs/errors.md, LayerError)."""
    want = ("analysis 'circle' needs a vector layer with role 'population'; add "
            "layers/population.yml with 'role: population' and a 'source'")
    with pytest.raises(LayerError) as e:
        common.resident_units(ctx_of(), needed_by="circle")
    assert str(e.value) == want
    with pytest.raises(LayerError) as e:
        common.value_units(ctx_of(), "population", fields=("population",), needed_by="circle")
    assert str(e.value) == want


def _raster(data, transform, **kw):
    return RasterLayer(name="lc", role="landcover", data=np.asarray(data, dtype=np.uint8),
                       transform=transform, crs=CRS, nodata=kw.get("nodata", 0),
                       classes={"forest": [10]})


@pytest.mark.parametrize("t", [Affine(10, 0.5, 0, 0, -10, 100), Affine(10, 0, 0, 0.5, -10, 100)])
def test_rotated_raster_whole_message(t):
    poly = gpd.GeoSeries([shapely.box(0, 0, 10, 10)], crs=CRS)
    with pytest.raises(LayerError) as e:
        zonal.raster_cells(_raster([[10]], t), poly)
    assert str(e.value) == (
        f"raster layer 'lc' is rotated (transform {tuple(t)[:6]}); warp it to a north-up "
        "grid (gdalwarp) before use")


def test_raster_cells_of_a_south_up_raster():
    """Rows go up (e = +0.5): row 0 is y 0..0.5, row 1 y 0.5..1; the polygon y 0.5..1
    covers row 1 only (value 20), both columns (x 0..2)."""
    r = _raster([[10, 10], [20, 20]], Affine(1, 0, 0, 0, 0.5, 0))
    cells = zonal.raster_cells(r, gpd.GeoSeries([shapely.box(0, 0.5, 2, 1)], crs=CRS))
    assert cells["value"].tolist() == [20, 20]
    assert cells["coverage"].tolist() == pytest.approx([1.0, 1.0])
    assert cells[["x", "y"]].values.ravel().tolist() == pytest.approx([0.5, 0.75, 1.5, 0.75])


def test_raster_cells_columns_zones_and_partial_coverage():
    """10 m pixels over x 0..20, y 0..10; polygon 0: x 5..20 (half of pixel 0, all of 1);
    polygon 1 (given in 32647, moved to the raster CRS) covers pixel 1 only; nodata
    pixels (value 0) are left out."""
    r = _raster([[10, 40]], Affine(10, 0, X0, 0, -10, Y0 + 10))
    p1 = gpd.GeoSeries([shapely.box(X0 + 12, Y0 + 2, X0 + 18, Y0 + 8)], crs=CRS).to_crs(32647)
    polys = gpd.GeoSeries([shapely.box(X0 + 5, Y0, X0 + 20, Y0 + 10)], crs=CRS).to_crs(32647)
    polys = pd.concat([polys, p1], ignore_index=True)
    cells = zonal.raster_cells(r, polys)
    assert list(cells.columns) == ["zone", "value", "coverage", "x", "y", "cell"]
    assert cells[["zone", "value", "cell"]].values.tolist() == [[0, 10, 0], [0, 40, 1],
                                                               [1, 40, 1]]
    assert cells["coverage"].tolist() == pytest.approx([0.5, 1.0, 0.36], abs=1e-6)
    assert cells["x"].tolist() == pytest.approx([X0 + 5, X0 + 15, X0 + 15])
    empty = zonal.raster_cells(r, polys.iloc[:0])
    assert (list(empty.columns), len(empty)) == (
        ["zone", "value", "coverage", "x", "y", "cell"], 0)
    nod = zonal.raster_cells(_raster([[0, 0]], Affine(10, 0, X0, 0, -10, Y0 + 10)), polys)
    assert len(nod) == 0


# -- park_coverage: network distance ---------------------------------------------------------
# Streets: S1 y = 0, x 0..2000 (main); S2 y = 1000, x 0..400 (cut off, 400 m = 17% of the
# length: kept); S3 y = 40, x 1000..1004 (4 m, under 1%: skipped, an "island").
# Parks: A (100..200, 10..60) 5,000 m² -> 500 m, 12 edge points every 25 m, all <= 60 m
# from S1; the one nearest the east, (200, 10), snaps 10 m to (200, 0).
# B (1500..1550, 10..50) 2,000 m² -> 300 m, 8 points every 22.5 m; from the west the best
# is (1505, 10) (snap 10) or (1500, 27.5) (snap 27.5): walk = (1500 - x) + 15.
# C (1800..1810, 100..110) 100 m²: does not count. D (1000..1100, 300..360) 6,000 m²:
# its 13 edge points (320 m / 25) lie >= 300 m from S1: unsnapped, D serves nobody.
# Residents: P1 (650, 5) 100: 5 + 450 + 10 = 465 to A, covered; P2 (1300, -5) 40: 5 + 200
# + 15 = 220 to B, covered; P3 (100, 1010) 30 on S2: cut off; P4 (1002, 45) 20: nearest
# street is S3, snapped to S1 45 m away: 45 + 802 + 10 to A, 45 + 498 + 15 to B: not
# covered; P5 (800, 300) 10: 300 m from any street, unsnapped; P6 (680, -20) 7: 20 + 480
# + 10 = 510: not covered.
# Land L (600..700, -60..-10), spacing 50 (centres 25 + 50 k): samples (625, -25) and
# (675, -25), 2,500 m² each: 25 + 425 + 10 = 460 covered; 25 + 475 + 10 = 510 not.
# Gap: the second sample's
# cell x 650..700, y -50..0 clipped to L: y -50..-10, area counted 2,500; P6 lies in it.

NET_STREETS = gdf([shapely.LineString([(0, 0), (2000, 0)]),
                   shapely.LineString([(0, 1000), (400, 1000)]),
                   shapely.LineString([(1000, 40), (1004, 40)])])
NET_PARKS2 = gdf([shapely.box(100, 10, 200, 60), shapely.box(1500, 10, 1550, 50),
                  shapely.box(1800, 100, 1810, 110), shapely.box(1000, 300, 1100, 360)],
                 name=["A", "B", "C", "D"])
NET_POP2 = gdf([shapely.Point(650, 5), shapely.Point(1300, -5), shapely.Point(100, 1010),
                shapely.Point(1002, 45), shapely.Point(800, 300), shapely.Point(680, -20)],
               population=[100.0, 40.0, 30.0, 20.0, 10.0, 7.0])


NET_LAND2 = (shapely.box(600, -60, 700, -10),)


def net_run(parks=NET_PARKS2, pop=NET_POP2, land_boxes=NET_LAND2, **params):
    vectors = {"parks": parks, "streets": NET_STREETS}
    if land_boxes is not None:
        vectors["landuse"] = land(*land_boxes)
    if pop is not None:
        vectors["population"] = pop
    p = park_coverage.validate_params({"distance": "network", **params}, where=WHERE)
    return park_coverage.run(Context(Layers(crs=CRS, vectors=vectors)), name="park", params=p,
                             target=None)


_NET: dict[str, object] = {}


def net_result():
    if "r" not in _NET:
        _NET["r"] = net_run()
    return _NET["r"]


def test_network_shares_by_hand():
    res = net_result()
    assert res.indicators["area_share"].city.value == pytest.approx(0.5)
    assert res.indicators["pop_share"].city.value == pytest.approx(140 / 207)


def test_network_unit_walks_and_flags():
    u = net_result().units
    assert list(u.columns) == ["district", "covered", "walk_m", "geometry", "area_share__num",
                               "area_share__den", "unit", "pop_share__num", "pop_share__den",
                               "population"]
    assert set(u.geom_type) == {"Point"}
    land_u = u[u["unit"] == "residential_land"]
    assert land_u["walk_m"].tolist() == pytest.approx([460, math.inf])
    assert land_u["covered"].tolist() == [True, False]
    assert land_u[["area_share__num", "area_share__den"]].values.ravel().tolist() == [
        2500, 2500, 0, 2500]
    people = u[u["unit"] == "population"]
    assert people["walk_m"].tolist()[:2] == pytest.approx([465, 220])
    assert people["covered"].tolist() == [True, True, False, False, False, False]
    assert people["pop_share__num"].tolist() == [100, 40, 0, 0, 0, 0]


def test_network_warnings_whole_text():
    assert net_result().warnings == [
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


def test_network_access_points_per_park():
    parks = net_result().layers["parks"]
    assert parks["access_points"].tolist() == [12, 8, 0, 0]
    assert parks["name"].tolist() == ["A", "B", "C", "D"]


def test_network_service_areas_are_walked_street_lengths():
    """A: sources at x 100..200 (snap 10) reach 490 m along S1: x 0..690 -> 690 m.
    B: x 1505 - 290 = 1215 (1500 - 272.5 is less far) to 1550 + 290 = 1840 -> 625 m."""
    areas = net_result().layers["service_areas"]
    assert list(areas.columns) == ["tier", "min_area_m2", "radius_m", "length_m", "geometry"]
    assert areas[["tier", "min_area_m2", "radius_m"]].values.tolist() == [
        [1, 5000, 500], [2, 2000, 300]]
    assert areas["length_m"].tolist() == pytest.approx([690, 625])
    assert areas.geometry.iloc[0].bounds == pytest.approx((0, 0, 690, 0))
    assert areas.crs == CRS


def test_network_gaps_cells_and_their_residents():
    gaps = net_result().layers["gaps"]
    assert list(gaps.columns) == ["district", "area_m2", "geometry", "population"]
    assert gaps[["area_m2", "population"]].values.ravel().tolist() == pytest.approx([2500, 7])
    assert gaps.geometry.iloc[0].bounds == pytest.approx((650, -50, 700, -10))
    assert gaps["district"].tolist() == [None]


def test_network_method_text():
    res = net_result()
    assert res.method == HEAD + (
        "Distance (network) is walked on the street network, one pass per tier, to access "
        "points every 25 m along the outer edge of the parks of that tier or a larger one and "
        "to mapped entrances, from points snapped to the nearest street within 100 m; farther "
        "points count as not covered, and the service areas shown are the walked streets. "
        "Residential land is sampled with a 50 m grid of points, each weighing its share of "
        "its piece's area. Residents walk from population points and polygon or pixel "
        "centroids.")
    no_pop = net_run(pop=None)
    assert no_pop.method.endswith("its piece's area. No population layer: only area_share.")


def test_network_larger_parks_serve_the_radius_of_smaller_tiers():
    """Tiers 5,000 m² -> 100 m and 2,000 m² -> 600 m: A (tier 1) walks in the 600 m pass
    too ("parks of that tier or a larger one", method text). Covered: P1 465 via A,
    P2 220 and P4 558 via B, P6 510 via A -> 167 of 207; both land samples (460, 510)."""
    res = net_run(tiers=[{"min_area_m2": 5000, "radius_m": 100},
                         {"min_area_m2": 2000, "radius_m": 600}])
    assert res.indicators["pop_share"].city.value == pytest.approx(167 / 207)
    assert res.indicators["area_share"].city.value == pytest.approx(1.0)
    people = res.units[res.units["unit"] == "population"]
    assert people["walk_m"].tolist() == pytest.approx([465, 220, math.inf, 558, math.inf, 510])


def test_network_entrances_join_within_50_m_of_a_counting_park():
    """Park A alone; entrances E1 (150, 95) 35 m from A, E4 (250, 35) 50 m, E5 (250.5, 35)
    50.5 m, E2 (1300, 200) far away, E3 (1805, 130) 20 m from the small park C only.
    E1 and E4 join A (12 + 2 access points); three are not used."""
    parks = gdf([shapely.box(100, 10, 200, 60), shapely.box(1800, 100, 1810, 110),
                 shapely.Point(150, 95), shapely.Point(250, 35), shapely.Point(250.5, 35),
                 shapely.Point(1300, 200), shapely.Point(1805, 130)],
                name=["A", "C", "E1", "E4", "E5", "E2", "E3"])
    res = net_run(parks=parks, pop=None)
    assert res.layers["parks"]["access_points"].tolist() == [14, 0]
    assert res.warnings[:3] == [
        "1 parks under 2,000 m² do not count",
        "pop_share is not computed: no population layer; add layers/population.yml with "
        "'role: population'",
        "3 of 5 mapped park entrances lie farther than 50 m from every counting park and "
        "are not used"]
    # E4 snaps 35 m to (250, 0): the sample (625, -25) walks 25 + 375 + 35 = 435
    u = res.units
    assert u["walk_m"].tolist() == pytest.approx([435, 485])


def test_sample_regions_merge_cells_of_a_piece_and_clip():
    """Pieces P0 (0..50, 0..25), P1 (50..100, 0..25), P2 (0..100, 100..140), P3 tiny.

    Spacing 25. All samples of P0 and P1: two regions of two cells each (adjacent cells
    of different pieces stay apart). P2's sample (87.5, 137.5): its cell y 125..150
    clipped to y < 140: 25 x 15. P3 (200..201, 0..1) is sampled by an off-grid point:
    the region is the whole piece, one sample.
    """
    pieces = gdf([shapely.box(0, 0, 50, 25), shapely.box(50, 0, 100, 25),
                  shapely.box(0, 100, 100, 140), shapely.box(200, 0, 201, 1)])
    s = zonal.grid_samples(pieces, spacing_m=25)
    pick = s[(s["piece"] < 2) | (s["piece"] == 3)
             | ((s.geometry.x == 87.5) & (s.geometry.y == 137.5))]
    r = zonal.sample_regions(pieces, pick, spacing_m=25)
    got = sorted(zip(r["piece"].tolist(), r["n_samples"].tolist(),
                     [tuple(b) for b in shapely.bounds(r.geometry.values).tolist()],
                     shapely.area(r.geometry.values).tolist(), strict=True))
    assert got == [(0, 2, (0, 0, 50, 25), 1250.0), (1, 2, (50, 0, 100, 25), 1250.0),
                   (2, 1, (75, 125, 100, 140), 375.0), (3, 1, (200, 0, 201, 1), 1.0)]
    assert list(r.columns) == ["piece", "n_samples", "geometry"] and r.crs == CRS
    empty = zonal.sample_regions(pieces, s.iloc[:0], spacing_m=25)
    assert (list(empty.columns), len(empty), empty.crs) == (
        ["piece", "n_samples", "geometry"], 0, CRS)


def test_sample_regions_negative_coordinates():
    """Cells left of and below the origin: samples (-12.5, -37.5) and (-37.5, -37.5)."""
    pieces = gdf([shapely.box(-50, -50, 0, -25)])
    s = zonal.grid_samples(pieces, spacing_m=25)
    r = zonal.sample_regions(pieces, s, spacing_m=25)
    assert (r["n_samples"].tolist(), shapely.bounds(r.geometry.values).tolist()) == (
        [2], [[-50, -50, 0, -25]])


def _little_memory(monkeypatch):
    """1,000 bytes available: check_memory then refuses anything above 500 bytes."""
    import urbanform.checks

    monkeypatch.setattr(urbanform.checks, "available_memory", lambda: 1000)


def test_grid_samples_memory_message_whole(monkeypatch):
    """180 m x 80 m at 10 m: (18 + 2) x (8 + 2) = 200 points x 256 bytes = 50.0 KB."""
    _little_memory(monkeypatch)
    with pytest.raises(ResourceError) as e:
        zonal.grid_samples(gdf([shapely.box(1000, 5000, 1180, 5080)]), spacing_m=10)
    assert str(e.value) == (
        "about 200 sample points 10 m apart would need about 50.0 KB of memory; this machine "
        "has 1,000.0 B available; use a larger params.sample_spacing_m (default 50)")


def test_boundary_points_memory_message_whole(monkeypatch):
    """A 400 m ring at 3 m: 400 / 3 + 1 = 134.33 points x 256 bytes = 33.6 KB."""
    _little_memory(monkeypatch)
    with pytest.raises(ResourceError) as e:
        zonal.boundary_points(gpd.GeoSeries([shapely.box(0, 0, 100, 100)]), spacing_m=3)
    assert str(e.value) == (
        "about 134 edge points 3 m apart would need about 33.6 KB of memory; this machine "
        "has 1,000.0 B available; use a larger params.access_spacing_m (default 25)")


def test_half_square_metre_pieces_are_kept():
    """Only slivers under 1e-6 m² are dropped: a 0.5 m² piece, tile and region stay."""
    half = shapely.box(0, 0, 1, 0.5)
    assert zonal.split_by_cover(gdf([half]), None)["area_m2"].tolist() == [0.5]
    assert shapely.area(zonal.cover_tiles(half)).tolist() == [0.5]
    s = zonal.split_by_cover(gdf([shapely.box(0, 0, 2, 0.5)]), half)
    assert s["area_m2"].tolist() == [0.5, 0.5]
    pieces = gdf([half])
    r = zonal.sample_regions(pieces, zonal.grid_samples(pieces, spacing_m=10), spacing_m=10)
    assert shapely.area(r.geometry.values).tolist() == [0.5]


def test_log_lines_of_a_network_park_run(caplog):
    """The INFO log of a run (shown with --verbose): counts by hand from the scenario.

    Parks 4, counting 3 (A, B, D); origins 2 samples + 6 residents; 33 access points
    (12 + 8 + 13, unsnapped ones included); tier 1 (500 m from A): sample 460 and P1 465;
    tier 2 (300 m, A and B): P2 220.
    """
    caplog.set_level("INFO", logger="urbanform.analyses.park_coverage")
    net_run()
    msgs = [r.getMessage() for r in caplog.records if r.name == "urbanform.analyses.park_coverage"]
    assert msgs == ["4 parks, 3 large enough to count",
                    "walking from 8 origins to 33 park access points",
                    "tier 1: 2 origins in reach", "tier 2: 1 origins in reach"]


def test_log_lines_of_a_straight_line_park_run(caplog):
    caplog.set_level("INFO", logger="urbanform.analyses.park_coverage")
    park_run(gdf([BIG]), [shapely.box(550, 20, 650, 80)])
    msgs = [r.getMessage() for r in caplog.records if r.name == "urbanform.analyses.park_coverage"]
    assert msgs == ["1 parks, 1 large enough to count",
                    "residential land split into 2 pieces by service-area coverage"]


def test_log_lines_of_forest_raster_units(caplog):
    caplog.set_level("INFO", logger="urbanform.analyses")
    forest_run(Layers(crs=CRS, vectors={"districts": ALL}, rasters={"landcover": five_by_five()}))
    msgs = [r.getMessage() for r in caplog.records if r.name.startswith("urbanform.analyses")]
    assert msgs == ["1 polygons cover 25 pixels of raster 'landcover'",
                    "forest cover: 25 pixels in 4 unit blocks"]


def test_forest_codes_after_a_raw_code_are_still_looked_up():
    """classes [40, "forest"]: 40 then the codes of forest (10, 11); 24 of 24 land px."""
    layers = Layers(crs=CRS, vectors={"districts": ALL}, rasters={"landcover": five_by_five()})
    res = forest_run(layers, classes=[40, "forest"])
    assert "pixels of 40, forest (codes 40, 10, 11)" in res.method
    assert res.indicators["share"].city.value == pytest.approx(1.0)


def test_forest_landuse_source_without_landuse_names_the_analysis():
    layers = Layers(crs=CRS, vectors={"districts": TWO_D})
    with pytest.raises(LayerError) as e:
        forest_run(layers)
    assert str(e.value) == ("analysis 'forest' needs a vector layer with role 'landuse'; add "
                            "layers/landuse.yml with 'role: landuse' and a 'source'")


def test_forest_landuse_units_outside_forest_carry_zero():
    """Forest x 0..5 of district w (x 0..10): units 50/50 and 0/50, numbers not blanks."""
    lu = gdf([shapely.box(0, 0, 5, 10)], **{"class": ["forest"]})
    res = forest_run(Layers(crs=CRS, vectors={"districts": TWO_D.iloc[:1], "landuse": lu}))
    u = res.units
    assert u[["share__num", "share__den"]].values.ravel().tolist() == [50.0, 50.0, 0.0, 50.0]
    assert str(u["share__num"].dtype) == "float64"
    assert u.crs == CRS


def test_network_entrances_without_counting_parks_are_not_reported():
    """No park counts: entrances are not joined and not reported as far away."""
    parks = gdf([shapely.box(1800, 100, 1810, 110), shapely.Point(1805, 130)], name=["C", "g"])
    res = net_run(parks=parks, pop=None)
    assert res.warnings == [
        "no park reaches 2,000 m²: nothing is covered",
        "pop_share is not computed: no population layer; add layers/population.yml with "
        "'role: population'"]
    assert res.layers["parks"]["access_points"].tolist() == [0]


# -- park_coverage: third round -------------------------------------------------------------

THREE_TIERS = [{"min_area_m2": 1000, "radius_m": 100}, {"min_area_m2": 8000, "radius_m": 800},
               {"min_area_m2": 3000, "radius_m": 300}]


def test_park_three_tiers_text_and_warnings():
    """Tiers sorted 8,000 / 3,000 / 1,000; a 900 m² park is under the last one."""
    res = park_run(gdf([BIG, shapely.box(3000, 0, 3030, 30)]), [shapely.box(200, 0, 300, 100)],
                   tiers=THREE_TIERS)
    assert res.method.startswith(
        "Park service areas after GB/T 50563: parks of at least 8,000 m² serve 800 m; parks "
        "of at least 3,000 m² serve 300 m; parks of at least 1,000 m² serve 100 m; parks "
        "under 1,000 m² do not count (a park's area")
    assert res.warnings[0] == "1 parks under 1,000 m² do not count"
    assert res.layers["parks"][["tier", "radius_m"]].values.tolist()[0] == [1, 800.0]
    only_small = park_run(gdf([shapely.box(3000, 0, 3030, 30)]),
                          [shapely.box(200, 0, 300, 100)], tiers=THREE_TIERS)
    assert only_small.warnings[0] == "no park reaches 1,000 m²: nothing is covered"


def test_park_three_tiers_classify_each_band():
    parks = gdf([shapely.box(0, 0, 100, 80), shapely.box(0, 0, 100, 79.99),
                 shapely.box(0, 0, 100, 30), shapely.box(0, 0, 100, 10),
                 shapely.box(0, 0, 99, 10)])
    out = park_coverage.classify_parks(parks, tiers=park_coverage.validate_params(
        {"tiers": THREE_TIERS}, where=WHERE).tiers)
    assert out["tier"].tolist() == [1, 2, 2, 3, 0]
    assert out["radius_m"].tolist()[:4] == [800.0, 300.0, 300.0, 100.0]


def test_park_missing_layers_name_the_analysis():
    with pytest.raises(LayerError) as e:
        park_coverage.run(ctx_of(landuse=land(BIG)), name="park",
                          params=park_coverage.validate_params({}, where=WHERE), target=None)
    assert str(e.value) == ("analysis 'park' needs a vector layer with role 'parks'; add "
                            "layers/parks.yml with 'role: parks' and a 'source'")
    with pytest.raises(LayerError) as e:
        park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)], distance="network")
    assert str(e.value) == ("analysis 'park' needs a vector layer with role 'streets'; add "
                            "layers/streets.yml with 'role: streets' and a 'source'")
    ctx = ctx_of(parks=gdf([BIG]), landuse=land(BIG))
    ctx.layers.crs = pyproj.CRS(4326)
    with pytest.raises(CRSError) as e:
        park_coverage.run(ctx, name="park",
                          params=park_coverage.validate_params({}, where=WHERE), target=None)
    assert str(e.value).startswith("analysis 'park' needs a metric working CRS, got WGS 84")


def test_park_districts_without_land_are_listed_empty():
    """District 'Far' holds no land and nobody: reported with no value."""
    d = gdf([shapely.box(-1000, -1000, 1000, 1000), shapely.box(5000, 5000, 6000, 6000)],
            name=["Near", "Far"])
    pop = gdf([shapely.Point(150, 50)], population=[10.0])
    res = park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)], population=pop, districts=d)
    for key in ("area_share", "pop_share"):
        ind = res.indicators[key]
        assert (sorted(ind.districts), ind.districts["Far"].value, ind.districts["Near"].value) \
            == (["Far", "Near"], None, 1.0)


def test_park_unit_columns_and_zero_population_on_land_units():
    pop = gdf([shapely.Point(150, 50)], population=[10.0])
    res = park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)], population=pop)
    u = res.units
    assert list(u.columns) == ["district", "covered", "area_m2", "area_share__num",
                               "area_share__den", "geometry", "unit", "pop_share__num",
                               "pop_share__den", "population"]
    assert u["population"].tolist() == [0.0, 10.0]
    assert u["area_share__den"].tolist() == [10000.0, 0.0]
    res = park_run(gdf([BIG]), [shapely.box(200, 0, 300, 100)])
    assert list(res.units.columns) == ["district", "covered", "area_m2", "area_share__num",
                                       "area_share__den", "geometry", "unit"]


def test_park_points_and_polygons_of_population_together():
    """Points: (150, 50) 10 covered, (2000, 50) 20 not; polygon x 550..650 600 (half
    covered). Land: the polygon's square and a square around the far point.
    pop_share = (10 + 300) / 630; gaps: the east half (300) and the far square (20)."""
    pop = gdf([shapely.Point(150, 50), shapely.Point(2000, 50), shapely.box(550, 20, 650, 80)],
              population=[10.0, 20.0, 600.0])
    res = park_run(gdf([BIG]), [shapely.box(550, 20, 650, 80), shapely.box(1990, 40, 2010, 60)],
                   population=pop)
    assert res.indicators["pop_share"].city.value == pytest.approx(310 / 630)
    gaps = res.layers["gaps"]
    assert sorted(gaps["population"].round(9)) == [20.0, 300.0]
    people = res.units[res.units["unit"] == "population"]
    assert people["pop_share__den"].tolist() == pytest.approx([10, 20, 300, 300])
    assert (res.units["unit"] == "residential_land").sum() == 3


# Second network scenario (streets, parks A and B as above): districts W (x < 1000) and
# E; land L (600..700, -60..-10: samples walk 460 and 510), L2 (1900..1920, -30..-10):
# one representative sample at (1910, -20): 20 + 360 + 10 = 390 > 300 from B: a gap of
# 400 m² in E; L3 (800..820, 280..300): 280 m from any street: unsnapped, a gap of 400 m²
# in W. Residents: a polygon (640..660, 0..10) of 50 walks from its representative point
# (650, 5): 465, covered; P2 (1300, -5) 40: 220, covered.
def net2_run():
    d = gdf([shapely.box(-500, -500, 1000, 1500), shapely.box(1000, -500, 2500, 1500)],
            name=["W", "E"])
    vectors = {
        "parks": NET_PARKS2.iloc[:2], "streets": NET_STREETS, "districts": d,
        "landuse": land(shapely.box(600, -60, 700, -10), shapely.box(1900, -30, 1920, -10),
                        shapely.box(800, 280, 820, 300)),
        "population": gdf([shapely.box(640, 0, 660, 10), shapely.Point(1300, -5)],
                          population=[50.0, 40.0]),
    }
    p = park_coverage.validate_params({"distance": "network"}, where=WHERE)
    return park_coverage.run(Context(Layers(crs=CRS, vectors=vectors)), name="park", params=p,
                             target=None)


def test_network_second_scenario_by_hand():
    res = net2_run()
    ind = res.indicators["area_share"]
    assert (ind.city.value, ind.districts["W"].value, ind.districts["E"].value) == \
        pytest.approx((2500 / 5800, 2500 / 5400, 0.0))
    assert res.indicators["pop_share"].city.value == pytest.approx(1.0)
    people = res.units[res.units["unit"] == "population"]
    assert sorted(people["walk_m"].tolist()) == pytest.approx([220, 465])
    assert res.warnings == [
        "1 land samples (400 m²) lie farther than the snapping limit from any street and "
        "count as not covered"]
    gaps = res.layers["gaps"]
    assert gaps[["district", "area_m2", "population"]].values.tolist() == [
        ["W", 2500.0, 0.0], ["E", 400.0, 0.0], ["W", 400.0, 0.0]]
    land_u = res.units[res.units["unit"] == "residential_land"]
    assert land_u["district"].tolist() == ["W", "W", "E", "W"]


def test_network_entrance_between_two_parks_joins_one():
    """An entrance at (220, 35), 20 m from A (100..200) and from A2 (240..340), joins one
    park only: 12 + 12 edge points + 1 entrance, no warning about entrances."""
    parks = gdf([shapely.box(100, 10, 200, 60), shapely.box(240, 10, 340, 60),
                 shapely.Point(220, 35)], name=["A", "A2", "gate"])
    res = net_run(parks=parks, pop=None)
    assert sorted(res.layers["parks"]["access_points"].tolist()) == [12, 13]
    assert not any("entrances" in w for w in res.warnings)


def test_sample_regions_count_samples_as_integers():
    pieces = gdf([shapely.box(0, 0, 50, 25)])
    r = zonal.sample_regions(pieces, zonal.grid_samples(pieces, spacing_m=25), spacing_m=25)
    assert (r["n_samples"].tolist(), str(r["n_samples"].dtype)) == ([2], "int64")


def test_parameter_descriptions_match_the_readme_table():
    """The kinds table of README.md (generated from the parameter classes, registry.py)
    lists these texts (copied from README.md, line 'forest_cover' and 'park_coverage')."""
    assert park_coverage.ParkCoverageParams.describe() == (
        "`distance: euclidean` (or `network`), `tiers: [{min_area_m2: 5000, radius_m: 500}, "
        "{min_area_m2: 2000, radius_m: 300}]` (park area from which each radius applies), "
        "`access_spacing_m: 25` (access points along the park edge), `max_snap_m: 100` "
        "(farther from a street counts as not covered), `sample_spacing_m: 50` (grid "
        "sampling residential land on the network), `min_piece_share: 0.01` (street pieces "
        "under this share of the network's length are not snapped to)")
    assert forest_cover.ForestCoverParams.describe() == (
        "`classes: [forest]` (class names or raw raster codes), `exclude: [water]` (left out "
        "of the land area), `source: auto` (the land-cover raster if there is one, else "
        "`landuse` polygons)")
    assert (park_coverage.ParkCoverageParams.kind, forest_cover.ForestCoverParams.kind) == (
        "park_coverage", "forest_cover")


def test_points_against_a_triangle_use_the_shape_not_its_box():
    """Triangle (0,0) (10,0) (0,10): (8, 8) lies in its bounding box but outside it;
    (2, 2) inside. Points count by the shape, not by the box."""
    tri = shapely.Polygon([(0, 0), (10, 0), (0, 10)])
    pts = gpd.GeoSeries(shapely.points([[8, 8], [2, 2]]))
    assert zonal.points_in_cover(pts, tri).tolist() == [False, True]
    v = gdf([shapely.Point(8, 8), shapely.Point(2, 2)], p=[5.0, 1.0])
    out = zonal.sum_into_polygons(v, "p", gpd.GeoSeries([tri, shapely.box(7, 7, 9, 9)]))
    assert out.tolist() == [1.0, 5.0]


def test_split_by_cover_subtracts_every_tile_of_a_piece():
    """Tiles of 10 m over cover x 0..40, y 0..20. Piece 0 (2..18, 2..8) meets 2 tiles,
    piece 1 (22..38, 2..18) meets 4: both lie wholly inside, so every part is covered
    (96 + 256 m²) and nothing is left outside, whatever the number of tiles per piece."""
    pieces = gdf([shapely.box(2, 2, 18, 8), shapely.box(22, 2, 38, 18)])
    s = zonal.split_by_cover(pieces, shapely.box(0, 0, 40, 20), tile_m=10)
    assert s["piece"].tolist() == [0, 0, 1, 1, 1, 1]
    assert s["covered"].all()
    assert s["area_m2"].sum() == pytest.approx(352.0)


def test_split_by_cover_prorates_small_pieces():
    """A 0.5 m² piece keeps its whole count (share 1), not 0."""
    s = zonal.split_by_cover(gdf([shapely.box(0, 0, 1, 0.5)], population=[4.0]), None,
                             prorate=("population",))
    assert s["population"].tolist() == [4.0]


# -- forest_cover: last round ---------------------------------------------------------------


def test_forest_parameter_errors_name_the_file():
    with pytest.raises(AnalysisError) as e:
        forest_cover.validate_params({"x": 1}, where=FWHERE)
    assert str(e.value) == (f"{FWHERE}: unknown parameter 'x' in 'params'; valid parameters: "
                            "classes, exclude, source")
    with pytest.raises(AnalysisError) as e:
        forest_cover.validate_params({"source": "lidar"}, where=FWHERE)
    assert str(e.value) == (f"{FWHERE}: params.source must be one of auto, landcover, landuse, "
                            "got 'lidar'")


def test_forest_explicit_landcover_source_and_missing_raster():
    layers = Layers(crs=CRS, vectors={"districts": ALL}, rasters={"landcover": five_by_five()})
    assert forest_run(layers, source="landcover").params["source"] == "landcover"
    with pytest.raises(LayerError) as e:
        forest_run(Layers(crs=CRS, vectors={"districts": ALL}), source="landcover")
    assert str(e.value) == ("analysis 'forest' needs a raster layer with role 'landcover'; add "
                            "layers/landcover.yml with 'role: landcover' and a GeoTIFF 'source'")
    with pytest.raises(LayerError) as e:
        forest_run(Layers(crs=CRS, rasters={"landcover": five_by_five()}))
    assert str(e.value).startswith("analysis 'forest' needs a 'boundary' or a 'districts'")


def test_forest_unmapped_class_in_classes_whole_message():
    layers = Layers(crs=CRS, vectors={"districts": ALL}, rasters={"landcover": five_by_five()})
    with pytest.raises(AnalysisError) as e:
        forest_run(layers, classes=["grass"])
    assert str(e.value) == (
        "analysis 'forest': params.classes names class 'grass' but raster layer 'landcover' "
        "maps no code to it; add 'classes: {grass: [CODE]}' to its layers/*.yml or list raw "
        "codes")


def test_forest_method_lists_several_excluded_classes():
    layers = Layers(crs=CRS, vectors={"districts": ALL}, rasters={"landcover": five_by_five()})
    res = forest_run(layers, exclude=["water", 40])
    assert "(classes water, 40 left out of the land area; codes 80, 40; nodata" in res.method


def test_forest_target_districts_and_small_land():
    """Target applies; district e lies outside the boundary: listed with no value; a
    0.5 m² land area is land (no warning)."""
    from urbanform.results import Target

    lu = gdf([shapely.box(0, 0, 5, 10)], **{"class": ["forest"]})
    ctx = Context(Layers(crs=CRS, vectors={"districts": TWO_D, "landuse": lu,
                                           "boundary": gdf([shapely.box(0, 0, 10, 10)])}))
    res = forest_cover.run(ctx, name="forest", params=forest_cover.validate_params(
        {}, where=FWHERE), target=Target("share", ">=", 0.41))
    ind = res.indicators["share"]
    assert (ind.target, ind.city.value, ind.city.met) == (Target("share", ">=", 0.41), 0.5, True)
    assert (sorted(ind.districts), ind.districts["e"].value) == (["e", "w"], None)
    tiny = Layers(crs=CRS, vectors={"districts": gdf([shapely.box(0, 0, 1, 0.5)], name=["t"]),
                                    "landuse": lu})
    assert forest_run(tiny).warnings == []


def test_forest_raster_blocks_of_two_districts():
    """West x 0..75, East 75..150 cut column 2 in half. West: col 0 (4 forest, water at
    the top), col 1 (5), half col 2 (2.5): 11.5 / 11.5. East: half col 2 (2.5), cols 3-4
    (10, one cropland): 11.5 / 12.5."""
    d = gdf([shapely.box(X0, Y0, X0 + 75, Y0 + 150), shapely.box(X0 + 75, Y0, X0 + 150, Y0 + 150)],
            name=["West", "East"])
    res = forest_run(Layers(crs=CRS, vectors={"districts": d},
                            rasters={"landcover": five_by_five()}))
    ind = res.indicators["share"]
    assert (ind.districts["West"].value, ind.districts["East"].value) == pytest.approx(
        (1.0, 11.5 / 12.5))
    u = res.units
    assert u["district"].tolist() == ["West"] * 2 + ["East"] * 4  # blocks of 3 columns
    assert str(u["share__num"].dtype) == str(u["share__den"].dtype) == "float64"
