"""Hostile names and text in every output (issue 9, part 2).

District, park, city and analysis names carry HTML/JS, right-to-left and control
characters and run to hundreds of characters; every output must stay well-formed,
keep the names as data and never run them as code.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import yaml
from _faults import invoke
from conftest import write_tiny_workspace

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>\u202eRTL\u200f\x07\x1b[31m&amp;'
LONG = EVIL + "é" * 500
RUN = "p<b>&'x\""  # an analysis name (a file name) with HTML in it


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = write_tiny_workspace(
        tmp_path_factory.mktemp("names") / "ws",
        analyses={RUN: "kind: park_coverage\n", "forest": "kind: forest_cover\n"},
    )
    for layer, column, values in (
        ("districts", "name", [LONG + "W", LONG + "E"]),
        ("parks", "name", [LONG]),
    ):
        gdf = gpd.read_file(ws / "data" / f"{layer}.gpkg")
        gdf[column] = values
        gdf.to_file(ws / "data" / f"{layer}.gpkg", layer=layer, engine="pyogrio")
    # a layer named with markup (its file name): listed in the report's provenance
    (ws / "layers" / "parks.yml").rename(ws / "layers" / "<img src=x onerror=alert(2)>.yml")
    cfg = {"name": LONG, "crs": "EPSG:32648", "h3_resolutions": [9],
           "report": {"title": EVIL, "attribution": EVIL}}
    (ws / "urbanform.yml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    r = invoke("-q", "run", ws)
    assert r.exit_code == 0, r.output
    return ws / "out"


def _html_files(out: Path) -> list[Path]:
    return [out / "report.html", *sorted((out / "maps").glob("*.html"))]


def test_html_never_holds_the_markup_as_markup(out: Path) -> None:
    for path in _html_files(out):
        text = path.read_text(encoding="utf-8")
        assert "<script>alert(" not in text, path.name
        assert "<img src=x" not in text, path.name


def test_report_lists_the_layer_named_with_markup_as_text(out: Path) -> None:
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(2)&gt;" in text


def test_html_holds_the_names_escaped(out: Path) -> None:
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in text


def test_no_script_block_is_closed_early(out: Path) -> None:
    # a name's "</script>" inside inline JavaScript data would end the block early:
    # every <script> opened must be closed by its own </script>
    for path in _html_files(out):
        text = path.read_text(encoding="utf-8")
        assert len(re.findall(r"<script\b", text)) == len(re.findall(r"</script>", text))


def test_map_file_of_hostile_analysis_name(out: Path) -> None:
    assert (out / "maps" / f"{RUN}.html").is_file()


def test_geopackage_keeps_names_exactly(out: Path) -> None:
    d = gpd.read_file(out / "results.gpkg", layer=f"{RUN}__districts")
    assert sorted(d["name"]) == [LONG + "E", LONG + "W"]


def test_geopackage_layer_named_after_analysis(out: Path) -> None:
    names = {str(n) for n in pyogrio.list_layers(out / "results.gpkg")[:, 0]}
    assert f"{RUN}__districts" in names


def test_qgis_project_is_well_formed_xml(out: Path) -> None:
    with zipfile.ZipFile(out / "results.qgz") as zf:
        root = ET.fromstring(zf.read("results.qgs"))
    title = root.findtext("title") or root.get("projectname") or ""
    assert "<script>alert(" in title and "\x07" not in title


def test_summary_keeps_names_exactly(out: Path) -> None:
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["workspace"] == LONG
    assert sorted(s["analyses"][RUN]["indicators"]["pop_share"]["districts"]) == [
        LONG + "E", LONG + "W"]


def test_h3_csv_reads_back(out: Path) -> None:
    cells = pd.read_csv(out / "h3" / f"{RUN}_r9.csv")
    assert cells["hex_id"].str.len().eq(15).all()
