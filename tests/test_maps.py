"""Tests of urbanform.maps pieces: palette, legends, layers, bounds, escaping, offline.

The synthetic results built here (``make_park_result``, ``make_tod_result``,
``make_h3_cells``) are shared with test_report.py and test_report_browser.py.
"""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import folium
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from urbanform.errors import CRSError, OutputError
from urbanform.maps import folium_layers as fl
from urbanform.maps import i18n, palette
from urbanform.maps.legend import class_labels
from urbanform.results import AnalysisResult, LayerStyle, Target, indicator_values

CRS = "EPSG:32648"  # UTM 48N, Chengdu
X0, Y0 = 410_000.0, 3_393_000.0
EVIL = "<script>alert(1)</script>"
DISTRICTS = ["Jinjiang", "Qingyang", "Wuhou"]


def district_squares() -> gpd.GeoDataFrame:
    """Three 1 km squares side by side, west to east."""
    geoms = [box(X0 + i * 1000, Y0, X0 + (i + 1) * 1000, Y0 + 1000) for i in range(3)]
    return gpd.GeoDataFrame({"name": DISTRICTS}, geometry=geoms, crs=CRS)


def park_units() -> gpd.GeoDataFrame:
    """One unit per district: population 1000, 1000, 500; covered 950, 600, 500.

    City pop_share = 2050 / 2500 = 0.82; residents short of 0.9 = 2250 - 2050 = 200.
    area_share (residential m2 covered / all): 0.9, 0.5, 1.0 of 100, 100, 100 -> 0.8.
    """
    pts = [Point(X0 + 500 + i * 1000, Y0 + 500) for i in range(3)]
    return gpd.GeoDataFrame(
        {
            "district": DISTRICTS,
            "pop_share__num": [950.0, 600.0, 500.0],
            "pop_share__den": [1000.0, 1000.0, 500.0],
            "area_share__num": [90.0, 50.0, 100.0],
            "area_share__den": [100.0, 100.0, 100.0],
        },
        geometry=pts,
        crs=CRS,
    )


def districts_layer(indicators: dict) -> gpd.GeoDataFrame:
    gdf = district_squares()
    for key, ind in indicators.items():
        gdf[key] = [ind.districts[d].value for d in DISTRICTS]
        gdf[f"{key}_met"] = [ind.districts[d].met for d in DISTRICTS]
    gdf["population"] = [1000, 1000, 500]
    return gdf


def make_park_result() -> AnalysisResult:
    units = park_units()
    target = Target("pop_share", ">=", 0.9, year=2025, source="Chengdu decision 2021, art. 6")
    indicators = {
        "pop_share": indicator_values(units, "pop_share", target=target, label="pop covered"),
        "area_share": indicator_values(units, "area_share", label="area covered"),
    }
    gaps = gpd.GeoDataFrame(
        {"area_m2": [40_000.0, 90_000.0]},
        geometry=[
            box(X0 + 1100, Y0 + 100, X0 + 1300, Y0 + 300),
            box(X0 + 1500, Y0 + 500, X0 + 1800, Y0 + 800),
        ],
        crs=CRS,
    )
    gaps_style = LayerStyle(
        title="Residential land outside every park service area",
        title_zh="公园服务范围外的居住用地",
        color="#e34a33",
        labels={"en": {"area_m2": "Area (m²)"}, "zh": {"area_m2": "面积（平方米）"}},
    )
    parks = gpd.GeoDataFrame(
        {"name": ["Renmin Park", EVIL], "area_m2": [6_400.0, 2_500.0]},
        geometry=[
            box(X0 + 200, Y0 + 200, X0 + 280, Y0 + 280),
            box(X0 + 2300, Y0 + 300, X0 + 2350, Y0 + 350),
        ],
        crs=CRS,
    )
    parks_style = LayerStyle(title="Parks", value_field="area_m2", ramp="seq")
    return AnalysisResult(
        name="parks_500m",
        kind="park_coverage",
        params={"distance": "euclidean", "tiers": [{"min_area_m2": 5000, "radius_m": 500}]},
        indicators=indicators,
        units=units,
        layers={"districts": districts_layer(indicators), "gaps": gaps, "parks": parks},
        styles={"gaps": gaps_style, "parks": parks_style},
        method="Residents within 500 m of a park of 5,000 m² or more are covered.",
        warnings=["3 population points farther than 100 m from any street were not snapped"],
    )


def make_tod_result() -> AnalysisResult:
    units = park_units().rename(
        columns={
            "pop_share__num": "jobs_share__num",
            "pop_share__den": "jobs_share__den",
            "area_share__num": "pop_share__num",
            "area_share__den": "pop_share__den",
        }
    )
    indicators = {
        "pop_share": indicator_values(units, "pop_share", target=Target("pop_share", ">=", 0.5)),
        "jobs_share": indicator_values(units, "jobs_share"),
    }
    stations = gpd.GeoDataFrame(
        {"name": ["Tianfu Square", "Chunxi Road"], "line": ["1", "2"]},
        geometry=[Point(X0 + 500, Y0 + 500), Point(X0 + 1500, Y0 + 600)],
        crs=CRS,
    )
    stations_style = LayerStyle(
        title="Rail stations", color="#6a3d9a", popup_fields=["name", "line"]
    )
    return AnalysisResult(
        name="tod_800m",
        kind="tod",
        params={"radius_m": 800, "distance": "network"},
        indicators=indicators,
        units=units,
        layers={"districts": districts_layer(indicators), "stations": stations},
        styles={"stations": stations_style},
        method="Residents and jobs within 800 m walk of a rail station.",
    )


def make_h3_cells() -> gpd.GeoDataFrame:
    """H3 resolution-8 cells at the three district centres, in EPSG:4326."""
    centres = gpd.GeoSeries(
        [Point(X0 + 500 + i * 1000, Y0 + 500) for i in range(3)], crs=CRS
    ).to_crs("EPSG:4326")
    ids = [h3.latlng_to_cell(p.y, p.x, 8) for p in centres]
    polys = [Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in ids]
    return gpd.GeoDataFrame(
        {"hex_id": ids, "population": [1000, 1000, 500], "pop_share": [0.95, 0.6, 1.0]},
        geometry=polys,
        crs="EPSG:4326",
    )


# ----------------------------------------------------------------- helpers


class _Fetches(HTMLParser):
    """Collect every URL a browser would fetch: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.urls.append(str(a["src"]))
        if tag == "link" and a.get("href"):
            self.urls.append(str(a["href"]))
        if tag == "iframe" and a.get("srcdoc"):
            self.urls += fetched_urls(str(a["srcdoc"]))


def fetched_urls(page: str) -> list[str]:
    """URLs the page would request: tags, CSS url(...), @import and tile templates."""
    parser = _Fetches()
    parser.feed(page)
    css = re.findall(r"url\(\s*['\"]?([^'\")]+)", page)
    imports = re.findall(r"@import\s+['\"]([^'\"]+)", page)
    tiles = re.findall(r"L\.tileLayer\(\s*['\"]([^'\"]+)", page)
    # data: URIs are inline; "#default#VML" in Leaflet's CSS is an old IE behaviour, no fetch
    css = [u for u in css if not u.startswith(("data:", "#"))]
    return parser.urls + css + imports + tiles


def _layers(fmap: folium.Map, cls: type) -> list:
    return [c for c in fmap._children.values() if isinstance(c, cls)]


def _geojson_props(layer: folium.GeoJson) -> list[dict]:
    return [f["properties"] for f in layer.data["features"]]


# ----------------------------------------------------------------- palette


def test_share_breaks_are_fixed_for_good_ramp():
    assert palette.class_breaks(np.array([0.31, 0.42]), ramp="good") == [
        0.0, 0.5, 0.7, 0.8, 0.9, 1.0
    ]


def test_quantile_breaks_for_counts():
    # quantiles at 0, .25, .5, .75, 1 of 0..100 step 1 are 0, 25, 50, 75, 100
    breaks = palette.class_breaks(np.arange(101, dtype=float), n=4, ramp="seq")
    assert breaks == [0.0, 25.0, 50.0, 75.0, 100.0]


def test_quantile_breaks_ignore_nan_and_deduplicate():
    # finite values 2, 2, 2, 2, 5: min 2, median 2, max 5 -> breaks 2, 2, 5 -> 2, 5
    breaks = palette.class_breaks(np.array([2.0, 2.0, 2.0, 2.0, np.nan, 5.0]), n=2, ramp="seq")
    assert breaks == [2.0, 5.0]


def test_color_for_top_share_class_is_green():
    assert palette.color_for(0.95, palette.SHARE_BREAKS, "good") == "#1a9641"


def test_color_for_low_share_is_red():
    assert palette.color_for(0.2, palette.SHARE_BREAKS, "good") == "#d7191c"


def test_color_for_nan_is_grey():
    assert palette.color_for(float("nan"), palette.SHARE_BREAKS, "good") == "#cccccc"


def test_two_classes_use_ramp_ends():
    assert palette.class_colors([2.0, 3.0, 5.0], "bad") == ["#fee5d9", "#a50f15"]


def test_unknown_ramp_raises():
    with pytest.raises(OutputError, match="unknown colour ramp 'rainbow'"):
        palette.class_breaks(np.array([1.0]), ramp="rainbow")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=False, width=32), max_size=30),
    st.sampled_from(sorted(palette.RAMPS)),
)
def test_every_value_gets_a_ramp_colour_or_grey(values, ramp):
    breaks = palette.class_breaks(np.array(values, dtype=float), ramp=ramp)
    allowed = set(palette.RAMPS[ramp]) | {palette.NODATA_COLOR}
    assert {palette.color_for(v, breaks, ramp) for v in values} <= allowed


def test_target_breaks_put_forest_target_on_a_class_edge():
    # 0.41: halves to 0.205, 0.8 * 0.41 = 0.328, halfway to 1 = 0.705
    breaks = palette.class_breaks(np.array([0.35, 0.45]), ramp="good", target=0.41)
    assert breaks == pytest.approx([0.0, 0.205, 0.328, 0.41, 0.705, 1.0], abs=1e-12)


def test_value_at_target_is_green_and_just_below_is_yellow():
    breaks = palette.class_breaks(np.array([0.4]), ramp="good", target=0.41)
    colours = [palette.color_for(v, breaks, "good") for v in (0.409, 0.41)]
    assert colours == ["#ffffbf", "#a6d96a"]


def test_target_ignored_for_values_that_are_not_shares():
    breaks = palette.class_breaks(np.arange(101, dtype=float), n=4, ramp="good", target=0.5)
    assert breaks == [0.0, 25.0, 50.0, 75.0, 100.0]


def test_target_of_one_keeps_fixed_share_breaks():
    breaks = palette.class_breaks(np.array([0.3]), ramp="good", target=1.0)
    assert breaks == palette.SHARE_BREAKS


def test_target_breaks_outside_unit_interval_raise():
    with pytest.raises(OutputError, match="strictly between 0 and 1, got 1.2"):
        palette.target_breaks(1.2)


@settings(max_examples=80, deadline=None)
@given(
    st.floats(min_value=1e-3, max_value=0.999),
    st.integers(min_value=2, max_value=8),
    st.sampled_from(["good", "bad"]),
)
def test_target_breaks_ascending_span_unit_interval_and_hold_target(target, n, ramp):
    breaks = palette.class_breaks(np.array([0.5]), n=n, ramp=ramp, target=target)
    assert (
        breaks == sorted(set(breaks))
        and (breaks[0], breaks[-1]) == (0.0, 1.0)
        and min(abs(b - target) for b in breaks) < 1e-9
        and len(breaks) <= n + 1
    )


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=1e-3, max_value=0.999),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_target_colour_is_a_green_exactly_when_target_reached(target, value):
    breaks = palette.class_breaks(np.array([value]), ramp="good", target=target)
    greens = set(palette.RAMPS["good"][3:])
    assert (palette.color_for(value, breaks, "good") in greens) == (value >= target)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), max_size=30))
def test_breaks_ascending_and_at_least_two(values):
    breaks = palette.class_breaks(np.array(values, dtype=float), ramp="seq")
    assert len(breaks) >= 2 and breaks == sorted(breaks)


# ----------------------------------------------------------------- i18n


def test_every_string_key_in_both_languages():
    assert set(i18n.STRINGS["en"]) == set(i18n.STRINGS["zh"])


def test_unknown_language_raises():
    with pytest.raises(OutputError, match="language 'fr' is not supported"):
        i18n.t("scorecard", "fr")


def test_category_indicator_label_names_category():
    assert i18n.indicator_label("pop_share_primary_school", language="en") == (
        "Share of residents with primary school"
    )


# ----------------------------------------------------------------- pieces


def test_to_wgs84_without_crs_raises():
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)])
    with pytest.raises(CRSError, match="result layer 'gaps' has no CRS"):
        fl.to_wgs84(gdf, name="gaps")


def test_base_map_has_no_tile_layer_by_default():
    fmap = fl.base_map((104.0, 30.6, 104.1, 30.7))
    assert _layers(fmap, folium.TileLayer) == []


def test_base_map_adds_given_tiles():
    fmap = fl.base_map((104.0, 30.6, 104.1, 30.7), tiles="https://tiles.example.org/{z}/{x}/{y}.png")
    assert [t.tiles for t in _layers(fmap, folium.TileLayer)] == [
        "https://tiles.example.org/{z}/{x}/{y}.png"
    ]


def test_analysis_map_fits_district_bounds():
    fmap = fl.analysis_map(make_park_result())
    expected = district_squares().to_crs("EPSG:4326").total_bounds
    (fit,) = _layers(fmap, fl.FitToBounds)
    assert np.allclose(np.ravel(fit.bounds), expected[[1, 0, 3, 2]])


def test_analysis_map_has_one_choropleth_per_indicator_and_result_layers():
    fmap = fl.analysis_map(make_park_result())
    names = [g.layer_name for g in _layers(fmap, folium.GeoJson)]
    assert names == [
        "Share of residents covered",
        "Share of residential land covered",
        "Residential land outside every park service area",
        "Parks",
    ]


def test_analysis_map_has_layer_control():
    assert len(_layers(fl.analysis_map(make_park_result()), folium.LayerControl)) == 1


def test_layer_control_expanded_for_few_layers():
    (control,) = _layers(fl.analysis_map(make_park_result()), folium.LayerControl)
    assert control.options["collapsed"] is False


def test_zh_map_uses_chinese_layer_titles():
    fmap = fl.analysis_map(make_park_result(), language="zh")
    names = [g.layer_name for g in _layers(fmap, folium.GeoJson)]
    assert "公园服务范围外的居住用地" in names


def test_choropleth_colours_follow_share_breaks():
    fmap = fl.analysis_map(make_park_result())
    first = _layers(fmap, folium.GeoJson)[0]
    # pop_share by district: 0.95 (>= .9 green), 0.6 (.5-.7 orange), 1.0 (green)
    assert [p["_fill"] for p in _geojson_props(first)] == ["#1a9641", "#fdae61", "#1a9641"]


def test_legend_lists_fixed_share_classes_without_target():
    districts = make_park_result().layers["districts"]
    (_, legend, *_) = fl.district_layers(districts, {"pop_share": ("Covered", "share")})
    labels = re.findall(r"</span>([^<]+)</div>", legend.html_text)
    assert labels == [
        "0.0% – 50.0%", "50.0% – 70.0%", "70.0% – 80.0%", "80.0% – 90.0%", "90.0% – 100.0%",
    ]


def test_legend_puts_forest_target_on_a_class_edge():
    districts = make_park_result().layers["districts"]
    (_, legend, *_) = fl.district_layers(
        districts, {"pop_share": ("Forest", "share")}, targets={"pop_share": 0.41}
    )
    labels = re.findall(r"</span>([^<]+)</div>", legend.html_text)
    assert labels == [
        "0.0% – 20.5%", "20.5% – 32.8%", "32.8% – 41.0%", "41.0% – 70.5%", "70.5% – 100.0%",
    ]


def test_analysis_map_classes_targeted_share_at_its_target():
    fmap = fl.analysis_map(make_park_result())  # pop_share target 0.9
    legend = _layers(fmap, fl.Legend)[0].html_text
    labels = re.findall(r"</span>([^<]+)</div>", legend)
    assert labels == [
        "0.0% – 45.0%", "45.0% – 72.0%", "72.0% – 90.0%", "90.0% – 95.0%", "95.0% – 100.0%",
    ]


def test_h3_layer_classes_cells_at_target():
    (_, legend) = fl.h3_layer(make_h3_cells(), value_field="pop_share", unit="share", target=0.41)
    labels = re.findall(r"</span>([^<]+)</div>", legend.html_text)
    assert labels[2:4] == ["32.8% – 41.0%", "41.0% – 70.5%"]


def test_legend_has_no_data_row_for_missing_values():
    districts = make_park_result().layers["districts"]
    districts.loc[1, "pop_share"] = np.nan
    (_, legend, *_) = fl.district_layers(districts, {"pop_share": ("Covered", "share")})
    assert legend.html_text.endswith("No data</div>")


def test_zh_legend_labels_missing_values_in_chinese():
    districts = make_park_result().layers["districts"]
    districts.loc[1, "pop_share"] = np.nan
    (_, legend, *_) = fl.district_layers(
        districts, {"pop_share": ("覆盖", "share")}, language="zh"
    )
    assert legend.html_text.endswith("无数据</div>")


def test_missing_value_drawn_grey():
    districts = make_park_result().layers["districts"]
    districts.loc[1, "pop_share"] = np.nan
    (layer, *_) = fl.district_layers(districts, {"pop_share": ("Covered", "share")})
    assert [p["_fill"] for p in _geojson_props(layer)] == ["#1a9641", "#cccccc", "#1a9641"]


def test_single_colour_layer_legend_names_layer():
    r = make_park_result()
    (_, legend) = fl.result_layer(r.layers["gaps"], r.style("gaps"), name="gaps")
    assert "Residential land outside every park service area" in legend.html_text


def test_points_drawn_as_circle_markers():
    r = make_tod_result()
    (layer, _) = fl.result_layer(r.layers["stations"], r.style("stations"), name="stations")
    assert isinstance(layer.marker, folium.CircleMarker)


def test_popup_values_escaped():
    r = make_park_result()
    (layer, _) = fl.result_layer(r.layers["parks"], r.style("parks"), name="parks")
    assert [p["f0"] for p in _geojson_props(layer)] == [
        "Renmin Park", "&lt;script&gt;alert(1)&lt;/script&gt;"
    ]


def test_popup_aliases_use_layer_labels():
    r = make_park_result()
    (layer, _) = fl.result_layer(r.layers["gaps"], r.style("gaps"), name="gaps", language="zh")
    popup = next(c for c in layer._children.values() if isinstance(c, folium.GeoJsonPopup))
    assert popup.aliases == ["面积（平方米）"]


def test_layer_title_escaped():
    gdf = make_tod_result().layers["stations"]
    (layer, _) = fl.result_layer(gdf, LayerStyle(title=EVIL), name="stations")
    assert layer.layer_name == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_map_page_title_escaped():
    page = fl.render_map_html(fl.analysis_map(make_park_result(), title=EVIL))
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in page


def test_rendered_map_never_contains_raw_script_name():
    assert EVIL not in fl.render_map_html(fl.analysis_map(make_park_result()))


def test_empty_layer_is_skipped():
    empty = make_park_result().layers["gaps"].iloc[:0]
    assert fl.result_layer(empty, name="gaps") == []


def test_h3_layer_colours_cells_by_indicator():
    (layer, _) = fl.h3_layer(make_h3_cells(), value_field="pop_share", unit="share")
    assert [p["_fill"] for p in _geojson_props(layer)] == ["#1a9641", "#fdae61", "#1a9641"]


def test_h3_layer_without_hex_id_raises():
    cells = make_h3_cells().drop(columns="hex_id")
    with pytest.raises(OutputError, match="H3 cells need a 'hex_id' column"):
        fl.h3_layer(cells)


def test_analysis_map_adds_h3_layer_hidden():
    fmap = fl.analysis_map(make_park_result(), h3_cells=make_h3_cells())
    last = _layers(fmap, folium.GeoJson)[-1]
    assert (last.layer_name, last.show) == ("H3 cells: Share of residents covered", False)


def test_rendered_map_fetches_nothing():
    page = fl.render_map_html(fl.analysis_map(make_tod_result(), h3_cells=make_h3_cells()))
    assert fetched_urls(page) == []


def test_rendered_map_has_no_cdn_reference():
    page = fl.render_map_html(fl.analysis_map(make_park_result()))
    assert not re.search(r"cdn\.jsdelivr|code\.jquery|cdnjs|bootstrapcdn", page)


def test_render_twice_gives_same_page():
    fmap = fl.analysis_map(make_park_result(), h3_cells=make_h3_cells())
    assert fl.render_map_html(fmap) == fl.render_map_html(fmap)


def test_point_markers_are_filled():
    r = make_tod_result()
    (layer, _) = fl.result_layer(r.layers["stations"], r.style("stations"), name="stations")
    (style,) = [c for c in layer._children.values() if isinstance(c, fl.PropertyStyle)]
    assert style.base["fill"] is True


def test_write_map_writes_file_and_no_temporary(tmp_path: Path):
    fl.write_map(fl.analysis_map(make_park_result()), tmp_path / "parks_500m.html")
    assert [p.name for p in tmp_path.iterdir()] == ["parks_500m.html"]


def test_write_map_into_missing_folder_raises(tmp_path: Path):
    with pytest.raises(OutputError, match="cannot write"):
        fl.write_map(fl.analysis_map(make_park_result()), tmp_path / "nope" / "m.html")


def test_analysis_map_of_empty_result_raises():
    result = make_park_result()
    result.layers, result.units = {}, result.units.iloc[:0]
    with pytest.raises(OutputError, match="analysis 'parks_500m' has nothing to map"):
        fl.analysis_map(result)


def test_mixed_layer_draws_points_as_circle_markers():
    gdf = pd.concat([make_tod_result().layers["stations"], make_park_result().layers["gaps"]])
    (layer, _) = fl.result_layer(gpd.GeoDataFrame(gdf, crs=CRS), name="mixed")
    assert isinstance(layer.marker, folium.CircleMarker)


def test_analysis_map_leaves_result_layers_unchanged():
    result = make_park_result()
    before = result.layers["gaps"].copy()
    fl.analysis_map(result)
    pd.testing.assert_frame_equal(result.layers["gaps"], before)


def test_targeted_indicator_shown_first_whatever_its_order():
    park = make_park_result()
    park.indicators = dict(reversed(list(park.indicators.items())))  # area_share first
    first = _layers(fl.analysis_map(park), folium.GeoJson)[0]
    assert first.layer_name == "Share of residents covered"


def test_legend_breaks_of_plain_values_rounded_to_their_size():
    labels = class_labels([0.0, 51.4, 427.8, 1204.6], unit=None, language="en")
    assert labels == ["0 – 51.4", "51.4 – 428", "428 – 1,205"]


def test_graduated_legend_names_the_labelled_value_field():
    r = make_park_result()
    style = dataclasses.replace(r.style("parks"), labels={"en": {"area_m2": "Park area (m²)"}})
    (_, legend) = fl.result_layer(r.layers["parks"], style, name="parks")
    assert '<div class="uf-legend-caption">Park area (m²)</div>' in legend.html_text
