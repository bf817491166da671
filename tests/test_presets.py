"""Class presets: national land-use code tables (issue 13, item 1)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import CRS, box, write_tiny_workspace

from urbanform.errors import WorkspaceError
from urbanform.layers.harmonise import load_layers
from urbanform.layers.presets import PRESETS, code_classes, load_preset
from urbanform.layers.types import LayerSpec
from urbanform.pipeline import run_workspace
from urbanform.workspace import load_workspace

DOCS = Path(__file__).resolve().parents[1] / "docs" / "classes.md"


def _landuse(tmp_path: Path, codes: list) -> Path:
    path = tmp_path / "lu.gpkg"
    gpd.GeoDataFrame(
        {"DLBM": codes},
        geometry=[box(100 * i, 0, 100 * i + 50, 50) for i in range(len(codes))],
        crs=CRS,
    ).to_file(path, engine="pyogrio")
    return path


def _spec(path: Path, preset: str | None, classes: dict | None = None) -> LayerSpec:
    return LayerSpec(
        name="landuse",
        role="landuse",
        source=str(path),
        fields={"class": "DLBM"},
        classes=classes or {},
        file="layers/landuse.yml",
        preset=preset,
    )


@pytest.mark.parametrize(
    ("preset", "expected"), [("ydyh2023", "industrial"), ("sandiao", "transport")]
)
def test_1001_is_industry_in_ydyh2023_and_railway_in_sandiao(
    tmp_path: Path, preset: str, expected: str
) -> None:
    layers = load_layers([_spec(_landuse(tmp_path, ["1001"]), preset)], crs=CRS)
    assert layers.vectors["landuse"]["class"].tolist() == [expected]


@pytest.mark.parametrize("code", ["07", "0701", "070101", "070103", 701, 70101, "701.0"])
def test_ydyh2023_codes_match_at_any_level(code: object) -> None:
    assert code_classes([code], "ydyh2023", {}) == {code: "residential"}


@pytest.mark.parametrize(
    ("preset", "code", "expected"),
    [
        ("ydyh2023", "0702", "public"),  # community services inside 07 residential
        ("ydyh2023", "140101", "green"),  # a local fourth level under 1401 park green space
        ("sandiao", "08H2A", "public"),
        ("sandiao", "0810A", "green"),
        ("sandiao", "0508", "industrial"),  # warehousing listed under 05 commercial
        ("gb50137", "r22", "residential"),
        ("gb50137", "G1", "green"),
        ("gb50137", "E13", "water"),
        ("worldcover", 95, "forest"),
        ("osm", "Retail", "commercial"),
    ],
)
def test_preset_codes(preset: str, code: object, expected: str) -> None:
    assert code_classes([code], preset, {}) == {code: expected}


@pytest.mark.parametrize(
    ("preset", "code"),
    [("gb50137", "ROAD"), ("ydyh2023", "0799X"), ("worldcover", 11), ("ydyh2023", "99")],
)
def test_values_outside_the_scheme_are_unknown(preset: str, code: object) -> None:
    assert code_classes([code], preset, {}) == {code: None}


def test_unknown_codes_are_counted_in_a_warning(tmp_path: Path) -> None:
    path = _landuse(tmp_path, ["0701", "9901", "9901", "1401"])
    layers = load_layers([_spec(path, "ydyh2023")], crs=CRS)
    assert layers.vectors["landuse"]["class"].tolist() == ["residential", "other", "other", "green"]
    assert any(
        "2 features with codes unknown to preset 'ydyh2023' (9901) count as 'other'" in w
        for w in layers.warnings
    )


def test_a_mapping_overrides_single_codes_of_the_preset(tmp_path: Path) -> None:
    path = _landuse(tmp_path, ["0701", "0702", "1403"])
    layers = load_layers(
        [_spec(path, "ydyh2023", {"residential": ["0702"], "transport": ["1403"]})], crs=CRS
    )
    assert layers.vectors["landuse"]["class"].tolist() == [
        "residential",
        "residential",
        "transport",
    ]


@pytest.mark.parametrize(
    ("text", "preset", "classes"),
    [
        ("classes: sandiao\n", "sandiao", {}),
        ("classes: {preset: gb50137, green: [U2]}\n", "gb50137", {"green": ["U2"]}),
    ],
)
def test_workspace_reads_a_preset_name(
    tmp_path: Path, text: str, preset: str, classes: dict
) -> None:
    root = tmp_path / "w"
    (root / "layers").mkdir(parents=True)
    (root / "urbanform.yml").write_text("name: T\n", encoding="utf-8")
    (root / "layers" / "lu.yml").write_text(
        "role: landuse\nsource: lu.gpkg\nfields: {class: DLBM}\n" + text, encoding="utf-8"
    )
    (spec,) = load_workspace(root).layers
    assert (spec.preset, spec.classes) == (preset, classes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("role: landuse\nclasses: ydyh2020\n", r"unknown class preset 'ydyh2020'; use one of "),
        ("role: facilities\nclasses: osm\n", r"class preset 'osm' is for landuse and landcover"),
    ],
)
def test_bad_preset_is_refused(tmp_path: Path, text: str, message: str) -> None:
    root = tmp_path / "w"
    (root / "layers").mkdir(parents=True)
    (root / "urbanform.yml").write_text("name: T\n", encoding="utf-8")
    (root / "layers" / "x.yml").write_text(text + "source: x.gpkg\n", encoding="utf-8")
    with pytest.raises(WorkspaceError, match=r"layers/x\.yml: " + message):
        load_workspace(root)


def test_worldcover_preset_on_the_landcover_raster_gives_the_hand_value(tmp_path: Path) -> None:
    root = write_tiny_workspace(tmp_path / "tiny", analyses={"forest": "kind: forest_cover\n"})
    (root / "layers" / "landcover.yml").write_text(
        "role: landcover\nsource: data/landcover.tif\nclasses: worldcover\n", encoding="utf-8"
    )
    run = run_workspace(load_workspace(root), write=False)
    assert run.results[0].indicators["share"].city.value == pytest.approx(2 / 3)


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_code_is_documented(name: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split(f"## `{name}`", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.M))
    assert documented == set(load_preset(name).codes)


def test_validate_prints_the_preset_table(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from urbanform.cli.main import cli

    root = write_tiny_workspace(tmp_path / "tiny", analyses={"forest": "kind: forest_cover\n"})
    (root / "layers" / "landcover.yml").write_text(
        "role: landcover\nsource: data/landcover.tif\nclasses: worldcover\n", encoding="utf-8"
    )
    r = CliRunner().invoke(cli, ["validate", str(root)])
    assert r.exit_code == 0, r.output
    assert "classes of layer landcover: preset worldcover: ESA WorldCover" in r.output
    assert "    forest: 10, 95\n" in r.output
