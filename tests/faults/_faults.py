"""Helpers of the fault-injection suite: run the CLI in-process or as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from urbanform.cli.main import cli
from urbanform.outdir import is_output

REPO = Path(__file__).resolve().parents[2]


def invoke(*args: str) -> Result:
    """The CLI through click's runner (stderr mixed into ``output``)."""
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_error(result: Result) -> str:
    """The single ``Error:`` line of a run that must have failed cleanly with status 2."""
    assert result.exit_code == 2, result.output
    assert "Internal error" not in result.output and "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def command(*args: str) -> list[str]:
    """``python -m urbanform ARGS`` with this interpreter."""
    return [sys.executable, "-m", "urbanform", *map(str, args)]


def env() -> dict[str, str]:
    """The environment for a subprocess run: this checkout first on the path."""
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), e.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return e


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        command(*args), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def analyses_of(out: Path) -> list[str]:
    """The analysis names of the output in ``out``, checked to be complete."""
    assert is_output(out), sorted(p.name for p in out.iterdir()) if out.exists() else out
    names = sorted(json.loads((out / "summary.json").read_text(encoding="utf-8"))["analyses"])
    maps = sorted(p.stem for p in (out / "maps").glob("*.html"))
    assert maps == names, (maps, names)  # never a mix of two runs
    return names
