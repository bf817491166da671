"""The tod analysis alone on the demo city: wall/CPU seconds per step, before vs after.

Runs ``urbanform.analyses.tod.run`` with the parameters of ``analyses/tod.yml`` on the
demo city at ``--scale`` (layers loaded as ``benchmarks/_common.py`` does). Generating
the demo city and building the walk graph are timed apart and not counted; snapping is
part of the analysis. ``--save DIR`` keeps the result (timings, indicators, catchments
and station layers) in ``DIR``; ``--compare DIR`` checks a later run against it and
prints the before/after ratio::

    git stash; python benchmarks/tod_run.py --scale 5 --save /tmp/tod5   # before
    git stash pop; python benchmarks/tod_run.py --scale 5 --compare /tmp/tod5

The comparison reports the largest differences of the indicator values (city and
districts), of every numeric field of the catchments and station layers (relative), and
the largest symmetric-difference area of a catchment polygon over its area.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from unittest import mock

import _common  # noqa: E402 - benchmarks/ is on sys.path when run as a script
import numpy as np
import shapely
import yaml

from urbanform.analyses import tod
from urbanform.analyses.context import Context

ROOT = Path(__file__).resolve().parents[1]
ROLES = ("streets", "population", "jobs", "stations", "landuse", "districts")
STEPS = (
    ("_stations", "stations and entrances"),
    ("_units", "units"),
    ("_snap", "snapping"),
    ("_station_distances", "station walks (pairs, pieces)"),
    ("_circles", "circles"),
    ("_network_catchments", "catchment polygons"),
    ("landuse_mix", "land-use mix"),
    ("_nearest_station_m", "indicator distances"),
)


def timed_run(ctx: Context, params: dict) -> tuple[object, dict, float, float]:
    """Run the analysis with its steps wrapped in timers."""
    times: dict[str, list[float]] = {label: [0.0, 0.0] for _, label in STEPS}

    def wrap(label, fn):
        def timed(*args, **kwargs):
            t = _common.clock()
            try:
                return fn(*args, **kwargs)
            finally:
                w, c = _common.since(t)
                times[label][0] += w
                times[label][1] += c

        return timed

    patches = [mock.patch.object(tod, fn, wrap(label, getattr(tod, fn))) for fn, label in STEPS]
    for pa in patches:
        pa.start()
    try:
        t = _common.clock()
        res = tod.run(ctx, name="tod", params=params, target=None)
        wall, cpu = _common.since(t)
    finally:
        for pa in patches:
            pa.stop()
    return res, times, wall, cpu


def snapshot(res) -> dict:
    """The figures compared between runs."""
    ind = {
        k: {"city": v.city.value, **{n: d.value for n, d in v.districts.items()}}
        for k, v in res.indicators.items()
    }
    return {
        "indicators": ind,
        "catchments": res.layers["catchments"],
        "stations": res.layers["stations"],
    }


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    both_nan = np.isnan(a) & np.isnan(b)
    d = np.abs(a - b) / np.maximum(np.abs(a), 1e-300)
    d[both_nan] = 0.0
    d[np.isnan(d)] = np.inf  # NaN on one side only
    return float(d.max(initial=0.0))


def compare(old: dict, new: dict) -> list[str]:
    """Largest differences between two snapshots, as lines to print."""
    out = []
    di = max(
        abs(old["indicators"][k][d] - new["indicators"][k][d])
        for k in old["indicators"]
        for d in old["indicators"][k]
    )
    out.append(f"indicators (city + districts): largest |difference| {di:.3e}")
    for layer in ("catchments", "stations"):
        a, b = old[layer], new[layer]
        num = [c for c in a.select_dtypes("number").columns]
        worst = {c: _rel(a[c].to_numpy(float), b[c].to_numpy(float)) for c in num}
        c_max = max(worst, key=worst.get)
        text = [c for c in a.columns if c not in num and c != "geometry"]
        same_text = all(a[c].equals(b[c]) for c in text)
        out.append(
            f"{layer}: {len(a)} rows; largest relative difference {worst[c_max]:.3e} "
            f"({c_max}); text fields identical: {same_text}"
        )
    ga, gb = old["catchments"].geometry.values, new["catchments"].geometry.values
    sym = shapely.area(shapely.symmetric_difference(ga, gb))
    area = np.maximum(shapely.area(ga), 1e-300)
    exact = int(shapely.equals_exact(ga, gb, tolerance=0.0).sum())
    out.append(
        f"catchment polygons: {exact}/{ga.size} exactly equal; largest symmetric "
        f"difference {sym.max():.3e} m2, {np.max(sym / area):.3e} of the polygon area"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="demo city scale")
    ap.add_argument("--save", type=Path, help="keep timings and results in this directory")
    ap.add_argument("--compare", type=Path, help="compare with a run saved in this directory")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    layers = _common.demo_layers(args.scale, ROLES)
    t_inputs = time.perf_counter() - t0
    ctx = Context(layers)
    params = tod.validate_params(
        yaml.safe_load((ROOT / "analyses" / "tod.yml").read_text()).get("params"),
        where="analyses/tod.yml",
    )
    t1 = time.perf_counter()
    graph = ctx.walk_graph(needed_by="tod")
    t_graph = time.perf_counter() - t1
    print(
        f"demo city, scale {args.scale:g}: walk graph {graph.n_nodes:,} nodes, "
        f"{graph.n_edges:,} edges [inputs {t_inputs:.1f} s, graph {t_graph:.1f} s: not "
        f"counted]"
    )
    res, times, wall, cpu = timed_run(ctx, params)
    print(
        f"  {res.extra['stations']:,} stations, {res.extra['entrances']:,} entrances; "
        f"peak memory {_common.peak_mb():,.0f} MB"
    )
    for label, (w, c) in times.items():
        print(f"    {label:<32} {w:7.2f} s wall {c:7.2f} s CPU")
    rest = (wall - sum(v[0] for v in times.values()), cpu - sum(v[1] for v in times.values()))
    print(f"    {'other':<32} {rest[0]:7.2f} s wall {rest[1]:7.2f} s CPU")
    print(f"    {'tod total':<32} {wall:7.2f} s wall {cpu:7.2f} s CPU")
    snap = snapshot(res)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        (args.save / "times.json").write_text(
            json.dumps({"scale": args.scale, "wall": wall, "cpu": cpu, "steps": times}, indent=1)
        )
        with open(args.save / "result.pkl", "wb") as f:
            pickle.dump(snap, f)
    if args.compare:
        before = json.loads((args.compare / "times.json").read_text())
        with open(args.compare / "result.pkl", "rb") as f:
            old = pickle.load(f)
        print(
            f"  before: {before['wall']:.2f} s wall {before['cpu']:.2f} s CPU; ratio "
            f"before/after {before['wall'] / wall:.1f}x wall, {before['cpu'] / cpu:.1f}x CPU"
        )
        for line in compare(old, snap):
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
