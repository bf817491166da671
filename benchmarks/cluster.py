"""Many cities and one tiled city on a Dask LocalCluster, against the plain run.

1. ``--cities N`` demo cities (``demo:NAME?seed=K&scale=S``, K = 1..N) run one after
   another in one process (``urbanform -q run C1 ... CN``), then on a LocalCluster of
   ``--workers`` processes started by the command itself
   (``urbanform -q run C1 ... CN --cluster local:W``).
2. One city at ``--tiled-scale`` run untiled in one process, then on the cluster with
   ``--tile-km``.

Each run is the real command in a child process. Prints wall seconds (the cluster's start
and close included), the peak resident memory of the plain run's process and of the
largest worker (``ru_maxrss`` of the command's children), the speed-up, and whether
every indicator value (city and districts) of the cluster run equals the plain run's
(largest difference). The cities' ``maps/`` folder is empty unless ``--maps``.

Usage::

    python benchmarks/cluster.py --cities 3 --scale 1 --tiled-scale 2 --tile-km 10
    python benchmarks/cluster.py --cities 3 --scale 1 --skip tiled --files   # layers in files
    python benchmarks/cluster.py --cities 3 --scale 1 --skip tiled --files --repeat 5
    python benchmarks/cluster.py --cities 3 --scale 1 --tiled-scale 25 --tile-km 10
    python benchmarks/cluster.py --skip cities --skip tiled --tile-memory --tiled-scale 5

3. With ``--tile-memory``: the peak memory of one tile's task (its tile and halo read
   from files) against the same analyses on the whole city, each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from urbanform.demo.workspace import copy_demo_workspace

ROOT = Path(__file__).resolve().parents[1]


def demo_city(
    root: Path, *, seed: int, scale: float, maps: bool, files: bool = False
) -> Path:
    """The repository's demo workspace at ``root``, every demo source at ``seed``, ``scale``.

    With ``files`` the layers are written to ``root/data/`` and read from there; they are
    generated in a child process, so this process stays small: a child started by
    ``fork`` inherits its parent's peak resident memory (Linux keeps ``ru_maxrss``
    across ``exec``), which would inflate every peak measured below.
    """
    if not files:
        return copy_demo_workspace(ROOT, root, seed=seed, scale=scale, maps=maps)
    code = ("import sys; from pathlib import Path; "
            "from urbanform.demo.workspace import copy_demo_workspace as c; "
            "c(Path(sys.argv[1]), Path(sys.argv[2]), seed=int(sys.argv[3]), "
            "scale=float(sys.argv[4]), maps=sys.argv[5] == '1', files=True)")
    subprocess.run([sys.executable, "-c", code, str(ROOT), str(root), str(seed), f"{scale!r}",
                    "1" if maps else "0"], env=env(), check=True)
    return root


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), e.get("PYTHONPATH", "")) if p)
    return e


_TIMED = (
    "import resource, sys, time; from urbanform.cli.main import cli; t = time.perf_counter()\n"
    "try:\n    cli(sys.argv[1:], prog_name='urbanform')\nexcept SystemExit as e:\n"
    "    assert not e.code, e.code\n"
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,\n"
    "      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)
"""The real command in a child process: its wall seconds (imports excluded, as in a shell
where they are paid once either way) and the peak resident memory of the process and of
its largest child (a LocalCluster's worker processes are the command's children)."""


def _timed(args: list[str]) -> tuple[float, float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _TIMED, *args], env=env(), check=True, capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[-3]), float(out[-2]) / 1024.0, float(out[-1]) / 1024.0


def plain(cities: list[Path]) -> tuple[float, float]:
    """Wall seconds and peak MB of ``urbanform -q run C...`` in a fresh child process."""
    wall, peak, _ = _timed(["-q", "run", *map(str, cities)])
    return wall, peak


def on_cluster(cities: list[Path], workers: int, extra: list[str]) -> tuple[float, list[float]]:
    """Wall seconds and the largest worker's peak MB of ``run ... --cluster local:N``.

    The command starts its own LocalCluster, as a user's does, so the wall time includes
    starting and closing the workers.
    """
    wall, _, worker_peak = _timed(
        ["-q", "run", *map(str, cities), "--cluster", f"local:{workers}", *extra]
    )
    return wall, [worker_peak]


_TILE_PARTS = r"""
import pickle, resource, sys, time
from pathlib import Path
from urbanform.analyses.context import Context
from urbanform.layers.harmonise import load_layers
from urbanform.pipeline import run_analyses, run_layers, validate_analyses
from urbanform.tiles import TILED_KINDS, _grid, halo_m, prepare_task, tile_task
from urbanform.workspace import load_workspace
part, city, km, state = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
ws = load_workspace(city)
group = [(s, p) for s, p in validate_analyses(ws) if s.kind in TILED_KINDS
         and float(p["min_piece_share"]) == float(sys.argv[5])]
t = time.perf_counter()
if part == "prepare":
    status, (bounds, crs, drops) = prepare_task(ws, [float(sys.argv[5])])
    grid = _grid(bounds, km * 1000.0)
    middle = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    tile = (int((middle[0] - grid.origin[0]) // grid.size_m),
            int((middle[1] - grid.origin[1]) // grid.size_m))
    halo = max(halo_m(s.kind, p) for s, p in group)
    drop = drops.get(float(sys.argv[5]))
    state.write_bytes(pickle.dumps((grid, tile, halo, drop, crs)))
    n = len(grid.tiles())
elif part == "whole":
    layers = load_layers(run_layers(ws), crs=ws.crs)
    run_analyses(Context(layers), group)
    n = sum(len(g) for g in layers.vectors.values())
else:
    grid, tile, halo, drop, crs = pickle.loads(state.read_bytes())
    status, answer = tile_task(ws, group, grid, tile, halo, drop, crs)
    assert status == "ok", answer
    n = answer[0]
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, n)
"""
"""One part of the tile-memory measurement in a fresh process: ``prepare`` (the tile
grid, the middle tile), ``whole`` (the tiled analyses on the whole city, as one task)
or ``tile`` (the middle tile's task). Prints wall s, peak KB and features read."""


def tile_memory(city: Path, km: float) -> None:
    """Peak memory of one tile's task against the same analyses on the whole city.

    Each part runs in a fresh process, so its ``ru_maxrss`` is its own; the middle tile
    is the one holding the middle of the study area (the demo city's densest part).
    """
    share = "0.01"  # the demo's min_piece_share: every analysis that tiles
    state = city / "tile-state.pickle"
    out = {}
    for part in ("prepare", "whole", "tile"):
        res = subprocess.run(
            [sys.executable, "-c", _TILE_PARTS, part, str(city), f"{km:g}", str(state), share],
            env=env(), check=True, capture_output=True, text=True,
        ).stdout.split()
        out[part] = (float(res[-3]), float(res[-2]) / 1024.0, int(res[-1]))
    (wt, mt, ft), (ww, mw, fw) = out["tile"], out["whole"]
    print(f"tile memory, {km:g} km tiles ({out['prepare'][2]} tiles): the middle tile's task "
          f"{wt:.1f} s, peak {mt:.0f} MB, {ft:,} features read; the same analyses on the "
          f"whole city {ww:.1f} s, peak {mw:.0f} MB, {fw:,} features; memory ratio "
          f"{mw / mt:.2f}x", flush=True)


def values(city: Path) -> dict[tuple[str, ...], Any]:
    s = json.loads((city / "out" / "summary.json").read_text(encoding="utf-8"))
    out: dict[tuple[str, ...], Any] = {}
    for name, entry in s["analyses"].items():
        for key, ind in entry["indicators"].items():
            out[(name, key, "city")] = ind["city"]["value"]
            for d, v in ind["districts"].items():
                out[(name, key, d)] = v["value"]
    return out


def largest_difference(a: dict[Any, Any], b: dict[Any, Any]) -> float:
    assert a.keys() == b.keys(), "different indicators"
    worst = 0.0
    for k, x in a.items():
        y = b[k]
        if (x is None) != (y is None):
            return float("inf")
        if x is not None:
            worst = max(worst, abs(float(x) - float(y)))
    return worst


def compare(label: str, cities: list[Path], seq: tuple[float, float],
            clu: tuple[float, list[float]], before: list[dict[Any, Any]]) -> None:
    diff = max(largest_difference(b, values(c)) for b, c in zip(before, cities, strict=True))
    print(f"{label}: plain {seq[0]:.1f} s (peak {seq[1]:.0f} MB); cluster {clu[0]:.1f} s "
          f"(largest worker peak {max(clu[1]):.0f} MB); speed-up "
          f"{seq[0] / clu[0]:.2f}x; largest indicator difference {diff:.3g}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cities", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tiled-scale", type=float, default=2.0)
    ap.add_argument("--tile-km", type=float, default=10.0)
    ap.add_argument("--maps", action="store_true", help="write the web maps too")
    ap.add_argument("--files", action="store_true",
                    help="write each city's layers to files first (no run generates them)")
    ap.add_argument("--skip", choices=("cities", "tiled"), action="append", default=[],
                    help="leave a part out (may be given twice)")
    ap.add_argument("--tile-memory", action="store_true",
                    help="also measure one tile task's peak memory against the whole city's "
                         "(each in a fresh process; layers in files)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the cities plain and on the cluster this many times, alternately,"
                         " and print the medians (a virtual machine's speed drifts)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="uf-cluster-") as tmp:
        if "cities" not in args.skip:
            cities = [demo_city(Path(tmp) / f"city{k}", seed=k, scale=args.scale, maps=args.maps,
                                files=args.files)
                      for k in range(1, args.cities + 1)]
            label = f"{args.cities} cities at scale {args.scale:g}, {args.workers} workers"
            pairs = []
            for k in range(args.repeat):  # plain and cluster alternately: the same noise
                seq = plain(cities)
                before = [values(c) for c in cities]
                clu = on_cluster(cities, args.workers, [])
                compare(f"{label} ({k + 1} of {args.repeat})", cities, seq, clu, before)
                pairs.append((seq[0], clu[0]))
            if args.repeat > 1:
                ps, cs = (statistics.median(x) for x in zip(*pairs, strict=True))
                ratios = sorted(p / c for p, c in pairs)
                print(f"{label}: median plain {ps:.1f} s, median cluster {cs:.1f} s, ratio of "
                      f"the medians {ps / cs:.2f}x; pair ratios "
                      f"{', '.join(f'{r:.2f}' for r in ratios)} (median "
                      f"{statistics.median(ratios):.2f}x)", flush=True)
        if "tiled" not in args.skip:
            city = demo_city(Path(tmp) / "big", seed=7, scale=args.tiled_scale, maps=args.maps,
                             files=args.files)
            seq = plain([city])
            before = [values(city)]
            clu = on_cluster([city], args.workers, ["--tile-km", f"{args.tile_km:g}"])
            tiles = {n: e.get("extra", {}).get("tiles") for n, e in json.loads(
                (city / "out" / "summary.json").read_text())["analyses"].items()}
            compare(f"1 city at scale {args.tiled_scale:g}, {args.tile_km:g} km tiles "
                    f"(tiles with units per analysis: {tiles})", [city], seq, clu, before)
            if args.files:
                reads = {n: (e["extra"]["smallest_tile_features"],
                             e["extra"]["largest_tile_features"], e["extra"]["features"])
                         for n, e in json.loads((city / "out" / "summary.json").read_text())[
                             "analyses"].items() if "largest_tile_features" in e.get("extra", {})}
                print(f"features read per tile (smallest, largest, of all): {reads}")
        if args.tile_memory:
            city = Path(tmp) / "big"
            if not city.exists():
                demo_city(city, seed=7, scale=args.tiled_scale, maps=False, files=True)
            tile_memory(city, args.tile_km)


if __name__ == "__main__":
    main()
