"""Tests of the offline HTML report: scorecard, district table, languages, no fetches."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_maps import (
    EVIL,
    districts_layer,
    fetched_urls,
    make_h3_cells,
    make_park_result,
    make_tod_result,
)

from urbanform.errors import OutputError
from urbanform.layers.types import Provenance
from urbanform.maps import analysis_map, render_map_html, render_report, write_report
from urbanform.maps.compare import comparisons
from urbanform.maps.report import district_table, population_short, scorecard_rows
from urbanform.results import AnalysisResult, Indicator, IndicatorValue, Target, indicator_values

PROVENANCE = [
    Provenance("districts", "districts", "data/districts.gpkg", 3, "EPSG:32648", "ab" * 32),
    Provenance("parks", "parks", "data/parks.gpkg", 2, "EPSG:4490", "cd" * 32),
]


def build(language: str = "en", **overrides) -> str:
    park, tod = make_park_result(), make_tod_result()
    args = {
        "workspace_name": "Chengdu demo",
        "crs": "EPSG:32648",
        "results": [park, tod],
        "maps": {
            park.name: analysis_map(park, h3_cells=make_h3_cells(), language=language),
            tod.name: analysis_map(tod, language=language),
        },
        "provenance": PROVENANCE,
        "warnings": ["2 geometries repaired in layer parks", f"class {EVIL} unmapped"],
        "language": language,
        "version": "0.1.0",
        "run_seconds": 12.34,
        "started_at": "2026-11-25T15:00:00Z",
    }
    return render_report(**{**args, **overrides})


@pytest.fixture(scope="module")
def page_en() -> str:
    return build("en")


@pytest.fixture(scope="module")
def page_zh() -> str:
    return build("zh")


class _Tables(HTMLParser):
    """Text of every cell, per table id or class: {id or class: [[cell, ...], ...]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = dict(attrs).get("id") or dict(attrs).get("class", "")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


# ----------------------------------------------------------------- scorecard


def test_population_short_is_ceil_of_target_times_population_minus_covered():
    # 0.9 * 2500 - 2050 = 200 residents
    (pop,) = [i for k, i in make_park_result().indicators.items() if k == "pop_share"]
    assert population_short(pop) == 200


def test_population_short_rounds_up():
    ind = Indicator(
        "pop_share", "share", "", Target("pop_share", ">=", 0.9),
        IndicatorValue(0.8, False, 8, 10.5),
    )
    # 0.9 * 10.5 - 8 = 1.45 -> 2
    assert population_short(ind) == 2


def test_population_short_zero_when_met():
    ind = Indicator(
        "pop_share", "share", "", Target("pop_share", ">=", 0.5), IndicatorValue(0.8, True, 8, 10)
    )
    assert population_short(ind) == 0


def test_population_short_none_for_area_share():
    ind = Indicator(
        "area_share", "share", "", Target("area_share", ">=", 0.9),
        IndicatorValue(0.8, False, 8, 10),
    )
    assert population_short(ind) is None


def test_scorecard_has_one_row_per_target():
    rows = scorecard_rows([make_park_result(), make_tod_result()])
    assert [(r.analysis, r.indicator) for r in rows] == [
        ("parks_500m", "Share of residents covered"),
        ("tod_800m", "Share of residents covered"),
    ]


def test_scorecard_table_rows(page_en: str):
    rows = tables(page_en)["uf-scorecard"]
    # park: 2050 / 2500 = 82.0% < 90%, 200 short; tod: area-as-pop 240/300 = 80.0% >= 50%
    assert rows[1:] == [
        ["parks_500m Park green space coverage", "Share of residents covered", "82.0%",
         "≥ 90.0%", "2025", "Chengdu decision 2021, art. 6", "Not met", "200"],
        ["tod_800m Transit-oriented development", "Share of residents covered", "80.0%",
         "≥ 50.0%", "–", "–", "Met", "0"],
    ]


def test_scorecard_comes_before_districts_and_maps(page_en: str):
    positions = [page_en.index(m) for m in ('id="scorecard"', 'id="districts"', "<iframe")]
    assert positions == sorted(positions)


# ----------------------------------------------------------------- district table


def test_district_table_columns_span_analyses():
    columns, _ = district_table([make_park_result(), make_tod_result()])
    assert [(c["analysis"], c["label"]) for c in columns] == [
        ("parks_500m", "Share of residents covered"),
        ("parks_500m", "Share of residential land covered"),
        ("tod_800m", "Share of residents covered"),
        ("tod_800m", "Share of jobs covered"),
    ]


def test_district_table_rows(page_en: str):
    rows = tables(page_en)["uf-sortable uf-districts"]
    # pop 950/1000, 600/1000, 500/500; area 90/100, 50/100, 100/100 (tod swaps them)
    assert rows[1:] == [
        ["Jinjiang", "95.0%", "90.0%", "90.0%", "95.0%"],
        ["Qingyang", "60.0%", "50.0%", "50.0%", "60.0%"],
        ["Wuhou", "100.0%", "100.0%", "100.0%", "100.0%"],
    ]


def test_district_table_marks_unmet_cells(page_en: str):
    assert re.search(r'class="num unmet" data-sort="0\.6">60\.0%', page_en)


def test_district_table_is_sortable_by_inline_script(page_en: str):
    assert 'class="uf-sortable' in page_en and "thead th" in page_en


def test_district_names_escaped_in_table():
    park = make_park_result()
    park.indicators["pop_share"].districts[EVIL] = IndicatorValue(0.5, False, 1, 2)
    page = build(results=[park], maps={})
    assert EVIL not in page and html.escape(EVIL) in page


# ----------------------------------------------------------------- sections


def test_each_analysis_has_map_method_parameters_warnings(page_en: str):
    sections = re.findall(r'<section id="analysis-\d+".*?</section>', page_en, flags=re.S)
    assert [("<iframe" in s, "<h3>Method</h3>" in s, "uf-params" in s) for s in sections] == [
        (True, True, True),
        (True, True, True),
    ]


def test_analysis_warning_listed(page_en: str):
    assert "3 population points farther than 100 m" in page_en


def test_global_warnings_escaped(page_en: str):
    assert f"class {html.escape(EVIL)} unmapped" in page_en


def test_provenance_rows(page_en: str):
    rows = tables(page_en)["uf-provenance"]
    assert rows[1:] == [
        ["districts", "districts", "data/districts.gpkg", "3", "EPSG:32648", "ab" * 32],
        ["parks", "parks", "data/parks.gpkg", "2", "EPSG:4490", "cd" * 32],
    ]


def test_version_and_run_time_shown(page_en: str):
    assert "<dd>0.1.0</dd>" in page_en and "<dd>12.3 s</dd>" in page_en


def test_parameters_shown_as_json(page_en: str):
    assert "<td>tiers</td><td>[{&#34;min_area_m2&#34;: 5000, &#34;radius_m&#34;: 500}]</td>" in (
        page_en
    )


def test_raw_script_never_in_page(page_en: str):
    assert EVIL not in page_en


class _Frames(HTMLParser):
    """The map frames (``data-map``) and JSON script elements (by id) of a report."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[str] = []
        self.scripts: dict[str, str] = {}
        self._script: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "iframe" and a.get("data-map"):
            self.frames.append(a["data-map"])
        if tag == "script" and a.get("type") == "application/json":
            self._script = a["id"]
            self.scripts[self._script] = ""

    def handle_data(self, data):
        if self._script is not None:
            self.scripts[self._script] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


def srcdocs(page: str) -> list[str]:
    """The pages the report's script puts in its map frames, as the browser gets them.

    Written apart from report.js: each frame's page is the JSON text ``{id}-page`` with
    the report's one copy of the assets and of the context put in place of the tokens.
    """
    parser = _Frames()
    parser.feed(page)
    assets = json.loads(parser.scripts.get("uf-map-assets", '""'))
    context = parser.scripts.get("uf-map-context", "null")
    return [
        json.loads(parser.scripts[f"{frame}-page"])
        .replace("<!--urbanform:assets-->", assets, 1)
        .replace('"urbanform:context"', context, 1)
        for frame in parser.frames
    ]


def test_raw_script_never_in_embedded_maps(page_en: str):
    assert [EVIL in doc for doc in srcdocs(page_en)] == [False, False]


def test_embedded_map_is_the_standalone_page():
    park = make_park_result()
    fmap = analysis_map(park)
    page = build(results=[park], maps={park.name: fmap})
    assert srcdocs(page) == [render_map_html(fmap)]


def test_report_is_smaller_than_its_maps(page_en: str):
    # two maps, one copy of Leaflet: the page is lighter than the two pages it embeds
    maps = srcdocs(page_en)
    assert len(page_en) < sum(len(m) for m in maps) - 100_000


# ----------------------------------------------------------------- languages


def test_chinese_report_labels(page_zh: str):
    rows = tables(page_zh)["uf-scorecard"]
    assert rows[0][:3] == ["分析", "指标", "全市数值"] and rows[1][6] == "未达标"


def test_chinese_report_lang_attribute(page_zh: str):
    assert page_zh.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')


def test_unknown_language_raises():
    with pytest.raises(OutputError, match="language 'de' is not supported"):
        build("de")


# ----------------------------------------------------------------- offline


def report_fetches(page: str) -> list[str]:
    """URLs the report and the map pages its script builds would request."""
    return fetched_urls(page) + [u for doc in srcdocs(page) for u in fetched_urls(doc)]


def test_report_fetches_nothing(page_en: str):
    assert report_fetches(page_en) == []


def test_report_holds_leaflet_once(page_en: str):
    assert page_en.count("Leaflet 1.9.4, a JS library") == 1


def test_report_maps_each_get_leaflet(page_en: str):
    assert [m.count("Leaflet 1.9.4, a JS library") for m in srcdocs(page_en)] == [1, 1]


def test_report_with_tiles_references_only_given_server():
    park = make_park_result()
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    page = build(results=[park], maps={park.name: analysis_map(park, tiles=tiles)})
    assert set(report_fetches(page)) == {tiles}


def test_write_report_writes_one_file(tmp_path: Path):
    park = make_park_result()
    write_report(
        tmp_path / "report.html",
        workspace_name="w",
        crs="EPSG:32648",
        results=[park],
        maps={},
        provenance=[],
        warnings=[],
        version="0.1.0",
        run_seconds=1.0,
        started_at="2026-11-25T15:00:00Z",
    )
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# ----------------------------------------------------------------- comparison of runs


def make_network_park_result() -> AnalysisResult:
    """parks_500m walked on the network: fewer residents covered than by straight line.

    Covered 800, 500, 500 of 1000, 1000, 500: shares 0.8, 0.5, 1.0, city 1800 / 2500 =
    0.72; area 70, 40, 100 of 100 each: 0.7, 0.4, 1.0, city 0.7.
    """
    park = make_park_result()
    units = park.units.copy()
    units["pop_share__num"] = [800.0, 500.0, 500.0]
    units["area_share__num"] = [70.0, 40.0, 100.0]
    target = park.indicators["pop_share"].target
    indicators = {
        "pop_share": indicator_values(units, "pop_share", target=target, label="pop covered"),
        "area_share": indicator_values(units, "area_share", label="area covered"),
    }
    return dataclasses.replace(
        park,
        name="parks_network",
        params={**park.params, "distance": "network"},
        indicators=indicators,
        units=units,
        layers={**park.layers, "districts": districts_layer(indicators)},
    )


def build_comparison(language: str = "en") -> str:
    park, network, tod = make_park_result(), make_network_park_result(), make_tod_result()
    results = [park, tod, network]
    maps = {r.name: analysis_map(r, language=language) for r in results}
    return build(language, results=results, maps=maps)


@pytest.fixture(scope="module")
def compare_en() -> str:
    return build_comparison("en")


@pytest.fixture(scope="module")
def compare_zh() -> str:
    return build_comparison("zh")


def test_no_comparison_without_two_runs_of_a_kind(page_en: str):
    assert 'id="comparison"' not in page_en


def test_comparison_table_values_and_differences(compare_en: str):
    rows = tables(compare_en)["compare-park_coverage-pop_share"]
    # network - straight line: 80 - 95, 50 - 60, 100 - 100, city 72 - 82 (pp)
    assert rows[1:] == [
        ["Jinjiang", "95.0%", "80.0%", "−15.0 pp"],
        ["Qingyang", "60.0%", "50.0%", "−10.0 pp"],
        ["Wuhou", "100.0%", "100.0%", "0.0 pp"],
        ["City", "82.0%", "72.0%", "−10.0 pp"],
    ]


def test_comparison_headers_name_distance_type(compare_en: str):
    (header, *_) = tables(compare_en)["compare-park_coverage-pop_share"]
    assert header == [
        "District", "parks_500m (straight line)", "parks_network (walking)",
        "Difference parks_network − parks_500m",
    ]


def test_comparison_covers_every_shared_indicator(compare_en: str):
    # area shares 0.9, 0.5, 1.0 (city 0.8) against 0.7, 0.4, 1.0 (city 0.7)
    rows = tables(compare_en)["compare-park_coverage-area_share"]
    assert [r[-1] for r in rows[1:]] == ["−20.0 pp", "−10.0 pp", "0.0 pp", "−10.0 pp"]


def test_comparison_marks_unmet_values(compare_en: str):
    # Qingyang 60% < 90% target: the run value cell is marked unmet
    assert '<td class="num unmet">60.0%</td>' in compare_en


def test_comparison_leaves_out_kinds_with_one_run(compare_en: str):
    assert not any(key.startswith("compare-tod") for key in tables(compare_en))


def test_comparison_maps_side_by_side_copy_the_analysis_maps(compare_en: str):
    section = compare_en.split('id="comparison"')[1].split("</section>")[0]
    sources = re.findall(r'<iframe class="uf-map"[^>]*data-map="([\w-]+)"', section)
    # parks_500m is the first result, parks_network the third
    assert sources == ["map-1", "map-3"]


def test_comparison_map_sources_exist(compare_en: str):
    ids = re.findall(r'<iframe class="uf-map" id="([\w-]+)"', compare_en)
    assert ids == ["map-1", "map-2", "map-3"]


def test_comparison_linked_from_contents(compare_en: str):
    assert '<a href="#comparison">Run comparison</a>' in compare_en


def test_chinese_comparison_table(compare_zh: str):
    rows = tables(compare_zh)["compare-park_coverage-pop_share"]
    assert (rows[0][1:3], rows[-1]) == (
        ["parks_500m （直线距离）", "parks_network （步行距离）"],  # the note on its own line
        ["全市", "82.0%", "72.0%", "−10.0 个百分点"],
    )


def test_runs_differing_only_by_target_are_named_by_target():
    park = make_park_result()
    later = dataclasses.replace(
        park,
        name="parks_2030",
        indicators={
            **park.indicators,
            "pop_share": dataclasses.replace(
                park.indicators["pop_share"], target=Target("pop_share", ">=", 0.95, year=2030)
            ),
        },
    )
    (comparison,) = comparisons([park, later])
    assert [r.header for r in comparison.runs] == [
        "parks_500m (2025 target ≥ 90.0%)", "parks_2030 (2030 target ≥ 95.0%)",
    ]


def test_runs_go_by_a_numeric_distinguishing_parameter():
    park = make_park_result()
    runs = [
        dataclasses.replace(park, name=f"circle{level}", params={"level": level})
        for level in (10, 15, 5)
    ]
    (comparison,) = comparisons(runs)
    assert [r.header for r in comparison.runs] == [
        "circle5 (5-minute circle)", "circle10 (10-minute circle)", "circle15 (15-minute circle)",
    ]


def test_targeted_indicator_compared_first():
    park, network = make_park_result(), make_network_park_result()
    for r in (park, network):
        r.indicators = dict(reversed(list(r.indicators.items())))  # area_share first
    (comparison,) = comparisons([park, network])
    assert [t.key for t in comparison.tables] == ["pop_share", "area_share"]
