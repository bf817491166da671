"""--force never deletes what urbanform did not write (issue 9, part 1)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from _faults import analyses_of, invoke, one_error
from conftest import write_tiny_workspace

from urbanform.errors import OutputError
from urbanform.outdir import check_output

FOREST = {"forest": "kind: forest_cover\n"}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return write_tiny_workspace(tmp_path / "city" / "ws", analyses=FOREST)


def _inputs(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (".", "it is the workspace itself"),
        ("..", "a folder that contains the workspace"),
        ("../..", "a folder that contains the workspace"),
    ],
)
def test_force_refuses_workspace_and_its_parents(ws: Path, out: str, message: str) -> None:
    before = _inputs(ws)
    line = one_error(invoke("run", ws, "--out", ws / out, "--force"))
    assert message in line and "--out" in line
    assert _inputs(ws) == before


@pytest.mark.parametrize("folder", ["layers", "data", "analyses"])
def test_force_refuses_folder_with_foreign_files(ws: Path, folder: str) -> None:
    before = _inputs(ws)
    line = one_error(invoke("run", ws, "--out", ws / folder, "--force"))
    assert "holds files urbanform did not write" in line and "even with --force" in line
    assert _inputs(ws) == before


def test_force_refuses_home_folder(ws: Path, tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    line = one_error(invoke("run", ws, "--out", home, "--force"))
    assert "your home folder" in line


def test_filesystem_root_is_never_an_output() -> None:
    with pytest.raises(OutputError, match="it is the file-system root"):
        check_output(Path("/"), force=True)


def test_force_keeps_user_file_in_earlier_output(ws: Path) -> None:
    assert invoke("-q", "run", ws).exit_code == 0
    (ws / "out" / "notes.txt").write_text("mine", encoding="utf-8")
    line = one_error(invoke("run", ws, "--force"))
    assert "(notes.txt)" in line
    assert (ws / "out" / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_output_path_that_is_a_file_is_refused(ws: Path) -> None:
    target = ws / "report.txt"
    target.write_text("mine", encoding="utf-8")
    line = one_error(invoke("run", ws, "--out", target, "--force"))
    assert "is a file" in line and target.read_text(encoding="utf-8") == "mine"


def test_force_replaces_unrecognised_output(ws: Path) -> None:
    stale = ws / "out"
    (stale / "maps").mkdir(parents=True)
    (stale / "report.html").write_text("<p>old</p>", encoding="utf-8")
    (stale / "maps" / "old.html").write_text("<p>old</p>", encoding="utf-8")
    one_error(invoke("run", ws))  # without --force: refused, it has no summary.json
    r = invoke("-q", "run", ws, "--force")
    assert r.exit_code == 0, r.output
    assert analyses_of(stale) == ["forest"]


def test_refusal_comes_before_the_work(ws: Path, monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("layers were read before the output folder was checked")

    monkeypatch.setattr("urbanform.pipeline.load_layers", boom)
    one_error(invoke("run", ws, "--out", ws, "--force"))


def test_output_below_a_file(ws: Path) -> None:
    line = one_error(invoke("run", ws, "--out", ws / "data" / "parks.gpkg" / "out"))
    assert "a file stands where a folder is needed" in line
    assert (ws / "data" / "parks.gpkg").is_file()


def test_output_folder_is_readable_by_others(ws: Path) -> None:
    # as a plain mkdir with the usual umask 022 makes it (the staging folder is 0700)
    old = os.umask(0o022)
    try:
        assert invoke("-q", "run", ws).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((ws / "out").stat().st_mode) == 0o755
