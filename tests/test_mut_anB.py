"""Mutation-testing gaps of living_circle, tod, tod_catchments and stations (issue 14 item 6).

Each test pins one behaviour that mutmut showed unpinned. Inputs are tiny hand-built layers
in EPSG:32648, coordinates relative to X0, Y0; every expected number is worked out by hand
in the comment above its assertion. Expected strings are the user-visible texts (warnings,
layer titles, legend labels, method paragraphs) as the report and QGIS show them.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from urbanform.analyses import living_circle as lc
from urbanform.analyses import stations as sta
from urbanform.analyses import tod
from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError, LayerError
from urbanform.layers.types import Layers

CRS = pyproj.CRS(32648)
X0, Y0 = 400_000.0, 3_390_000.0


def _xy(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


# ---------------------------------------------------------------------------------------
# stations.py
# ---------------------------------------------------------------------------------------


def _features(rows: list[tuple]) -> gpd.GeoDataFrame:
    """Rows of (name, line, kind, x, y)."""
    return gpd.GeoDataFrame(
        {"name": [r[0] for r in rows], "line": [r[1] for r in rows], "kind": [r[2] for r in rows]},
        geometry=shapely.points([_xy(r[3], r[4]) for r in rows]),
        crs=CRS,
    )


def test_named_entrances_without_any_station_feature_are_stations_of_their_own() -> None:
    # no feature of kind "station": nothing to join, the named entrance is a station by its
    # own name and nothing is left out
    table, ent = sta.station_entrances(_features([("Metro A", "M1", "entrance", 0, 0)]))
    assert table[["name", "line", "entrances"]].values.tolist() == [["Metro A", "M1", 1]]
    assert table.attrs["unnamed_left_out"] == 0
    assert ent["station"].tolist() == [0]


def test_unnamed_entrance_without_any_station_feature_is_left_out() -> None:
    # no named station to join: the unnamed entrance is left out and counted
    table, _ = sta.station_entrances(
        _features([("Metro A", "M1", "entrance", 0, 0), (None, "", "entrance", 50, 0)])
    )
    assert table["name"].tolist() == ["Metro A"]
    assert table.attrs["unnamed_left_out"] == 1


def test_feature_of_another_kind_is_not_joined_to_a_station() -> None:
    # only entrances, stop positions and unnamed station features join a station; a named
    # "platform" 50 m from Central and an unnamed one 60 m away stay stations of their own
    # (the unnamed one numbered after its row: fourth feature -> "station 4"), next to an
    # entrance of Central that joins it by name
    table, _ = sta.station_entrances(
        _features([("Central", "M1", "station", 0, 0), ("Central", "", "entrance", -50, 0),
                   ("P", "M2", "platform", 50, 0), (None, "", "platform", 60, 0)])
    )
    assert table[["name", "line", "entrances"]].values.tolist() == [
        ["Central", "M1", 1], ["P", "M2", 1], ["station 4", "", 1]]
    assert table.attrs["unnamed_left_out"] == 0


def test_same_named_entrances_near_two_stations_each_join_the_nearer() -> None:
    # two entrances both named "Metro X": one 100 m from A (0, 0), one 100 m from B
    # (2000, 0); each joins its own nearest station, not the station of its namesake
    table, _ = sta.station_entrances(
        _features([("A", "M1", "station", 0, 0), ("B", "M2", "station", 2000, 0),
                   ("Metro X", "", "entrance", 100, 0), ("Metro X", "", "entrance", 1900, 0)])
    )
    assert table[["name", "entrances"]].values.tolist() == [["A", 1], ["B", 1]]
    assert (table.geometry.x - X0).tolist() == [100.0, 1900.0]


def test_unnamed_other_kind_feature_without_a_station_is_kept() -> None:
    # nothing loose to join (no entrance, stop or unnamed station): an unnamed feature of
    # another kind is kept as "station 2", not left out
    table, _ = sta.station_entrances(
        _features([("Central", "M1", "station", 0, 0), (None, "", "platform", 60, 0)])
    )
    assert table["name"].tolist() == ["Central", "station 2"]
    assert table.attrs["unnamed_left_out"] == 0


def test_station_table_and_entrances_keep_the_layer_crs() -> None:
    table, ent = sta.station_entrances(_features([("Central", "M1", "station", 0, 0)]))
    assert (table.crs, ent.crs) == (CRS, CRS)
    assert (table.geometry.name, ent.geometry.name) == ("geometry", "geometry")


def test_lines_are_split_on_semicolons_stripped_deduplicated_and_sorted() -> None:
    # "M2;M1", " M1 " and "" give {M1, M2}; None is skipped
    s = gpd.GeoDataFrame({"name": ["A", "A", "A", "A"], "line": ["M2;M1", " M1 ", "", None]},
                         geometry=shapely.points([_xy(0, 0)] * 4), crs=CRS)
    table, _ = sta.station_entrances(s)
    assert table[["name", "line", "entrances"]].values.tolist() == [["A", "M1; M2", 4]]


def test_layer_without_name_or_line_numbers_each_feature() -> None:
    # no name field: each feature is a station "station <row + 1>"; no line field: ""
    s = gpd.GeoDataFrame(geometry=shapely.points([_xy(0, 0), _xy(500, 0)]), crs=CRS)
    table, ent = sta.station_entrances(s)
    assert table[["name", "line", "entrances"]].values.tolist() == [
        ["station 1", "", 1], ["station 2", "", 1]]
    assert ent["station"].tolist() == [0, 1]


def test_blank_name_counts_as_no_name_and_names_are_stripped() -> None:
    # "  " is blank: "station 2"; " B " is B
    s = gpd.GeoDataFrame({"name": [" B ", "  "]},
                         geometry=shapely.points([_xy(0, 0), _xy(500, 0)]), crs=CRS)
    table, _ = sta.station_entrances(s)
    assert table["name"].tolist() == ["B", "station 2"]


def test_polygon_station_stands_for_a_point_inside_and_empty_features_are_dropped() -> None:
    # a 20 x 20 m polygon at (0..20, 0..20): its representative point lies inside it; an
    # empty point and a missing geometry are dropped (the station keeps 1 entrance)
    s = gpd.GeoDataFrame({"name": ["A", "A", "A"]},
                         geometry=[shapely.box(*_xy(0, 0), *_xy(20, 20)), shapely.Point(), None],
                         crs=CRS)
    with warnings.catch_warnings():  # geopandas notes that notna() ignores empties
        warnings.simplefilter("ignore", UserWarning)
        table, ent = sta.station_entrances(s)
    assert table["entrances"].tolist() == [1]
    p = ent.geometry.iloc[0]
    assert p.geom_type == "Point" and shapely.box(*_xy(0, 0), *_xy(20, 20)).contains(p)


def test_multipoint_station_gives_one_entrance_per_point() -> None:
    # a MultiPoint of (0, 0) and (100, 0): two entrances, centroid (50, 0)
    s = gpd.GeoDataFrame({"name": ["A"]},
                         geometry=[shapely.MultiPoint([_xy(0, 0), _xy(100, 0)])], crs=CRS)
    table, ent = sta.station_entrances(s)
    assert table["entrances"].tolist() == [2]
    assert (table.geometry.x.iloc[0] - X0, len(ent)) == (50.0, 2)


def test_entrance_line_gives_way_to_the_station_line() -> None:
    # lines come from the station feature where it exists: the entrance's "E9" is dropped;
    # the entrance replaces the station point (100, 0)
    table, ent = sta.station_entrances(
        _features([("Central", "M1", "station", 0, 0), ("Central", "E9", "entrance", 100, 0)])
    )
    assert table[["name", "line", "entrances"]].values.tolist() == [["Central", "M1", 1]]
    assert (ent.geometry.x - X0).tolist() == [100.0]


def test_entrance_only_station_takes_its_line_from_the_entrances() -> None:
    # no station feature named "Halt": its two entrances give both its lines and its points
    table, _ = sta.station_entrances(
        _features([("Central", "M1", "station", 0, 0), ("Halt", "R1", "entrance", 2000, 0),
                   ("Halt", "R2", "entrance", 2100, 0)])
    )
    assert table[["name", "line", "entrances"]].values.tolist() == [
        ["Central", "M1", 1], ["Halt", "R1; R2", 2]]


def test_entrance_joined_from_300_m_exactly_but_not_from_301_m() -> None:
    # ENTRANCE_JOIN_M = 300: an unnamed entrance at 300 m joins Central, one at 301 m is out
    table, _ = sta.station_entrances(
        _features([("Central", "M1", "station", 0, 0), (None, "", "entrance", 300, 0),
                   (None, "", "entrance", 0, -301)])
    )
    assert table[["name", "entrances"]].values.tolist() == [["Central", 1]]
    assert table.attrs["unnamed_left_out"] == 1


def test_unnamed_warning_text_and_silence() -> None:
    # the warning the tod analysis shows (2 features left out); none without any
    table, _ = sta.station_entrances(
        _features([("Central", "M1", "station", 0, 0), (None, "", "entrance", 900, 0),
                   (None, "", "stop", 0, 900)])
    )
    assert sta.unnamed_warning(table) == [
        "2 unnamed station entrances, stop positions or station features lie farther than "
        "300 m from every named station and are left out"
    ]
    clean, _ = sta.station_entrances(_features([("Central", "M1", "station", 0, 0)]))
    assert clean.attrs["unnamed_left_out"] == 0
    assert sta.unnamed_warning(clean) == []
    assert sta.unnamed_warning(gpd.GeoDataFrame()) == []  # no count recorded


# ---------------------------------------------------------------------------------------
# living_circle.py: a 2 x 2 grid of 100 m blocks, streets at x, y = 0, 100, 200
# ---------------------------------------------------------------------------------------


def _grid() -> list[shapely.LineString]:
    segs = []
    for i in range(3):
        for j in range(2):
            segs.append(shapely.LineString([_xy(100 * i, 100 * j), _xy(100 * i, 100 * (j + 1))]))
            segs.append(shapely.LineString([_xy(100 * j, 100 * i), _xy(100 * (j + 1), 100 * i)]))
    return segs


def _lc_streets(extra: tuple[shapely.LineString, ...] = ()) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[*_grid(), *extra], crs=CRS)


def _lc_pop(rows: list[tuple[float, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"population": [r[2] for r in rows]},
                            geometry=shapely.points([_xy(r[0], r[1]) for r in rows]), crs=CRS)


def _lc_fac(rows: list[tuple[float, float, str]], **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"category": [r[2] for r in rows], **cols},
                            geometry=shapely.points([_xy(r[0], r[1]) for r in rows]), crs=CRS)


def _lc_run(pop, fac, params, *, streets=None):
    vectors = {"streets": _lc_streets() if streets is None else streets,
               "population": pop, "facilities": fac}
    ctx = Context(Layers(crs=CRS, vectors=vectors))
    p = lc.validate_params(params, where="analyses/c.yml")
    return lc.run(ctx, name="c", params=p, target=None)


KG = {"level": 5, "distance_m": 300, "categories": ["kindergarten"]}


def test_two_units_off_the_streets_are_counted_in_plural() -> None:
    # (50, -150) is 150 m and (150, -130) 130 m from the street y = 0, beyond 100 m:
    # 2 units, 30 + 40 = 70 residents
    pop = _lc_pop([(50, 10, 100.0), (50, -150, 30.0), (150, -130, 40.0)])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]), KG)
    assert res.warnings == [
        "2 population units (70 residents) lie farther than 100 m from any street and count "
        "as not covered"
    ]
    # only the 100 residents of (50, 10) are covered: 100 / 170
    assert res.indicators["pop_share_kindergarten"].city.value == pytest.approx(100 / 170)


def test_facility_warnings_for_some_and_all_facilities_off_the_streets() -> None:
    # max_snap_m 120.5: kindergarten (50, -150) is 150 m off, (60, 5) 5 m; the only
    # playground (150, -130) is 130 m off
    fac = _lc_fac([(60, 5, "kindergarten"), (50, -150, "kindergarten"),
                   (150, -130, "playground")])
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), fac,
                  {"level": 5, "distance_m": 300, "max_snap_m": 120.5,
                   "categories": ["kindergarten", "playground"]})
    assert res.warnings == [
        "1 of 2 kindergarten facilities lie farther than 120.5 m from any street and are not "
        "used",
        "all 1 playground facilities lie farther than 120.5 m from any street and are not "
        "used: pop_share_playground is 0",
    ]


def _islands(n: int) -> tuple[shapely.LineString, ...]:
    # n separate 100 m streets along y = 0, 200 m apart, east of the grid (x >= 1000)
    return tuple(shapely.LineString([_xy(1000 + 200 * i, 0), _xy(1100 + 200 * i, 0)])
                 for i in range(n))


def test_units_on_two_cut_off_pieces_are_reported_heaviest_piece_first() -> None:
    # piece 1 (x 1000..1100) holds 5 + 7 residents, piece 2 (x 1200..1300) 3, piece 3
    # (x 1400..1500) nobody; the grid holds the kindergarten: 3 units, 15 residents cut
    # off on 2 pieces of 2 nodes each (the empty piece is not listed)
    pop = _lc_pop([(50, 10, 100.0), (1020, 5, 5.0), (1080, 5, 7.0), (1250, 5, 3.0)])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]), KG,
                  streets=_lc_streets(_islands(3)))
    assert res.warnings == [
        "3 population units (15 residents) lie on street pieces without any facility and "
        "count as not covered",
        "2 street pieces cut off from the main network hold 3 population units "
        "(15 residents)",
    ]
    pieces = res.extra["disconnected_components"]
    assert [(p["n_nodes"], p["n_origins"], p["population"]) for p in pieces] == [
        (2, 2, 12.0), (2, 1, 3.0)]
    assert all(isinstance(p["component"], int) for p in pieces)


def test_at_most_twenty_cut_off_pieces_are_listed() -> None:
    # 21 pieces of one resident each (weights 21, 20, ..., 1): all counted in the warning,
    # the 20 heaviest listed in `extra`
    pop = _lc_pop([(50, 10, 100.0), *[(1050 + 200 * i, 5, 21.0 - i) for i in range(21)]])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]), KG,
                  streets=_lc_streets(_islands(21)))
    # 21 + 20 + ... + 1 = 231 residents
    assert ("21 street pieces cut off from the main network hold 21 population units "
            "(231 residents)") in res.warnings
    pieces = res.extra["disconnected_components"]
    assert [p["population"] for p in pieces] == [21.0 - i for i in range(20)]


def test_deficits_layer_style() -> None:
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), _lc_fac([(60, 5, "kindergarten")]),
                  {"level": 5, "distance_m": 300, "categories": ["kindergarten", "fresh_market"]})
    s = res.style("deficits")
    assert (s.title, s.title_zh, s.value_field, s.ramp) == (
        "Residents missing a living-circle facility within walking distance",
        "生活圈设施步行可达不足的居住人口", "n_missing", "bad")
    assert list(s.popup_fields) == ["district", "population", "missing", "n_missing",
                                    "dist_kindergarten", "dist_fresh_market"]
    assert s.labels == {
        "en": {"population": "Residents", "missing": "Missing facilities",
               "n_missing": "Categories missing", "dist_kindergarten": "Walk to kindergarten (m)",
               "dist_fresh_market": "Walk to fresh market (m)"},
        "zh": {"population": "人口", "missing": "缺少的设施", "n_missing": "缺少类别数",
               "dist_kindergarten": "至kindergarten步行距离(米)",
               "dist_fresh_market": "至fresh_market步行距离(米)"},
    }
    # the resident reaches the kindergarten (10 + 10 + 5 = 25 m) but no fresh market
    d = res.layers["deficits"]
    assert list(d.columns) == ["district", "population", "missing", "n_missing",
                               "dist_kindergarten", "dist_fresh_market", "geometry"]
    assert d[["missing", "n_missing"]].values.tolist() == [["fresh_market", 1]]
    assert d["dist_kindergarten"].tolist() == [pytest.approx(25.0)]


def test_units_without_residents_are_not_deficits() -> None:
    # (150, 10) misses the kindergarten (10 + 90 + 200 + ... > 300? no: it is 10 + 50 + ...)
    # so use a category nobody reaches: both units miss it, only the populated one is listed
    pop = _lc_pop([(50, 10, 100.0), (150, 10, 0.0)])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]),
                  {"level": 5, "distance_m": 300, "categories": ["kindergarten", "playground"]})
    assert res.layers["deficits"]["population"].tolist() == [100.0]


def test_facilities_layer_style_and_name_column() -> None:
    fac = _lc_fac([(60, 5, "kindergarten"), (50, -150, "kindergarten")], name=["K1", "K2"])
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), fac, KG)
    s = res.style("facilities")
    assert (s.title, s.title_zh, s.color, s.label_field, s.value_field) == (
        "Living-circle facilities on the walk network", "生活圈设施", "#1f78b4", "category",
        None)
    assert list(s.popup_fields) == ["name", "category", "snap_m"]
    assert s.labels == {"en": {"category": "Category", "snap_m": "Distance to street (m)"},
                        "zh": {"category": "类别", "snap_m": "至道路距离(米)"}}
    # only K1 (5 m from y = 0) is on the network; K2 is 150 m away
    f = res.layers["facilities"]
    assert f[["name", "category", "snap_m"]].values.tolist() == [["K1", "kindergarten", 5.0]]


def test_facilities_of_other_categories_and_without_geometry_are_ignored() -> None:
    # a school (not required) and a kindergarten without geometry; a MultiPoint of two
    # kindergartens gives two facilities
    fac = gpd.GeoDataFrame(
        {"category": ["school", "kindergarten", "kindergarten"]},
        geometry=[shapely.Point(_xy(60, 5)), None,
                  shapely.MultiPoint([_xy(60, 5), _xy(160, 5)])], crs=CRS)
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), fac, KG)
    f = res.layers["facilities"]
    assert (f.geometry.x - X0).tolist() == [60.0, 160.0]
    assert f["category"].tolist() == ["kindergarten", "kindergarten"]


def test_method_with_minutes_names_speed_and_snap() -> None:
    # 5 minutes at 1.2 m/s = 360 m; max_snap_m 80
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), _lc_fac([(60, 5, "kindergarten")]),
                  {"level": 5, "minutes": 5, "speed_m_s": 1.2, "max_snap_m": 80,
                   "categories": ["kindergarten", "playground"]})
    assert res.method == (
        "Following GB 50180-2018's 5-minute living circle, each population unit is checked "
        "for a facility of every required category (kindergarten, playground) within 360 m "
        "(5 minutes at 1.2 m/s) of walking along the street network. The walk counts the "
        "straight line from the home to the nearest street, the way along the streets, and "
        "the straight line from the street to the facility. Homes and facilities farther "
        "than 80 m from any street are not attached: such homes count as not covered and "
        "such facilities are not used. pop_share_all is the share of residents who reach "
        "every category; pop_share_<category> the share who reach that category."
    )


def test_method_without_minutes_gives_the_distance_only() -> None:
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), _lc_fac([(60, 5, "kindergarten")]),
                  {"level": 10, "distance_m": 1250, "categories": ["kindergarten"]})
    assert "within 1,250 m of walking" in res.method
    assert "10-minute living circle" in res.method


def test_indicator_labels() -> None:
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), _lc_fac([(60, 5, "kindergarten")]),
                  {"level": 5, "distance_m": 300, "categories": ["kindergarten", "bike_shop"]})
    ind = res.indicators
    assert ind["pop_share_all"].label == "Residents within reach of every required facility"
    assert ind["pop_share_kindergarten"].label == "Residents within reach of kindergarten"
    # a category of no level gets the same phrase from its name
    assert ind["pop_share_bike_shop"].label == "Residents within reach of bike shop"
    assert ind["pop_share_bike_shop"].unit == "share"


def test_validate_rejects_bool_and_string_levels_and_accepts_a_float_level() -> None:
    for bad in (True, "5"):
        with pytest.raises(AnalysisError) as e:
            lc.validate_params({"level": bad}, where="c.yml")
        assert str(e.value) == f"c.yml: params.level must be one of 5, 10, 15, got {bad!r}"
    p = lc.validate_params({"level": 10.0}, where="c.yml")
    assert (p.level, type(p.level)) == (10, int)


def test_validate_error_messages_in_full() -> None:
    cases = {
        "c.yml: params.distance_m and params.minutes exclude each other; give only one":
            {"distance_m": 500, "minutes": 10},
        "c.yml: params.speed_m_s applies only with params.minutes; remove it or give minutes "
        "instead of distance_m": {"speed_m_s": 1.2},
        "c.yml: params.categories must be a non-empty list of facility categories, got 'a'":
            {"categories": "a"},
        "c.yml: params.categories holds 5; use names of letters, digits and underscores "
        "(for example fresh_market)": {"categories": ["a", 5]},
        "c.yml: params.categories lists 'b' twice": {"categories": ["a", "b", "c", "b"]},
    }
    for message, params in cases.items():
        with pytest.raises(AnalysisError) as e:
            lc.validate_params(params, where="c.yml")
        assert str(e.value) == message


def test_validate_checks_every_number() -> None:
    for key in ("max_snap_m", "speed_m_s", "minutes", "min_piece_share"):
        params = {key: -1}
        if key == "speed_m_s":
            params["minutes"] = 5
        with pytest.raises(AnalysisError, match=key):
            lc.validate_params(params, where="c.yml")


def test_validated_params_keep_given_values() -> None:
    p = lc.validate_params({"level": 5, "minutes": 2, "speed_m_s": 1.5, "max_snap_m": 40,
                            "min_piece_share": 0.2, "categories": ["playground"]}, where="c.yml")
    # 2 * 60 * 1.5 = 180 m
    assert (p.distance_m, p.minutes, p.speed_m_s, p.max_snap_m, p.min_piece_share) == (
        180.0, 2.0, 1.5, 40.0, 0.2)
    assert (p.cutoff_m, p.category_list) == (180.0, ["playground"])
    # a level's distance when neither distance nor minutes is given
    assert lc.validate_params({"level": 5}, where="c.yml").cutoff_m == 300.0


def test_params_used_before_validation_are_an_error() -> None:
    p = lc.LivingCircleParams()
    for attr in ("cutoff_m", "category_list"):
        with pytest.raises(AnalysisError) as e:
            getattr(p, attr)
        assert str(e.value) == "living_circle parameters used before validate_params"


def test_missing_labels_of_more_than_62_categories() -> None:
    # 63 categories c0..c62: the row-pattern path; rows miss {c0, c62}, nothing, {c0, c62}
    names = [f"c{i}" for i in range(63)]
    m = np.zeros((3, 63), dtype=bool)
    m[[0, 2], 0] = m[[0, 2], 62] = True
    assert lc.missing_labels(m, names).tolist() == ["c0,c62", "", "c0,c62"]
    assert lc.missing_labels(np.zeros((0, 2), dtype=bool), ["a", "b"]).tolist() == []


def test_missing_labels_with_62_categories_uses_the_last_bit() -> None:
    # 62 categories: the integer-code path; the last category is bit 61
    names = [f"c{i}" for i in range(62)]
    m = np.zeros((2, 62), dtype=bool)
    m[0, 61] = m[1, 0] = m[1, 61] = True
    assert lc.missing_labels(m, names).tolist() == ["c61", "c0,c61"]


def test_target_error_lists_the_computed_indicators() -> None:
    from urbanform.results import Target

    pop, fac = _lc_pop([(50, 10, 100.0)]), _lc_fac([(60, 5, "kindergarten")])
    ctx = Context(Layers(crs=CRS, vectors={"streets": _lc_streets(), "population": pop,
                                           "facilities": fac}))
    p = lc.validate_params(KG, where="analyses/c.yml")
    with pytest.raises(AnalysisError) as e:
        lc.run(ctx, name="c", params=p, target=Target("pop_share", ">=", 0.5))
    assert str(e.value) == ("analysis 'c': target indicator 'pop_share' is not computed; use "
                            "one of pop_share_all, pop_share_kindergarten")


def test_facilities_without_category_message() -> None:
    fac = _lc_fac([(60, 5, "kindergarten")]).rename(columns={"category": "type"})
    with pytest.raises(LayerError) as e:
        _lc_run(_lc_pop([(50, 10, 100.0)]), fac, KG)
    assert str(e.value) == (
        "analysis 'c': the facilities layer has no 'category' field; map it in "
        "layers/*.yml with 'fields: {category: YOUR_COLUMN}'")


def test_missing_population_counts_as_zero_residents() -> None:
    # a unit without a population value counts 0: the share is 100 / 100, not NaN
    pop = _lc_pop([(50, 10, 100.0), (150, 10, float("nan"))])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]),
                  {"level": 5, "distance_m": 30, "categories": ["kindergarten"]})
    # (50, 10): 10 + 10 + 5 = 25 m <= 30; (150, 10): 10 + 90 + 5 = 105 m > 30
    assert res.indicators["pop_share_all"].city.value == 1.0
    assert res.units["population"].tolist() == [100.0, 0.0]


def test_units_table_columns() -> None:
    # (50, 10): snap 10 m, kindergarten 25 m; (150, 10): 105 m > 30, not covered
    pop = _lc_pop([(50, 10, 100.0), (150, 10, 20.0)])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]),
                  {"level": 5, "distance_m": 30, "categories": ["kindergarten"]})
    u = res.units
    assert u["snap_m"].tolist() == [10.0, 10.0]
    assert u["dist_kindergarten"].iloc[0] == pytest.approx(25.0)
    assert math.isnan(u["dist_kindergarten"].iloc[1])
    assert u["n_missing"].tolist() == [0, 1]
    assert u["pop_share_kindergarten__num"].tolist() == [100.0, 0.0]
    assert u["pop_share_kindergarten__den"].tolist() == [100.0, 20.0]


def test_polygon_unit_uses_a_point_inside() -> None:
    # a 10 m square home lot (45..55, 5..15): its inside point (50, 10) walks 25 m
    pop = gpd.GeoDataFrame({"population": [10.0]}, crs=CRS,
                           geometry=[shapely.box(*_xy(45, 5), *_xy(55, 15))])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]), KG)
    assert res.units["dist_kindergarten"].iloc[0] == pytest.approx(25.0)


# ---------------------------------------------------------------------------------------
# tod.py: the river streets of tests/test_tod.py
#
#     north bank (0,300) ---- (150,300) ---------------------- (1000,300)
#                                 |  bridge
#     south bank (0,0) ------ (150,0) ------------------------ (1000,0)
# ---------------------------------------------------------------------------------------

RIVER = [[(0, 0), (150, 0)], [(150, 0), (1000, 0)], [(0, 300), (150, 300)],
         [(150, 300), (1000, 300)], [(150, 0), (150, 300)]]


def _tod_points(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=shapely.points([_xy(*p) for p in xy]), crs=CRS)


def _tod_ctx(*, stations, population, jobs=None, landuse=None) -> Context:
    streets = gpd.GeoDataFrame(
        geometry=[shapely.LineString([_xy(*p) for p in seg]) for seg in RIVER], crs=CRS)
    vectors = {"stations": stations, "population": population, "streets": streets}
    if jobs is not None:
        vectors["jobs"] = jobs
    if landuse is not None:
        vectors["landuse"] = landuse
    return Context(Layers(crs=CRS, vectors=vectors))


def _tod_run(ctx: Context, **params):
    p = tod.validate_params(params, where="analyses/tod.yml")
    return tod.run(ctx, name="tod", params=p, target=None)


def _station_a() -> gpd.GeoDataFrame:
    return _tod_points([{"name": "A", "line": "Line 1"}], [(0, 0)])


def _residents() -> gpd.GeoDataFrame:
    # (450, 0) walks 450 m; (0, 300) walks 150 + 300 + 150 = 600 m (300 m straight)
    return _tod_points([{"population": 100.0, "dwellings": 40.0},
                        {"population": 10.0, "dwellings": 4.0}], [(450, 0), (0, 300)])


@pytest.fixture
def river_result():
    # function scope on purpose: mutmut credits a test only with the code its own call runs
    return _tod_run(_tod_ctx(stations=_station_a(), population=_residents()))


def test_tod_station_layer_columns_and_counts(river_result) -> None:
    layer = river_result.layers["stations"]
    figures = ["residents", "dwellings", "jobs", "area_ha", "activity_per_ha", "landuse_mix",
               "walkable_share"]
    assert list(layer.columns) == ["name", "line", "entrances",
                                   *[f"{c}_500" for c in figures],
                                   *[f"{c}_800" for c in figures], "geometry"]
    row = layer.iloc[0]
    # 500 m: the 450 m walker (100 residents, 40 dwellings); 800 m: both (110, 44)
    assert (row["residents_500"], row["dwellings_500"]) == (100.0, 40.0)
    assert (row["residents_800"], row["dwellings_800"]) == (110.0, 44.0)
    # no jobs layer, no land use: NaN
    assert math.isnan(row["jobs_800"]) and math.isnan(row["landuse_mix_800"])


def test_tod_station_layer_style(river_result) -> None:
    s = river_result.style("stations")
    assert (s.title, s.title_zh, s.value_field, s.ramp, s.label_field) == (
        "Rail stations: residents and jobs within walking distance",
        "轨道站点周边居住人口与就业岗位", "residents_800", "seq", "name")
    assert list(s.popup_fields) == [
        "name", "line", "residents_800", "dwellings_800", "jobs_800", "area_ha_800",
        "activity_per_ha_800", "landuse_mix_800", "walkable_share_800"]


def test_tod_catchment_layer_rows_columns_and_style(river_result) -> None:
    layer = river_result.layers["catchments"]
    # one row per station and ring, the largest ring first
    assert layer["radius_m"].tolist() == [800.0, 500.0]
    assert layer[["station", "line"]].values.tolist() == [["A", "Line 1"], ["A", "Line 1"]]
    assert layer["residents"].tolist() == [110.0, 100.0]
    cols = ["station", "line", "radius_m", "residents", "dwellings", "jobs", "area_ha",
            "activity_per_ha", "landuse_mix", "walkable_share"]
    assert list(layer.columns) == [*cols, "geometry"]
    assert layer.crs == CRS
    s = river_result.style("catchments")
    assert (s.title, s.title_zh, s.value_field, s.ramp, s.label_field) == (
        "Station walking catchments", "轨道站点步行服务范围", "activity_per_ha", "seq",
        "station")
    assert list(s.popup_fields) == cols
    assert s.labels == {
        "en": {"residents": "Residents", "dwellings": "Dwellings", "jobs": "Jobs",
               "area_ha": "Catchment area (ha)", "activity_per_ha": "Residents + jobs per ha",
               "landuse_mix": "Land-use mix (0-1)",
               "walkable_share": "Walkable share of the circle", "radius_m": "Radius (m)"},
        "zh": {"residents": "居住人口", "dwellings": "住宅套数", "jobs": "就业岗位",
               "area_ha": "服务范围面积（公顷）", "activity_per_ha": "每公顷人口与岗位",
               "landuse_mix": "用地混合度", "walkable_share": "可步行比例",
               "radius_m": "半径（米）"},
    }


def test_tod_params_in_the_result_are_json_numbers(river_result) -> None:
    p = river_result.params
    assert (p["radius_m"], p["max_snap_m"], p["indicator_radius_m"], p["distance"]) == (
        [500, 800], 100, 800, "network")
    assert all(type(v) is int for v in p["radius_m"])
    res = _tod_run(_tod_ctx(stations=_station_a(), population=_residents()),
                   radius_m=450.5, max_snap_m=99.5, distance="euclidean")
    assert (res.params["radius_m"], res.params["max_snap_m"],
            res.params["indicator_radius_m"]) == ([450.5], 99.5, 450.5)


def test_tod_warns_without_jobs_layer_and_counts_stations(river_result) -> None:
    assert river_result.warnings == [
        "no jobs layer: jobs and jobs_share are not computed and activity density counts "
        "residents only"
    ]
    assert river_result.extra == {"stations": 1, "entrances": 1}


def test_tod_method_for_network_distance(river_result) -> None:
    assert river_result.method == (
        "Transit-oriented development catchments of 500, 800 m around 1 rail stations "
        "(features sharing a name are one station's entrances), by walking distance on the "
        "street network (snap of at most 100 m + along the street + network + along the "
        "street + snap) from each resident or job unit to the nearest entrance of the "
        "station; a catchment polygon is the street length walked within the radius, "
        "widened by 50 m on each side and clipped to the straight-line circle, and its "
        "walkable share is its area over the straight-line circle's (pi r^2, or the union "
        "of circles around all entrances). Per station and ring: residents, dwellings and "
        "jobs within reach; activity density = (residents + jobs) per hectare of catchment; "
        "pop_share and jobs_share count the residents and jobs within 800 m of any station, "
        "once where catchments overlap."
    )


def test_tod_method_for_euclidean_distance_with_land_use() -> None:
    lu = gpd.GeoDataFrame({"class": ["residential", "commercial"]}, crs=CRS,
                          geometry=[shapely.box(*_xy(0, 0), *_xy(100, 100)),
                                    shapely.box(*_xy(100, 0), *_xy(200, 100))])
    res = _tod_run(_tod_ctx(stations=_station_a(), population=_residents(), landuse=lu),
                   radius_m=[600], distance="euclidean")
    assert res.method == (
        "Transit-oriented development catchments of 600 m around 1 rail stations (features "
        "sharing a name are one station's entrances), by straight-line distance from each "
        "resident or job unit to the nearest entrance; the catchment is the straight-line "
        "circle (the union of circles around all entrances), so no walkable share is given. "
        "Per station and ring: residents, dwellings and jobs within reach; activity density "
        "= (residents + jobs) per hectare of catchment; land-use mix is the Shannon entropy "
        "of land-use class areas in the catchment divided by ln k, k being the number of "
        "land-use classes present in the city; pop_share and jobs_share count the residents "
        "and jobs within 600 m of any station, once where catchments overlap."
    )
    # both land-use squares lie wholly inside the 600 m circle: two equal areas, mix 1
    assert res.layers["stations"]["landuse_mix_600"].tolist() == [1.0]
    # euclidean: no walkable share, no snapping warnings
    assert math.isnan(res.layers["stations"]["walkable_share_600"].iloc[0])


def test_tod_euclidean_distance_to_the_nearest_entrance_and_beyond_the_radius() -> None:
    # entrances of A at (0, 0) and (100, 0); units (450, 0): 350 m to the nearer entrance;
    # (0, 300): 300 m; (1000, 0): 900 m, beyond 400 m
    st = _tod_points([{"name": "A", "line": ""}, {"name": "A", "line": ""}], [(0, 0), (100, 0)])
    pop = _tod_points([{"population": 100.0}, {"population": 10.0}, {"population": 1.0}],
                      [(450, 0), (0, 300), (1000, 0)])
    res = _tod_run(_tod_ctx(stations=st, population=pop), radius_m=[400], distance="euclidean")
    u = res.units
    assert u["station_m"].iloc[:2].tolist() == [350.0, 300.0]
    assert math.isnan(u["station_m"].iloc[2])
    # the ring counts a unit by its nearest entrance: 100 + 10 within 400 m
    assert res.layers["stations"]["residents_400"].tolist() == [110.0]
    # pop_share: 110 of 111 residents
    assert res.indicators["pop_share"].city.value == pytest.approx(110 / 111)
    assert res.extra == {"stations": 1, "entrances": 2}
    # the circle: union of two 400 m discs 100 m apart, each of 64 segments
    area = shapely.union_all([shapely.Point(_xy(0, 0)).buffer(400, quad_segs=16),
                              shapely.Point(_xy(100, 0)).buffer(400, quad_segs=16)]).area
    assert res.layers["stations"]["area_ha_400"].iloc[0] == pytest.approx(area / 1e4)
    # activity: 110 residents per area_ha
    assert res.layers["stations"]["activity_per_ha_400"].iloc[0] == pytest.approx(
        110 / (area / 1e4))


def test_tod_units_missing_values_count_zero_and_jobs_count_in_jobs_share() -> None:
    # a resident without a population value (0) and one without dwellings (0 when another
    # unit has dwellings); a job unit of 30 jobs at (300, 0), one without a value
    pop = _tod_points([{"population": float("nan"), "dwellings": 5.0},
                       {"population": 20.0, "dwellings": float("nan")}], [(100, 0), (200, 0)])
    jobs = _tod_points([{"jobs": 30.0}, {"jobs": float("nan")}], [(300, 0), (900, 0)])
    res = _tod_run(_tod_ctx(stations=_station_a(), population=pop, jobs=jobs),
                   radius_m=[500])
    u = res.units
    assert u["population"].tolist() == [0.0, 20.0, 0.0, 0.0]
    assert u["dwellings"].tolist() == [5.0, 0.0, 0.0, 0.0]
    assert u["jobs"].tolist() == [0.0, 0.0, 30.0, 0.0]
    assert u["is_job"].tolist() == [False, False, True, True]
    row = res.layers["stations"].iloc[0]
    # within 500 m (walks 100, 200, 300; 900 is beyond): 20 residents, 5 dwellings, 30 jobs
    assert (row["residents_500"], row["dwellings_500"], row["jobs_500"]) == (20.0, 5.0, 30.0)
    assert res.indicators["jobs_share"].city.value == 1.0
    assert res.indicators["pop_share"].city.value == 1.0
    assert u["jobs_share__num"].tolist() == [0.0, 0.0, 30.0, 0.0]
    assert u["pop_share__den"].tolist() == [0.0, 20.0, 0.0, 0.0]
    # a jobs layer given: no "no jobs layer" warning
    assert res.warnings == []


def test_tod_units_off_the_streets_and_stations_without_an_entrance_warn() -> None:
    # B at (500, 150) is 150 m from both banks; a resident (600, 150) of 7 and a job unit
    # (700, 150) of 25 jobs likewise: beyond max_snap_m 100
    st = _tod_points([{"name": "A", "line": ""}, {"name": "B", "line": ""}], [(0, 0), (500, 150)])
    pop = _tod_points([{"population": 100.0}, {"population": 7.0}], [(450, 0), (600, 150)])
    jobs = _tod_points([{"jobs": 25.0}], [(700, 150)])
    res = _tod_run(_tod_ctx(stations=st, population=pop, jobs=jobs))
    assert res.warnings == [
        "1 population units (7 residents) lie farther than 100 m from any street and count "
        "as not within reach",
        "1 job units (25 jobs) lie farther than 100 m from any street and count as not "
        "within reach",
        "1 stations have no entrance within 100 m of a street and get empty catchments: B",
    ]
    table = res.layers["stations"].set_index("name")
    assert table.loc["B", "residents_800"] == 0.0
    assert table.loc["B", "area_ha_800"] == 0.0


@pytest.mark.parametrize(("n", "shown"), [
    (5, "B1, B2, B3, B4, B5"), (6, "B1, B2, B3, B4, B5, ..."),
])
def test_tod_lists_at_most_five_stations_without_an_entrance(n, shown) -> None:
    # stations B1.. at (300 + 100 i, 150): 150 m from every street
    st = _tod_points([{"name": "A", "line": ""}, *[{"name": f"B{i + 1}", "line": ""}
                                                   for i in range(n)]],
                     [(0, 0), *[(300 + 100 * i, 150) for i in range(n)]])
    res = _tod_run(_tod_ctx(stations=st, population=_residents()), radius_m=[200])
    assert (f"{n} stations have no entrance within 100 m of a street and get empty "
            f"catchments: {shown}") in res.warnings


def test_tod_zero_snap_distance_is_allowed() -> None:
    # max_snap_m 0: only units exactly on a street snap; (450, 0) is, (0, 300) is too
    p = tod.validate_params({"max_snap_m": 0}, where="t.yml")
    assert p.max_snap_m == 0.0
    res = _tod_run(_tod_ctx(stations=_station_a(), population=_residents()), max_snap_m=0)
    assert res.layers["stations"]["residents_800"].tolist() == [110.0]


def test_tod_validate_sorts_and_deduplicates_rings() -> None:
    p = tod.validate_params({"radius_m": [800, 300, 800]}, where="t.yml")
    assert (p.radius_m, p.indicator_m) == ([300.0, 800.0], 800.0)
    p = tod.validate_params({"radius_m": (400,), "indicator_radius_m": 250}, where="t.yml")
    assert (p.radius_m, p.indicator_radius_m) == ([400.0], 250.0)
    assert tod.validate_params(None, where="t.yml").radius_m == [500.0, 800.0]
    assert tod.validate_params({"min_piece_share": 0.5}, where="t.yml").min_piece_share == 0.5


@pytest.mark.parametrize("params", [
    {"radius_m": [500, -1]}, {"max_snap_m": -1}, {"indicator_radius_m": 0},
    {"min_piece_share": 2}, {"distance": "manhattan"},
])
def test_tod_validate_rejects_bad_values(params) -> None:
    key = next(iter(params))
    with pytest.raises(AnalysisError, match=rf"^t\.yml: params\.{key} "):
        tod.validate_params(params, where="t.yml")


def test_tod_empty_radius_list_message() -> None:
    with pytest.raises(AnalysisError) as e:
        tod.validate_params({"radius_m": []}, where="t.yml")
    assert str(e.value) == "t.yml: params.radius_m must be a number or a non-empty list"


def test_tod_params_used_before_validation_are_an_error() -> None:
    with pytest.raises(AnalysisError) as e:
        _ = tod.TodParams().indicator_m
    assert str(e.value) == "tod parameters used before validate_params"


def test_tod_empty_stations_layer_is_an_error() -> None:
    empty = gpd.GeoDataFrame({"name": [], "line": []}, geometry=[], crs=CRS)
    with pytest.raises(LayerError) as e:
        _tod_run(_tod_ctx(stations=empty, population=_residents()))
    assert str(e.value) == ("analysis 'tod': the stations layer has no feature; check its "
                            "source and layers/*.yml")


# landuse_mix: two 10 x 10 m classes side by side, residential (0..10) and commercial (10..20)


def _lu(extra: list[tuple[str, shapely.Geometry]] = ()) -> gpd.GeoDataFrame:
    rows = [("residential", shapely.box(0, 0, 10, 10)), ("commercial", shapely.box(10, 0, 20, 10)),
            *extra]
    return gpd.GeoDataFrame({"class": [r[0] for r in rows]}, geometry=[r[1] for r in rows],
                            crs=CRS)


def test_landuse_mix_ignores_classes_without_area() -> None:
    # a road line has no area: k stays 2, and half of each class gives 1
    lu = _lu([("road", shapely.LineString([(0, 5), (20, 5)]))])
    assert tod.landuse_mix(np.array([shapely.box(5, 0, 15, 10)]), lu).tolist() == [1.0]


def test_landuse_mix_counts_a_tiny_class_in_k() -> None:
    # a 0.5 m^2 park far away is a third class present in the city: k = 3, so two equal
    # shares give ln 2 / ln 3
    lu = _lu([("park", shapely.box(100, 100, 100.5, 101))])
    out = tod.landuse_mix(np.array([shapely.box(5, 0, 15, 10)]), lu)
    assert out[0] == pytest.approx(math.log(2) / math.log(3), rel=1e-12)


def test_landuse_mix_counts_a_small_overlap() -> None:
    # the polygon 9.5..20 x 0..1 holds 0.5 m^2 residential and 10 m^2 commercial
    p1, p2 = 0.5 / 10.5, 10 / 10.5
    expected = -(p1 * math.log(p1) + p2 * math.log(p2)) / math.log(2)
    out = tod.landuse_mix(np.array([shapely.box(9.5, 0, 20, 1)]), _lu())
    assert out[0] == pytest.approx(expected, rel=1e-9)


def test_landuse_mix_of_a_polygon_touching_land_use_only_is_nan() -> None:
    # 20..30 touches commercial along x = 20: no land-use area inside
    out = tod.landuse_mix(np.array([shapely.box(20, 0, 30, 10), shapely.box(5, 0, 15, 10)]),
                          _lu())
    assert math.isnan(out[0]) and out[1] == 1.0


def test_landuse_mix_of_five_equal_classes_is_exactly_one() -> None:
    # five 10 x 10 classes inside the polygon: shares 0.2 each, H = ln 5 / ln 5 = 1; the
    # 1.0000000000000002 that the sum rounds to is clipped to 1
    lu = gpd.GeoDataFrame({"class": list("abcde")}, crs=CRS,
                          geometry=[shapely.box(10 * i, 0, 10 * i + 10, 10) for i in range(5)])
    out = tod.landuse_mix(np.array([shapely.box(-1, -1, 51, 11)]), lu)
    assert out.tolist() == [1.0]


def test_landuse_mix_edge_cases() -> None:
    # one class only (k = 1) and no polygons: NaN / empty; a land use with a missing
    # geometry is skipped
    one = gpd.GeoDataFrame({"class": ["a"]}, geometry=[shapely.box(0, 0, 10, 10)], crs=CRS)
    assert np.isnan(tod.landuse_mix(np.array([shapely.box(0, 0, 5, 5)]), one)).all()
    assert tod.landuse_mix(np.array([], dtype=object), _lu()).size == 0
    lu = _lu([("park", None)])
    assert tod.landuse_mix(np.array([shapely.box(5, 0, 15, 10)]), lu).tolist() == [1.0]


# ---------------------------------------------------------------------------------------
# tod_catchments.py
# ---------------------------------------------------------------------------------------


def _street_graph(lines: list[list[tuple[float, float]]]):
    from urbanform.network import graph_from_lines

    return graph_from_lines(gpd.GeoDataFrame(
        geometry=[shapely.LineString([_xy(*p) for p in seg]) for seg in lines], crs=CRS))


def test_concat_pieces_of_no_batch_is_empty_and_of_several_is_sorted_by_station() -> None:
    from urbanform.analyses import tod_catchments as tc

    empty = tc.concat_pieces([])
    assert (empty.station.size, empty.edge.size, empty.start_m.size, empty.end_m.size) == (
        0, 0, 0, 0)
    assert (empty.station.dtype, empty.edge.dtype) == (np.int64, np.int64)
    a = tc.Pieces(np.array([2, 0]), np.array([7, 8]), np.array([0.0, 1.0]), np.array([5.0, 6.0]))
    b = tc.Pieces(np.array([1, 0]), np.array([9, 3]), np.array([2.0, 3.0]), np.array([7.0, 8.0]))
    out = tc.concat_pieces([a, b])
    # stable by station: 0 (edge 8, then edge 3), 1 (edge 9), 2 (edge 7)
    assert out.station.tolist() == [0, 0, 1, 2]
    assert out.edge.tolist() == [8, 3, 9, 7]
    assert out.start_m.tolist() == [1.0, 3.0, 2.0, 0.0]
    assert out.end_m.tolist() == [6.0, 8.0, 7.0, 5.0]


@pytest.mark.parametrize("threads", [None, 1, 3])
def test_catchment_polygons_union_clip_and_empty_station(threads) -> None:
    from urbanform.analyses import tod_catchments as tc

    # station 0: bands 0..10 and 5..15 (x 0..10 high), union 0..15 clipped to 0..12 -> 120 m^2;
    # station 1: no band -> empty; station 2: 100..110 clipped to 100..105 -> 50 m^2
    bands = np.array([shapely.box(0, 0, 10, 10), shapely.box(5, 0, 15, 10),
                      shapely.box(100, 0, 110, 10)], dtype=object)
    circles = np.array([shapely.box(0, 0, 12, 10), shapely.box(0, 0, 1000, 1000),
                        shapely.box(100, 0, 105, 10)], dtype=object)
    out = tc.catchment_polygons(bands, np.array([0, 0, 2]), circles, threads=threads)
    assert shapely.area(out).tolist() == [120.0, 0.0, 50.0]
    assert out[1].is_empty and out[0].equals(shapely.box(0, 0, 12, 10))


def test_station_sources_live_needs_a_snap_and_a_finite_snap_distance() -> None:
    from urbanform.analyses import tod_catchments as tc
    from urbanform.network import Snapped

    snapped = Snapped(np.array([0, -1, 1]), np.zeros(3), np.array([1.0, np.inf, np.inf]))
    src = tc.StationSources(np.array([0, 1, 2]), np.zeros((3, 2)), snapped, 3)
    assert src.live().tolist() == [True, False, False]


def test_snap_within_reach_snaps_only_units_within_reach_plus_one_metre() -> None:
    from urbanform.analyses import tod_catchments as tc

    # one street (0, 0)-(1000, 0), entrance at (0, 0), reach 100 m (+ 1 m margin):
    # (50, 10) and (100.5, 0) are within 101 m and snap; (101.5, 0) does not, but lies on
    # the street; (500, 200) is 200 m from the street (max_snap_m 100)
    graph = _street_graph([[(0, 0), (1000, 0)]])
    units = gpd.GeoSeries(shapely.points([_xy(50, 10), _xy(100.5, 0), _xy(101.5, 0),
                                          _xy(500, 200)]), crs=CRS)
    snapped, on_street = tc.snap_within_reach(graph, units, np.array([_xy(0, 0)]),
                                              reach_m=100.0, max_snap_m=100.0)
    assert snapped.edge.tolist() == [0, 0, -1, -1]
    assert snapped.offset_m.tolist() == [pytest.approx(50.0), pytest.approx(100.5), 0.0, 0.0]
    assert snapped.snap_m.tolist() == [pytest.approx(10.0), pytest.approx(0.0), np.inf, np.inf]
    assert on_street.tolist() == [True, True, True, False]
    assert snapped.island is None


def test_snap_within_reach_skips_a_unit_without_geometry_and_keeps_max_snap() -> None:
    from urbanform.analyses import tod_catchments as tc

    # a unit without a geometry is neither snapped nor on a street; the others are not
    # affected. max_snap_m 20: (60, 30) is 30 m from the street and within reach, but
    # not snapped; (50, 10) snaps 10 m; (500, 50), beyond reach, is 50 m from the street:
    # not near one either
    graph = _street_graph([[(0, 0), (1000, 0)]])
    units = gpd.GeoSeries([shapely.Point(_xy(50, 10)), None, shapely.Point(_xy(60, 30)),
                           shapely.Point(_xy(500, 50))], crs=CRS)
    snapped, on_street = tc.snap_within_reach(graph, units, np.array([_xy(0, 0)]),
                                              reach_m=100.0, max_snap_m=20.0)
    assert snapped.edge.tolist() == [0, -1, -1, -1]
    assert snapped.edge.dtype == np.int64
    assert on_street.tolist() == [True, False, False, False]


def test_snap_within_reach_checks_far_units_with_the_piece_share() -> None:
    from urbanform.analyses import tod_catchments as tc

    # a 5 m piece (500..505, 150) is skipped (under 1 % of 1,005 m): the unit (502, 160),
    # beyond reach of the entrance (0, 0), is 10 m from it but 160 m from the main street,
    # so it is not near a street it could snap to
    graph = _street_graph([[(0, 0), (1000, 0)], [(500, 150), (505, 150)]])
    units = gpd.GeoSeries(shapely.points([_xy(502, 160)]), crs=CRS)
    _, on_street = tc.snap_within_reach(graph, units, np.array([_xy(0, 0)]), reach_m=100.0,
                                        max_snap_m=100.0, min_piece_share=0.01)
    assert on_street.tolist() == [False]


def test_snap_within_reach_without_entrances_snaps_nothing_but_checks_streets() -> None:
    from urbanform.analyses import tod_catchments as tc

    graph = _street_graph([[(0, 0), (1000, 0)]])
    units = gpd.GeoSeries(shapely.points([_xy(50, 10), _xy(500, 200)]), crs=CRS)
    snapped, on_street = tc.snap_within_reach(graph, units, np.zeros((0, 2)),
                                              reach_m=100.0, max_snap_m=100.0)
    assert snapped.edge.tolist() == [-1, -1]
    assert on_street.tolist() == [True, False]


def test_snap_within_reach_marks_units_past_a_skipped_small_piece() -> None:
    from urbanform.analyses import tod_catchments as tc

    # a 5 m piece at y = 50 is under 1 % of the 1,005 m network: skipped. (2, 45) lies 5 m
    # from it and snaps 45 m to the main street instead (island); (300, 5) snaps normally;
    # (900, 45) is beyond reach (entrance at (0, 0), reach 500 m): not snapped, no island
    graph = _street_graph([[(0, 0), (1000, 0)], [(0, 50), (5, 50)]])
    units = gpd.GeoSeries(shapely.points([_xy(2, 45), _xy(300, 5), _xy(900, 45)]), crs=CRS)
    snapped, on_street = tc.snap_within_reach(graph, units, np.array([_xy(0, 0)]),
                                              reach_m=500.0, max_snap_m=100.0,
                                              min_piece_share=0.01)
    assert snapped.snap_m[:2].tolist() == [pytest.approx(45.0), pytest.approx(5.0)]
    assert snapped.island.tolist() == [True, False, False]
    assert on_street.tolist() == [True, True, True]


def _line_of_stations(n: int):
    from urbanform.analyses import tod_catchments as tc
    from urbanform.network import snap_points

    # a street of n 100 m segments along y = 0 (nodes every 100 m); one station on each of
    # the first n nodes
    graph = _street_graph([[(100 * i, 0), (100 * i + 100, 0)] for i in range(n)])
    xy = np.array([_xy(100 * i, 0) for i in range(n)])
    src = tc.StationSources(np.arange(n), xy, snap_points(graph, xy, max_snap_m=10), n)
    return graph, src


def test_distance_batches_hold_at_most_64_stations() -> None:
    from urbanform.analyses import tod_catchments as tc

    # 65 stations, each reaching only its own node within 50 m: one batch of 64, one of 1
    graph, src = _line_of_stations(65)
    sizes = [b.stations.size for b in tc.distance_batches(graph, src, cutoff_m=50.0)]
    assert sizes == [64, 1]


def test_distance_batches_fill_up_to_max_cells() -> None:
    from urbanform.analyses import tod_catchments as tc

    # each station adds one local node: k stations hold k x k cells; max_cells 4 allows
    # 2 x 2, not 3 x 3, so 5 stations come in batches of 2, 2, 1
    graph, src = _line_of_stations(5)
    batches = list(tc.distance_batches(graph, src, cutoff_m=50.0, max_cells=4))
    assert [b.stations.size for b in batches] == [2, 2, 1]
    assert [b.nodes.size for b in batches] == [2, 2, 1]
    # station 0 sits on its node: distance 0; the "not local" column is inf
    b = batches[0]
    assert b.dist_m.shape == (2, 3)
    assert np.isinf(b.dist_m[:, -1]).all()
    assert sorted(b.dist_m[:, :2].ravel().tolist()) == [0.0, 0.0, np.inf, np.inf]


def test_distance_batches_reach_nodes_within_the_cutoff_plus_one_metre() -> None:
    from urbanform.analyses import tod_catchments as tc

    # station at (0, 0); nodes at 0, 100, 200: cut-off 99.5 m -> the local graph takes the
    # nodes within 100.5 m (0 and 100), and the distance to node 100 (100 m) is inf
    from urbanform.network import snap_points

    graph = _street_graph([[(0, 0), (100, 0)], [(100, 0), (200, 0)]])
    xy = np.array([_xy(0, 0)])
    src = tc.StationSources(np.array([0]), xy, snap_points(graph, xy, max_snap_m=10), 1)
    (b,) = tc.distance_batches(graph, src, cutoff_m=99.5)
    assert b.nodes.size == 2
    assert np.isinf(b.dist_m[0, 1:]).all() and b.dist_m[0, 0] == 0.0
    (b,) = tc.distance_batches(graph, src, cutoff_m=100.0)
    assert b.dist_m[0, :2].tolist() == [0.0, 100.0]


# ---------------------------------------------------------------------------------------
# living_circle.py, continued: levels, params, logging, snapping share
# ---------------------------------------------------------------------------------------


def test_levels_follow_gb_50180_as_docs_osm_md_lists_them() -> None:
    # docs/osm.md "facilities" table; distances 300 / 500 / 1,000 m (module docstring)
    assert lc.LEVELS == {
        5: (300.0, ("kindergarten", "convenience_store", "community_service", "playground")),
        10: (500.0, ("primary_school", "fresh_market", "sports_ground")),
        15: (1000.0, ("middle_school", "health_centre", "market", "elderly_care", "sports",
                      "culture")),
    }
    for level, (dist, cats) in lc.LEVELS.items():
        p = lc.validate_params({"level": level}, where="c.yml")
        assert (p.distance_m, p.categories) == (dist, list(cats))


def test_indicator_labels_of_every_level_category() -> None:
    assert lc.INDICATORS["pop_share_all"] == (
        "share", "Residents within reach of every required facility")
    assert lc.INDICATORS["pop_share_convenience_store"] == (
        "share", "Residents within reach of convenience store")
    assert lc.INDICATORS["pop_share_elderly_care"] == (
        "share", "Residents within reach of elderly care")
    assert len(lc.INDICATORS) == 1 + 4 + 3 + 6


def test_default_params_in_the_result() -> None:
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), _lc_fac([(60, 5, "kindergarten")]), {"level": 5})
    assert res.kind == "living_circle"
    assert res.params == {
        "level": 5, "distance_m": 300.0, "minutes": None, "speed_m_s": 1.0,
        "categories": ["kindergarten", "convenience_store", "community_service", "playground"],
        "max_snap_m": 100.0, "min_piece_share": 0.01,
    }


def _small_piece_case(**params):
    # a 5 m street piece (250..255, 50) lies 50 m east of the grid's x = 200 street: 5 of
    # 1,205 m of network, under the default min_piece_share 0.01. The resident (190, 45)
    # snaps 10 m to (200, 45); the kindergarten (252, 45) lies 5 m from the piece and 52 m
    # from (200, 45); a second resident (252, 55) likewise 5 m / 52 m
    piece = (shapely.LineString([_xy(250, 50), _xy(255, 50)]),)
    pop = _lc_pop([(190, 45, 100.0), (252, 55, 30.0)])
    return _lc_run(pop, _lc_fac([(252, 45, "kindergarten")]),
                   {"level": 5, "distance_m": 300, "categories": ["kindergarten"], **params},
                   streets=_lc_streets(piece))


def test_small_piece_is_skipped_by_units_and_facilities() -> None:
    res = _small_piece_case()
    # both snap to the main network: 10 + 0 + 52 = 62 m and 52 + 10 + 52 = 114 m
    assert res.units["dist_kindergarten"].tolist() == [pytest.approx(62.0),
                                                       pytest.approx(114.0)]
    assert res.warnings == [
        "1 population units (30 residents) lie nearest to a small piece of street network "
        "cut off from the rest (under min_piece_share of its length) and were snapped to the "
        "main network instead"
    ]


def test_small_piece_is_used_with_a_zero_share() -> None:
    res = _small_piece_case(min_piece_share=0)
    # the kindergarten and the second resident snap to the piece (5 m each), both at
    # x = 252, the same offset: the second resident walks 5 + 0 + 5 = 10 m; the first,
    # on the main network, cannot reach the piece
    assert math.isnan(res.units["dist_kindergarten"].iloc[0])
    assert res.units["dist_kindergarten"].iloc[1] == pytest.approx(10.0)


def test_step_timings_are_logged_for_benchmarks(caplog) -> None:
    import logging
    import time

    caplog.set_level(logging.INFO, logger="urbanform.analyses.living_circle")
    t0, c0 = time.perf_counter(), time.process_time()
    _lc_run(_lc_pop([(50, 10, 100.0)]), _lc_fac([(60, 5, "kindergarten")]), KG)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    steps = [r for r in caplog.records if hasattr(r, "urbanform_step")]
    assert [r.urbanform_step for r in steps] == ["graph build", "snapping", "distances",
                                                  "aggregation"]
    # each step's time is a part of the whole run's
    assert all(0.0 <= r.elapsed_s <= wall and 0.0 <= r.cpu_s <= cpu + 0.01 for r in steps)
    assert sum(r.elapsed_s for r in steps) <= wall
    r = steps[0]
    assert r.getMessage() == (
        f"living circle: graph build took {r.elapsed_s:.2f} s ({r.cpu_s:.2f} s CPU)")
    assert r.levelname == "INFO"


def test_progress_messages_are_logged(caplog) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="urbanform.analyses.living_circle")
    # 2 units (one 150 m off the streets), 3 facilities of which 2 are kindergartens (one
    # 150 m off): the on-street unit reaches the on-street kindergarten
    fac = _lc_fac([(60, 5, "kindergarten"), (50, -150, "kindergarten"), (60, 5, "school")])
    _lc_run(_lc_pop([(50, 10, 100.0), (50, -150, 5.0)]), fac, KG)
    messages = [r.getMessage() for r in caplog.records if r.name.endswith("living_circle")]
    assert "living circle: 2 of 3 facilities are of a required category" in messages
    assert "living circle: 1 of 2 units and 1 of 2 facilities snapped" in messages
    assert "living circle: kindergarten reached from 1 of 2 units (1 facilities)" in messages
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [r.getMessage() for r in warned] == [
        "c: 1 of 2 kindergarten facilities lie farther than 100 m from any street and are "
        "not used",
        "c: 1 population unit (5 residents) lie farther than 100 m from any street and count "
        "as not covered",
    ]


def test_mixed_point_and_polygon_facilities() -> None:
    # a point kindergarten (60, 5) and a 10 m square playground lot (45..55, 15..25): its
    # inside point (50, 20) is 20 m from y = 0 and 50 m from x = 0: it snaps 20 m
    fac = gpd.GeoDataFrame({"category": ["kindergarten", "playground"]}, crs=CRS,
                           geometry=[shapely.Point(_xy(60, 5)),
                                     shapely.box(*_xy(45, 15), *_xy(55, 25))])
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), fac,
                  {"level": 5, "distance_m": 300, "categories": ["kindergarten", "playground"]})
    f = res.layers["facilities"]
    assert list(f.columns) == ["category", "geometry", "snap_m"]
    assert f["snap_m"].tolist() == [pytest.approx(5.0), pytest.approx(20.0)]
    # the resident (snap 10 m at (50, 0)) walks 10 + 0 + 20 = 30 m to the playground
    assert res.units["dist_playground"].iloc[0] == pytest.approx(30.0)


def test_units_off_the_streets_have_no_snap_distance() -> None:
    pop = _lc_pop([(50, 10, 100.0), (50, -150, 5.0)])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]), KG)
    assert res.units["snap_m"].iloc[0] == 10.0 and math.isnan(res.units["snap_m"].iloc[1])
    assert res.units["n_missing"].dtype == np.int64


def test_tod_params_and_kind_in_the_result(river_result) -> None:
    assert river_result.kind == "tod"
    assert river_result.params == {"radius_m": [500, 800], "distance": "network",
                                   "max_snap_m": 100, "indicator_radius_m": 800,
                                   "min_piece_share": 0.01}


def test_tod_progress_messages_are_logged(caplog) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="urbanform.analyses")
    _tod_run(_tod_ctx(stations=_station_a(), population=_residents()))
    messages = [r.getMessage() for r in caplog.records]
    # 2 residents, both within 800 m straight (450, 300) and on foot (450, 600)
    for m in ["tod: 1 stations from 1 entrances", "tod: 2 population units, 0 job units",
              "tod: 2 of 2 units within reach of an entrance snapped",
              "tod: 1 stations searched in 1 batches",
              "tod: 2 station-unit pairs within 800 m",
              "tod: ring 500 m, 1 catchments", "tod: ring 800 m, 1 catchments"]:
        assert m in messages
    assert any(m.startswith("tod: pop_share 1.0, jobs_share ") for m in messages)


def test_tod_rings_include_walks_of_exactly_their_radius() -> None:
    # residents at (500, 0) and (800, 0) walk exactly 500 m and 800 m from A (0, 0)
    pop = _tod_points([{"population": 5.0}, {"population": 8.0}], [(500, 0), (800, 0)])
    res = _tod_run(_tod_ctx(stations=_station_a(), population=pop))
    row = res.layers["stations"].iloc[0]
    assert (row["residents_500"], row["residents_800"]) == (5.0, 13.0)
    assert res.indicators["pop_share"].city.value == 1.0
    # no dwellings field: dwellings are not computed
    assert math.isnan(row["dwellings_800"])


def test_tod_euclidean_unit_exactly_at_the_indicator_radius_is_within() -> None:
    pop = _tod_points([{"population": 5.0}, {"population": 8.0}], [(450, 0), (451, 0)])
    res = _tod_run(_tod_ctx(stations=_station_a(), population=pop), radius_m=[450],
                   distance="euclidean")
    assert res.units["station_m"].iloc[0] == 450.0
    assert math.isnan(res.units["station_m"].iloc[1])
    assert res.indicators["pop_share"].city.value == pytest.approx(5 / 13)


def test_tod_indicator_radius_beyond_the_rings_reaches_farther_units() -> None:
    # ring 300 m, indicator radius 500 m: (450, 0) walks 450 m, outside the ring but
    # within the indicator radius, so it counts in pop_share
    pop = _tod_points([{"population": 5.0}], [(450, 0)])
    res = _tod_run(_tod_ctx(stations=_station_a(), population=pop), radius_m=[300],
                   indicator_radius_m=500)
    assert res.layers["stations"]["residents_300"].tolist() == [0.0]
    assert res.units["station_m"].tolist() == [pytest.approx(450.0)]
    assert res.indicators["pop_share"].city.value == 1.0


def test_tod_station_without_catchment_has_no_activity_density() -> None:
    # B (500, 150) has no entrance on the network: empty catchment, activity NaN
    st = _tod_points([{"name": "A", "line": ""}, {"name": "B", "line": ""}], [(0, 0), (500, 150)])
    res = _tod_run(_tod_ctx(stations=st, population=_residents()), radius_m=[500])
    table = res.layers["stations"].set_index("name")
    assert table.loc["B", "area_ha_500"] == 0.0
    assert math.isnan(table.loc["B", "activity_per_ha_500"])
    assert table.loc["A", "activity_per_ha_500"] > 0
    # the walkable share of B: 0 of its circle
    assert table.loc["B", "walkable_share_500"] == 0.0


def test_tod_catchment_takes_in_the_entrance_connector() -> None:
    # A's entrance at (300, 80) snaps 80 m to the south bank at (300, 0): the catchment
    # holds the connector widened by 50 m, so (300, 75) is inside while (400, 75), 75 m
    # from every walked street and 100 m from the connector, is not
    st = _tod_points([{"name": "A", "line": ""}], [(300, 80)])
    res = _tod_run(_tod_ctx(stations=st, population=_residents()), radius_m=[500])
    poly = res.layers["catchments"].geometry.iloc[0]
    assert poly.contains(shapely.Point(_xy(300, 75)))
    assert not poly.contains(shapely.Point(_xy(400, 75)))


def test_tod_entrances_and_units_past_a_skipped_small_piece_are_reported() -> None:
    # a 5 m piece (500..505, 100) is under 1 % of the 2,305 m network: skipped. A's
    # entrance (502, 95) and the resident (503, 96) lie 5 m / 4 m from it and 95 m / 96 m
    # from the south bank: both snap to the bank instead
    piece = [(500, 100), (505, 100)]
    streets = gpd.GeoDataFrame(
        geometry=[shapely.LineString([_xy(*p) for p in seg]) for seg in [*RIVER, piece]],
        crs=CRS)
    st = _tod_points([{"name": "A", "line": ""}], [(502, 95)])
    pop = _tod_points([{"population": 50.0}], [(503, 96)])
    ctx = Context(Layers(crs=CRS, vectors={"stations": st, "population": pop,
                                           "streets": streets}))
    res = _tod_run(ctx, radius_m=[500])
    assert res.warnings[:2] == [
        "1 population and job units (50 residents) lie nearest to a small piece of street "
        "network cut off from the rest (under min_piece_share of its length) and were snapped "
        "to the main network instead",
        "1 station entrances (1 entrances) lie nearest to a small piece of street network cut "
        "off from the rest (under min_piece_share of its length) and were snapped to the main "
        "network instead",
    ]
    # the walk: 96 + 1 + 95 = 192 m
    assert res.units["station_m"].tolist() == [pytest.approx(192.0)]


def test_tod_two_stations_each_get_their_own_circle() -> None:
    # euclidean: A (0, 0) and B (1000, 0), 300 m circles, no overlap; each circle is one
    # 64-segment disc, and the resident (450, 0) is in neither, (900, 0) in B's
    st = _tod_points([{"name": "A", "line": ""}, {"name": "B", "line": ""}], [(0, 0), (1000, 0)])
    pop = _tod_points([{"population": 5.0}, {"population": 7.0}], [(450, 0), (900, 0)])
    res = _tod_run(_tod_ctx(stations=st, population=pop), radius_m=[300], distance="euclidean")
    disc = shapely.Point(0, 0).buffer(300, quad_segs=16).area / 1e4
    table = res.layers["stations"]
    assert table["area_ha_300"].tolist() == [pytest.approx(disc, rel=1e-12)] * 2
    assert table["residents_300"].tolist() == [0.0, 7.0]


def _stations_at(graph, xy_local: list[tuple[float, float]]):
    from urbanform.analyses import tod_catchments as tc
    from urbanform.network import snap_points

    xy = np.array([_xy(*p) for p in xy_local])
    return tc.StationSources(np.arange(len(xy)), xy, snap_points(graph, xy, max_snap_m=10),
                             len(xy))


def test_distance_batches_go_strip_by_strip_west_to_east() -> None:
    from urbanform.analyses import tod_catchments as tc

    # streets y = 0 (x 0..100) and y = 1000 (x 50..150); stations on their nodes:
    # 0 (150, 1000), 1 (0, 0), 2 (50, 1000), 3 (100, 0). Cut-off 50 m: strips 100 m
    # high, so y = 0 and y = 1000 are two strips; each station reaches its own node only.
    # Spatial order: the south strip west to east (1, 3), then the north one (2, 0);
    # max_cells 4 takes two stations a batch
    graph = _street_graph([[(0, 0), (100, 0)], [(50, 1000), (150, 1000)]])
    src = _stations_at(graph, [(150, 1000), (0, 0), (50, 1000), (100, 0)])
    batches = list(tc.distance_batches(graph, src, cutoff_m=50.0, max_cells=4))
    assert [b.stations.tolist() for b in batches] == [[1, 3], [2, 0]]
    assert all(np.all(np.diff(b.nodes) > 0) for b in batches)  # nodes sorted


def test_distance_batches_count_shared_local_nodes_once() -> None:
    from urbanform.analyses import tod_catchments as tc

    # two stations at (0, 0) and (10, 0) on a 100 m street, cut-off 150 m: both reach
    # the same 2 nodes, so together they hold 2 x 2 = 4 cells: one batch with max_cells 4
    graph = _street_graph([[(0, 0), (100, 0)]])
    src = _stations_at(graph, [(0, 0), (10, 0)])
    (b,) = tc.distance_batches(graph, src, cutoff_m=150.0, max_cells=4)
    assert (b.stations.tolist(), b.nodes.size) == ([0, 1], 2)
    # station 1 at 10 m: 10 m to the west node, 90 m to the east one
    assert b.dist_m[1, :2].tolist() == [10.0, 90.0]


def test_snapping_in_chunks_keeps_max_snap_and_piece_share(monkeypatch) -> None:
    # chunks of one point: every unit goes through the chunked path. max_snap_m 60: the
    # resident (50, -80) is 80 m from y = 0 and stays off the network; the resident
    # (252, 55) skips the 5 m piece (under min_piece_share) and walks 52 + 10 + 52 = 114 m
    monkeypatch.setattr(lc, "SNAP_CHUNK", 1)
    piece = (shapely.LineString([_xy(250, 50), _xy(255, 50)]),)
    pop = _lc_pop([(190, 45, 100.0), (252, 55, 30.0), (50, -80, 5.0)])
    res = _lc_run(pop, _lc_fac([(252, 45, "kindergarten")]),
                  {"level": 5, "distance_m": 300, "max_snap_m": 60,
                   "categories": ["kindergarten"]}, streets=_lc_streets(piece))
    assert res.units["snap_m"].iloc[:2].tolist() == [pytest.approx(10.0), pytest.approx(52.0)]
    assert math.isnan(res.units["snap_m"].iloc[2])
    assert res.units["dist_kindergarten"].iloc[1] == pytest.approx(114.0)


def test_category_without_facility_before_others_leaves_them_computed() -> None:
    # the first category has no facility: the next one is still answered (25 m walk)
    res = _lc_run(_lc_pop([(50, 10, 100.0)]), _lc_fac([(60, 5, "kindergarten")]),
                  {"level": 5, "distance_m": 300, "categories": ["playground", "kindergarten"]})
    assert res.indicators["pop_share_playground"].city.value == 0.0
    assert res.indicators["pop_share_kindergarten"].city.value == 1.0
    assert res.units["dist_kindergarten"].tolist() == [pytest.approx(25.0)]


def test_living_circle_layers_keep_the_crs_and_list_one_resident_deficits() -> None:
    # (150, 10) holds 1 resident and walks 10 + 90 + 5 = 105 m > 30 m: a deficit
    pop = _lc_pop([(50, 10, 100.0), (150, 10, 1.0)])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]),
                  {"level": 5, "distance_m": 30, "categories": ["kindergarten"]})
    assert (res.units.crs, res.layers["deficits"].crs, res.layers["facilities"].crs) == (
        CRS, CRS, CRS)
    assert res.layers["deficits"]["population"].tolist() == [1.0]


def test_tod_entrance_beyond_max_snap_is_not_attached() -> None:
    # max_snap_m 50: A's only entrance (300, 80) is 80 m from the south bank
    st = _tod_points([{"name": "A", "line": ""}], [(300, 80)])
    res = _tod_run(_tod_ctx(stations=st, population=_residents()), radius_m=[500],
                   max_snap_m=50)
    assert ("1 stations have no entrance within 50 m of a street and get empty catchments: "
            "A") in res.warnings
    assert res.layers["stations"]["residents_500"].tolist() == [0.0]


def test_one_cut_off_piece_is_reported() -> None:
    # one piece (x 1000..1100, 2 nodes) with one unit of 30 residents, cut off from the grid
    pop = _lc_pop([(50, 10, 100.0), (1050, 5, 30.0)])
    res = _lc_run(pop, _lc_fac([(60, 5, "kindergarten")]), KG, streets=_lc_streets(_islands(1)))
    assert ("1 street pieces cut off from the main network hold 1 population unit "
            "(30 residents)") in res.warnings
    pieces = res.extra["disconnected_components"]
    assert [(p["n_nodes"], p["n_origins"], p["population"]) for p in pieces] == [(2, 1, 30.0)]


def test_district_without_residents_is_listed() -> None:
    # two districts: "west" holds the resident, "far" (x 5000..5100) nobody; both are
    # reported
    d = gpd.GeoDataFrame({"name": ["west", "far"]}, crs=CRS, geometry=[
        shapely.box(*_xy(-50, -50), *_xy(300, 300)), shapely.box(*_xy(5000, 0), *_xy(5100, 100))])
    vectors = {"streets": _lc_streets(), "population": _lc_pop([(50, 10, 100.0)]),
               "facilities": _lc_fac([(60, 5, "kindergarten")]), "districts": d}
    ctx = Context(Layers(crs=CRS, vectors=vectors))
    res = lc.run(ctx, name="c", params=lc.validate_params(KG, where="c.yml"), target=None)
    ind = res.indicators["pop_share_all"]
    assert sorted(ind.districts) == ["far", "west"]
    assert ind.districts["west"].value == 1.0
