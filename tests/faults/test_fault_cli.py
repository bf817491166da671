"""Faults around the command itself: init into a folder with files, a closed pipe."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from _faults import command, env, invoke, one_error


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
