"""``urbanform run --cluster``: a real scheduler and two worker processes, and a LocalCluster.

Three small demo cities (``?seed=K&scale=0.05``, about 20 km2 each) run on the cluster must
give exactly the summary of the in-process run, also when a worker is killed mid-run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from _demo_cities import REPO, demo_city
from click.testing import CliRunner
from conftest import write_tiny_workspace

from urbanform.cli.main import cli
from urbanform.pipeline import run_workspace
from urbanform.workspace import load_workspace

distributed = pytest.importorskip("distributed")

SCALE = 0.05
SEEDS = (1, 2, 3)
WAIT_S = 90.0


def _env() -> dict[str, str]:
    """The test's environment with the repository on PYTHONPATH (workers import urbanform)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    return env


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=15)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1: the address."""
    tmp = tmp_path_factory.mktemp("dask")
    file = tmp / "scheduler.json"
    procs: list[subprocess.Popen[bytes]] = []
    env = _env()

    def start(args: list[str], log: str) -> None:
        with open(tmp / log, "wb") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", *args], stdout=out, stderr=subprocess.STDOUT, env=env,
                cwd=tmp,
            ))

    try:
        start(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
               "--no-dashboard", "--scheduler-file", str(file)], "scheduler.log")
        deadline = time.monotonic() + WAIT_S
        while not file.is_file() or not file.read_text().strip():
            assert time.monotonic() < deadline, (tmp / "scheduler.log").read_text()
            time.sleep(0.2)
        for i in range(2):
            start(["distributed.cli.dask_worker", "--scheduler-file", str(file), "--nworkers",
                   "1", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"],
                  f"worker{i}.log")
        address = json.loads(file.read_text())["address"]
        with distributed.Client(address, timeout=WAIT_S) as client:
            client.wait_for_workers(2, timeout=WAIT_S)
        yield address
    finally:
        _stop(procs[1:])
        _stop(procs[:1])


@pytest.fixture(scope="module")
def cities(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("cities")
    return [demo_city(tmp / f"city{s}", seed=s, scale=SCALE) for s in SEEDS]


@pytest.fixture(scope="module")
def reference(cities: list[Path]) -> list[dict[str, Any]]:
    """The in-process summaries, as summary.json holds them (JSON round trip)."""
    runs = [run_workspace(load_workspace(c), write=False) for c in cities]
    return [json.loads(json.dumps(r.summary, allow_nan=False)) for r in runs]


def values(summary: dict[str, Any]) -> dict[tuple[str, ...], Any]:
    """Every indicator value of a summary: (analysis, indicator, city|district) -> value."""
    out: dict[tuple[str, ...], Any] = {}
    for name, entry in summary["analyses"].items():
        for key, ind in entry["indicators"].items():
            out[(name, key, "city")] = ind["city"]["value"]
            for d, v in ind["districts"].items():
                out[(name, key, d)] = v["value"]
    return out


def assert_same(cities: list[Path], reference: list[dict[str, Any]]) -> None:
    for city, ref in zip(cities, reference, strict=True):
        got = json.loads((city / "out" / "summary.json").read_text(encoding="utf-8"))
        assert len(values(ref)) > 50  # ten analyses, seven districts: something to compare
        assert values(got) == values(ref), city
        assert got["analyses"] == ref["analyses"] and got["warnings"] == ref["warnings"]


def assert_gpkg_styled(cities: list[Path]) -> None:
    """results.gpkg (written by a task of its own) holds every layer, each styled."""
    import pyogrio

    for city in cities:
        gpkg = city / "out" / "results.gpkg"
        names = [n for n, _ in pyogrio.list_layers(gpkg)]
        data = sorted(n for n in names if n != "layer_styles")
        styles = pyogrio.read_dataframe(gpkg, layer="layer_styles", read_geometry=False)
        assert len(data) > 20 and sorted(styles["f_table_name"]) == data, city
        assert (city / "out" / "results.qgz").is_file()


def test_three_cities_on_scheduler_and_two_workers(
    scheduler: str, cities: list[Path], reference: list[dict[str, Any]]
) -> None:
    r = CliRunner().invoke(cli, ["-q", "run", *map(str, cities), "--cluster", scheduler])
    assert r.exit_code == 0, r.output
    assert_same(cities, reference)
    assert_gpkg_styled(cities)


def test_three_cities_on_local_cluster(
    cities: list[Path], reference: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", _env()["PYTHONPATH"])  # inherited by the workers
    r = CliRunner().invoke(cli, ["run", *map(str, cities), "--cluster", "local:2"])
    assert r.exit_code == 0, r.output
    assert r.output.count("Scorecard: Demo ") == 3
    assert_same(cities, reference)


def test_worker_killed_mid_run_is_retried(
    scheduler: str, cities: list[Path], reference: list[dict[str, Any]]
) -> None:
    for c in cities:  # the outputs must be written again by this run
        shutil.rmtree(c / "out", ignore_errors=True)
    run = subprocess.Popen(
        [sys.executable, "-m", "urbanform", "-q", "run", *map(str, cities), "--cluster",
         scheduler], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    killed = None
    try:
        with distributed.Client(scheduler, timeout=WAIT_S) as client:
            deadline = time.monotonic() + WAIT_S
            while killed is None:
                assert time.monotonic() < deadline, "no task started"
                assert run.poll() is None, run.communicate(timeout=10)[0].decode()
                busy = [w for w, keys in client.processing().items() if keys]
                if busy:
                    time.sleep(1.0)  # well inside the task (each city takes seconds)
                    pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                    os.kill(pid, signal.SIGKILL)
                    killed = pid
                time.sleep(0.1)
        output, _ = run.communicate(timeout=240)
    finally:
        _stop([run])
        if run.stdout is not None:
            run.stdout.close()
    assert killed is not None
    assert run.returncode == 0, output.decode()
    assert_same(cities, reference)


def test_analysis_error_names_workspace_exit_2(scheduler: str, tmp_path: Path) -> None:
    root = write_tiny_workspace(tmp_path / "tiny", analyses={"forest": "kind: forest_cover\n"})
    (root / "layers" / "population.yml").write_text(  # read on the worker: fails there
        "role: population\nsource: data/population.gpkg\nfields: {population: PEOPLE}\n"
    )
    r = CliRunner().invoke(cli, ["run", str(root), "--cluster", scheduler])
    assert r.exit_code == 2
    errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and f"workspace {root}:" in errors[0]
    assert "missing field 'population'" in errors[0] and "Traceback" not in r.output
    assert not (root / "out").exists()


def test_bad_cluster_spec(tmp_path: Path) -> None:
    root = write_tiny_workspace(tmp_path / "tiny", analyses={"forest": "kind: forest_cover\n"})
    r = CliRunner().invoke(cli, ["run", str(root), "--cluster", "lokal"])
    assert r.exit_code == 2 and "--cluster 'lokal': use 'local'" in r.output


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(b)))


def test_tiled_city_equals_untiled_run(scheduler: str, tmp_path: Path) -> None:
    # layers in GeoPackage files, as a real city's: each tile reads its own part of them
    city = demo_city(tmp_path / "tiled", seed=4, scale=SCALE, files=True)
    ref = run_workspace(load_workspace(city), write=False)
    r = CliRunner().invoke(
        cli, ["-q", "run", str(city), "--cluster", scheduler, "--tile-km", "1"]
    )
    assert r.exit_code == 0, r.output
    got = json.loads((city / "out" / "summary.json").read_text(encoding="utf-8"))
    # about 20 km2: 2 km tiles give several tiles for every analysis that tiles
    tiled = {n: e["extra"]["tiles"] for n, e in got["analyses"].items()
             if e["kind"] in ("living_circle", "tod")}
    assert len(tiled) == 5 and min(tiled.values()) >= 4, tiled
    read = {n: (e["extra"]["smallest_tile_features"], e["extra"]["largest_tile_features"],
                e["extra"]["features"]) for n, e in got["analyses"].items() if n in tiled}
    # a corner tile and its halo leave part of the city out: it reads less than the whole
    assert all(0 < a < b <= c and a < c for a, b, c in read.values()), read
    want = values(json.loads(json.dumps(ref.summary)))
    have = values(got)
    assert want.keys() == have.keys() and len(want) > 50
    bad = {k: (have[k], v) for k, v in want.items() if not _close(have[k], v)}
    assert not bad
    n_cells = 0
    for name, by_res in ref.h3.items():
        for res, cells in by_res.items():
            out = gpd.read_parquet(city / "out" / "h3" / f"{name}_r{res}.parquet")
            a = cells.sort_values("hex_id").reset_index(drop=True)
            b = out.sort_values("hex_id").reset_index(drop=True)
            assert a["hex_id"].tolist() == b["hex_id"].tolist(), (name, res)
            for col in a.columns.drop(["hex_id", "geometry"]):
                assert all(_close(x, y) or (x != x and y != y)  # NaN: an empty cell
                           for x, y in zip(b[col], a[col], strict=True)), (name, res, col)
            n_cells += len(a)
    assert n_cells > 500
