"""Faults around the command itself: init into a folder with files, a closed pipe."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from _faults import command, env, invoke, one_error
from conftest import write_tiny_workspace


def test_init_force_never_replaces_a_file(tmp_path: Path) -> None:
    ws = tmp_path / "city"
    ws.mkdir()
    (ws / "urbanform.yml").write_text("name: mine\n", encoding="utf-8")
    line = one_error(invoke("init", ws, "--force"))
    assert "already has urbanform.yml" in line and "never replaces a file" in line
    assert (ws / "urbanform.yml").read_text(encoding="utf-8") == "name: mine\n"


def test_init_force_writes_beside_other_files(tmp_path: Path) -> None:
    ws = tmp_path / "city"
    (ws / "data").mkdir(parents=True)
    (ws / "data" / "parks.gpkg").write_bytes(b"mine")
    r = invoke("init", ws, "--force")
    assert r.exit_code == 0, r.output
    assert (ws / "urbanform.yml").is_file()
    assert (ws / "data" / "parks.gpkg").read_bytes() == b"mine"


def test_init_on_a_full_disk(tmp_path: Path, monkeypatch) -> None:
    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.setattr(Path, "write_text", full)
    line = one_error(invoke("init", tmp_path / "city"))
    assert "cannot write the workspace" in line and "No space left on device" in line


def test_reader_closing_the_pipe_is_not_an_internal_error(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        command("init", tmp_path / "city"), env=env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    proc.stdout.close()  # like 'urbanform init DIR | head -0'
    err = proc.stderr.read()
    proc.wait(timeout=60)
    proc.stderr.close()
    assert "Internal error" not in err and "Traceback" not in err, err
    assert proc.returncode in (0, 1)


@pytest.mark.parametrize("args", [("run",), ("validate",)])
def test_missing_workspace_argument_folder(tmp_path: Path, args: tuple[str, ...]) -> None:
    line = one_error(invoke(*args, tmp_path / "nothing-here"))
    assert "does not exist" in line


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / ("a" * 300), "File name too long"),
        (lambda tmp: tmp / "/".join(["abcdefgh"] * 600), "File name too long"),
    ],
    ids=["long-name", "long-path"],
)
def test_output_path_too_long(tmp_path: Path, make, message: str) -> None:
    ws = write_tiny_workspace(tmp_path / "ws", analyses={"forest": "kind: forest_cover\n"})
    line = one_error(invoke("run", ws, "--out", make(tmp_path)))
    assert message in line and "..." in line and len(line) < 400


@pytest.mark.parametrize("command_name", ["run", "validate"])
def test_workspace_symlink_loop(tmp_path: Path, command_name: str) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    line = one_error(invoke(command_name, tmp_path / "a"))
    assert "a symbolic link loop" in line


def test_output_symlink_loop(tmp_path: Path) -> None:
    ws = write_tiny_workspace(tmp_path / "ws", analyses={"forest": "kind: forest_cover\n"})
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    line = one_error(invoke("run", ws, "--out", tmp_path / "a"))
    assert "output folder" in line and "a symbolic link loop" in line
