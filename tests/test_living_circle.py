"""Living circles on a hand-built 5 x 5 street grid of 100 m blocks (EPSG:32648).

The grid has streets along x = 0, 100, ..., 500 and y = 0, 100, ..., 500 (local metres,
shifted by X0, Y0 into UTM 48N), built from 100 m segments. Every expected walking
distance below is worked out by hand as snap + along-edge + network + along-edge + snap.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from urbanform.analyses import living_circle as lc
from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError
from urbanform.layers.types import Layers
from urbanform.results import Target

CRS = pyproj.CRS(32648)
X0, Y0 = 400_000.0, 3_390_000.0


def _grid_segments() -> list[shapely.LineString]:
    segs = []
    for i in range(6):
        for j in range(5):
            segs.append(shapely.LineString([(X0 + 100 * i, Y0 + 100 * j),
                                            (X0 + 100 * i, Y0 + 100 * (j + 1))]))
            segs.append(shapely.LineString([(X0 + 100 * j, Y0 + 100 * i),
                                            (X0 + 100 * (j + 1), Y0 + 100 * i)]))
    return segs


def _streets(extra: list[shapely.LineString] = ()) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[*_grid_segments(), *extra], crs=CRS)


def _pts(xy: list[tuple[float, float]]) -> list[shapely.Point]:
    return [shapely.Point(X0 + x, Y0 + y) for x, y in xy]


def _population(rows: list[tuple[float, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"population": [r[2] for r in rows]},
                            geometry=_pts([(r[0], r[1]) for r in rows]), crs=CRS)


def _facilities(rows: list[tuple[float, float, str]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"category": [r[2] for r in rows]},
                            geometry=_pts([(r[0], r[1]) for r in rows]), crs=CRS)


def _run(pop, fac, params, *, streets=None, districts=None, target=None):
    vectors = {"streets": _streets() if streets is None else streets,
               "population": pop, "facilities": fac}
    if districts is not None:
        vectors["districts"] = districts
    ctx = Context(Layers(crs=CRS, vectors=vectors))
    p = lc.validate_params(params, where="analyses/t.yml")
    return lc.run(ctx, name="t", params=p, target=target)


# Residents: A (150, 10) snaps to (150, 0), 10 m; B (490, 450) to (500, 450), 10 m;
# C (250, 260) to (250, 300), 40 m.
RESIDENTS = [(150, 10, 100.0), (490, 450, 200.0), (250, 260, 50.0)]
# K1 (120, 5) snaps to (120, 0), 5 m, on A's edge; K2 (305, 380) to (300, 380), 5 m;
# P (410, 508) to (410, 500), 8 m.
FACILITIES = [(120, 5, "kindergarten"), (305, 380, "kindergarten"), (410, 508, "playground")]
PARAMS = {"level": 5, "distance_m": 300, "categories": ["kindergarten", "playground"]}


@pytest.fixture(scope="module")
def grid_result():
    return _run(_population(RESIDENTS), _facilities(FACILITIES), PARAMS)


def test_walking_distances_match_hand_computation(grid_result):
    u = grid_result.units
    # A-K1 same edge: 10 + 30 + 5 = 45; B-K2: 10 + 50 + 200 + 20 + 5 = 285;
    # C-K2: 40 + 50 + 80 + 5 = 175
    np.testing.assert_allclose(u["dist_kindergarten"], [45.0, 285.0, 175.0])
    # B-P: 10 + 50 + 90 + 8 = 158; A-P and C-P (40 + 50 + 200 + 110 + 8 = 408) exceed 300
    np.testing.assert_allclose(u["dist_playground"], [np.nan, 158.0, np.nan])


def test_share_per_category(grid_result):
    ind = grid_result.indicators
    assert ind["pop_share_kindergarten"].city.value == pytest.approx(1.0)
    assert ind["pop_share_playground"].city.value == pytest.approx(200 / 350)


def test_share_all_needs_every_category(grid_result):
    # only B (200 residents) reaches both categories
    assert grid_result.indicators["pop_share_all"].city.value == pytest.approx(200 / 350)


def test_deficits_layer_lists_missing_categories(grid_result):
    d = grid_result.layers["deficits"]
    assert d["population"].tolist() == [100.0, 50.0]  # A and C miss the playground
    assert d["missing"].tolist() == ["playground", "playground"]
    assert d["n_missing"].tolist() == [1, 1]
    np.testing.assert_allclose(d["dist_kindergarten"], [45.0, 175.0])
    assert d["dist_playground"].isna().all()


def test_deficits_layer_empty_when_all_covered():
    # A alone: K1 45 m away and a playground at (180, 6) -> 10 + 30 + 6 = 46 m
    res = _run(_population(RESIDENTS[:1]),
               _facilities([(120, 5, "kindergarten"), (180, 6, "playground")]), PARAMS)
    d = res.layers["deficits"]
    assert (len(d), "missing" in d.columns) == (0, True)


def test_deficits_layer_display_hints(grid_result):
    style = grid_result.style("deficits")
    assert (style.value_field, style.ramp) == ("n_missing", "bad")


def test_facilities_layer_has_snap_distance(grid_result):
    f = grid_result.layers["facilities"]
    assert f["category"].tolist() == ["kindergarten", "kindergarten", "playground"]
    np.testing.assert_allclose(f["snap_m"], [5.0, 5.0, 8.0])


def test_units_carry_num_and_den(grid_result):
    u = grid_result.units
    assert u["pop_share_all__num"].tolist() == [0.0, 200.0, 0.0]
    assert u["pop_share_all__den"].tolist() == [100.0, 200.0, 50.0]


def test_no_warning_on_a_clean_grid(grid_result):
    assert grid_result.warnings == []


def test_district_values():
    # west district x < 300 holds A (100, no playground) and C (50, no playground);
    # east district holds B (200, both)
    d = gpd.GeoDataFrame({"name": ["west", "east"]}, crs=CRS, geometry=[
        shapely.box(X0 - 50, Y0 - 50, X0 + 300, Y0 + 550),
        shapely.box(X0 + 300, Y0 - 50, X0 + 550, Y0 + 550)])
    res = _run(_population(RESIDENTS), _facilities(FACILITIES), PARAMS, districts=d)
    ind = res.indicators["pop_share_all"]
    assert (ind.districts["west"].value, ind.districts["east"].value) == (0.0, 1.0)


def test_target_applies_to_its_indicator_only():
    tgt = Target("pop_share_kindergarten", ">=", 0.9)
    res = _run(_population(RESIDENTS), _facilities(FACILITIES), PARAMS, target=tgt)
    assert res.indicators["pop_share_kindergarten"].city.met is True
    assert res.indicators["pop_share_all"].target is None


@pytest.mark.parametrize(("distance_m", "covered"), [(300.0, True), (299.5, False)])
def test_cutoff_boundary(distance_m, covered):
    # U (150, 10) -> (150, 0): 10 m; F (210, 230) -> (200, 230): 10 m;
    # walk 10 + 50 + 100 + 100 + 30 + 10 = 300 m exactly
    res = _run(_population([(150, 10, 10.0)]), _facilities([(210, 230, "kindergarten")]),
               {"level": 5, "distance_m": distance_m, "categories": ["kindergarten"]})
    assert res.indicators["pop_share_all"].city.value == (1.0 if covered else 0.0)


def test_minutes_and_speed_give_distance():
    p = lc.validate_params({"level": 10, "minutes": 5, "speed_m_s": 1.2}, where="c.yml")
    assert p["distance_m"] == pytest.approx(360.0)  # 5 * 60 * 1.2


def test_minutes_use_default_speed():
    p = lc.validate_params({"minutes": 15}, where="c.yml")
    assert p["distance_m"] == pytest.approx(15 * 60 * lc.DEFAULT_SPEED_M_S)


def test_minutes_drive_the_cutoff():
    # the 300 m walk of test_cutoff_boundary: 5 min at 1.0 m/s reaches it, at 0.99 m/s not
    res = _run(_population([(150, 10, 10.0)]), _facilities([(210, 230, "kindergarten")]),
               {"level": 5, "minutes": 5, "speed_m_s": 0.99, "categories": ["kindergarten"]})
    assert res.indicators["pop_share_all"].city.value == 0.0


def test_indicator_keys_follow_categories():
    p = lc.validate_params({"categories": ["library"]}, where="c.yml")
    assert lc.indicator_keys(p) == ["pop_share_all", "pop_share_library"]


def test_defaults_by_level():
    p = lc.validate_params({"level": 10}, where="c.yml")
    assert (p["distance_m"], p["categories"]) == (
        500.0, ["primary_school", "fresh_market", "sports_ground"])


def test_default_level_is_15_minutes():
    p = lc.validate_params(None, where="c.yml")
    assert (p["level"], p["distance_m"], len(p["categories"])) == (15, 1000.0, 6)


def test_facility_beyond_max_snap_is_unusable():
    # the playground at (250, -150) is 150 m from the nearest street (y = 0)
    res = _run(_population(RESIDENTS),
               _facilities([(120, 5, "kindergarten"), (250, -150, "playground")]), PARAMS)
    assert res.indicators["pop_share_playground"].city.value == 0.0
    assert any("1 playground facilities lie farther than 100 m" in w for w in res.warnings)


def test_category_without_facility_warns_and_scores_zero():
    res = _run(_population(RESIDENTS), _facilities([(120, 5, "kindergarten")]), PARAMS)
    assert res.indicators["pop_share_playground"].city.value == 0.0
    assert "no playground facility in the facilities layer: pop_share_playground is 0" in (
        res.warnings)


def test_unit_beyond_max_snap_is_not_covered():
    # D (150, -130, 40 residents) is 130 m from the street y = 0: not covered
    pop = _population([*RESIDENTS, (150, -130, 40.0)])
    res = _run(pop, _facilities(FACILITIES), PARAMS)
    assert res.indicators["pop_share_kindergarten"].city.value == pytest.approx(350 / 390)


def test_unit_beyond_max_snap_is_reported():
    pop = _population([*RESIDENTS, (150, -130, 40.0)])
    res = _run(pop, _facilities(FACILITIES), PARAMS)
    assert ("1 population unit (40 residents) lie farther than 100 m from any street "
            "and count as not covered") in res.warnings


def test_max_snap_param_attaches_far_unit():
    # with max_snap_m 150, D snaps to (150, 0): 130 + 30 + 5 = 165 m to K1
    pop = _population([*RESIDENTS, (150, -130, 40.0)])
    res = _run(pop, _facilities(FACILITIES), {**PARAMS, "max_snap_m": 150})
    assert res.units["dist_kindergarten"].iloc[3] == pytest.approx(165.0)


@pytest.fixture(scope="module")
def island_result():
    # a street piece 1 km east of the grid, not connected, with 30 residents on it
    island = [shapely.LineString([(X0 + 1500, Y0), (X0 + 1600, Y0)])]
    pop = _population([*RESIDENTS, (1550, 5, 30.0)])
    return _run(pop, _facilities(FACILITIES), PARAMS, streets=_streets(island))


def test_disconnected_piece_is_not_covered(island_result):
    assert island_result.indicators["pop_share_kindergarten"].city.value == pytest.approx(
        350 / 380)


def test_disconnected_piece_without_facility_is_reported(island_result):
    assert ("1 population unit (30 residents) lie on street pieces without any facility "
            "and count as not covered") in island_result.warnings


def test_disconnected_piece_in_component_report(island_result):
    assert "1 street pieces cut off from the main network hold 1 population unit " \
        "(30 residents)" in island_result.warnings
    pieces = island_result.extra["disconnected_components"]
    assert [(p["n_nodes"], p["population"]) for p in pieces] == [(2, 30.0)]


def test_polygon_facilities_use_a_point_inside():
    # a 10 m square kindergarten lot: its inside point (120, 15) snaps 15 m to (120, 0),
    # so A walks 10 + 30 + 15
    fac = gpd.GeoDataFrame({"category": ["kindergarten"]}, crs=CRS,
                           geometry=[shapely.box(X0 + 115, Y0 + 10, X0 + 125, Y0 + 20)])
    res = _run(_population(RESIDENTS[:1]), fac, {**PARAMS, "categories": ["kindergarten"]})
    assert res.units["dist_kindergarten"].iloc[0] == pytest.approx(55.0)


def test_snapping_in_chunks_gives_the_same_snaps(monkeypatch):
    monkeypatch.setattr(lc, "SNAP_CHUNK", 2)  # three residents: chunks of 2 and 1
    res = _run(_population(RESIDENTS), _facilities(FACILITIES), PARAMS)
    np.testing.assert_array_equal(res.units["snap_m"], [10.0, 10.0, 40.0])


def test_method_names_standard_and_distance(grid_result):
    assert "GB 50180-2018" in grid_result.method and "300 m" in grid_result.method


def test_missing_labels_vectorised():
    m = np.array([[True, True], [False, True], [True, True]])
    assert lc.missing_labels(m, ["a", "b"]).tolist() == ["a,b", "b", "a,b"]


def test_unknown_param():
    with pytest.raises(AnalysisError, match=r"c\.yml: unknown parameter 'radius_m'"):
        lc.validate_params({"radius_m": 500}, where="c.yml")


def test_bad_level():
    with pytest.raises(AnalysisError, match=r"params\.level must be one of 5, 10, 15, got 7"):
        lc.validate_params({"level": 7}, where="c.yml")


def test_distance_and_minutes_exclude_each_other():
    with pytest.raises(AnalysisError, match=r"distance_m and params\.minutes exclude"):
        lc.validate_params({"distance_m": 500, "minutes": 10}, where="c.yml")


def test_speed_without_minutes():
    with pytest.raises(AnalysisError, match=r"speed_m_s applies only with params\.minutes"):
        lc.validate_params({"distance_m": 500, "speed_m_s": 1.2}, where="c.yml")


def test_negative_distance():
    with pytest.raises(AnalysisError, match=r"params\.distance_m must be a positive number"):
        lc.validate_params({"distance_m": -5}, where="c.yml")


def test_empty_categories():
    with pytest.raises(AnalysisError, match=r"params\.categories must be a non-empty list"):
        lc.validate_params({"categories": []}, where="c.yml")


def test_bad_category_name():
    with pytest.raises(AnalysisError, match=r"params\.categories holds 'fresh market'"):
        lc.validate_params({"categories": ["fresh market"]}, where="c.yml")


def test_target_on_unknown_indicator():
    with pytest.raises(AnalysisError, match=r"target indicator 'pop_share' is not computed"):
        _run(_population(RESIDENTS), _facilities(FACILITIES), PARAMS,
             target=Target("pop_share", ">=", 0.9))


def test_facilities_without_category_field():
    fac = _facilities(FACILITIES).rename(columns={"category": "kind"})
    with pytest.raises(ValueError, match=r"facilities layer has no 'category' field"):
        _run(_population(RESIDENTS), fac, PARAMS)


def test_no_residents():
    with pytest.raises(AnalysisError, match=r"population layer holds no residents"):
        _run(_population([(150, 10, 0.0)]), _facilities(FACILITIES), PARAMS)


def test_shares_are_fractions(grid_result):
    vals = [i.city.value for i in grid_result.indicators.values()]
    assert all(0.0 <= v <= 1.0 and not math.isnan(v) for v in vals)


def test_units_outside_districts_count_for_the_city_only():
    # only a west district (x < 300): B (200, covered) lies outside it
    d = gpd.GeoDataFrame({"name": ["west"]}, crs=CRS,
                         geometry=[shapely.box(X0 - 50, Y0 - 50, X0 + 300, Y0 + 550)])
    ind = _run(_population(RESIDENTS), _facilities(FACILITIES), PARAMS,
               districts=d).indicators["pop_share_all"]
    assert (ind.city.value, list(ind.districts)) == (pytest.approx(200 / 350), ["west"])


_coord = st.floats(min_value=-20, max_value=520, allow_nan=False)
_people = st.lists(st.tuples(_coord, _coord, st.integers(1, 500).map(float)),
                   min_size=1, max_size=12)
_places = st.lists(st.tuples(_coord, _coord, st.sampled_from(["kindergarten", "playground"])),
                   min_size=1, max_size=6)


@settings(max_examples=15, deadline=None)
@given(people=_people, places=_places)
def test_shares_stay_fractions_and_ignore_input_order(people, places):
    a = _run(_population(people), _facilities(places), PARAMS)
    b = _run(_population(people[::-1]), _facilities(places[::-1]), PARAMS)
    va = {k: i.city.value for k, i in a.indicators.items()}
    vb = {k: i.city.value for k, i in b.indicators.items()}
    assert all(0.0 <= v <= 1.0 for v in va.values())
    assert va == pytest.approx(vb)
