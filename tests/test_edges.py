"""Edges of the rules: ties at cut-offs and band limits, same-offset walks, units outside
every district, unnamed features, and the CLI's exit codes (issue 14).

Each test pins one behaviour on a layer small enough to work out by hand; the expected
value and the way it was worked out are in the comment above the assertion. Several of
these were written against deliberate one-line bugs that the rest of the suite let pass
(``<=`` turned into ``<``, a tie broken the wrong way, a filter on the district).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from click.testing import CliRunner
from test_park_coverage import make_ctx as park_ctx
from test_park_coverage import run as run_parks

from urbanform.analyses import jobs_housing
from urbanform.analyses.context import Context
from urbanform.cli.main import cli
from urbanform.errors import LayerError, NetworkError
from urbanform.layers.types import Layers
from urbanform.network import (
    component_report,
    distance_from_sources,
    graph_from_arrays,
    graph_from_lines,
    nearest_distance,
    reached_edges,
    snap_points,
)

CRS = pyproj.CRS(32648)
X0, Y0 = 500_000.0, 3_000_000.0


def xy(*points: tuple[float, float]) -> np.ndarray:
    return np.array([(X0 + x, Y0 + y) for x, y in points], dtype=float)


def gdf(geoms, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


# --- network distances -----------------------------------------------------------------
# ONE_EDGE: a single 100 m edge (0, 0) - (100, 0).
# TWO_EDGES: (0, 0) - (100, 0) - (200, 0): node 0 at x = 0, node 1 at x = 100, node 2 at 200.


def one_edge():
    return graph_from_arrays(xy((0, 0), (100, 0)), [0], [1], crs=CRS)


def two_edges():
    return graph_from_arrays(xy((0, 0), (100, 0), (200, 0)), [0, 1], [1, 2], crs=CRS)


def test_origin_and_destination_at_the_same_offset_walk_only_their_snaps():
    # both snap to offset 50 of the one edge: 5 (origin snap) + 0 (along the edge) + 3
    # (destination snap) = 8 m. Through either end node it would be 5 + 50 + 50 + 3 = 108.
    g = one_edge()
    o, d = snap_points(g, xy((50, 5))), snap_points(g, xy((50, -3)))
    assert nearest_distance(g, o, d, cutoff_m=1e3)[0] == pytest.approx(8.0)


def test_node_linked_from_the_source_exactly_at_the_cutoff_is_included():
    # source at (30, 0): snap 0, offset 30 on edge 0 -> node 1 at 100 - 30 = 70 m;
    # with cutoff_m = 70 the node is reached (distances <= cutoff count)
    g = two_edges()
    dist = distance_from_sources(g, snap_points(g, xy((30, 0))), cutoff_m=70)
    assert dist[1] == pytest.approx(70.0)


def test_node_reached_through_the_network_exactly_at_the_cutoff_is_included():
    # source at (30, 0): node 2 at 70 + 100 = 170 m, included with cutoff_m = 170
    g = two_edges()
    dist = distance_from_sources(g, snap_points(g, xy((30, 0))), cutoff_m=170)
    assert dist[2] == pytest.approx(170.0)


def test_destination_exactly_at_the_cutoff_is_reached():
    # origin (170, 4) on edge 1 (offset 70), destination (30, -3) on edge 0 (offset 30):
    # 4 + 70 (to node 1) + 70 (node 1 to offset 30) + 3 = 147 m; cutoff 147 includes it
    g = two_edges()
    o, d = snap_points(g, xy((170, 4))), snap_points(g, xy((30, -3)))
    assert nearest_distance(g, o, d, cutoff_m=147)[0] == pytest.approx(147.0)


def test_source_extra_cost_is_added_to_the_walk():
    # source (30, 0) with an extra 15 m (for example an entrance inside a station):
    # node 1 at 15 + 70 = 85 m, node 2 at 85 + 100 = 185 m
    g = two_edges()
    dist = distance_from_sources(g, snap_points(g, xy((30, 0))), cutoff_m=1e3,
                                 source_extra_m=np.array([15.0]))
    assert dist[[1, 2]].tolist() == [pytest.approx(85.0), pytest.approx(185.0)]


def test_zero_cutoff_is_allowed_and_reaches_the_source_node_only():
    # source exactly on node 1 (100, 0): node 1 at 0 m, nodes 0 and 2 at 100 m > 0
    g = two_edges()
    dist = distance_from_sources(g, snap_points(g, xy((100, 0))), cutoff_m=0)
    assert dist.tolist() == [np.inf, 0.0, np.inf]


def test_reached_edges_are_in_the_graph_crs():
    g = one_edge()
    r = reached_edges(g, snap_points(g, xy((30, 0))), cutoff_m=20)
    assert r.crs == g.crs


def test_partly_reached_edge_is_cut_on_both_sides_of_the_source():
    # source (30, 0): snap 0, offset 30; 20 m each way -> the piece 10..50, not full
    g = one_edge()
    r = reached_edges(g, snap_points(g, xy((30, 0))), cutoff_m=20)
    assert r[["start_m", "end_m", "full"]].values.tolist() == [[10.0, 50.0, False]]


def test_edge_reached_beyond_both_ends_is_one_full_piece():
    # source (30, 0), cutoff 200: 0..100 whole, one piece, flagged full
    g = one_edge()
    r = reached_edges(g, snap_points(g, xy((30, 0))), cutoff_m=200)
    assert r[["start_m", "end_m", "full"]].values.tolist() == [[0.0, 100.0, True]]


def islands():
    """A 200 m main street, island A (0, 500)-(50, 500) and island B (0, 800)-(30, 800);
    origins: one on the main street, two on A, one on B."""
    lines = gpd.GeoDataFrame(
        geometry=[shapely.LineString(xy(*c)) for c in
                  ([(0, 0), (100, 0), (200, 0)], [(0, 500), (50, 500)], [(0, 800), (30, 800)])],
        crs=CRS,
    )
    g = graph_from_lines(lines)
    return g, snap_points(g, xy((10, 1), (20, 501), (30, 499), (5, 801)))


def test_component_report_without_weights_counts_each_origin_once():
    # A: 2 nodes, 1 edge, 2 origins, weight 2; B: 2 nodes, 1 edge, 1 origin, weight 1;
    # sorted by weight, heaviest first; the main street (component 0) is left out
    g, o = islands()
    rep = component_report(g, o)
    assert rep[["n_nodes", "n_edges", "n_origins", "weight"]].values.tolist() == [
        [2, 1, 2, 2.0], [2, 1, 1, 1.0]]


def test_component_report_rejects_weights_of_the_wrong_length():
    g, o = islands()
    with pytest.raises(NetworkError, match=r"weights have shape \(3,\), expected \(4,\)"):
        component_report(g, o, np.ones(3))


# --- park coverage ----------------------------------------------------------------------
# A 100 m x 100 m park at (0..100, 0..100): 10,000 m², first tier, serves 500 m; its
# straight-line service area has a straight edge at x = 600 for 0 <= y <= 100.

PARK = gdf([shapely.box(0, 0, 100, 100)], name=["Central"])
R_IN = shapely.box(200, 20, 260, 80)  # residential land 100 m from the park
TWIN = [shapely.box(0, 0, 25, 100), shapely.box(25, 0, 50, 100)]  # 2,500 m² each, touching


def test_resident_exactly_at_the_park_radius_is_covered():
    # (600, 50) is exactly 500 m from the park's east edge x = 100: covered (<=);
    # (601, 50) is 501 m away: not covered -> 100 of 100 + 50 = 2/3
    pop = gdf([shapely.Point(600, 50), shapely.Point(601, 50)], population=[100.0, 50.0])
    res = run_parks(park_ctx(PARK, [R_IN], population=pop))
    assert res.indicators["pop_share"].city.value == pytest.approx(100 / 150)


def test_unnamed_touching_parks_stay_two_parks_with_their_own_area_and_tier():
    # no name: never merged; each 25 x 100 = 2,500 m² lies in the second tier (2,000 to
    # 5,000 m², 300 m). Merged they would be one 5,000 m² first-tier park (500 m).
    res = run_parks(park_ctx(gdf(TWIN, name=[None, None]), [R_IN]))
    parks = res.layers["parks"].sort_values("area_m2")
    assert parks[["area_m2", "tier"]].values.tolist() == [[2500.0, 2], [2500.0, 2]]


def test_residents_outside_every_district_count_in_the_city_only():
    # district West = x < 500. A (230, 50): 100 residents, in West, covered (130 m);
    # B (750, 50): 300 residents, outside every district, not covered (650 m).
    # city = 100 / (100 + 300) = 0.25 (B counts); West = 100 / 100 = 1.0 (B does not);
    # no district holds B
    west = gdf([shapely.box(-1000, -1000, 500, 1000)], name=["West"])
    pop = gdf([shapely.Point(230, 50), shapely.Point(750, 50)], population=[100.0, 300.0])
    ind = run_parks(park_ctx(PARK, [R_IN], population=pop, districts=west)).indicators["pop_share"]
    got = (ind.city.value, {n: v.value for n, v in ind.districts.items()})
    assert got == (pytest.approx(0.25), {"West": pytest.approx(1.0)})


# --- jobs-housing -----------------------------------------------------------------------


def jh_ctx(pop_rows, pop_xy, job_rows, job_xy, *, districts=None) -> Context:
    def points(rows, pts):
        return gpd.GeoDataFrame(rows, geometry=shapely.points(xy(*pts)), crs=CRS)

    vectors = {"population": points(pop_rows, pop_xy), "jobs": points(job_rows, job_xy)}
    if districts is not None:
        vectors["districts"] = districts
    return Context(Layers(crs=CRS, vectors=vectors))


def run_jh(ctx: Context, **params):
    p = jobs_housing.validate_params(params, where="analyses/jh.yml")
    return jobs_housing.run(ctx, name="jh", params=p, target=None)


def test_city_ratio_exactly_at_the_band_top_is_balanced_without_districts():
    # no districts: 1,200 jobs / 1,000 workers = 1.2, the top of [0.8, 1.2] (bounds
    # included) -> every resident lives in a balanced city: balanced_share = 1.0
    ctx = jh_ctx([{"population": 2000.0, "workers": 1000.0}], [(500, 500)],
                 [{"jobs": 1200.0}], [(600, 600)])
    assert run_jh(ctx).indicators["balanced_share"].city.value == pytest.approx(1.0)


def test_workspace_without_districts_gives_city_values_only():
    # 1,200 jobs / 1,000 workers = 1.2 in the city; no district values at all
    ctx = jh_ctx([{"population": 2000.0, "workers": 1000.0}], [(500, 500)],
                 [{"jobs": 1200.0}], [(600, 600)])
    ratio = run_jh(ctx).indicators["ratio"]
    assert (ratio.city.value, ratio.districts) == (pytest.approx(1.2), {})


def test_ratio_exactly_at_the_band_bottom_is_balanced():
    # district a: 800 jobs / 1,000 workers = 0.8, the bottom of [0.8, 1.2] (included);
    # all 2,000 residents live in a, so balanced_share = 1.0
    west = gdf([shapely.box(X0, Y0, X0 + 2000, Y0 + 2000)], name=["a"])
    ctx = jh_ctx([{"population": 2000.0, "workers": 1000.0}], [(500, 500)],
                 [{"jobs": 800.0}], [(600, 600)], districts=west)
    assert run_jh(ctx).indicators["balanced_share"].districts["a"].value == pytest.approx(1.0)


def test_jobs_layer_without_jobs_is_an_error():
    ctx = jh_ctx([{"population": 2000.0, "workers": 1000.0}], [(500, 500)],
                 [{"jobs": 0.0}], [(600, 600)])
    with pytest.raises(LayerError, match="the jobs layer holds no jobs"):
        run_jh(ctx)


def test_units_without_workers_are_counted_in_a_warning():
    # one unit gives 500 workers, the other none (NaN): 1 unit falls back on the rate
    ctx = jh_ctx([{"population": 1000.0, "workers": 500.0},
                  {"population": 2000.0, "workers": float("nan")}], [(500, 500), (700, 700)],
                 [{"jobs": 1200.0}], [(600, 600)])
    assert any(w.startswith("1 population units have no 'workers' value")
               for w in run_jh(ctx).warnings)


# --- command line -----------------------------------------------------------------------


def test_internal_error_exits_1_with_a_short_message_on_stderr(tiny_workspace: Path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("urbanform.cli.run.run_workspace", broken)
    r = CliRunner().invoke(cli, ["run", str(tiny_workspace)])
    # stderr: "urbanform: running ..." then "Internal error: RuntimeError: boom (run with -vv ...)"
    last = r.stderr.splitlines()[-1]
    assert (r.exit_code, last.startswith("Internal error: RuntimeError: boom")) == (1, True)


def test_internal_error_prints_no_traceback(tiny_workspace: Path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("urbanform.cli.run.run_workspace", broken)
    r = CliRunner().invoke(cli, ["run", str(tiny_workspace)])
    assert "Traceback" not in r.output


def test_ctrl_c_exits_130(tiny_workspace: Path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("urbanform.cli.run.run_workspace", interrupted)
    r = CliRunner().invoke(cli, ["run", str(tiny_workspace)])
    assert (r.exit_code, "Interrupted; no output was written." in r.stderr) == (130, True)


def test_error_lines_go_to_stderr_not_stdout(tiny_workspace: Path):
    (tiny_workspace / "analyses" / "park500.yml").write_text(
        "kind: park_coverage\nparams: {radius: 500}\n"
    )
    r = CliRunner().invoke(cli, ["run", str(tiny_workspace)])
    assert (r.exit_code, "Error:" in r.stderr, "Error:" in r.stdout) == (2, True, False)
