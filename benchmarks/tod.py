"""The tod analysis on the demo city: per-step timings, old vs batched, side by side.

The old implementation (one ``nearest_distance`` search per station for the residents
and jobs, one ``reached_edges`` search and one buffer-and-union per station and ring for
the catchments) is kept below, as it was before the batched engine
(:mod:`urbanform.analyses.tod_catchments`), and swapped into :func:`tod.run` for the
"old" run. Both runs start from the same snapped layers; the script checks that they
give the same station table (every figure) and the same catchment areas, and prints the
speed-up.

Usage::

    python benchmarks/tod.py                 # demo city, scale 1 (99 stations)
    python benchmarks/tod.py --scale 4       # ~4x the stations and streets
    python benchmarks/tod.py --scale 25 --no-old   # Chengdu scale, batched engine only

Generating the demo city, building the walk graph and snapping are timed apart from
the analysis steps; "CPU" is the fair figure on a shared machine.

Measured 2026-11-25 on the shared 2-core machine (load 4-6, so wall times are noisy; CPU
seconds, old -> batched; every station figure and catchment identical in all three)::

    scale  stations  nodes     network searches   catchment polygons   tod total
    1       99        44,825   1.22 -> 0.17 s     4.95 -> 5.97 s       7.2 -> 7.1 s
    4      207       165,123   4.19 -> 0.52 s     11.2 -> 11.5 s       17.4 -> 14.3 s
    8      294       321,927   7.81 -> 0.92 s     13.3 -> 14.1 s       23.5 -> 17.8 s

The searches now scale with the stations (~3 ms each) instead of stations x graph; the
polygons (one GEOS union of ~500-900 buffered pieces per station and ring, ~55 ms of CPU
per station) are unchanged in CPU and dissolved on two threads.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import _common  # noqa: E402 - benchmarks/ is on sys.path when run as a script
import numpy as np
import pyproj
import shapely
import yaml

from urbanform.analyses import tod
from urbanform.analyses.context import Context
from urbanform.layers.types import Layers
from urbanform.network import nearest_distance, reached_edges

CRS = pyproj.CRS(32648)
ROOT = Path(__file__).resolve().parents[1]
ROLES = ("streets", "population", "jobs", "stations", "landuse", "districts")


# ---------------------------------------------------------------- the old implementation
def old_station_distances(graph, units, ent, snaps, *, p):
    """One multi-source search per station (the code before the batched engine)."""
    r_max = p["radius_m"][-1]
    st, ui, d = tod._candidate_pairs(units, ent, r_max)
    if p["distance"] == "network":
        unit_snap, ent_snap = snaps
        d = np.full(len(st), np.inf)
        for s in np.unique(st):
            sel = np.flatnonzero(st == s)
            d[sel] = nearest_distance(
                graph,
                unit_snap.subset(ui[sel]),
                ent_snap.subset(ent["station"].to_numpy() == s),
                cutoff_m=r_max,
            )
    keep = d <= r_max
    return (st[keep], ui[keep], d[keep]), ({r: None for r in p["radius_m"]}
                                           if p["distance"] == "network" else None)


def old_network_catchments(graph, ent, ent_snap, pieces, *, r, circles, bands=None):
    """One reached_edges search and one buffer-and-union per station."""
    n = circles.size
    st = ent["station"].to_numpy()
    ok = ent_snap.ok & (ent_snap.snap_m <= r)
    snap_pt = np.full(len(ent), None, dtype=object)
    snap_pt[ok] = shapely.line_interpolate_point(
        graph.edge_geometry[ent_snap.edge[ok]], ent_snap.offset_m[ok]
    )
    connectors = np.full(len(ent), None, dtype=object)
    connectors[ok] = shapely.shortest_line(ent.geometry.values[ok], snap_pt[ok])
    out = np.empty(n, dtype=object)
    for s in range(n):
        sel = st == s
        walked = reached_edges(graph, ent_snap.subset(sel), cutoff_m=r).geometry.values
        lines = np.concatenate([walked, connectors[sel & ok]])
        if len(lines) == 0:
            out[s] = shapely.Polygon()
            continue
        band = shapely.union_all(shapely.buffer(lines, tod.CATCHMENT_BUFFER_M, quad_segs=4))
        out[s] = shapely.intersection(band, circles[s])
    return out


def old_piece_bands(graph, pieces, *, buffer_m):
    """The old engine buffers inside its catchment step: no shared bands."""
    return {r: None for r in pieces}


@contextmanager
def old_engine():
    with (mock.patch.object(tod, "_station_distances", old_station_distances),
          mock.patch.object(tod, "piece_bands", old_piece_bands),
          mock.patch.object(tod, "_network_catchments", old_network_catchments)):
        yield


# ---------------------------------------------------------------- inputs and timing
def demo_layers(scale: float) -> Layers:
    """The demo city's layers this benchmark needs, at ``scale``."""
    return _common.demo_layers(scale, ROLES)


class Steps:
    """Wall and CPU time of named steps, summed over calls (wrapping module functions)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            t = _common.clock()
            try:
                return fn(*args, **kwargs)
            finally:
                wall, cpu = _common.since(t)
                self.wall[name] = self.wall.get(name, 0.0) + wall
                self.cpu[name] = self.cpu.get(name, 0.0) + cpu
        return timed


STEPS = (("_station_distances", "station distances"),
         ("_network_catchments", "catchment polygons"),
         ("landuse_mix", "land-use mix"),
         ("_nearest_station_m", "indicator distances"))


def timed_run(ctx: Context, params: dict) -> tuple[object, Steps, float, float]:
    steps = Steps()
    patches = [mock.patch.object(tod, fn, steps.wrap(label, getattr(tod, fn)))
               for fn, label in STEPS]
    # the old engine's reached_edges calls (inside its catchment step), timed apart
    here = sys.modules[__name__]
    patches.append(mock.patch.object(here, "reached_edges",
                                     steps.wrap("reached edges", here.reached_edges)))
    for pa in patches:
        pa.start()
    try:
        t = _common.clock()
        res = tod.run(ctx, name="tod", params=params, target=None)
        return res, steps, *_common.since(t)
    finally:
        for pa in patches:
            pa.stop()


def compare(old, new) -> str:
    """Largest differences between the old and the new result."""
    a = old.layers["stations"].drop(columns="geometry")
    b = new.layers["stations"].drop(columns="geometry")
    counts = [c for c in a.columns if c.split("_")[0] in ("residents", "dwellings", "jobs")]
    same_counts = a[counts].equals(b[counts])
    num = a.select_dtypes("number").columns
    diff = np.nanmax(np.abs(a[num].to_numpy(float) - b[num].to_numpy(float)) /
                     np.maximum(np.abs(a[num].to_numpy(float)), 1e-12))
    ga = old.layers["catchments"].geometry.values
    gb = new.layers["catchments"].geometry.values
    sym = shapely.area(shapely.symmetric_difference(ga, gb)).max()
    units = np.array_equal(old.units["station_m"].to_numpy(), new.units["station_m"].to_numpy(),
                           equal_nan=True)
    return (f"counts identical: {same_counts}; unit distances identical: {units}; largest "
            f"relative difference of any station figure: {diff:.1e}; largest symmetric "
            f"difference of a catchment: {sym:.1e} m2")


def report(label: str, steps: Steps, wall: float, cpu: float) -> dict[str, float]:
    """Print the steps; return their CPU seconds, searches and polygons apart."""
    print(f"  {label}")
    # the network searches: pair distances and reached pieces (the new engine does both
    # in "station distances"; the old one searched again per station and ring for pieces)
    w = {k: steps.wall.get(k, 0.0) for k in [*(n for _, n in STEPS), "reached edges"]}
    c = {k: steps.cpu.get(k, 0.0) for k in w}
    rows = {
        "network searches": ("station distances", "reached edges", +1),
        "catchment polygons": ("catchment polygons", "reached edges", -1),
    }
    out = {}
    for name, (a, b, sign) in rows.items():
        out[name] = c[a] + sign * c[b]
        print(f"    {name:<22} {w[a] + sign * w[b]:7.2f} s wall {out[name]:7.2f} s CPU")
    for name in ("land-use mix", "indicator distances"):
        out[name] = c[name]
        print(f"    {name:<22} {w[name]:7.2f} s wall {c[name]:7.2f} s CPU")
    rest_w = wall - sum(steps.wall.values()) + w["reached edges"]
    rest_c = cpu - sum(steps.cpu.values()) + c["reached edges"]
    print(f"    {'other':<22} {rest_w:7.2f} s wall {rest_c:7.2f} s CPU")
    print(f"    {'total':<22} {wall:7.2f} s wall {cpu:7.2f} s CPU")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="demo city scale")
    ap.add_argument("--no-old", action="store_true", help="skip the old implementation")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    layers = demo_layers(args.scale)
    t_inputs = time.perf_counter() - t0
    ctx = Context(layers)
    params = tod.validate_params(yaml.safe_load((ROOT / "analyses" / "tod.yml").read_text())
                                 .get("params"), where="analyses/tod.yml")
    t1 = time.perf_counter()
    graph = ctx.walk_graph(needed_by="tod")
    t_graph = time.perf_counter() - t1
    # snap once for both runs (the same for both engines)
    t2 = time.perf_counter()
    snapped = {}
    real_snap = tod._snap

    def cached_snap(ctx, u, ent, *, name, p):
        if "s" not in snapped:
            snapped["s"] = real_snap(ctx, u, ent, name=name, p=p)
        return snapped["s"]

    with mock.patch.object(tod, "_snap", cached_snap):
        stations, ent = tod._stations(ctx, name="tod")
        cached_snap(ctx, tod._units(ctx, name="tod"), ent, name="tod", p=params)
        t_snap = time.perf_counter() - t2
        print(f"demo city, scale {args.scale:g}: {len(stations):,} stations "
              f"({len(ent):,} entrances), {len(layers.vectors['population']):,} population "
              f"and {len(layers.vectors['jobs']):,} job features; walk graph "
              f"{graph.n_nodes:,} nodes, {graph.n_edges:,} edges; rings "
              f"{', '.join(f'{r:g}' for r in params['radius_m'])} m")
        print(f"  [inputs {t_inputs:.1f} s, graph build {t_graph:.1f} s, snapping "
              f"{t_snap:.1f} s: not counted below]")
        new, steps, wall, cpu = timed_run(ctx, params)
        n_cpu = report("batched (current)", steps, wall, cpu)
        if not args.no_old:
            with old_engine():
                old, o_steps, o_wall, o_cpu = timed_run(ctx, params)
            o_cpu_steps = report("old (one search and one polygon per station)", o_steps,
                                 o_wall, o_cpu)
            ratio = {k: o_cpu_steps[k] / max(n_cpu[k], 1e-9)
                     for k in ("network searches", "catchment polygons")}
            print(f"  speed-up: {o_wall / wall:.1f}x wall, {o_cpu / cpu:.1f}x CPU (network "
                  f"searches {ratio['network searches']:.1f}x, catchment polygons "
                  f"{ratio['catchment polygons']:.1f}x CPU)")
            print(f"  {compare(old, new)}")
    print(f"pop_share {new.indicators['pop_share'].city.value:.4f}, "
          f"jobs_share {new.indicators['jobs_share'].city.value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
