"""A full, read-only or forbidden output file system: Error, exit 2, earlier output intact.

The file-system calls are made to fail in-process (we may run as root, where
``chmod`` blocks nothing); one test uses real permissions when not root.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from _faults import analyses_of, invoke, one_error
from conftest import write_tiny_workspace

RUNS = {"forest": "kind: forest_cover\n", "park500": "kind: park_coverage\n"}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = write_tiny_workspace(tmp_path / "ws", analyses=RUNS)
    r = invoke("-q", "run", root, "--only", "forest")
    assert r.exit_code == 0, r.output
    return root


def _raiser(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), "results.gpkg")

    return fail


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (errno.ENOSPC, "no space left on the device"),
        (errno.EROFS, "the file system is read-only"),
        (errno.EACCES, "permission denied"),
        (errno.EDQUOT, "the disk quota is exceeded"),
    ],
)
def test_write_failure_keeps_earlier_output(ws: Path, monkeypatch, code: int, message: str):
    monkeypatch.setattr(pd.DataFrame, "to_csv", _raiser(code))  # the H3 CSV files
    line = one_error(invoke("run", ws))
    assert message in line and "nothing was changed" in line
    assert analyses_of(ws / "out") == ["forest"]
    assert not [p for p in ws.iterdir() if p.name.startswith(".out.tmp-")]


def test_disk_full_at_the_swap_keeps_earlier_output(ws: Path, monkeypatch) -> None:
    monkeypatch.setattr("urbanform.outdir._exchange", _raiser(errno.ENOSPC))
    line = one_error(invoke("run", ws))
    assert "no space left" in line
    assert analyses_of(ws / "out") == ["forest"]


def test_read_only_file_system_for_new_output(ws: Path, monkeypatch) -> None:
    monkeypatch.setattr("tempfile.mkdtemp", _raiser(errno.EROFS))
    line = one_error(invoke("run", ws, "--out", ws / "new"))
    assert "read-only" in line
    assert not (ws / "new").exists()


def test_output_parent_not_writable(ws: Path, monkeypatch) -> None:
    blocked = ws / "locked"
    blocked.mkdir()
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if Path(path).is_relative_to(blocked):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    line = one_error(invoke("run", ws, "--out", blocked / "sub" / "out"))
    assert "permission denied" in line and str(blocked) in line


def test_output_parent_unreadable_real_permissions(ws: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    blocked = ws / "locked"
    blocked.mkdir()
    blocked.chmod(0o000)
    try:
        line = one_error(invoke("run", ws, "--out", blocked / "sub" / "out"))
    finally:
        blocked.chmod(0o755)
    assert "permission denied" in line


class _StatVFS:
    """What ``os.statvfs`` says of a file system with ``free`` bytes and ``flag`` set."""

    def __init__(self, free: int, flag: int = 0) -> None:
        self.f_bavail, self.f_frsize, self.f_flag = free // 4096, 4096, flag


def _gdal_fails(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise pyogrio.errors.DataSourceError("Failed to commit transaction")

    monkeypatch.setattr("urbanform.pipeline.write_gpkg", fail)


@pytest.mark.parametrize(
    ("free", "flag", "message"),
    [(8192, 0, "no space left on the device"), (10**10, os.ST_RDONLY, "read-only")],
)
def test_gdal_failure_on_full_or_read_only_disk(ws: Path, monkeypatch, free, flag, message):
    # GDAL reports a full disk as "Failed to commit transaction", not as an OSError
    _gdal_fails(monkeypatch)
    monkeypatch.setattr(os, "statvfs", lambda path: _StatVFS(free, flag))
    assert message in one_error(invoke("run", ws))
    assert analyses_of(ws / "out") == ["forest"]


def test_gdal_failure_with_room_to_spare_stays_an_internal_error(ws: Path, monkeypatch):
    # not a file-system fault: a bug, reported as one (exit 1), earlier output kept
    _gdal_fails(monkeypatch)
    monkeypatch.setattr(os, "statvfs", lambda path: _StatVFS(10**10))
    r = invoke("run", ws)
    assert r.exit_code == 1 and "Internal error: DataSourceError" in r.output
    assert analyses_of(ws / "out") == ["forest"]


def test_full_disk_while_writing_the_report_names_the_output(ws: Path, monkeypatch) -> None:
    real = Path.write_text

    def write_text(self, *args, **kwargs):
        if self.name.startswith(".report.html"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    line = one_error(invoke("run", ws))
    out = ws / "out"
    assert f"cannot write the outputs to {out} ({out}/.report.html." in line
    assert "no space left on the device" in line and ".out.tmp-" not in line
    assert analyses_of(out) == ["forest"]


def test_source_unreadable_while_the_run_reads_it(ws: Path, monkeypatch) -> None:
    # the GeoPackage was read, then the file became unreadable (removed, unmounted)
    real_open = Path.open

    def open_(self, mode="r", *args, **kwargs):
        if self.name == "parks.gpkg" and "b" in mode:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    line = one_error(invoke("run", ws))
    assert "layer 'parks'" in line and "cannot read parks.gpkg (Permission denied)" in line
    assert analyses_of(ws / "out") == ["forest"]


def test_output_under_a_folder_that_cannot_be_looked_into(ws: Path, monkeypatch) -> None:
    # as 'chmod 000 locked' does for a user that is not root: every stat below it fails
    # (this was 'Internal error: PermissionError')
    blocked = ws / "locked"
    blocked.mkdir()
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if Path(os.fsdecode(path)).is_relative_to(blocked) and Path(path) != blocked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    line = one_error(invoke("run", ws, "--out", blocked / "out"))
    assert "Permission denied" in line or "permission denied" in line
    assert str(blocked) in line
