"""Every warning urbanform's library code writes reads in Chinese in the zh report.

Each case builds a warning through the real code path where that is cheap (harmonise,
``island_warning``, the park, facility, station and study-area helpers); the others
format the message template copied from the source with sample values, and name the
source in a comment. A warning changed in the source without its pattern in
``urbanform/maps/i18n.py`` then fails here (for the real code paths) or in review.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from urbanform.analyses.living_circle import _facility_warnings, _units_phrase
from urbanform.analyses.park_coverage import _park_warnings
from urbanform.analyses.stations import ENTRANCE_JOIN_M, unnamed_warning
from urbanform.layers.harmonise import _map_classes, _outside_study_area, _repair
from urbanform.layers.tables import _table_crs
from urbanform.layers.types import LayerSpec
from urbanform.maps import i18n
from urbanform.network import Snapped, island_warning

# ASCII words a Chinese warning may keep: codes, field and parameter names, units
ALLOWED = (
    "EPSG", "WGS", "GCJ", "classes", "crs", "role: population", "min_piece_share",
    "max_snap_m", "workers", "H3",
)


def english_words(text: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Runs of 3+ ASCII letters in ``text`` besides the allowed tokens and ``extra``.

    ``extra`` are the names the warning carries as written (files, values, places); the
    layer and file of a translated prefix ``图层 NAME（FILE）：`` are left out too.
    """
    text = re.sub(r"图层 [^（\s]+（[^）]*）：", " ", text)
    for token in sorted((*extra, *ALLOWED), key=len, reverse=True):
        text = text.replace(token, " ")
    return re.findall(r"[A-Za-z]{3,}", text)


def _spec(role: str, **kw) -> LayerSpec:
    return LayerSpec(name=role, role=role, source=f"{role}.gpkg", file=f"layers/{role}.yml", **kw)


def _collect(fn: Callable[[Callable[[str], None]], object]) -> list[str]:
    out: list[str] = []
    fn(out.append)
    return out


def _snapped(ok: list[bool], island: list[bool] | None = None) -> Snapped:
    n = len(ok)
    edge = np.where(np.array(ok), 0, -1)
    return Snapped(edge, np.zeros(n), np.ones(n), None if island is None else np.array(island))


# -- warnings built by the real code ----------------------------------------------------


def _harmonise_warnings() -> list[str]:
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    gdf = gpd.GeoDataFrame({"geometry": [None, bowtie, Point(0, 0).buffer(1)]}, crs=3857)
    facilities = gpd.GeoDataFrame(
        {"category": ["school", "xyz"], "geometry": [Point(0, 0), Point(1, 1)]}, crs=3857
    )
    landuse = gpd.GeoDataFrame({"class": ["R", "Q9"], "geometry": [Point(0, 0)] * 2}, crs=3857)
    fac = _spec("facilities", classes={"primary_school": ["school"]})
    own = {"residential": ["R"]}
    return [
        *_collect(lambda w: _repair(gdf, _spec("parks"), w)),
        *_collect(lambda w: _map_classes(facilities, fac, w)),
        *_collect(lambda w: _map_classes(landuse.copy(), _spec("landuse", classes=own), w)),
        *_collect(lambda w: _map_classes(landuse.copy(), _spec("landuse", preset="gb50137"), w)),
    ]


def _real_warnings() -> list[str]:
    parks = gpd.GeoDataFrame({"counts": [True, False], "geometry": [Point(0, 0)] * 2})
    tiers = [{"min_area_m2": 2000.0, "radius_m": 500.0}]
    fac = gpd.GeoDataFrame({"category": ["primary_school"] * 3 + ["kindergarten"]})
    stations = gpd.GeoDataFrame({"name": ["A"], "geometry": [Point(0, 0)]})
    stations.attrs["unnamed_left_out"] = 3
    area = gpd.GeoDataFrame({"geometry": [Point(0, 0).buffer(10)]}, crs=3857)
    far = gpd.GeoDataFrame({"geometry": [Point(1000, 1000)]}, crs=3857)
    notes: list[str] = []
    warns: list[str] = []
    lon, lat = np.array([104.0]), np.array([30.6])
    _table_crs(_spec("stations"), "lon", lon, lat, "st.csv", notes, warns)
    isl = _snapped([True, True], [True, False])
    return [
        *_harmonise_warnings(),
        *warns,
        *_park_warnings(parks, tiers),
        *_park_warnings(parks.assign(counts=False), tiers),
        *island_warning(isl, np.array([40.0, 60.0]), "population units", "residents"),
        *island_warning(isl, np.array([40.0, 60.0]), "land samples", "m²"),
        *island_warning(isl, np.array([40.0, 60.0]), "population and job units", "residents"),
        *island_warning(isl, np.ones(2), "station entrances", "entrances"),
        *_facility_warnings(
            fac, _snapped([True, False, False, False]),
            ["primary_school", "kindergarten", "middle_school"], 100.0,
        ),
        *unnamed_warning(stations),
        *_outside_study_area({"boundary": area, "jobs": far}),
        *_outside_study_area({"districts": area, "parks": far}),
    ]


# -- warnings formatted from the source's template with sample values -------------------

n, m, d, r = 12, 345, 100.0, 6789.0
TEMPLATES = [
    # urbanform/layers/dasymetric.py place_counts (what: buildings, or the target classes)
    "role 'population': 2 of 9 polygons hold no buildings (Wuhou, feature 7); their 1,234 "
    "population stay spread over the polygon's own area",
    "role 'jobs': 2 of 9 polygons hold no commercial or industrial or public land (feature 1, "
    "feature 2); their 1,234 jobs stay spread over the polygon's own area",
    "role 'population': 1 of 3 polygons hold no residential land (A); their 50 population stay "
    "spread over the polygon's own area",
    # urbanform/analyses/park_coverage.py park_coverage (missing from residential_land)
    "area_share is not computed: no landuse layer (it needs residential land; add "
    "layers/landuse.yml); pop_share needs only parks and residents",
    "area_share is not computed: the landuse layer has no residential land; check the "
    "'classes' mapping of its layers/*.yml; pop_share needs only parks and residents",
    "pop_share is not computed: no population layer; add layers/population.yml with "
    "'role: population'",
    # urbanform/analyses/park_coverage.py _entrances, _access_points, _unit_warnings
    f"{n} of {m} mapped park entrances lie farther than {ENTRANCE_JOIN_M:g} m from every "
    "counting park and are not used",
    f"{n} of {m} park access points lie farther than {d:g} m from any street and are not used",
    f"{n} counting parks have no access point near a street: they serve nobody",
    f"{n} land samples ({r:,.0f} m²) lie farther than the snapping limit from any street and "
    "count as not covered",
    f"{n} population units ({r:,.0f} residents) snap to streets cut off from the main network",
    # urbanform/analyses/living_circle.py _network_warnings
    f"{_units_phrase(1, r)} lie farther than {d:g} m from any street and count as not covered",
    f"{_units_phrase(n, r)} lie on street pieces without any facility and count as not covered",
    f"{n:,} street pieces cut off from the main network hold {_units_phrase(m, r)}",
    # urbanform/analyses/tod.py _snap_warnings and tod
    f"{n:,} population units ({r:,.0f} residents) lie farther than {d:g} m from any street "
    "and count as not within reach",
    f"{n:,} job units ({r:,.0f} jobs) lie farther than {d:g} m from any street and count as "
    "not within reach",
    f"{n:,} stations have no entrance within {d:g} m of a street and get empty catchments: "
    "天府广场, 春熙路, ...",
    "no jobs layer: jobs and jobs_share are not computed and activity density counts "
    "residents only",
    # urbanform/analyses/jobs_housing.py _units, _balanced_columns
    f"{n:,} population units have no 'workers' value: their workers are residents x "
    f"employment rate {0.55:g}",
    f"{n:,} population units ({r:,.0f} residents) lie outside every district and are left "
    "out of balanced_share",
    # urbanform/analyses/commute.py commute_figures
    f"the transport problem has {12345:,} non-empty H3 cells at resolution 9 (limit "
    f"{4000:,}); it was solved on {3000:,} cells at resolution 8",
    # urbanform/analyses/forest_cover.py
    "no land area found in the study area: forest cover is undefined",
]

# names the warnings above carry as written (layers, files, presets)
NAMES = (
    "layers/population.yml", "layers/landuse.yml", "layers/*.yml", "st.csv", "school", "xyz",
    "gb50137", "lon", "Wuhou",
)


def _cases() -> list[str]:
    return [*_real_warnings(), *TEMPLATES]


def test_every_warning_site_has_a_case() -> None:
    real = _real_warnings()
    # 5 harmonise, 1 table CRS, 2 parks, 4 islands, 3 facilities, 1 unnamed, 2 outside
    assert len(real) == 18, real
    assert len(_cases()) == len(set(_cases()))


@pytest.mark.parametrize("warning", _cases(), ids=lambda w: w[:40])
def test_warning_in_chinese(warning: str) -> None:
    zh = i18n.warning_text(warning, "zh")
    assert zh != warning
    assert english_words(zh, NAMES) == [], zh
    for number in re.findall(r"\d[\d,]*", warning):
        if number not in ("4326", "84"):
            assert number in zh, (number, zh)


@pytest.mark.parametrize("warning", _cases()[:6], ids=lambda w: w[:40])
def test_warning_in_english_unchanged(warning: str) -> None:
    assert i18n.warning_text(warning, "en") == warning


@pytest.mark.parametrize(
    "warning", ["a warning nobody translated", "layer 'x' (x.yml): 3 somethings went odd"]
)
def test_unknown_warning_unchanged(warning: str) -> None:
    assert i18n.warning_text(warning, "zh") == warning


def test_category_and_prefix_names() -> None:
    warns = _facility_warnings(
        gpd.GeoDataFrame({"category": ["kindergarten"]}), _snapped([False]),
        ["kindergarten", "primary_school"], 100.0,
    )
    zh = [i18n.warning_text(w, "zh") for w in warns]
    assert zh == [
        "全部 1 处幼儿园距街道超过 100 米，未使用：幼儿园服务覆盖率为 0",
        "设施图层中没有小学：小学服务覆盖率为 0",
    ]
    got = i18n.warning_text(
        "layer 'parks' (layers/parks.yml): 3 features without geometry were dropped", "zh"
    )
    assert got == "图层 parks（layers/parks.yml）：3 个无几何的要素已删除"
