"""Warnings in front of the user (issue 13, item 9): summary.json, run output, report, validate."""

from __future__ import annotations

import html as html_text
import json
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from conftest import write_tiny_workspace

from urbanform.cli.main import cli
from urbanform.layers.types import Layers
from urbanform.thin_inputs import thin_inputs

CRS = pyproj.CRS(32648)
UNMAPPED = "1 features with unmapped class values (M1) count as 'other'"
NO_LAND = "area_share is not computed: no landuse layer"


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


@pytest.fixture(scope="module")
def warned_run(tmp_path_factory: pytest.TempPathFactory):
    """The tiny city with one unmapped land-use class; its 10,000 m² park is too small."""
    root = write_tiny_workspace(
        tmp_path_factory.mktemp("warn") / "tiny",
        analyses={
            "park": "kind: park_coverage\nparams: {tiers: [{min_area_m2: 20000, radius_m: 500}]}\n",
            "forest": "kind: forest_cover\n",
        },
    )
    (root / "layers" / "landuse.yml").write_text(
        "role: landuse\nsource: data/landuse.gpkg\nfields: {class: LU}\n"
        "classes: {residential: [R1, R2], green: [G1]}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["run", str(root)])
    return root, result


def test_summary_lists_layer_warnings_at_the_top(warned_run) -> None:
    root, result = warned_run
    assert result.exit_code == 0, result.output
    summary = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    assert [UNMAPPED in w for w in summary["warnings"]] == [True]


def test_summary_lists_each_analysis_warnings_empty_when_none(warned_run) -> None:
    root, _ = warned_run
    summary = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["analyses"]["forest"]["warnings"] == []
    assert summary["schema"] == "urbanform.summary/1"


def test_run_prints_every_warning_grouped_and_counted(warned_run) -> None:
    _, result = warned_run
    text = result.stdout
    assert "Warnings (" in text
    assert "  layers (1):\n    - layer 'landuse'" in text
    assert UNMAPPED in text
    assert "  analysis park (1):\n    - no park reaches 20,000 m²" in text


def test_report_data_warnings_list_analysis_warnings_too(warned_run) -> None:
    root, _ = warned_run
    html = (root / "out" / "report.html").read_text(encoding="utf-8")
    section = html_text.unescape(html.split('id="warnings"', 1)[1].split("</section>")[0])
    assert UNMAPPED in section
    assert "park: no park reaches 20,000 m²: nothing is covered" in section


def test_analysis_warning_reaches_summary_and_output(tmp_path: Path) -> None:
    root = write_tiny_workspace(tmp_path / "tiny", analyses={"park": "kind: park_coverage\n"})
    (root / "layers" / "landuse.yml").unlink()
    result = CliRunner().invoke(cli, ["run", str(root)])
    summary = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    assert any(NO_LAND in w for w in summary["analyses"]["park"]["warnings"])
    assert "  analysis park (" in result.stdout and NO_LAND in result.stdout


# -- thin inputs, flagged by validate ---------------------------------------------------
STREETS = gdf([shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(0, 0), (0, 1000)])])


def spec(kind: str, name: str = "a") -> SimpleNamespace:
    return SimpleNamespace(kind=kind, name=name)


def test_required_facility_category_without_features() -> None:
    fac = gdf([shapely.Point(0, 0)], category=["school"])
    layers = Layers(crs=CRS, vectors={"facilities": fac})
    out = thin_inputs(
        layers, [(spec("living_circle", "c15"), {"categories": ["school", "clinic"]})]
    )
    assert out == [
        "analysis 'c15': facility category 'clinic' has no feature, so nobody reaches it; "
        "map source values onto it under the facilities layer's 'classes'"
    ]


def test_fewer_than_five_parks_in_a_tier() -> None:
    # three parks of 10,000 m² (500 m tier), none of 2,000-5,000 m² (300 m tier)
    parks = gdf(
        [shapely.box(i * 500, 0, i * 500 + 100, 100) for i in range(3)], name=["a", "b", "c"]
    )
    tiers = [{"min_area_m2": 5000, "radius_m": 500}, {"min_area_m2": 2000, "radius_m": 300}]
    out = thin_inputs(
        Layers(crs=CRS, vectors={"parks": parks}), [(spec("park_coverage"), {"tiers": tiers})]
    )
    assert [m.split(";")[0] for m in out] == [
        "analysis 'a': only 3 parks in the 500 m tier (at least 5,000 m²)",
        "analysis 'a': only 0 parks in the 300 m tier (at least 2,000 m²)",
    ]


def test_stations_outside_the_street_extent() -> None:
    stations = gdf([shapely.Point(500, 500), shapely.Point(2000, 0)], name=["in", "out"])
    out = thin_inputs(Layers(crs=CRS, vectors={"streets": STREETS, "stations": stations}), [])
    assert len(out) == 1 and out[0].startswith("1 of 2 station features lie outside")


def test_residents_far_from_streets_over_five_percent() -> None:
    # 100 live 50 m from a street, 10 live 500 m away: 10 / 110 = 9.1% beyond 100 m
    pop = gdf([shapely.Point(500, 50), shapely.Point(500, 500)], population=[100.0, 10.0])
    layers = Layers(crs=CRS, vectors={"streets": STREETS, "population": pop})
    out = thin_inputs(layers, [(spec("living_circle"), {"max_snap_m": 100, "categories": []})])
    assert out == [
        "10 residents (9.1%) live farther than max_snap_m = 100 m from every street and count "
        "as not reached by walking analyses; check the streets layer, or raise max_snap_m"
    ]


def test_residents_far_from_streets_under_five_percent_pass() -> None:
    # 1 of 101 (1.0%) beyond 100 m
    pop = gdf([shapely.Point(500, 50), shapely.Point(500, 500)], population=[100.0, 1.0])
    layers = Layers(crs=CRS, vectors={"streets": STREETS, "population": pop})
    assert (
        thin_inputs(layers, [(spec("living_circle"), {"max_snap_m": 100, "categories": []})]) == []
    )


def test_validate_flags_thin_parks(tiny_workspace: Path) -> None:
    r = CliRunner().invoke(cli, ["validate", str(tiny_workspace)])
    assert r.exit_code == 0, r.output
    assert "warning: analysis 'park500': only 1 parks in the 500 m tier" in r.output
