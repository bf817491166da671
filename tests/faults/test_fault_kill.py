"""Runs killed at random moments, and two runs at once (issue 9, part 2)."""

from __future__ import annotations

import random
import shutil
import signal
import time
from pathlib import Path

import pytest
from _faults import analyses_of, invoke, one_error, start
from conftest import write_tiny_workspace

from urbanform.outdir import is_output, output_lock, staged_output

RUNS = {
    "forest": "kind: forest_cover\n",
    "park500": "kind: park_coverage\n",
}


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tiny_workspace(tmp_path_factory.mktemp("kill") / "ws", analyses=RUNS)
    r = invoke("-q", "run", root, "--only", "forest")
    assert r.exit_code == 0, r.output
    return root


def _leftovers(ws: Path) -> list[Path]:
    """What is in the workspace folder besides its inputs and the output."""
    known = {"analyses", "data", "layers", "urbanform.yml", "out"}
    return [p for p in ws.iterdir() if p.name not in known]


@pytest.mark.parametrize("seed", range(4))
def test_sigkill_keeps_earlier_output_complete(ws: Path, seed: int) -> None:
    # the full run of both analyses into an output of one of them, killed after
    # a random delay within the time a whole run takes (the tiny city: ~1-3 s)
    delay = random.Random(seed).uniform(0.3, 3.0)
    proc = start("-q", "run", ws)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    # killed before the swap: the earlier output; after it: the new one; never a mix
    assert analyses_of(ws / "out") in (["forest"], ["forest", "park500"])
    # what a killed run leaves is hidden and named as temporary (the next run removes it)
    assert all(p.name.startswith((".out.tmp-", ".out.old-", ".out.lock")) for p in _leftovers(ws))


def test_folder_being_written_is_not_an_output(ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_output(out) as tmp:
        (tmp / "maps").mkdir()
        (tmp / "maps" / "forest.html").write_text("<p>map</p>", encoding="utf-8")
        (tmp / "summary.json").write_text(
            '{"schema": "urbanform.summary/1", "analyses": {"forest": {}}}', encoding="utf-8"
        )
        assert not is_output(tmp)  # complete-looking, but marked as being written
    assert is_output(out) and not tmp.exists()


def test_next_run_after_kill_succeeds_and_cleans_up(ws: Path) -> None:
    proc = start("-q", "run", ws)
    time.sleep(0.8)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    r = invoke("-q", "run", ws, "--only", "forest")
    assert r.exit_code == 0, r.output
    assert analyses_of(ws / "out") == ["forest"]
    assert _leftovers(ws) == []


def test_second_run_refused_while_first_holds_the_lock(ws: Path) -> None:
    with output_lock(ws / "out"):
        line = one_error(invoke("run", ws))
    assert "another urbanform run is writing to" in line
    assert analyses_of(ws / "out") in (["forest"], ["forest", "park500"])


def test_two_runs_at_once_never_mix(ws: Path) -> None:
    procs = [start("-q", "run", ws, "--only", name) for name in RUNS]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    for _, err, code in results:
        assert code == 0 or (code == 2 and "another urbanform run" in err), err
        assert "Internal error" not in err
    assert any(code == 0 for *_, code in results)
    assert analyses_of(ws / "out") in (["forest"], ["park500"])


def test_run_without_atomic_exchange_replaces_output(ws: Path, monkeypatch) -> None:
    monkeypatch.setattr("urbanform.outdir._exchange", lambda a, b: False)
    r = invoke("-q", "run", ws, "--only", "park500")
    assert r.exit_code == 0, r.output
    assert analyses_of(ws / "out") == ["park500"]
    assert _leftovers(ws) == []
    assert invoke("-q", "run", ws, "--only", "forest").exit_code == 0


def test_output_set_aside_by_a_killed_swap_is_restored(ws: Path, tmp_path: Path) -> None:
    # without renameat2 the swap is two renames; a kill between them leaves the earlier
    # output at .out.old-PID and no out: the next run puts it back before anything else
    out = tmp_path / "out"
    shutil.copytree(ws / "out", out)
    earlier = analyses_of(out)
    out.rename(tmp_path / ".out.old-12345")
    with pytest.raises(RuntimeError, match="the run fails"), staged_output(out):
        raise RuntimeError("the run fails")
    assert analyses_of(out) == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("seed", range(3))
def test_sigterm_ends_run_and_removes_its_temporary_folder(ws: Path, seed: int) -> None:
    before = set(_leftovers(ws))  # what earlier kills left (the next full run removes it)
    proc = start("run", ws)
    for line in proc.stderr:  # the run has started: urbanform's handler is in place
        if "reading layer" in line:
            break
    time.sleep(random.Random(100 + seed).uniform(0.0, 1.5))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert "Internal error" not in err and "Traceback" not in err, err
    # -15: the signal came as the interpreter shut down, the run already complete
    assert proc.returncode in (0, 130, -signal.SIGTERM), err
    if proc.returncode == 130:
        assert "Interrupted; no output was written." in err
    assert analyses_of(ws / "out") in (["forest"], ["forest", "park500"], ["park500"])
    assert set(_leftovers(ws)) <= before
