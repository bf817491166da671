"""QGIS default styles in the GeoPackage and the .qgz project, checked without QGIS."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import pytest
from shapely.geometry import LineString, Point, box

from urbanform.errors import OutputError
from urbanform.maps import palette
from urbanform.maps.qgis import write_layer_styles, write_qgis_project
from urbanform.results import LayerStyle

CRS = "EPSG:32648"
GOOD = ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]  # RdYlGn, low -> high
NODATA = -1e300


def _districts() -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"name": ["A", "B", "C", "D"], "pop_share": [0.3, 0.9, 1.0, np.nan]},
        geometry=[box(i * 100.0, 0.0, i * 100.0 + 100.0, 100.0) for i in range(4)],
        crs=CRS,
    )
    return gdf


DISTRICTS = LayerStyle(
    title="Residents near a park",
    title_zh="公园覆盖",
    value_field="pop_share",
    ramp="good",
    label_field="name",
    labels={
        "en": {"name": "District", "pop_share": "Residents near a park"},
        "zh": {"name": "街区", "pop_share": "公园覆盖人口比例"},
    },
)


def _gaps() -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"area_m2": [100.0, 400.0]}, geometry=[box(0, 0, 10, 10), box(20, 0, 40, 20)], crs=CRS
    )
    return gdf


GAPS = LayerStyle(color="#e31a1c", title="Gaps")


def _stations() -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"name": ["S1", "S2"], "riders": [10.0, 60.0]},
        geometry=[Point(5, 5), Point(50, 50)],
        crs=CRS,
    )
    return gdf


STATIONS = LayerStyle(color="#6a3d9a", label_field="name")


def _layers() -> dict[str, gpd.GeoDataFrame]:
    return {"park__districts": _districts(), "park__gaps": _gaps(), "tod__stations": _stations()}


STYLE = {"park__districts": DISTRICTS, "park__gaps": GAPS, "tod__stations": STATIONS}
"""The style of each layer of :func:`_layers`."""


def _write(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    for name, gdf in layers.items():
        gdf.to_file(path, layer=name, driver="GPKG")
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("template") / "results.gpkg", _layers())


@pytest.fixture
def gpkg(tmp_path: Path, template: Path) -> Path:
    """A fresh copy of a GeoPackage holding the three layers of :func:`_layers`."""
    return Path(shutil.copy(template, tmp_path / "results.gpkg"))


def _styles(path: Path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT f_table_name, f_geometry_column, styleName, useAsDefault, styleQML "
            "FROM layer_styles ORDER BY f_table_name"
        ).fetchall()


def _qml(path: Path, layer: str) -> ET.Element:
    (qml,) = [row[4] for row in _styles(path) if row[0] == layer and row[3]]
    return ET.fromstring(qml)


def _ranges(root: ET.Element) -> list[tuple[float, float, str]]:
    """(lower, upper, colour 'r,g,b,a') of the value ranges (no "no data"), ascending."""
    rend = root.find("renderer-v2")
    colours = {
        s.get("name"): s.find("layer/Option/Option[@name='color']").get("value")
        for s in rend.find("symbols")
    }
    out = [
        (float(r.get("lower")), float(r.get("upper")), colours[r.get("symbol")])
        for r in rend.find("ranges")
    ]
    return sorted(r for r in out if r[0] > NODATA)


def _rgb(hex_color: str) -> str:
    return ",".join(str(int(hex_color[i : i + 2], 16)) for i in (1, 3, 5))


def _no_alpha(qgis_color: str) -> str:
    return qgis_color.rsplit(",", 1)[0]


def test_one_default_style_row_per_layer(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    rows = _styles(gpkg)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("park__districts", "geom", "park__districts", 1),
        ("park__gaps", "geom", "park__gaps", 1),
        ("tod__stations", "geom", "tod__stations", 1),
    ]


def test_every_style_is_qml_xml(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    roots = [ET.fromstring(r[4]) for r in _styles(gpkg)]
    assert [r.tag for r in roots] == ["qgis", "qgis", "qgis"]


def test_share_layer_gets_graduated_renderer_on_value_field(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    rend = _qml(gpkg, "park__districts").find("renderer-v2")
    assert (rend.get("type"), rend.get("attr")) == (
        "graduatedSymbol", 'coalesce("pop_share", -1e+300)')


def test_value_field_without_missing_values_is_the_plain_attr(tmp_path: Path) -> None:
    layers = {"park__districts": _districts().iloc[:3]}
    path = _write(tmp_path / "r.gpkg", layers)
    write_layer_styles(path, layers, STYLE)
    assert _qml(path, "park__districts").find("renderer-v2").get("attr") == "pop_share"


def test_missing_values_get_a_grey_no_data_class_last(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    rend = _qml(gpkg, "park__districts").find("renderer-v2")
    last = rend.find("ranges")[-1]
    colour = rend.find(f"symbols/symbol[@name='{last.get('symbol')}']/layer/Option/"
                       "Option[@name='color']").get("value")
    got = (float(last.get("lower")), float(last.get("upper")), last.get("label"))
    assert (got, _no_alpha(colour)) == ((NODATA, NODATA, "No data"), "204,204,204")


def test_district_fills_are_as_opaque_as_in_the_html_maps(gpkg: Path) -> None:
    # HTML: districts fillOpacity 0.72, other polygons 0.55 -> alpha 184 and 140 of 255
    write_layer_styles(gpkg, _layers(), STYLE)
    alphas = {
        name: _qml(gpkg, name).find("renderer-v2/symbols/symbol/layer/Option/"
                                    "Option[@name='color']").get("value").rsplit(",", 1)[1]
        for name in ("park__districts", "park__gaps")
    }
    assert alphas == {"park__districts": "184", "park__gaps": "140"}


def test_graduated_ranges_are_the_share_breaks(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    got = [(lo, hi) for lo, hi, _ in _ranges(_qml(gpkg, "park__districts"))]
    assert got == [(0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.0)]


def test_graduated_breaks_equal_the_palette_breaks(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    ranges = _ranges(_qml(gpkg, "park__districts"))
    breaks = palette.class_breaks(_districts()["pop_share"].to_numpy(), ramp="good")
    assert [r[0] for r in ranges] + [ranges[-1][1]] == breaks


FOREST = {"park__districts": dataclasses.replace(DISTRICTS, target=0.41)}


def test_target_hint_puts_target_on_a_range_edge(gpkg: Path) -> None:
    write_layer_styles(gpkg, {"park__districts": _districts()}, FOREST)
    got = [b for lo, hi, _ in _ranges(_qml(gpkg, "park__districts")) for b in (lo, hi)]
    # 0.41 / 2, 0.8 * 0.41, 0.41, 0.41 + 0.59 / 2
    want = [0.0, 0.205, 0.205, 0.328, 0.328, 0.41, 0.41, 0.705, 0.705, 1.0]
    assert got == pytest.approx(want, abs=1e-12)


def test_target_ranges_equal_the_palette_breaks_with_target(gpkg: Path) -> None:
    write_layer_styles(gpkg, {"park__districts": _districts()}, FOREST)
    ranges = _ranges(_qml(gpkg, "park__districts"))
    values = _districts()["pop_share"].to_numpy()
    breaks = palette.class_breaks(values, ramp="good", target=0.41)
    assert [r[0] for r in ranges] + [ranges[-1][1]] == breaks


def test_target_ranges_are_labelled_as_the_html_legend(gpkg: Path) -> None:
    write_layer_styles(gpkg, {"park__districts": _districts()}, FOREST)
    rend = _qml(gpkg, "park__districts").find("renderer-v2")
    labels = [r.get("label") for r in rend.find("ranges")][:5]
    assert labels == [
        "70.5% – 100.0%", "41.0% – 70.5%", "32.8% – 41.0%", "20.5% – 32.8%", "0.0% – 20.5%",
    ]


def test_graduated_colours_are_the_palette_colours(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    got = [_no_alpha(c) for _, _, c in _ranges(_qml(gpkg, "park__districts"))]
    assert got == [_rgb(h) for h in GOOD]


def test_ranges_are_written_highest_class_first(gpkg: Path) -> None:
    # QGIS takes the first range holding a value: high-first puts 0.9 in the 0.9-1.0 class
    write_layer_styles(gpkg, _layers(), STYLE)
    rend = _qml(gpkg, "park__districts").find("renderer-v2")
    assert [float(r.get("lower")) for r in rend.find("ranges")][:5] == [0.9, 0.8, 0.7, 0.5, 0.0]


def test_share_classes_are_labelled_as_percentages(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    rend = _qml(gpkg, "park__districts").find("renderer-v2")
    assert [r.get("label") for r in rend.find("ranges")][4] == "0.0% – 50.0%"


def test_quantile_breaks_for_a_non_share_ramp(tmp_path: Path) -> None:
    # six values 10..60: the quantiles at 0, 0.2, ..., 1 are the values themselves
    gdf = gpd.GeoDataFrame(
        {"jobs": [60.0, 10.0, 30.0, 20.0, 50.0, 40.0]},
        geometry=[Point(i, 0) for i in range(6)],
        crs=CRS,
    )
    path = _write(tmp_path / "r.gpkg", {"jobs__cells": gdf})
    write_layer_styles(
        path, {"jobs__cells": gdf}, {"jobs__cells": LayerStyle(value_field="jobs", ramp="seq")}
    )
    got = [b for lo, hi, _ in _ranges(_qml(path, "jobs__cells")) for b in (lo, hi)]
    assert got == pytest.approx([10, 20, 20, 30, 30, 40, 40, 50, 50, 60], abs=1e-9)


def test_layer_without_value_field_gets_single_symbol_in_hint_colour(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    rend = _qml(gpkg, "park__gaps").find("renderer-v2")
    colour = rend.find("symbols/symbol/layer/Option/Option[@name='color']").get("value")
    assert (rend.get("type"), _no_alpha(colour)) == ("singleSymbol", "227,26,28")


def test_symbol_type_follows_geometry(tmp_path: Path) -> None:
    layers = {**_layers(), "tod__routes": gpd.GeoDataFrame(
        {"length_m": [100.0]}, geometry=[LineString([(0, 0), (100, 0)])], crs=CRS)}
    path = _write(tmp_path / "r.gpkg", layers)
    write_layer_styles(path, layers, STYLE)
    kinds = {
        name: _qml(path, name).find("renderer-v2/symbols/symbol").get("type") for name in layers
    }
    assert kinds == {"park__districts": "fill", "park__gaps": "fill",
                     "tod__stations": "marker", "tod__routes": "line"}


def test_labels_on_label_field(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    root = _qml(gpkg, "tod__stations")
    style = root.find("labeling/settings/text-style")
    assert (root.get("labelsEnabled"), style.get("fieldName")) == ("1", "name")


def test_labels_off_without_label_field(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    root = _qml(gpkg, "park__gaps")
    assert (root.get("labelsEnabled"), root.find("labeling")) == ("0", None)


def test_aliases_in_chinese(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE, language="zh")
    got = {a.get("field"): a.get("name") for a in _qml(gpkg, "park__districts").find("aliases")}
    assert got == {"name": "街区", "pop_share": "公园覆盖人口比例"}


def test_aliases_in_english(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE, language="en")
    got = {a.get("field"): a.get("name") for a in _qml(gpkg, "park__districts").find("aliases")}
    assert got == {"name": "District", "pop_share": "Residents near a park"}


def test_style_description_is_the_title_in_the_language(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE, language="zh")
    with sqlite3.connect(gpkg) as conn:
        (desc,) = conn.execute(
            "SELECT description FROM layer_styles WHERE f_table_name='park__districts'"
        ).fetchone()
    assert desc == "公园覆盖"


def test_layer_styles_is_registered_as_attributes_table(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    with sqlite3.connect(gpkg) as conn:
        row = conn.execute(
            "SELECT data_type, identifier FROM gpkg_contents WHERE table_name='layer_styles'"
        ).fetchone()
    assert row == ("attributes", "layer_styles")


def test_data_layers_still_open_unchanged(gpkg: Path) -> None:
    before = pyogrio.list_layers(gpkg).tolist()
    write_layer_styles(gpkg, _layers(), STYLE)
    after = pyogrio.list_layers(gpkg).tolist()
    assert after == before + [["layer_styles", None]]


def test_gdal_reads_the_styles_table(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    table = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    assert sorted(table["f_table_name"]) == ["park__districts", "park__gaps", "tod__stations"]


def test_layer_values_are_untouched(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    back = pyogrio.read_dataframe(gpkg, layer="park__districts")
    assert back["name"].tolist() == ["A", "B", "C", "D"]


def test_rerun_does_not_duplicate_rows(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    write_layer_styles(gpkg, _layers(), STYLE, language="zh")
    names = [r[0] for r in _styles(gpkg)]
    assert names == ["park__districts", "park__gaps", "tod__stations"]


def test_rerun_keeps_gdal_feature_count_right(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    write_layer_styles(gpkg, _layers(), STYLE)
    info = pyogrio.read_info(gpkg, layer="layer_styles")
    assert info["features"] == 3


def test_rerun_replaces_the_style(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE, language="en")
    write_layer_styles(gpkg, _layers(), STYLE, language="zh")
    got = {a.get("field"): a.get("name") for a in _qml(gpkg, "park__districts").find("aliases")}
    assert got["name"] == "街区"


def test_an_older_default_style_is_unset(gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    with sqlite3.connect(gpkg) as conn:
        conn.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, useAsDefault) "
            "VALUES ('', '', 'park__gaps', 'geom', 'mine', '<qgis/>', 1)"
        )
    write_layer_styles(gpkg, _layers(), STYLE)
    defaults = [(r[0], r[2]) for r in _styles(gpkg) if r[0] == "park__gaps" and r[3]]
    assert defaults == [("park__gaps", "park__gaps")]


def test_missing_layer_raises_and_leaves_gpkg_alone(gpkg: Path) -> None:
    layers = {**_layers(), "tod__rings": _gaps()}
    with pytest.raises(OutputError, match="'tod__rings' not in"):
        write_layer_styles(gpkg, layers, STYLE)
    assert "layer_styles" not in pyogrio.list_layers(gpkg)[:, 0]


def test_missing_value_field_raises(gpkg: Path) -> None:
    styles = {**STYLE, "park__districts": dataclasses.replace(DISTRICTS, value_field="area_share")}
    with pytest.raises(OutputError, match="names field 'area_share', which is not a column"):
        write_layer_styles(gpkg, _layers(), styles)


def test_text_value_field_raises(gpkg: Path) -> None:
    styles = {**STYLE, "park__districts": dataclasses.replace(DISTRICTS, value_field="name")}
    with pytest.raises(OutputError, match="value_field 'name' has dtype"):
        write_layer_styles(gpkg, _layers(), styles)


def test_not_a_geopackage_raises(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        write_layer_styles(tmp_path / "none.gpkg", _layers(), STYLE)


# --- the project ---------------------------------------------------------------------

GROUPS = {"park": ["park__districts", "park__gaps"], "tod": ["tod__stations"]}


def _project(tmp_path: Path, gpkg: Path, **kwargs) -> ET.Element:
    qgz = tmp_path / "project.qgz"
    write_qgis_project(qgz, gpkg, groups=GROUPS, crs=pyproj.CRS(CRS), title="Demo", **kwargs)
    with zipfile.ZipFile(qgz) as zf:
        (name,) = zf.namelist()
        assert name == "project.qgs"
        return ET.fromstring(zf.read(name))


def test_project_is_a_zip_with_one_qgs(tmp_path: Path, gpkg: Path) -> None:
    write_qgis_project(tmp_path / "p.qgz", gpkg, groups=GROUPS, crs=pyproj.CRS(CRS), title="T")
    with zipfile.ZipFile(tmp_path / "p.qgz") as zf:
        assert zf.namelist() == ["p.qgs"]


def test_project_groups_hold_their_layers(tmp_path: Path, gpkg: Path) -> None:
    root = _project(tmp_path, gpkg)
    tree = root.find("layer-tree-group")
    got = {
        g.get("name"): [lyr.get("name") for lyr in g.findall("layer-tree-layer")]
        for g in tree.findall("layer-tree-group")
    }
    assert got == GROUPS


def test_project_datasources_are_relative(tmp_path: Path, gpkg: Path) -> None:
    root = _project(tmp_path, gpkg)
    got = [m.findtext("datasource") for m in root.find("projectlayers")]
    assert got == [
        "./results.gpkg|layername=park__districts",
        "./results.gpkg|layername=park__gaps",
        "./results.gpkg|layername=tod__stations",
    ]


def test_project_datasource_in_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = _write(tmp_path / "data" / "results.gpkg", _layers())
    root = _project(tmp_path, path)
    assert root.find("projectlayers/maplayer").findtext("datasource") == (
        "./data/results.gpkg|layername=park__districts"
    )


def test_project_paths_are_relative(tmp_path: Path, gpkg: Path) -> None:
    root = _project(tmp_path, gpkg)
    assert root.findtext("properties/Paths/Absolute") == "false"


def test_project_crs_is_the_working_crs(tmp_path: Path, gpkg: Path) -> None:
    srs = _project(tmp_path, gpkg).find("projectCrs/spatialrefsys")
    assert (srs.findtext("authid"), pyproj.CRS.from_wkt(srs.findtext("wkt")).to_epsg()) == (
        "EPSG:32648", 32648)


def test_project_title(tmp_path: Path, gpkg: Path) -> None:
    root = _project(tmp_path, gpkg)
    assert (root.get("projectname"), root.findtext("title")) == ("Demo", "Demo")


def test_project_layers_carry_the_gpkg_default_style(tmp_path: Path, gpkg: Path) -> None:
    write_layer_styles(gpkg, _layers(), STYLE)
    root = _project(tmp_path, gpkg)
    got = {m.findtext("layername"): m.find("renderer-v2").get("type")
           for m in root.find("projectlayers")}
    assert got == {"park__districts": "graduatedSymbol", "park__gaps": "singleSymbol",
                   "tod__stations": "singleSymbol"}


def test_project_tree_ids_match_map_layers(tmp_path: Path, gpkg: Path) -> None:
    root = _project(tmp_path, gpkg)
    tree_ids = [lyr.get("id") for lyr in root.iter("layer-tree-layer")]
    layer_ids = [m.findtext("id") for m in root.find("projectlayers")]
    assert tree_ids == layer_ids


def test_project_with_missing_layer_raises(tmp_path: Path, gpkg: Path) -> None:
    with pytest.raises(OutputError, match="'tod__rings' not in"):
        write_qgis_project(tmp_path / "p.qgz", gpkg, groups={"tod": ["tod__rings"]},
                           crs=pyproj.CRS(CRS), title="T")


def test_project_leaves_no_temporary_file(tmp_path: Path, gpkg: Path) -> None:
    _project(tmp_path, gpkg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.qgz", "results.gpkg"]


def test_project_puts_points_above_polygons_in_a_group(tmp_path: Path, gpkg: Path) -> None:
    qgz = tmp_path / "p.qgz"
    write_qgis_project(qgz, gpkg, groups={"mix": ["park__gaps", "tod__stations"]},
                       crs=pyproj.CRS(CRS), title="T")
    with zipfile.ZipFile(qgz) as zf:
        root = ET.fromstring(zf.read("p.qgs"))
    assert [lyr.get("name") for lyr in root.iter("layer-tree-layer")] == [
        "tod__stations", "park__gaps"]


def test_project_h3_layers_start_switched_off(tmp_path: Path) -> None:
    layers = {**_layers(), "park__h3_r8": _gaps()}
    path = _write(tmp_path / "results.gpkg", layers)
    qgz = tmp_path / "p.qgz"
    write_qgis_project(qgz, path, groups={"park": ["park__districts", "park__h3_r8"]},
                       crs=pyproj.CRS(CRS), title="T")
    with zipfile.ZipFile(qgz) as zf:
        root = ET.fromstring(zf.read("p.qgs"))
    got = {lyr.get("name"): lyr.get("checked") for lyr in root.iter("layer-tree-layer")}
    assert got == {"park__districts": "Qt::Checked", "park__h3_r8": "Qt::Unchecked"}
