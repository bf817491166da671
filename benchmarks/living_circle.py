"""Scale run of the 15-minute living circle: timings per step and peak memory.

The issue's target: a Chengdu-scale city (a walk network of about 1M nodes, 1M population
units, six categories with about 5,000 facilities), snapping included, in under 30 s and
under 4 GB peak memory on a 2-core machine.

Usage::

    python benchmarks/living_circle.py --scale 25      # demo city: ~1M nodes, ~1.1M units
    python benchmarks/living_circle.py --synthetic --side 1000   # 1000 x 1000 node grid

Without ``urbanform.demo`` (or with ``--synthetic``) a jittered street grid is built
instead: ``side`` x ``side`` nodes ``spacing_m`` apart, ``units`` population points and
``facilities`` facilities spread at random over it (seeded). Prints one line per step
(graph build, snapping, distances, aggregation, other) with wall time, CPU time (the
fair figure on a shared machine) and the memory high-water mark when the step ended, then
the total and the peak resident memory (``resource.getrusage``). Generating the demo city
is timed apart ("inputs") and not counted in the analysis.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import _common  # noqa: E402 - benchmarks/ is on sys.path when run as a script
import geopandas as gpd
import numpy as np
import pyproj
import shapely

from urbanform.analyses import living_circle as lc
from urbanform.analyses.context import Context
from urbanform.layers.types import Layers

CRS = pyproj.CRS(32648)
ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = list(lc.LEVELS[15][1])


class StepTimes(logging.Handler):
    """Collects the ``urbanform_step`` / ``elapsed_s`` records the analysis logs."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.steps: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        step = getattr(record, "urbanform_step", None)
        if step is not None:
            self.steps[step] = self.steps.get(step, 0.0) + float(record.elapsed_s)
            self.cpu[step] = self.cpu.get(step, 0.0) + float(getattr(record, "cpu_s", "nan"))
            self.peak_mb[step] = _common.peak_mb()  # the high-water mark when the step ends


def _grid_streets(side: int, spacing_m: float, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Block-edge segments of a ``side`` x ``side`` node grid with jittered nodes."""
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.stack([ii, jj], axis=-1) * spacing_m + rng.uniform(
        -0.2 * spacing_m, 0.2 * spacing_m, size=(side, side, 2)
    )
    xy += (400_000.0, 3_380_000.0)
    a = np.concatenate([xy[:-1, :].reshape(-1, 2), xy[:, :-1].reshape(-1, 2)])
    b = np.concatenate([xy[1:, :].reshape(-1, 2), xy[:, 1:].reshape(-1, 2)])
    lines = shapely.linestrings(np.stack([a, b], axis=1))
    return gpd.GeoDataFrame(geometry=lines, crs=CRS)


def synthetic_layers(
    *, side: int, spacing_m: float, n_units: int, n_facilities: int, seed: int = 0
) -> Layers:
    """Streets, population points, facilities and four districts on a jittered grid."""
    rng = np.random.default_rng(seed)
    streets = _grid_streets(side, spacing_m, rng)
    x0, y0, x1, y1 = streets.total_bounds
    ux, uy = rng.uniform(x0, x1, n_units), rng.uniform(y0, y1, n_units)
    pop = gpd.GeoDataFrame({"population": rng.integers(1, 60, n_units).astype(float)},
                           geometry=shapely.points(ux, uy), crs=CRS)
    fx, fy = rng.uniform(x0, x1, n_facilities), rng.uniform(y0, y1, n_facilities)
    fac = gpd.GeoDataFrame({"category": rng.choice(CATEGORIES, n_facilities)},
                           geometry=shapely.points(fx, fy), crs=CRS)
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    boxes = [shapely.box(x0, y0, xm, ym), shapely.box(xm, y0, x1, ym),
             shapely.box(x0, ym, xm, y1), shapely.box(xm, ym, x1, y1)]
    districts = gpd.GeoDataFrame({"name": ["SW", "SE", "NW", "NE"]}, geometry=boxes, crs=CRS)
    return Layers(crs=CRS, vectors={"streets": streets, "population": pop,
                                    "facilities": fac, "districts": districts})


def demo_layers(scale: float) -> Layers:
    """The demo city's layers this benchmark needs, at ``scale``."""
    return _common.demo_layers(scale, ("streets", "population", "facilities", "districts"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="demo city scale")
    ap.add_argument("--synthetic", action="store_true", help="use the jittered grid")
    ap.add_argument("--side", type=int, default=1000, help="grid nodes per side (synthetic)")
    ap.add_argument("--spacing-m", type=float, default=60.0, help="grid spacing (synthetic)")
    ap.add_argument("--units", type=int, default=1_000_000, help="population units (synthetic)")
    ap.add_argument("--facilities", type=int, default=5_000, help="facilities (synthetic)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every step")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(relativeCreated)8.0f ms %(name)s: %(message)s")
    times = StepTimes()
    lc_log = logging.getLogger("urbanform.analyses.living_circle")
    lc_log.addHandler(times)
    lc_log.setLevel(logging.INFO)
    lc_log.propagate = args.verbose

    t0 = time.perf_counter()
    layers = None
    if not args.synthetic:
        try:
            layers, source = demo_layers(args.scale), f"demo city, scale {args.scale:g}"
        except ImportError as exc:
            print(f"(no demo city: {exc}; using the synthetic grid)")
    if layers is None:
        layers = synthetic_layers(side=args.side, spacing_m=args.spacing_m,
                                  n_units=args.units, n_facilities=args.facilities)
        source = f"synthetic {args.side}x{args.side} grid, {args.spacing_m:g} m"
    t_inputs = time.perf_counter() - t0
    v = layers.vectors
    print(f"{source}: {len(v['streets']):,} street lines, {len(v['population']):,} population "
          f"features, {len(v['facilities']):,} facilities  [inputs {t_inputs:.1f} s, "
          f"peak {_common.peak_mb():,.0f} MB]")

    ctx = Context(layers)
    params = lc.validate_params({"level": 15}, where="benchmark")
    t1 = _common.clock()
    res = lc.run(ctx, name="circle15", params=params, target=None)
    total, total_cpu = _common.since(t1)
    g = ctx.walk_graph()
    print(f"walk network: {g.n_nodes:,} nodes, {g.n_edges:,} edges; units {len(res.units):,}")
    print(f"  {'step':<12} {'wall':>7}   {'CPU':>7}   peak after step")
    for step in ("graph build", "snapping", "distances", "aggregation"):
        print(f"  {step:<12} {times.steps.get(step, float('nan')):7.2f} s "
              f"{times.cpu.get(step, float('nan')):7.2f} s "
              f"{times.peak_mb.get(step, float('nan')):8,.0f} MB")
    other = total - sum(times.steps.values())
    other_cpu = total_cpu - sum(times.cpu.values())
    print(f"  {'other':<12} {other:7.2f} s {other_cpu:7.2f} s  (population units, facilities)")
    print(f"  {'total':<12} {total:7.2f} s {total_cpu:7.2f} s  (graph build included)")
    print(f"peak memory (ru_maxrss): {_common.peak_mb():,.0f} MB")
    print(f"pop_share_all = {res.indicators['pop_share_all'].city.value:.4f}; "
          f"{len(res.layers['deficits']):,} deficit units; {len(res.warnings)} warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
