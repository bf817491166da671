"""The command line, driven through click's runner on the tiny hand-checkable city."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from conftest import EXPECTED, write_tiny_workspace

from urbanform import __version__
from urbanform.cli.main import cli
from urbanform.workspace import load_workspace


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    root = write_tiny_workspace(tmp_path_factory.mktemp("cli") / "tiny")
    result = CliRunner().invoke(cli, ["run", str(root)])
    return root, result


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_version() -> None:
    r = invoke("--version")
    assert r.exit_code == 0 and __version__ in r.output


def test_run_exits_zero_and_prints_scorecard(tiny_run) -> None:
    _, r = tiny_run
    assert r.exit_code == 0, r.output
    assert "Scorecard: Tiny City" in r.output
    # pop_share 150 / 500 residents, worked out by hand in conftest
    assert "30.0%" in r.output and ">= 90.0% by 2025" in r.output


def test_run_writes_every_output(tiny_run) -> None:
    root, _ = tiny_run
    out = root / "out"
    for rel in (
        "summary.json",
        "report.html",
        "results.gpkg",
        "results.qgz",
        "maps/park500.html",
        "maps/forest.html",
        "h3/park500_r9.parquet",
        "h3/park500_r9.csv",
        "h3/forest_r9.parquet",
    ):
        assert (out / rel).is_file(), rel
    assert not list(root.glob(".out.tmp-*"))


def test_summary_values_equal_hand_calculation(tiny_run) -> None:
    root, _ = tiny_run
    s = json.loads((root / "out" / "summary.json").read_text())
    assert s["schema"] == "urbanform.summary/1" and s["crs"] == "EPSG:32648"
    park = s["analyses"]["park500"]["indicators"]
    for key in ("area_share", "pop_share"):
        assert park[key]["city"]["value"] == pytest.approx(EXPECTED[key]["city"], abs=1e-6)
        for d in ("West", "East"):
            assert park[key]["districts"][d]["value"] == pytest.approx(EXPECTED[key][d], abs=1e-6)
    assert park["pop_share"]["city"]["met"] is False
    assert park["pop_share"]["districts"]["West"]["met"] is True
    forest = s["analyses"]["forest"]["indicators"]["share"]
    assert forest["city"]["value"] == pytest.approx(EXPECTED["forest"]["city"], abs=1e-6)


def test_gpkg_holds_result_layers_in_working_crs(tiny_run) -> None:
    root, _ = tiny_run
    gpkg = root / "out" / "results.gpkg"
    names = {str(n) for n in pyogrio.list_layers(gpkg)[:, 0]}
    assert {"park500__districts", "park500__gaps", "forest__districts", "park500__h3_r9"} <= names
    d = gpd.read_file(gpkg, layer="park500__districts")
    assert d.crs.to_epsg() == 32648
    assert dict(zip(d["name"], d["pop_share"], strict=True)) == pytest.approx(
        {"West": 1.0, "East": 0.0}
    )


def test_h3_cells_add_up_to_city(tiny_run) -> None:
    root, _ = tiny_run
    cells = gpd.read_parquet(root / "out" / "h3" / "park500_r9.parquet")
    assert cells["hex_id"].str.len().eq(15).all()
    city = cells["pop_share__num"].sum() / cells["pop_share__den"].sum()
    assert city == pytest.approx(EXPECTED["pop_share"]["city"], abs=1e-9)
    assert cells["population"].sum() == pytest.approx(500)


def test_second_run_replaces_output(tiny_run) -> None:
    root, _ = tiny_run
    r = invoke("-q", "run", str(root), "--only", "forest")
    assert r.exit_code == 0, r.output
    s = json.loads((root / "out" / "summary.json").read_text())
    assert list(s["analyses"]) == ["forest"]


def test_quiet_prints_nothing_on_success(tmp_path: Path) -> None:
    root = write_tiny_workspace(tmp_path / "q", analyses={"forest": "kind: forest_cover\n"})
    r = CliRunner().invoke(cli, ["-q", "run", str(root)])
    assert r.exit_code == 0 and r.output == ""


def test_run_shows_each_stage_on_stderr(tmp_path: Path) -> None:
    root = write_tiny_workspace(tmp_path / "p", analyses={"forest": "kind: forest_cover\n"})
    r = CliRunner().invoke(cli, ["run", str(root), "--out", str(tmp_path / "out")])
    stages = [line for line in r.stderr.splitlines() if line.startswith("[")]
    n_res = len(load_workspace(root).h3_resolutions)
    gpkg = [n for n, _ in pyogrio.list_layers(tmp_path / "out" / "results.gpkg")]
    assert r.exit_code == 0 and [s.split("] ", 1)[1] for s in stages] == [
        f"reading layers ({len(list((root / 'layers').glob('*.yml')))})",
        f"harmonising layers ({len(list((root / 'layers').glob('*.yml')))})",
        "analysis forest (forest_cover)",
        f"H3 summaries ({n_res})",
        f"H3 files ({n_res})",
        f"GeoPackage ({len([n for n in gpkg if n != 'layer_styles'])})",
        "web maps (1)",
        "report",
        "QGIS styles and project",
    ]


def test_validate_reports_layers(tiny_workspace: Path) -> None:
    r = invoke("validate", str(tiny_workspace))
    assert r.exit_code == 0, r.output
    assert "working CRS EPSG:32648" in r.output
    assert "population" in r.output and "OK" in r.output


def test_validate_lists_each_analysis_with_its_effective_parameters(tiny_workspace: Path) -> None:
    (tiny_workspace / "analyses" / "park500.yml").write_text(
        "kind: park_coverage\nparams: {max_snap_m: 80}\n"
    )
    r = invoke("validate", str(tiny_workspace))
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:2] == ["analysis", "park500"])
    # the given value, then the defaults of everything not given
    assert lines[at + 1] == (
        "    params: distance=euclidean, tiers=[{min_area_m2: 5000, radius_m: 500}, "
        "{min_area_m2: 2000, radius_m: 300}], access_spacing_m=25, max_snap_m=80, "
        "sample_spacing_m=50, min_piece_share=0.01"
    )


def test_unknown_only_name(tiny_workspace: Path) -> None:
    r = invoke("run", str(tiny_workspace), "--only", "nope")
    assert r.exit_code == 2
    assert "no analysis 'nope'" in r.output and "Traceback" not in r.output


def test_bad_layer_gives_one_line_error_and_no_output(tiny_workspace: Path) -> None:
    (tiny_workspace / "layers" / "population.yml").write_text(
        "role: population\nsource: data/population.gpkg\nfields: {population: PEOPLE}\n"
    )
    r = invoke("run", str(tiny_workspace))
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and "missing field 'population'" in lines[0]
    assert "Traceback" not in r.output
    assert not (tiny_workspace / "out").exists()
    assert not list(tiny_workspace.glob(".out.tmp-*"))


def test_missing_workspace_exit_2(tmp_path: Path) -> None:
    r = invoke("run", str(tmp_path / "missing"))
    assert r.exit_code == 2 and "does not exist" in r.output


def test_bad_param_exit_2(tiny_workspace: Path) -> None:
    (tiny_workspace / "analyses" / "park500.yml").write_text(
        "kind: park_coverage\nparams: {radius: 500}\n"
    )
    r = invoke("run", str(tiny_workspace))
    assert r.exit_code == 2 and "unknown parameter 'radius'" in r.output


def test_foreign_output_folder_is_guarded(tiny_workspace: Path) -> None:
    other = tiny_workspace / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    r = invoke("run", str(tiny_workspace), "--out", str(other))
    assert r.exit_code == 2 and "--force" in r.output
    assert (other / "notes.txt").read_text() == "keep me"


def test_init_writes_workspace_that_validates_its_yaml(tmp_path: Path) -> None:
    r = invoke("init", str(tmp_path / "city"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "city" / "urbanform.yml").is_file()
    assert (tmp_path / "city" / "analyses" / "park500.yml").is_file()
    from urbanform.pipeline import validate_analyses
    from urbanform.workspace import load_workspace

    ws = load_workspace(tmp_path / "city")
    assert {a.name for a, _ in validate_analyses(ws)} >= {"park500", "forest", "circle15"}
    # its layers point at data the user has yet to provide: validate says so, in one line
    r = invoke("validate", str(tmp_path / "city"))
    assert r.exit_code == 2 and "does not exist" in r.output


def test_init_refuses_non_empty_folder(tiny_workspace: Path) -> None:
    r = invoke("init", str(tiny_workspace))
    assert r.exit_code == 2 and "not empty" in r.output


def _break_corrupt(root: Path) -> None:
    (root / "data" / "parks.gpkg").write_bytes(b"not a geopackage" * 64)


def _break_missing_path(root: Path) -> None:
    (root / "layers" / "parks.yml").write_text("role: parks\nsource: data/nowhere.gpkg\n")


def _break_raster_nodata(root: Path) -> None:
    import numpy as np
    import rasterio

    with rasterio.open(root / "data" / "landcover.tif", "r+") as src:
        data = src.read(1)
    path = root / "data" / "landcover.tif"
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "uint8",
        "crs": "EPSG:32648",
        "transform": rasterio.transform.from_origin(400_000, 3_391_000, 100, 100),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.asarray(data), 1)


def _break_empty(root: Path) -> None:
    import geopandas as gpd

    gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:32648").to_file(
        root / "data" / "parks.gpkg", layer="parks", engine="pyogrio"
    )


def _break_crs(root: Path) -> None:
    (root / "layers" / "parks.yml").write_text(
        "role: parks\nsource: data/parks.gpkg\ncrs: EPSG:4326\n"
    )


def _break_geometry_type(root: Path) -> None:
    (root / "layers" / "parks.yml").write_text("role: parks\nsource: data/population.gpkg\n")


@pytest.mark.parametrize(
    ("breaker", "message"),
    [
        (_break_corrupt, "cannot read parks.gpkg"),
        (_break_missing_path, "nowhere.gpkg does not exist"),
        (_break_raster_nodata, "has no nodata value"),
        (_break_empty, "the layer is empty"),
        (_break_crs, "contradicts the file's own CRS"),
        (_break_geometry_type, "needs polygons, found Point"),
    ],
)
def test_bad_input_one_line_exit_2_no_output(tmp_path: Path, breaker, message: str) -> None:
    root = write_tiny_workspace(tmp_path / "bad")
    breaker(root)
    r = invoke("run", str(root))
    assert r.exit_code == 2
    errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in r.output
    assert not (root / "out").exists() and not list(root.glob(".out.*"))


def test_map_definition_names_the_map_and_its_title(tmp_path: Path) -> None:
    root = write_tiny_workspace(tmp_path / "m", analyses={"park500": "kind: park_coverage\n"})
    (root / "maps").mkdir()
    (root / "maps" / "parkmap.yml").write_text(
        'analysis: park500\ntitle: "Parks <b>500</b> m"\nlayers: [gaps]\n'
    )
    r = invoke("-q", "run", str(root))
    assert r.exit_code == 0, r.output
    page = (root / "out" / "maps" / "parkmap.html").read_text()
    assert "<title>Parks &lt;b&gt;500&lt;/b&gt; m</title>" in page


def test_run_leaves_the_candidates_layer_unread(tiny_workspace: Path) -> None:
    # candidate sites are read by `urbanform site` only: a run does not need (or read) them
    (tiny_workspace / "layers" / "candidates.yml").write_text(
        "role: candidates\nsource: data/not-there.gpkg\nfields: {name: name}\n"
    )
    r = invoke("run", str(tiny_workspace))
    assert r.exit_code == 0, r.output
    r = invoke("validate", str(tiny_workspace))  # validate reads every layer
    assert r.exit_code == 2 and "not-there.gpkg" in r.output
