"""A workspace of "someone else's" layers: other formats, CRSs and field names.

The tiny city of conftest.py, written as a Shapefile in Web Mercator, GeoJSON in
WGS 84, FlatGeobuf in CGCS2000 (EPSG:4490) and a CSV of coordinates, with Chinese-style
column names and no working CRS in urbanform.yml. The shares must equal the values
worked out by hand in conftest.py within 0.5 percentage points.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import EXPECTED, tiny_layers, write_landcover

from urbanform.cli.main import cli


@pytest.fixture(scope="module")
def foreign_summary(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("foreign") / "city"
    data = root / "data"
    data.mkdir(parents=True)
    (root / "layers").mkdir()
    (root / "analyses").mkdir()
    t = tiny_layers()
    t["districts"].rename(columns={"name": "QUXIAN"}).to_crs(3857).to_file(
        data / "districts.shp", engine="pyogrio"
    )
    t["landuse"].rename(columns={"LU": "YDXZ"}).to_crs(4326).to_file(
        data / "landuse.geojson", engine="pyogrio"
    )
    t["parks"].rename(columns={"name": "GYMC"}).to_crs(4490).to_file(
        data / "parks.fgb", engine="pyogrio"
    )
    pop = t["population"].to_crs(4326)
    pd.DataFrame({"RK": pop["POP"], "LON": pop.geometry.x, "LAT": pop.geometry.y}).to_csv(
        data / "renkou.csv", index=False
    )
    write_landcover(data / "lc.tif")
    (root / "urbanform.yml").write_text("name: Foreign\nh3_resolutions: [8]\n")
    layers = {
        "qx": "role: districts\nsource: data/districts.shp\nfields: {name: QUXIAN}\n",
        "yd": (
            "role: landuse\nsource: data/landuse.geojson\nfields: {class: YDXZ}\n"
            "classes: {residential: [R1, R2], green: [G1], industrial: [M1]}\n"
        ),
        "gy": "role: parks\nsource: data/parks.fgb\nfields: {name: GYMC}\n",
        "rk": (
            "role: population\nsource: data/renkou.csv\ncrs: EPSG:4326\n"
            "fields: {population: RK, x: LON, y: LAT}\n"
        ),
        "lc": "role: landcover\nsource: data/lc.tif\nclasses: {forest: [10], water: [80]}\n",
    }
    for name, text in layers.items():
        (root / "layers" / f"{name}.yml").write_text(text)
    (root / "analyses" / "park.yml").write_text("kind: park_coverage\n")
    (root / "analyses" / "forest.yml").write_text("kind: forest_cover\n")
    r = CliRunner().invoke(cli, ["-q", "run", str(root)])
    assert r.exit_code == 0, r.output
    return json.loads((root / "out" / "summary.json").read_text())


def test_working_crs_is_the_utm_zone(foreign_summary: dict) -> None:
    assert foreign_summary["crs"] == "EPSG:32648"


@pytest.mark.parametrize("key", ["area_share", "pop_share"])
@pytest.mark.parametrize("where", ["city", "West", "East"])
def test_park_shares_match_hand_values(foreign_summary: dict, key: str, where: str) -> None:
    ind = foreign_summary["analyses"]["park"]["indicators"][key]
    value = ind["city"]["value"] if where == "city" else ind["districts"][where]["value"]
    assert value == pytest.approx(EXPECTED[key][where], abs=0.005)


@pytest.mark.parametrize("where", ["city", "West", "East"])
def test_forest_share_matches_hand_values(foreign_summary: dict, where: str) -> None:
    ind = foreign_summary["analyses"]["forest"]["indicators"]["share"]
    value = ind["city"]["value"] if where == "city" else ind["districts"][where]["value"]
    assert value == pytest.approx(EXPECTED["forest"][where], abs=0.005)
