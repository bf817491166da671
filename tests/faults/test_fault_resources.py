"""Resource traps: refused up front with an estimate and a hint (issue 9, part 2)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from _faults import invoke, one_error
from conftest import CRS, X0, Y0, write_tiny_workspace


def _streets(ws: Path) -> None:
    """A street along y = 500 and one along x = 200 across the tiny city."""
    lines = [
        shapely.LineString([(X0, Y0 + 500), (X0 + 2000, Y0 + 500)]),
        shapely.LineString([(X0 + 200, Y0), (X0 + 200, Y0 + 1000)]),
    ]
    gpd.GeoDataFrame({"name": ["Main", "Cross"]}, geometry=lines, crs=CRS).to_file(
        ws / "data" / "streets.gpkg", engine="pyogrio"
    )
    (ws / "layers" / "streets.yml").write_text(
        "role: streets\nsource: data/streets.gpkg\n", encoding="utf-8"
    )


def _jobs(ws: Path) -> None:
    pts = shapely.points([[X0 + 300, Y0 + 300], [X0 + 1500, Y0 + 700]])
    gpd.GeoDataFrame({"jobs": [200.0, 100.0]}, geometry=pts, crs=CRS).to_file(
        ws / "data" / "jobs.gpkg", engine="pyogrio"
    )
    (ws / "layers" / "jobs.yml").write_text("role: jobs\nsource: data/jobs.gpkg\n", "utf-8")


@pytest.mark.parametrize(
    ("param", "hint"),
    [("sample_spacing_m", "sample points"), ("access_spacing_m", "edge points")],
)
def test_tiny_spacing_refused_with_estimate(tmp_path: Path, param: str, hint: str) -> None:
    # a nanometre: 10^23 sample points over 100,000 m2 of residential land, 4 x 10^11
    # points along the park's 400 m edge; either needs far beyond any machine's memory
    ws = write_tiny_workspace(
        tmp_path / "ws",
        analyses={"park": f"kind: park_coverage\nparams: {{distance: network, {param}: 1.0e-9}}\n"},
    )
    _streets(ws)
    line = one_error(invoke("run", ws))
    assert "analyses/park.yml" in line and hint in line
    assert "would need about" in line and "B of memory; this machine has" in line
    assert f"use a larger params.{param}" in line
    assert not (ws / "out").exists()


def test_h3_resolution_that_needs_more_memory_than_the_machine_has(
    tmp_path: Path, monkeypatch
) -> None:
    # a machine with 1 KB free: the 6 cells (4 residents, 2 job sites) at resolution 15
    # are all within 5 km of each other, 36 pairs of 64 bytes = 2.3 KB
    ws = write_tiny_workspace(
        tmp_path / "ws", analyses={"jh": "kind: jobs_housing\nparams: {h3_resolution: 15}\n"}
    )
    _jobs(ws)
    monkeypatch.setattr("urbanform.checks.available_memory", lambda: 1024)
    line = one_error(invoke("run", ws))
    assert "analyses/jh.yml" in line and "36 pairs of H3 cells (resolution 15)" in line
    assert "use a lower params.h3_resolution" in line


def test_h3_resolution_15_runs_on_a_real_machine(tmp_path: Path) -> None:
    ws = write_tiny_workspace(
        tmp_path / "ws", analyses={"jh": "kind: jobs_housing\nparams: {h3_resolution: 15}\n"}
    )
    _jobs(ws)
    (ws / "urbanform.yml").write_text(
        'name: "Tiny City"\ncrs: EPSG:32648\nh3_resolutions: [15]\n', encoding="utf-8"
    )
    r = invoke("-q", "run", ws)
    assert r.exit_code == 0, r.output
    s = json.loads((ws / "out" / "summary.json").read_text(encoding="utf-8"))
    # 300 jobs for 500 residents x 0.55 (the default employment rate) = 275 workers
    ratio = s["analyses"]["jh"]["indicators"]["ratio"]["city"]["value"]
    assert ratio == pytest.approx(300 / 275)
