"""The GeoPackage styles and the project, opened by QGIS itself.

QGIS's Python bindings live in the system Python (Debian's ``python3-qgis``, installed by
``.ci/install-qgis.sh``), not in the virtualenv, so a small script runs under
``/usr/bin/python3`` in a subprocess and prints what QGIS sees as JSON. Skipped where
``import qgis.core`` fails there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import LineString, Point, box

from urbanform.maps import palette
from urbanform.maps.qgis import write_layer_styles, write_qgis_project
from urbanform.results import LayerStyle

pytestmark = pytest.mark.qgis

SYSTEM_PYTHON = "/usr/bin/python3"
CRS = "EPSG:32648"
SHARES = {"A": 0.3, "B": 0.9, "C": 1.0, "D": float("nan")}

QGIS_SCRIPT = r'''
import json, os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsExpressionContext, QgsExpressionContextUtils,
                       QgsLayerTreeGroup, QgsLayerTreeLayer, QgsProject, QgsRenderContext,
                       QgsVectorLayer)

gpkg, qgz, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
app = QgsApplication([], False)
app.initQgis()


def describe(layer):
    out = {"valid": layer.isValid()}
    if not layer.isValid():
        return out
    renderer = layer.renderer()
    out["renderer"] = renderer.type()
    out["classes"] = len(renderer.ranges()) if renderer.type() == "graduatedSymbol" else 1
    out["attr"] = renderer.classAttribute() if renderer.type() == "graduatedSymbol" else None
    out["labels_enabled"] = layer.labelsEnabled()
    out["label_field"] = layer.labeling().settings().fieldName if layer.labeling() else None
    out["aliases"] = {f.name(): layer.attributeAlias(i)
                      for i, f in enumerate(layer.fields()) if layer.attributeAlias(i)}
    ctx = QgsRenderContext()
    ctx.setExpressionContext(
        QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer)))
    renderer.startRender(ctx, layer.fields())
    colours = {}
    for feat in layer.getFeatures():
        ctx.expressionContext().setFeature(feat)
        sym = renderer.symbolForFeature(feat, ctx)
        key = str(feat["name"]) if "name" in layer.fields().names() else str(feat.id())
        colours[key] = sym.color().name() if sym is not None else None
    renderer.stopRender(ctx)
    out["colours"] = colours
    return out


result = {"version": __import__("qgis.core").core.Qgis.QGIS_VERSION, "layers": {}}
for name in names:
    lyr = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
    result["layers"][name] = describe(lyr)

project = QgsProject.instance()
result["project_read"] = project.read(qgz)
result["project_crs"] = project.crs().authid()
result["project_title"] = project.title()
groups = {}
for node in project.layerTreeRoot().children():
    if isinstance(node, QgsLayerTreeGroup):
        groups[node.name()] = [c.name() for c in node.children()
                               if isinstance(c, QgsLayerTreeLayer)]
result["groups"] = groups
result["project_layers"] = {lyr.name(): describe(lyr)
                            for lyr in project.mapLayers().values()}
result["sources"] = {lyr.name(): lyr.source() for lyr in project.mapLayers().values()}
print("JSON:" + json.dumps(result))
app.exitQgis()
'''


def _qgis_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"],
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
        check=False,
    )
    return probe.returncode == 0


def _layers() -> dict[str, gpd.GeoDataFrame]:
    districts = gpd.GeoDataFrame(
        {"name": list(SHARES), "pop_share": list(SHARES.values())},
        geometry=[box(i * 100.0, 0.0, i * 100.0 + 100.0, 100.0) for i in range(len(SHARES))],
        crs=CRS,
    )
    gaps = gpd.GeoDataFrame({"area_m2": [100.0]}, geometry=[box(0, 0, 10, 10)], crs=CRS)
    stations = gpd.GeoDataFrame(
        {"name": ["S1", "S2"]}, geometry=[Point(5, 5), Point(50, 50)], crs=CRS
    )
    lines = gpd.GeoDataFrame(
        {"length_m": [100.0]}, geometry=[LineString([(0, 0), (100, 0)])], crs=CRS
    )
    return {
        "park__districts": districts,
        "park__gaps": gaps,
        "tod__stations": stations,
        "tod__routes": lines,
        "forest__districts": _forest_districts(),
    }


STYLES = {
    "park__districts": LayerStyle(
        title="Residents near a park",
        value_field="pop_share",
        ramp="good",
        label_field="name",
        labels={"en": {"name": "District", "pop_share": "Residents near a park"},
                "zh": {"name": "街区", "pop_share": "公园覆盖人口比例"}},
    ),
    "park__gaps": LayerStyle(color="#e31a1c"),
    "tod__stations": LayerStyle(color="#6a3d9a", label_field="name"),
    "forest__districts": LayerStyle(value_field="share", ramp="good", target=0.41),
}
"""The style of each layer of :func:`_layers` (``tod__routes`` has none)."""

#: Forest shares against a 41% target: just below, on and above it (not in the project).
FOREST = {"F1": 0.3, "F2": 0.409, "F3": 0.41, "F4": 0.8}


def _forest_districts() -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(
        {"name": list(FOREST), "share": list(FOREST.values())},
        geometry=[box(i * 100.0, 200.0, i * 100.0 + 100.0, 300.0) for i in range(len(FOREST))],
        crs=CRS,
    )
    return gdf


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What QGIS sees in the GeoPackage and the project (one QGIS run per module)."""
    if not _qgis_available():
        pytest.skip("QGIS Python bindings not importable by /usr/bin/python3 "
                    "(run .ci/install-qgis.sh)")
    out = tmp_path_factory.mktemp("qgis")
    gpkg = out / "results.gpkg"
    layers = _layers()
    for name, gdf in layers.items():
        gdf.to_file(gpkg, layer=name, driver="GPKG")
    write_layer_styles(gpkg, layers, STYLES, language="zh")
    write_qgis_project(
        out / "project.qgz",
        gpkg,
        groups={"park": ["park__districts", "park__gaps"],
                "tod": ["tod__stations", "tod__routes"]},
        crs=pyproj.CRS(CRS),
        title="Demo city",
    )
    script = out / "inspect_qgis.py"
    script.write_text(QGIS_SCRIPT, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(out)}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [SYSTEM_PYTHON, str(script), str(gpkg), str(out / "project.qgz"), ",".join(layers)],
        capture_output=True, text=True, env=env, cwd=out, timeout=300, check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("JSON:")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stderr[-4000:])
    assert lines, f"QGIS script failed (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(lines[-1][len("JSON:"):])


def test_every_layer_is_valid_in_qgis(seen: dict) -> None:
    assert {n: v["valid"] for n, v in seen["layers"].items()} == dict.fromkeys(_layers(), True)


def test_value_layer_loads_graduated_default_style(seen: dict) -> None:
    d = seen["layers"]["park__districts"]
    # five value classes and a "no data" class for district D
    assert (d["renderer"], d["classes"]) == ("graduatedSymbol", 6)
    assert d["attr"] == 'coalesce("pop_share", -1e+300)'


def test_layers_without_value_field_load_single_symbol(seen: dict) -> None:
    kinds = {n: seen["layers"][n]["renderer"] for n in ("park__gaps", "tod__stations",
                                                          "tod__routes")}
    assert set(kinds.values()) == {"singleSymbol"}


def test_qgis_colours_match_the_html_palette_including_break_values(seen: dict) -> None:
    # 0.3 -> lowest class (red), 0.9 and 1.0 -> top class (green): a value on a break
    # belongs to the class above it, as in the HTML maps; NaN is drawn "no data" grey.
    colours = seen["layers"]["park__districts"]["colours"]
    expected = {"A": "#d7191c", "B": "#1a9641", "C": "#1a9641", "D": "#cccccc"}
    assert colours == expected
    breaks = palette.class_breaks(list(SHARES.values()), ramp="good")
    assert {k: palette.color_for(v, breaks, "good") for k, v in SHARES.items()} == expected


def test_qgis_colours_change_at_the_target_as_in_the_html_maps(seen: dict) -> None:
    # breaks 0, .205, .328, .41, .705, 1: 0.3 orange, 0.409 yellow, 0.41 (on the target)
    # light green, 0.8 dark green
    colours = seen["layers"]["forest__districts"]["colours"]
    breaks = palette.class_breaks(list(FOREST.values()), ramp="good", target=0.41)
    html = {k: palette.color_for(v, breaks, "good") for k, v in FOREST.items()}
    expected = {"F1": "#fdae61", "F2": "#ffffbf", "F3": "#a6d96a", "F4": "#1a9641"}
    assert (colours, html) == (expected, expected)


def test_single_symbol_colour_is_the_hint_colour(seen: dict) -> None:
    assert set(seen["layers"]["tod__stations"]["colours"].values()) == {"#6a3d9a"}


def test_labels_are_enabled_on_label_field(seen: dict) -> None:
    d = seen["layers"]["park__districts"]
    assert (d["labels_enabled"], d["label_field"]) == (True, "name")


def test_aliases_are_in_the_report_language(seen: dict) -> None:
    aliases = seen["layers"]["park__districts"]["aliases"]
    assert aliases == {"name": "街区", "pop_share": "公园覆盖人口比例"}


def test_project_reads_with_groups_and_layers(seen: dict) -> None:
    assert seen["project_read"] is True
    assert seen["groups"] == {"park": ["park__districts", "park__gaps"],
                              "tod": ["tod__stations", "tod__routes"]}


def test_project_crs_is_the_working_crs(seen: dict) -> None:
    assert seen["project_crs"] == CRS


def test_project_layers_are_valid_with_their_default_styles(seen: dict) -> None:
    got = {n: (v["valid"], v["renderer"]) for n, v in seen["project_layers"].items()}
    assert got == {
        "park__districts": (True, "graduatedSymbol"),
        "park__gaps": (True, "singleSymbol"),
        "tod__stations": (True, "singleSymbol"),
        "tod__routes": (True, "singleSymbol"),
    }


def test_project_sources_resolve_next_to_the_project(seen: dict) -> None:
    sources = {Path(s.split("|")[0]).name for s in seen["sources"].values()}
    assert sources == {"results.gpkg"}
