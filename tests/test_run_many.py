"""``urbanform run DIR DIR ...``: several workspaces in one call, one after another."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import EXPECTED, write_tiny_workspace

from urbanform.cli.main import cli

FOREST = {"forest": "kind: forest_cover\n"}


def test_two_workspaces_write_their_own_out(tmp_path: Path) -> None:
    a = write_tiny_workspace(tmp_path / "a", analyses=FOREST)
    b = write_tiny_workspace(tmp_path / "b", analyses=FOREST)
    r = CliRunner().invoke(cli, ["run", str(a), str(b)])
    assert r.exit_code == 0, r.output
    for root in (a, b):
        s = json.loads((root / "out" / "summary.json").read_text())
        # forest share 100 / 150 land pixels, worked out by hand in conftest
        value = s["analyses"]["forest"]["indicators"]["share"]["city"]["value"]
        assert abs(value - EXPECTED["forest"]["city"]) < 1e-12
    assert r.output.count("Scorecard: Tiny City") == 2


def test_out_refused_with_several_workspaces(tmp_path: Path) -> None:
    a = write_tiny_workspace(tmp_path / "a", analyses=FOREST)
    r = CliRunner().invoke(cli, ["run", str(a), str(a), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert r.output.startswith("Error: --out names one output folder but 2 workspaces")
    assert not (tmp_path / "o").exists() and not (a / "out").exists()


def test_error_names_the_workspace(tmp_path: Path) -> None:
    a = write_tiny_workspace(tmp_path / "a", analyses=FOREST)
    b = write_tiny_workspace(tmp_path / "b", analyses={"bad": "kind: nope\n"})
    r = CliRunner().invoke(cli, ["run", str(a), str(b)])
    assert r.exit_code == 2
    errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and f"workspace {b}:" in errors[0] and "'nope'" in errors[0]
    assert (a / "out" / "summary.json").is_file()  # the first one had run
    assert "Traceback" not in r.output


def test_tile_km_needs_cluster(tmp_path: Path) -> None:
    a = write_tiny_workspace(tmp_path / "a", analyses=FOREST)
    r = CliRunner().invoke(cli, ["run", str(a), "--tile-km", "1"])
    assert r.exit_code == 2 and "--tile-km needs --cluster" in r.output


def test_gdal_virtual_path_source_is_read_as_given(tmp_path: Path) -> None:
    import zipfile

    root = write_tiny_workspace(tmp_path / "z", analyses=FOREST)
    with zipfile.ZipFile(root / "data.zip", "w") as z:  # a source GDAL opens inside a zip
        z.write(root / "data" / "districts.gpkg", "districts.gpkg")
    (root / "data" / "districts.gpkg").unlink()
    (root / "layers" / "districts.yml").write_text(
        f"role: districts\nsource: /vsizip/{root / 'data.zip'}/districts.gpkg\n"
    )
    r = CliRunner().invoke(cli, ["-q", "run", str(root)])
    assert r.exit_code == 0, r.output
    s = json.loads((root / "out" / "summary.json").read_text())
    districts = s["analyses"]["forest"]["indicators"]["share"]["districts"]
    # West all tree cover, East no forest on its land (conftest's hand calculation)
    assert districts["West"]["value"] == EXPECTED["forest"]["West"]
    assert districts["East"]["value"] == EXPECTED["forest"]["East"]


def test_two_workspaces_may_not_share_an_out(tmp_path: Path) -> None:
    a = write_tiny_workspace(tmp_path / "a", analyses=FOREST)
    b = write_tiny_workspace(tmp_path / "b", analyses=FOREST)
    for root in (a, b):
        with (root / "urbanform.yml").open("a", encoding="utf-8") as f:
            f.write(f"out: {tmp_path / 'shared'}\n")
    r = CliRunner().invoke(cli, ["run", str(a), str(b)])
    assert r.exit_code == 2 and "both write to" in r.output
    assert not (tmp_path / "shared").exists()
