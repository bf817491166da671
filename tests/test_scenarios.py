"""Scenarios and "where to act" on the tiny city of conftest.py, with answers by hand.

The tiny city (see conftest.py): one park, Central Park = [450, 550]^2 (10,000 m2, serves
500 m from its edge); residents P1 (200, 200) 100 West and P3 (950, 500) 50 West are
covered, P2 (1300, 200) 300 East and P4 (1075, 500) 50 East are not: pop_share city
150 / 500 = 0.3, West 1.0, East 0.0; area_share city 0.55, West 1.0, East 0.1.

East Park, added by the scenarios below, is [1500, 1600] x [0, 100] (10,000 m2: 500 m):

- P2 (1300, 200) is dx = 200, dy = 100 from it: 223.6 m, covered;
- P4 (1075, 500) is dx = 425, dy = 400: 583.6 m, still not covered;
- P1, P3 are more than 500 m away (dx >= 550);
- residential R2 = [1200, 1400] x [100, 300] (East, 40,000 m2): its farthest corner
  (1200, 300) is dx = 300, dy = 200: 360.6 m, all covered; R3's East part
  [1000, 1100] x [450, 550] is at least dx = 400, dy = 350: 531.5 m away, not covered.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pytest
import shapely
from click.testing import CliRunner
from conftest import CRS, X0, Y0, box
from h3ronpy import cells_to_string
from h3ronpy import vector as h3v
from pyproj import Transformer

import urbanform.scenarios as scenarios
from urbanform.cli.main import cli
from urbanform.errors import WorkspaceError
from urbanform.outdir import is_output
from urbanform.pipeline import run_workspace
from urbanform.scenarios import load_scenario, run_scenario
from urbanform.workspace import load_workspace

ADD = "description: A park in the east\nadd:\n  parks: {source: data/new.gpkg, layer: parks, " \
    "fields: {name: pname}}\n"


def _east_park(path: Path) -> None:
    gpd.GeoDataFrame(
        {"pname": ["East Park"]}, geometry=[box(1500, 0, 1600, 100)], crs=CRS
    ).to_file(path, layer="parks", engine="pyogrio")


def _scenario(root: Path, name: str, text: str) -> None:
    (root / "scenarios").mkdir(exist_ok=True)
    (root / "scenarios" / f"{name}.yml").write_text(text, encoding="utf-8")


@pytest.fixture
def east(tiny_workspace: Path) -> Path:
    _east_park(tiny_workspace / "data" / "new.gpkg")
    _scenario(tiny_workspace, "east", ADD)
    return tiny_workspace


def _ind(summary: dict, key: str, analysis: str = "park500") -> dict:
    return summary["analyses"][analysis]["indicators"][key]


def test_adding_a_park_moves_the_share_with_the_baseline_beside_it(east: Path) -> None:
    ws = load_workspace(east)
    run = run_scenario(ws, "east")
    s = run.summary
    assert s["scenario"]["name"] == "east"
    assert s["scenario"]["description"] == "A park in the east"
    pop = _ind(s, "pop_share")
    # P2 (300) becomes covered: (100 + 50 + 300) / 500 = 0.9; East 300 / 350 = 6/7
    assert pop["city"]["value"] == pytest.approx(0.9)
    assert pop["city"]["baseline"] == pytest.approx(0.3)
    assert pop["city"]["met"] is True
    assert pop["city"]["gain"] == pytest.approx(300.0)
    assert pop["districts"]["East"]["value"] == pytest.approx(6 / 7)
    assert pop["districts"]["East"]["baseline"] == pytest.approx(0.0)
    assert pop["districts"]["West"]["baseline"] == pytest.approx(1.0)
    area = _ind(s, "area_share")
    # R2 (40,000 m2) becomes covered: (55,000 + 40,000) / 100,000; East 45,000 / 50,000
    assert area["city"]["value"] == pytest.approx(0.95)
    assert area["city"]["baseline"] == pytest.approx(0.55)
    assert area["city"]["gain"] == pytest.approx(40_000.0, rel=1e-6)
    assert area["districts"]["East"]["value"] == pytest.approx(0.9)
    forest = _ind(s, "share", "forest")  # untouched by the scenario
    assert forest["city"]["value"] == forest["city"]["baseline"] == pytest.approx(2 / 3)
    # outputs: <out>/scenario-east, with the changed cells as a layer and in the report
    assert run.out == ws.out / "scenario-east"
    written = json.loads((run.out / "summary.json").read_text(encoding="utf-8"))
    assert _ind(written, "pop_share")["city"]["baseline"] == pytest.approx(0.3)
    changes = gpd.read_file(run.out / "results.gpkg", layer="park500__changes")
    assert changes["pop_share__gain"].sum() == pytest.approx(300.0)
    assert (changes["pop_share__gain"] > 0).sum() == 1  # P2's cell only
    page = (run.out / "report.html").read_text(encoding="utf-8")
    assert 'class="uf-before-after"' in page
    row = page[page.index('class="uf-before-after"'):]
    assert "30.0%" in row and "90.0%" in row and "+60.0" in row and "+300" in row


def test_remove_and_add(east: Path) -> None:
    _scenario(east, "swap", ADD + "remove:\n  parks: {names: [Central Park]}\n")
    run = run_scenario(load_workspace(east), "swap", write=False)
    pop = _ind(run.summary, "pop_share")
    # only East Park is left: P2 (300) covered, P1, P3, P4 not: 300 / 500
    assert pop["city"]["value"] == pytest.approx(0.6)
    assert pop["city"]["gain"] == pytest.approx(150.0)  # +300 (P2) - 150 (P1, P3)
    assert pop["districts"]["West"]["value"] == pytest.approx(0.0)
    assert pop["districts"]["West"]["baseline"] == pytest.approx(1.0)
    # R2 covered (40,000 m2) only: 40,000 / 100,000
    assert _ind(run.summary, "area_share")["city"]["value"] == pytest.approx(0.4)


def test_replace_population(tiny_workspace: Path) -> None:
    gpd.GeoDataFrame(
        {"people": [400]}, geometry=shapely.points([[X0 + 1300, Y0 + 200]]), crs=CRS
    ).to_file(tiny_workspace / "data" / "pop2030.gpkg", engine="pyogrio")
    _scenario(
        tiny_workspace,
        "pop2030",
        "replace:\n  population: {source: data/pop2030.gpkg, fields: {population: people}}\n",
    )
    run = run_scenario(load_workspace(tiny_workspace), "pop2030", write=False)
    pop = _ind(run.summary, "pop_share")
    # the only residents, 400 at (1300, 200), are 790.6 m from Central Park: 0 / 400
    assert pop["city"]["value"] == pytest.approx(0.0)
    assert pop["city"]["baseline"] == pytest.approx(0.3)
    assert pop["city"]["gain"] == pytest.approx(-150.0)
    assert pop["districts"]["West"]["value"] is None
    assert pop["districts"]["West"]["baseline"] == pytest.approx(1.0)


def test_baseline_is_reused_when_its_inputs_match(
    east: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = scenarios.run_workspace

    def counting(ws, **kw):  # type: ignore[no-untyped-def]
        calls.append(ws.out.name)
        return real(ws, **kw)

    monkeypatch.setattr(scenarios, "run_workspace", counting)
    first = run_scenario(load_workspace(east), "east")
    assert calls == ["out", "scenario-east"]  # the baseline computed and written to out/
    assert first.summary["scenario"]["baseline"]["reused"] is False
    assert is_output(east / "out")
    calls.clear()
    second = run_scenario(load_workspace(east), "east")
    assert calls == ["scenario-east"]  # not computed again
    assert second.summary["scenario"]["baseline"]["reused"] is True
    assert _ind(second.summary, "pop_share")["city"]["baseline"] == pytest.approx(0.3)
    assert _ind(second.summary, "pop_share")["city"]["gain"] == pytest.approx(300.0)
    # a changed input (the park500 target) no longer matches: computed again
    text = (east / "analyses" / "park500.yml").read_text(encoding="utf-8")
    (east / "analyses" / "park500.yml").write_text(
        text.replace("value: 0.9", "value: 0.8"), encoding="utf-8"
    )
    calls.clear()
    third = run_scenario(load_workspace(east), "east")
    assert calls == ["out", "scenario-east"]
    assert third.summary["scenario"]["baseline"]["reused"] is False
    # a changed layer file does not match either
    _east_park(east / "data" / "parks.gpkg")  # Central Park's file now holds East Park
    ws = load_workspace(east)
    from urbanform.pipeline import run_fingerprint, validate_analyses

    assert scenarios.find_baseline(
        ws.out, run_fingerprint(ws, validate_analyses(ws)), ["park500"], 9
    ) is None


def test_baseline_run_keeps_its_scenario_outputs(east: Path) -> None:
    run_scenario(load_workspace(east), "east")
    run_workspace(load_workspace(east))  # the baseline again, into out/
    assert is_output(east / "out")
    assert is_output(east / "out" / "scenario-east")


def test_scenario_before_any_baseline_output(east: Path) -> None:
    # with --only the baseline is computed but not written: out/ holds the scenario only
    run = run_scenario(load_workspace(east), "east", only=["park500"])
    baseline = run.summary["scenario"]["baseline"]
    assert (baseline["reused"], baseline["folder"]) == (False, None)
    assert sorted(p.name for p in (east / "out").iterdir()) == ["scenario-east"]
    run_workspace(load_workspace(east))  # out/ may still be written, keeping the scenario
    assert is_output(east / "out") and is_output(east / "out" / "scenario-east")


def test_source_beside_the_scenario_file(tiny_workspace: Path) -> None:
    folder = tiny_workspace / "proposals"
    folder.mkdir()
    _east_park(folder / "sites.gpkg")
    path = folder / "scenario.yml"
    path.write_text("add:\n  parks: {source: sites.gpkg, layer: parks}\n", encoding="utf-8")
    ws = load_workspace(tiny_workspace)
    sc = load_scenario(ws, str(path))
    assert sc.name == "scenario"
    assert Path(sc.add[0].source) == folder / "sites.gpkg"
    run = run_scenario(ws, str(path), write=False)
    assert _ind(run.summary, "pop_share")["city"]["value"] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add:\n  parks: {source: data/new.gpkg}\nmove: {}\n", "unknown key 'move'"),
        ("add:\n  park: {source: data/new.gpkg}\n", "add: unknown role 'park'"),
        ("add:\n  parks: {source: data/new.gpkg, colour: red}\n", "parks: unknown key 'colour'"),
        ("add:\n  parks: {role: parks, source: data/new.gpkg}\n", "unknown key 'role'"),
        ("remove:\n  parks: {name: [X]}\n", "remove.parks: unknown key 'name'"),
        ("description: nothing\n", "changes nothing"),
    ],
)
def test_bad_scenario_files(east: Path, text: str, expected: str) -> None:
    _scenario(east, "bad", text)
    with pytest.raises(WorkspaceError, match=expected) as info:
        load_scenario(load_workspace(east), "bad")
    assert "bad.yml" in str(info.value)


def test_unknown_name_to_remove(east: Path) -> None:
    _scenario(east, "gone", "remove:\n  parks: {names: [Old Depot Park]}\n")
    with pytest.raises(WorkspaceError, match="no feature named 'Old Depot Park'") as info:
        run_scenario(load_workspace(east), "gone", write=False)
    assert "gone.yml" in str(info.value) and "Central Park" in str(info.value)


def test_unknown_scenario(east: Path) -> None:
    with pytest.raises(WorkspaceError, match="no scenario 'west'.*scenarios: east"):
        load_scenario(load_workspace(east), "west")


def _cell(x: float, y: float, res: int) -> str:
    """The H3 cell of a tiny-city point, computed here from its coordinates."""
    lng, lat = Transformer.from_crs(CRS, 4326, always_xy=True).transform(X0 + x, Y0 + y)
    cells = h3v.coordinates_to_cells(np.array([lat]), np.array([lng]), res)
    return str(pa.array(cells_to_string(cells)).to_pylist()[0])


def test_priorities_by_hand(tiny_workspace: Path) -> None:
    run = run_workspace(load_workspace(tiny_workspace), write=False)
    got = run.summary["analyses"]["park500"]["priorities"]
    # not covered: P2 (1300, 200) 300 and P4 (1075, 500) 50, 400 m apart: two res-9 cells
    # (edge about 174 m); nearest park edge: P2 sqrt(750^2 + 250^2) = 790.6 m,
    # P4 1075 - 550 = 525 m
    assert [p["hex_id"] for p in got] == [_cell(1300, 200, 9), _cell(1075, 500, 9)]
    assert [p["not_covered"] for p in got] == [300.0, 50.0]
    assert [p["district"] for p in got] == ["East", "East"]
    assert got[0]["nearest_m"] == pytest.approx(math.hypot(750, 250), abs=0.1)
    assert got[1]["nearest_m"] == pytest.approx(525.0, abs=0.1)
    assert got[0]["nearest"] == "parks"
    assert run.summary["analyses"]["forest"]["priorities"] == []  # not a population share
    page_rows = _priority_rows(run, tiny_workspace)
    assert page_rows == 2


def _priority_rows(run, root: Path) -> int:  # type: ignore[no-untyped-def]
    from urbanform.maps.report import priority_rows

    rows = priority_rows(run.summary["analyses"]["park500"]["priorities"])
    ring = json.loads(rows[0]["ring"])
    # the outline of P2's cell holds P2 (lat, lng)
    lng, lat = Transformer.from_crs(CRS, 4326, always_xy=True).transform(X0 + 1300, Y0 + 200)
    assert shapely.Polygon([(b, a) for a, b in ring]).contains(shapely.Point(lng, lat))
    return len(rows)


def test_priorities_keep_the_top_20(tiny_workspace: Path) -> None:
    from urbanform.priorities import priorities

    run = run_workspace(load_workspace(tiny_workspace), write=False)
    result = next(r for r in run.results if r.name == "park500")
    # at resolution 12 (edge about 9 m) P2 and P4 are still two cells; top=1 keeps P2's
    top = priorities(result, run.layers, resolution=12, top=1)
    assert [p["hex_id"] for p in top] == [_cell(1300, 200, 12)]


def test_priorities_of_balanced_share_list_residents_in_unbalanced_districts() -> None:
    from urbanform.layers.types import Layers
    from urbanform.priorities import priorities
    from urbanform.results import AnalysisResult, Target, indicator_values

    # residents: 400 at (200, 200) in balanced West, 300 at (1300, 200) and 100 at
    # (1600, 700) in unbalanced East; job units carry 0 in both columns. Short of the
    # target: East's 300 and 100 residents, in that order; West's are counted as covered.
    units = gpd.GeoDataFrame(
        {"district": ["West", "East", "East", "East"],
         "balanced_share__num": [400.0, 0.0, 0.0, 0.0],
         "balanced_share__den": [400.0, 300.0, 100.0, 0.0]},
        geometry=shapely.points([[X0 + 200, Y0 + 200], [X0 + 1300, Y0 + 200],
                                 [X0 + 1600, Y0 + 700], [X0 + 1700, Y0 + 700]]),
        crs=CRS,
    )
    target = Target("balanced_share", ">=", 0.6)
    result = AnalysisResult(
        name="jh", kind="jobs_housing", params={},
        indicators={"balanced_share": indicator_values(units, "balanced_share", target=target)},
        units=units,
    )
    got = priorities(result, Layers(crs=CRS, vectors={}, rasters={}), resolution=9)
    assert [(p["hex_id"], p["district"], p["not_covered"], p["population"]) for p in got] == [
        (_cell(1300, 200, 9), "East", 300.0, 300.0),
        (_cell(1600, 700, 9), "East", 100.0, 100.0),
    ]
    assert {p["nearest_m"] for p in got} == {None}  # short of a balanced district, not a place


def test_cli_run_scenario(east: Path) -> None:
    res = CliRunner().invoke(cli, ["run", str(east), "--scenario", "east"])
    assert res.exit_code == 0, res.output
    assert "baseline: computed (written to out/)" in res.output
    assert "scenario 'east'" in res.output
    assert (east / "out" / "scenario-east" / "summary.json").is_file()
    res = CliRunner().invoke(cli, ["run", str(east), "--scenario", "east", "--out",
                                   str(east / "elsewhere")])
    assert res.exit_code == 0, res.output
    assert "baseline: reused the run in out/" in res.output
    assert (east / "elsewhere" / "summary.json").is_file()
    res = CliRunner().invoke(cli, ["run", str(east), "--scenario", "nope"])
    assert res.exit_code == 2 and "Error: no scenario 'nope'" in res.output


def test_validate_lists_and_checks_scenarios(east: Path) -> None:
    res = CliRunner().invoke(cli, ["validate", str(east)])
    assert res.exit_code == 0, res.output
    assert "scenario east" in res.output and "add parks" in res.output
    _scenario(east, "gone", "remove:\n  parks: {names: [Old Depot Park]}\n")
    res = CliRunner().invoke(cli, ["validate", str(east)])
    assert res.exit_code == 2
    assert "gone.yml: remove.parks: no feature named 'Old Depot Park'" in res.output


def test_demo_scenario_file_is_valid() -> None:
    root = Path(__file__).resolve().parents[1]
    sc = load_scenario(load_workspace(root), "east_parks")
    assert [s.role for s in sc.add] == ["parks"]
    assert Path(sc.add[0].source).is_file()


def test_demo_worked_example_of_the_readme() -> None:
    """The README's figures (a regression check of the documented example, not a proof)."""
    root = Path(__file__).resolve().parents[1]
    run = run_scenario(load_workspace(root), "east_parks", only=["park500"], write=False)
    pop = _ind(run.summary, "pop_share")
    assert round(100 * pop["city"]["baseline"], 1) == 84.7
    assert round(100 * pop["city"]["value"], 1) == 85.6
    assert round(pop["city"]["gain"]) == 26_939
    east = pop["districts"]["East New Town"]
    assert (round(100 * east["baseline"], 1), round(100 * east["value"], 1)) == (68.1, 72.8)
    # the parks sit on cells of the baseline's where-to-act list: those cells gain
    base = run_workspace(load_workspace(root), only=["park500"], write=False)
    listed = [p["hex_id"] for p in base.summary["analyses"]["park500"]["priorities"][:5]]
    gains = run.results[0].layers["changes"]
    assert gains.set_index("hex_id").loc[listed[1], "pop_share__gain"] > 0
