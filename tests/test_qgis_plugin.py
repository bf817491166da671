"""The QGIS plugin written by ``urbanform qgis-plugin``: its zip, and the provider in QGIS.

The first tests need no QGIS. The others run ``tests/qgis_plugin_driver.py`` once under
``/usr/bin/python3`` (Debian's ``python3-qgis``, headless): it installs the zip into a
temporary plugin folder, registers the provider and runs every algorithm through
``processing.run``; they are skipped where ``import qgis.core`` fails there.

The small city (EPSG:32648, metres from the origin O = (400000, 3400000)): districts
W = [0, 1000] x [0, 1000] and E = [1000, 2000] x [0, 1000]; one 100 m x 100 m park at
[400, 500]^2 (10,000 m2: serves 500 m); residents P1 (450, 800) 100, P2 (1200, 450) 300,
P3 (1800, 900) 200, P4 (150, 150) 50 (total 650; workers 50, 150, 100, 25 = 325); jobs
J1 (300, 300) 400, J2 (1500, 500) 100; streets every 250 m; a kindergarten at (450, 760);
station S1 at (1250, 500); land use W: forest x 0-500, residential x 500-1000; E: water
x 1000-1500, forest x 1500-1600, residential x 1600-2000.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, box

from urbanform.analyses.registry import KINDS
from urbanform.cli.main import cli
from urbanform.qgis_plugin import KIND_ROLES, PLUGIN_NAME, ZIP_NAME, plugin_spec

REPO = Path(__file__).resolve().parents[1]
DRIVER = Path(__file__).resolve().parent / "qgis_plugin_driver.py"
MODEL = REPO / "docs" / "qgis" / "park_gaps.model3"
SYSTEM_PYTHON = "/usr/bin/python3"
CRS = "EPSG:32648"
OX, OY = 400000.0, 3400000.0
CLASSES = {"forest": ["G2"], "residential": ["R2"], "water": ["E1"]}
#: Parameters of the per-kind runs, the same in the YAML of the reference workspace.
KIND_PARAMS: dict[str, dict[str, Any]] = {
    "park_coverage": {},
    "living_circle": {"level": 5, "categories": ["kindergarten"]},
    "tod": {},
    "jobs_housing": {},
    "forest_cover": {},
}


def _box(x0: float, y0: float, x1: float, y1: float) -> Any:
    return box(OX + x0, OY + y0, OX + x1, OY + y1)


def _pt(x: float, y: float) -> Point:
    return Point(OX + x, OY + y)


def _frame(geoms: list[Any], **cols: list[Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=CRS)


def city_layers() -> dict[str, gpd.GeoDataFrame]:
    """The small city of the module docstring, with non-canonical column names."""
    streets = [LineString([(OX + x, OY), (OX + x, OY + 1000)]) for x in range(0, 2001, 250)]
    streets += [LineString([(OX, OY + y), (OX + 2000, OY + y)]) for y in range(0, 1001, 250)]
    return {
        "districts": _frame([_box(0, 0, 1000, 1000), _box(1000, 0, 2000, 1000)],
                            NAME_D=["W", "E"]),
        "parks": _frame([_box(400, 400, 500, 500)], PNAME=["Central"]),
        "population": _frame([_pt(450, 800), _pt(1200, 450), _pt(1800, 900), _pt(150, 150)],
                             POP=[100, 300, 200, 50], WRK=[50, 150, 100, 25]),
        "jobs": _frame([_pt(300, 300), _pt(1500, 500)], JOBS_N=[400, 100]),
        "facilities": _frame([_pt(450, 760)], CAT=["kindergarten"]),
        "stations": _frame([_pt(1250, 500)], SNAME=["S1"], SLINE=["L1"]),
        "streets": _frame(streets, RD=[f"r{i}" for i in range(len(streets))]),
        "landuse": _frame(
            [_box(0, 0, 500, 1000), _box(500, 0, 1000, 1000), _box(1000, 0, 1500, 1000),
             _box(1500, 0, 1600, 1000), _box(1600, 0, 2000, 1000)],
            LU=["G2", "R2", "E1", "G2", "R2"]),
    }


#: role -> canonical field -> column of city_layers()
FIELDS = {
    "districts": {"name": "NAME_D"},
    "parks": {"name": "PNAME"},
    "population": {"population": "POP", "workers": "WRK"},
    "jobs": {"jobs": "JOBS_N"},
    "facilities": {"category": "CAT"},
    "stations": {"name": "SNAME", "line": "SLINE"},
    "streets": {"name": "RD"},
    "landuse": {"class": "LU"},
}


def write_workspace(root: Path) -> Path:
    """The small city as an ordinary workspace, one analysis per kind (the reference)."""
    (root / "data").mkdir(parents=True)
    (root / "layers").mkdir()
    (root / "analyses").mkdir()
    (root / "urbanform.yml").write_text(
        json.dumps({"name": "small", "crs": CRS, "h3_resolutions": [8]}), encoding="utf-8")
    for role, gdf in city_layers().items():
        gdf.to_file(root / "data" / f"{role}.gpkg", layer=role, driver="GPKG")
        spec: dict[str, Any] = {"role": role, "source": f"data/{role}.gpkg",
                                "fields": FIELDS[role]}
        if role == "landuse":
            spec["classes"] = CLASSES
        (root / "layers" / f"{role}.yml").write_text(json.dumps(spec), encoding="utf-8")
    for kind, params in KIND_PARAMS.items():
        (root / "analyses" / f"{kind}.yml").write_text(
            json.dumps({"kind": kind, "params": params}), encoding="utf-8")
    return root


# ---- the zip, without QGIS -------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plugin")
    result = CliRunner().invoke(cli, ["qgis-plugin", str(folder)])
    assert result.exit_code == 0, result.output
    return folder / ZIP_NAME


def test_zip_holds_one_plugin_folder_with_its_files(plugin_zip: Path) -> None:
    with zipfile.ZipFile(plugin_zip) as zf:
        names = set(zf.namelist())
        meta = zf.read(f"{PLUGIN_NAME}/metadata.txt").decode()
    assert names == {f"{PLUGIN_NAME}/{n}" for n in
                     ("__init__.py", "provider.py", "algorithms.py", "metadata.txt",
                      "kinds.json")}
    assert "qgisMinimumVersion=3.22" in meta.splitlines()
    assert "hasProcessingProvider=yes" in meta.splitlines()


def test_plugin_code_is_python_3_9(plugin_zip: Path) -> None:
    with zipfile.ZipFile(plugin_zip) as zf:
        for name in ("__init__.py", "provider.py", "algorithms.py"):
            ast.parse(zf.read(f"{PLUGIN_NAME}/{name}").decode(), feature_version=(3, 9))


def test_kinds_json_offers_every_registry_parameter_with_its_default(plugin_zip: Path) -> None:
    with zipfile.ZipFile(plugin_zip) as zf:
        spec = json.loads(zf.read(f"{PLUGIN_NAME}/kinds.json"))
    assert list(spec["kinds"]) == list(KINDS)
    for kind, entry in KINDS.items():
        params = {p["name"]: p["default"] for p in spec["kinds"][kind]["params"]}
        assert params == json.loads(json.dumps(dict(entry.defaults))), kind
        assert set(spec["kinds"][kind]["indicators"]) == set(entry.indicators)


def test_choices_hold_their_defaults() -> None:
    enums = [p for k in plugin_spec()["kinds"].values() for p in k["params"]
             if p["type"] == "enum"]
    assert {p["name"] for p in enums} == {"distance", "level", "source"}
    assert all(p["default"] in p["choices"] for p in enums)


def test_every_kind_has_roles_starting_with_districts() -> None:
    assert set(KIND_ROLES) == set(KINDS)
    assert {k: r[0] for k, r in KIND_ROLES.items()} == dict.fromkeys(KINDS, ("districts", True))


def test_existing_zip_is_kept_without_force(plugin_zip: Path) -> None:
    before = plugin_zip.read_bytes()
    result = CliRunner().invoke(cli, ["qgis-plugin", str(plugin_zip.parent)])
    assert result.exit_code == 2
    assert "urbanform_qgis.zip exists; pass --force" in result.output
    assert plugin_zip.read_bytes() == before
    forced = CliRunner().invoke(cli, ["qgis-plugin", "--force", str(plugin_zip.parent)])
    assert forced.exit_code == 0, forced.output


# ---- in QGIS -----------------------------------------------------------------------------


def _qgis_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, check=False,
    )
    return probe.returncode == 0


def _wrapper(folder: Path) -> Path:
    """An ``urbanform`` command running this checkout with the test's Python."""
    exe = folder / "urbanform-here"
    exe.write_text(
        "#!/bin/sh\n"
        f"PYTHONPATH='{REPO}' exec '{sys.executable}' -m urbanform \"$@\"\n",
        encoding="utf-8",
    )
    exe.chmod(0o755)
    return exe


def _layer(ws: Path, role: str) -> dict[str, Any]:
    return {"source": f"{ws / 'data' / f'{role}.gpkg'}|layername={role}", "memory": True,
            "name": f"{role} (memory)"}


def _kind_call(ws: Path, out: Path, kind: str) -> dict[str, Any]:
    params: dict[str, Any] = {"CRS": CRS, "OUTPUT": str(out / kind)}
    for role, _ in KIND_ROLES[kind]:
        params[role.upper()] = _layer(ws, role)
        for field, column in FIELDS[role].items():
            params[f"{role.upper()}_{field.upper()}"] = column
    if any(role == "landuse" for role, _ in KIND_ROLES[kind]):
        params["LANDUSE_CLASSES"] = json.dumps(CLASSES)
    if kind == "living_circle":
        params["LEVEL"] = 0  # choices 5, 10, 15
        params["CATEGORIES"] = json.dumps(["kindergarten"])
    return {"alg": f"urbanform:{kind}", "params": params}


def _calls(ws: Path, out: Path, exe: Path, bad: Path) -> list[dict[str, Any]]:
    env = {"URBANFORM_EXE": str(exe)}
    calls: list[dict[str, Any]] = [
        {"name": "validate", "alg": "urbanform:validate", "env": env,
         "params": {"WORKSPACE": str(ws)}},
        {"name": "validate_bad", "alg": "urbanform:validate", "params": {"WORKSPACE": str(bad)}},
        {"name": "run", "alg": "urbanform:run",
         "params": {"WORKSPACE": str(ws), "OUTPUT": str(out / "run")}},
        {"name": "run_only", "alg": "urbanform:run", "params": {
            "WORKSPACE": str(ws), "ONLY": "tod, jobs_housing", "OUTPUT": str(out / "only")}},
    ]
    calls += [{"name": kind, **_kind_call(ws, out, kind)} for kind in KIND_PARAMS]
    calls.append({"name": "model", "alg": "model", "model": str(MODEL), "params": {
        "districts": _layer(ws, "districts"), "district_name": "NAME_D",
        "parks": _layer(ws, "parks"), "population": _layer(ws, "population"),
        "population_field": "POP", "target": 0.9,
        "short:short_districts": str(out / "short.gpkg")}})
    calls.append({"name": "temporary", **_kind_call(ws, out, "jobs_housing")})
    calls[-1]["params"]["OUTPUT"] = "TEMPORARY_OUTPUT"
    calls += [
        {"name": "cancel", "alg": "urbanform:run", "cancel_on": "analysis",
         "params": {"WORKSPACE": str(REPO), "OUTPUT": str(out / "cancelled")}},
        {"name": "setting", "alg": "urbanform:validate", "env": {"URBANFORM_EXE": None},
         "setting": str(exe), "params": {"WORKSPACE": str(ws)}},
        {"name": "none", "alg": "urbanform:validate", "env": {"PATH": "/nonexistent"},
         "params": {"WORKSPACE": str(ws)}},
    ]
    return calls


@pytest.fixture(scope="module")
def qgis(tmp_path_factory: pytest.TempPathFactory, plugin_zip: Path) -> dict[str, Any]:
    """What the plugin did in QGIS: one QGIS session runs every call."""
    if not _qgis_available():
        pytest.skip("QGIS Python bindings not importable by /usr/bin/python3 "
                    "(run .ci/install-qgis.sh)")
    tmp = tmp_path_factory.mktemp("qgis_plugin")
    ws = write_workspace(tmp / "ws")
    bad = write_workspace(tmp / "bad")
    (bad / "layers" / "parks.yml").write_text(
        json.dumps({"role": "parks", "source": "data/missing.gpkg"}), encoding="utf-8")
    calls = _calls(ws, tmp / "out", _wrapper(tmp), bad)
    control = tmp / "gpkg_1_4.gpkg"  # GDAL's newer default version, which QGIS 3.22 flags
    city_layers()["parks"].to_file(control, layer="parks", driver="GPKG", engine="pyogrio",
                                   dataset_options={"VERSION": "1.4"})
    job = {"zip": str(plugin_zip), "plugins": str(tmp / "plugins"), "calls": calls,
           "open_gpkg": [str(tmp / "out" / "run" / "results.gpkg"), str(control)]}
    (tmp / "job.json").write_text(json.dumps(job), encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp)}
    env.pop("PYTHONPATH", None)
    env.pop("URBANFORM_EXE", None)
    proc = subprocess.run(
        [SYSTEM_PYTHON, str(DRIVER), str(tmp / "job.json")], capture_output=True, text=True,
        env=env, cwd=tmp, timeout=900, check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("JSON:")]
    assert lines, f"QGIS driver failed (exit {proc.returncode}): {proc.stderr[-3000:]}"
    seen = json.loads(lines[-1][len("JSON:"):])
    seen["by_name"] = {c["name"]: r for c, r in zip(calls, seen["calls"], strict=True)}
    seen["reference"] = _reference(tmp / "reference")
    return seen


def _reference(folder: Path) -> dict[str, Any]:
    """summary.json of ``urbanform run`` on the same layers (this process, no QGIS)."""
    ws = write_workspace(folder)
    result = CliRunner().invoke(cli, ["-q", "run", str(ws), "--out", str(folder / "out")])
    assert result.exit_code == 0, result.output
    return json.loads((folder / "out" / "summary.json").read_text(encoding="utf-8"))


def _call(qgis: dict[str, Any], name: str) -> dict[str, Any]:
    call: dict[str, Any] = qgis["by_name"][name]
    return call


@pytest.mark.qgis
def test_provider_registers_every_algorithm(qgis: dict[str, Any]) -> None:
    assert qgis["provider"] == "urbanform"
    assert qgis["algorithms"] == sorted(
        ["urbanform:validate", "urbanform:run", *(f"urbanform:{k}" for k in KINDS)])


@pytest.mark.qgis
def test_validate_lists_the_workspace_in_the_log(qgis: dict[str, Any]) -> None:
    call = _call(qgis, "validate")
    assert call["ok"], call.get("error")
    # the thin-input check: 1 park in the 500 m tier and none in the 300 m tier (< 5 each)
    assert call["results"]["WARNINGS"] == 2
    assert any(line.startswith("  layer parks ") for line in call["log"])
    assert "OK with 2 warning(s)" in call["log"]


@pytest.mark.qgis
def test_validate_fails_on_an_error_naming_the_layer(qgis: dict[str, Any]) -> None:
    call = _call(qgis, "validate_bad")
    assert not call["ok"]
    assert call["error"].startswith("Error: layer 'parks' (")
    assert "missing.gpkg does not exist; fix 'source'" in call["error"]
    assert call["error"].endswith("(exit status 2)")


@pytest.mark.qgis
def test_exe_comes_from_the_environment_then_the_setting(qgis: dict[str, Any]) -> None:
    said = {n: _call(qgis, n)["log"][0] for n in ("validate", "setting")}
    assert "(from the URBANFORM_EXE environment variable)" in said["validate"]
    assert "(from the Processing setting 'urbanform executable'" in said["setting"]
    assert _call(qgis, "setting")["ok"]


@pytest.mark.qgis
def test_no_exe_found_is_a_clear_error(qgis: dict[str, Any]) -> None:
    call = _call(qgis, "none")
    assert not call["ok"] and call["pid"] is None
    assert call["error"].startswith("no urbanform command found: URBANFORM_EXE is not set")
    assert "ERROR " + call["error"] in call["log"]


@pytest.mark.qgis
def test_run_writes_outputs_and_streams_progress(qgis: dict[str, Any]) -> None:
    call = _call(qgis, "run")
    assert call["ok"], call.get("error")
    out = Path(call["results"]["OUTPUT"])
    assert call["results"]["SUMMARY"] == str(out / "summary.json")
    assert (out / "results.gpkg").exists() and (out / "report.html").exists()
    # stages: reading and harmonising layers, the 5 analyses, then 6 writing stages
    assert call["texts"][:3] == ["reading layers", "harmonising layers",
                                 "analysis forest_cover (forest_cover)"]
    assert call["texts"][-1] == "QGIS styles and project"
    assert len(call["texts"]) == 2 + len(KIND_PARAMS) + 6
    percents = call["percents"]
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert len({round(p) for p in percents}) > 10


@pytest.mark.qgis
def test_run_only_runs_the_named_analyses(qgis: dict[str, Any]) -> None:
    call = _call(qgis, "run_only")
    assert call["ok"], call.get("error")
    summary = json.loads(Path(call["results"]["SUMMARY"]).read_text(encoding="utf-8"))
    assert set(summary["analyses"]) == {"tod", "jobs_housing"}
    assert len(call["texts"]) == 2 + 2 + 6 and call["percents"][-1] == 100.0


@pytest.mark.qgis
def test_run_summary_matches_urbanform_run(qgis: dict[str, Any]) -> None:
    out = Path(_call(qgis, "run")["results"]["OUTPUT"])
    got = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert _city_values(got) == _city_values(qgis["reference"])


def _city_values(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: {k: v["city"]["value"] for k, v in a["indicators"].items()}
            for name, a in summary["analyses"].items()}


#: City values worked out by hand from the module docstring.
HAND = {
    # P1 is 300 m and P4 353.6 m from the park's edge (< 500); P2 700 m, P3 farther.
    ("park_coverage", "pop_share"): (100 + 50) / 650,
    # 5-minute circle (300 m): only P1 reaches the kindergarten, 50 m + 10 m via y = 750.
    ("living_circle", "pop_share_all"): 100 / 650,
    # S1 at the crossing (1250, 500): P2 walks 50 + 50 + 50 m; P3 at least 950 m; J2 250 m.
    ("tod", "pop_share"): 300 / 650,
    ("tod", "jobs_share"): 100 / 500,
    # 500 jobs / 325 resident workers
    ("jobs_housing", "ratio"): 500 / 325,
    # forest 500,000 + 100,000 m2 of 2,000,000 - 500,000 m2 of water
    ("forest_cover", "share"): 600_000 / 1_500_000,
}


@pytest.mark.qgis
@pytest.mark.parametrize("kind", list(KIND_PARAMS))
def test_kind_on_memory_layers_equals_urbanform_run(qgis: dict[str, Any], kind: str) -> None:
    call = _call(qgis, kind)
    assert call["ok"], (call.get("error"), call["log"][-5:])
    reference = qgis["reference"]["analyses"][kind]["indicators"]
    got = {k: call["results"][k] for k in reference}
    assert got == pytest.approx({k: v["city"]["value"] for k, v in reference.items()},
                                abs=1e-12)


@pytest.mark.qgis
@pytest.mark.parametrize(("kind", "key"), list(HAND))
def test_kind_on_memory_layers_gives_the_hand_value(
    qgis: dict[str, Any], kind: str, key: str
) -> None:
    assert _call(qgis, kind)["results"][key] == pytest.approx(HAND[(kind, key)], abs=1e-9)


@pytest.mark.qgis
def test_kind_writes_to_a_temporary_output_folder(qgis: dict[str, Any]) -> None:
    call = _call(qgis, "temporary")
    assert call["ok"], call.get("error")
    # Processing's temporary folder (removed when QGIS exits)
    assert Path(call["results"]["SUMMARY"]).parent.name == "OUTPUT"
    assert call["results"]["ratio"] == pytest.approx(500 / 325)


@pytest.mark.qgis
def test_kind_returns_the_district_layer(qgis: dict[str, Any]) -> None:
    call = _call(qgis, "park_coverage")
    path, layer = call["results"]["DISTRICTS"].split("|layername=")
    districts = gpd.read_file(path, layer=layer)
    assert layer == "park_coverage__districts"
    assert sorted(districts["name"]) == ["E", "W"]
    shares = dict(zip(districts["name"], districts["pop_share"], strict=True))
    # W: P1 and P4 covered of 150; E: neither P2 nor P3 of 500
    assert shares == pytest.approx({"W": 1.0, "E": 0.0})


@pytest.mark.qgis
def test_cancel_stops_the_subprocess(qgis: dict[str, Any]) -> None:
    call = _call(qgis, "cancel")
    assert call["canceled"] and not call["ok"]
    assert "cancelled" in call["error"]
    assert call["pid"] is not None and call["alive_after"] is False
    assert any(line.startswith(f"urbanform process {call['pid']} ended") for line in call["log"])
    # cancelled at the first analysis: the demo workspace's full run takes far longer
    assert call["texts"][-1].startswith("analysis ")
    assert not (Path(call["params"]["OUTPUT"]) / "summary.json").exists()


@pytest.mark.qgis
def test_results_gpkg_opens_without_version_warning(qgis: dict[str, Any]) -> None:
    results, control = qgis["open_gpkg"].values()
    assert len(results["layers"]) > 5 and all(results["layers"].values())
    assert [m for m in results["messages"] if "version" in m.lower()] == []
    # the same check sees the warning on a GeoPackage 1.4
    assert control["layers"] == {"parks": True}
    assert any("user_version=0x000028A0 (10400, v1.4.0)" in m for m in control["messages"])


@pytest.mark.qgis
def test_model_example_chains_park_coverage_into_extract(qgis: dict[str, Any]) -> None:
    call = _call(qgis, "model")
    assert call["ok"], (call.get("error"), call["log"][-8:])
    short = gpd.read_file(call["params"]["short:short_districts"])
    # W has every resident near the park (share 1.0), E none (0.0 < 0.9)
    assert list(short["name"]) == ["E"]


@pytest.mark.qgis
def test_run_hands_the_styled_result_layers_to_the_gui(qgis: dict[str, Any]) -> None:
    to_load = _call(qgis, "run")["to_load"]
    # every analysis's district layer, drawn by its stored graduated default style
    assert {f"{kind}__districts" for kind in KIND_PARAMS} <= set(to_load)
    assert to_load["park_coverage__districts"] == "graduatedSymbol"
    assert _call(qgis, "validate")["to_load"] == {}
