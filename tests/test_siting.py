"""urbanform site: coverage matrices, greedy and exact choices, outputs and the command.

Hand-worked city: the tiny workspace of conftest (residents P1..P4; P2 = 300 at
(1300, 200) and P4 = 50 at (1075, 500) are outside the park's 500 m; pop_share = 150 /
500 = 0.3) with these candidate parks (offsets from X0, Y0):

- ``Pocket`` [1280, 1320] x [180, 220]: 1,600 m² < 2,000 m², does not count: adds nothing
  (although P2 lies inside it);
- ``South`` [1250, 1330] x [120, 160]: 3,200 m² -> 300 m; P2 is 40 m away (covered), P4
  sqrt(175² + 340²) = 382 m (not);
- ``Middle`` [1100, 1150] x [520, 580]: 3,000 m² -> 300 m; P4 sqrt(25² + 20²) = 32 m
  (covered), P2 sqrt(150² + 320²) = 353 m (not);
- ``Big`` [1150, 1250] x [300, 400]: 10,000 m² -> 500 m; P2 sqrt(50² + 100²) = 112 m and
  P4 sqrt(75² + 100²) = 125 m: both covered;
- ``Far`` [1700, 1800] x [800, 900]: 10,000 m², P2 671 m and P4 672 m away: adds nothing.

Target 0.95 needs 475 of 500 residents: P2 and P4 both (150 + 300 = 450 < 475). Fewest
sites: ``Big`` alone, value 500 / 500 = 1.0. With costs Pocket 1, South 3, Middle 3,
Big 10, Far 1: least cost ``South`` + ``Middle`` = 6 < 10, value 1.0.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
import yaml
from click.testing import CliRunner
from conftest import CRS, box, write_tiny_workspace
from scipy import sparse

from urbanform.analyses import living_circle, park_coverage
from urbanform.analyses.context import Context
from urbanform.cli.main import cli
from urbanform.errors import AnalysisError, LayerError, WorkspaceError
from urbanform.layers.types import Layers
from urbanform.pipeline import run_workspace
from urbanform.scenarios import run_scenario
from urbanform.siting import SiteRequest, site_workspace, write_site_outputs
from urbanform.siting.coverage import coverage_matrix
from urbanform.siting.solve import choose, covered_weight, greedy
from urbanform.workspace import load_workspace

REPO = Path(__file__).resolve().parents[1]

CANDIDATES = {
    "Pocket": (box(1280, 180, 1320, 220), 1.0),
    "South": (box(1250, 120, 1330, 160), 3.0),
    "Middle": (box(1100, 520, 1150, 580), 3.0),
    "Big": (box(1150, 300, 1250, 400), 10.0),
    "Far": (box(1700, 800, 1800, 900), 1.0),
}


@pytest.fixture
def siting_ws(tmp_path: Path) -> Path:
    root = write_tiny_workspace(tmp_path / "city")
    cands = gpd.GeoDataFrame(
        {"NAME": list(CANDIDATES), "PRICE": [c for _, c in CANDIDATES.values()]},
        geometry=[g for g, _ in CANDIDATES.values()],
        crs=CRS,
    )
    cands.to_file(root / "data" / "candidates.gpkg", layer="candidates", engine="pyogrio")
    (root / "layers" / "sites.yml").write_text(
        "role: candidates\nsource: data/candidates.gpkg\nfields: {name: NAME}\n", encoding="utf-8"
    )
    cands[cands["NAME"].isin(["Pocket", "Far"])].to_file(
        root / "data" / "useless.gpkg", layer="useless", engine="pyogrio"
    )
    (root / "layers" / "useless.yml").write_text(
        "role: candidates\nsource: data/useless.gpkg\nfields: {name: NAME}\n", encoding="utf-8"
    )
    (root / "layers" / "priced.yml").write_text(
        "role: candidates\nsource: data/candidates.gpkg\nfields: {name: NAME, cost: PRICE}\n",
        encoding="utf-8",
    )
    return root


def _site(root: Path, **kw: object):
    return site_workspace(load_workspace(root), SiteRequest(analysis="park500", **kw))


# -- the hand-worked city ---------------------------------------------------------------


def test_fewest_sites_is_the_one_big_park(siting_ws):
    res = _site(siting_ws, candidates="sites", target=0.95)
    assert list(res.sites["name"]) == ["Big"]
    assert (res.value_before, res.value_after, res.met) == (pytest.approx(0.3), 1.0, True)


def test_least_cost_takes_the_two_small_parks(siting_ws):
    res = _site(siting_ws, candidates="priced", target=0.95)
    assert sorted(res.sites["name"]) == ["Middle", "South"]
    assert res.plan.gap.measure == "cost" and res.plan.gap.optimum == pytest.approx(6.0)


def test_gain_and_value_after_per_rank(siting_ws):
    res = _site(siting_ws, candidates="priced", target=0.95)
    # South covers P2 (300 of 500 = 0.6 points) first, then Middle covers P4 (0.1)
    assert list(res.sites["name"]) == ["South", "Middle"]
    assert res.sites["gain"].tolist() == pytest.approx([0.6, 0.1])
    assert res.sites["value_after"].tolist() == pytest.approx([0.9, 1.0])


@pytest.mark.parametrize("exact_max", [0, 10**6])
def test_candidates_that_add_nothing_are_never_chosen(siting_ws, exact_max):
    res = _site(siting_ws, candidates="sites", max_sites=5, exact_max=exact_max)
    assert not {"Pocket", "Far"} & set(res.sites["name"])


def test_target_already_met_needs_no_site(siting_ws):
    res = _site(siting_ws, candidates="sites", target=0.25)  # 0.3 already
    assert (len(res.sites), res.met, res.value_after) == (0, True, pytest.approx(0.3))
    assert "no site needed" in res.notes[0]


def test_unreachable_target_names_the_best_value(siting_ws):
    # Pocket does not count and Far reaches nobody: 0.3 stays 0.3
    with pytest.raises(AnalysisError, match=r"lifts pop_share only to 0\.3000 \(target 0\.95\)"):
        _site(siting_ws, candidates="useless", target=0.95)


def test_value_after_equals_the_analysis_run_with_the_sites(siting_ws):
    res = _site(siting_ws, candidates="sites", max_sites=2, exact_max=0)
    # run back through the ordinary pipeline: the sites as one more parks layer
    out = siting_ws / "site-out"
    write_site_outputs(res, out, workspace=siting_ws)
    (siting_ws / "layers" / "zz_new_parks.yml").write_text(
        "role: parks\nsource: scenarios/site-park500.gpkg\nlayer: sites\nfields: {name: name}\n",
        encoding="utf-8",
    )
    again = run_workspace(load_workspace(siting_ws), only=["park500"], write=False)
    promised = json.loads((out / "sites.json").read_text(encoding="utf-8"))["value_after"]
    assert again.summary["analyses"]["park500"]["indicators"]["pop_share"]["city"]["value"] == (
        pytest.approx(promised, abs=1e-12)
    )


def test_outputs_hold_the_sites_and_a_scenario(siting_ws):
    res = _site(siting_ws, candidates="priced", target=0.95)
    out = siting_ws / "site-out"
    write_site_outputs(res, out, workspace=siting_ws)
    data = json.loads((out / "sites.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in data["sites"]] == ["South", "Middle"]
    assert {k: data[k] for k in ("analysis", "indicator", "target", "met")} == {
        "analysis": "park500", "indicator": "pop_share", "target": 0.95, "met": True}
    layer = gpd.read_file(out / "sites.gpkg", layer="sites")
    rows = layer[["name", "cost", "rank"]].values.tolist()
    assert rows == [["South", 3.0, 1], ["Middle", 3.0, 2]]
    scenario = yaml.safe_load((out / "scenario.yml").read_text(encoding="utf-8"))
    add = scenario["add"]["parks"]
    assert add == {"source": "scenarios/site-park500.gpkg", "layer": "sites",
                   "fields": {"name": "name"}}
    assert (siting_ws / add["source"]).is_file()


def test_output_folder_with_other_files_is_refused(siting_ws):
    res = _site(siting_ws, candidates="sites", target=0.95)
    out = siting_ws / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OSError, match=r"holds files urbanform site did not write \(notes\.txt\)"):
        write_site_outputs(res, out, workspace=siting_ws)


def test_living_circle_pop_share_all_asks_for_a_category(siting_ws):
    (siting_ws / "analyses" / "circle.yml").write_text(
        "kind: living_circle\nparams: {level: 5}\n"
        'target: {indicator: pop_share_all, op: ">=", value: 0.9}\n', encoding="utf-8")
    req = SiteRequest(analysis="circle", candidates="sites")
    with pytest.raises(AnalysisError, match=r"one facility category at a time; pass --indicator"):
        site_workspace(load_workspace(siting_ws), req)


def test_unknown_candidates_layer(siting_ws):
    with pytest.raises(WorkspaceError, match=r"no layer 'nope' .*candidate layers: priced, sites"):
        _site(siting_ws, candidates="nope", target=0.95)


def test_candidates_layer_of_another_role(siting_ws):
    with pytest.raises(WorkspaceError, match=r"layer 'parks' has role 'parks'; --candidates needs"):
        _site(siting_ws, candidates="parks", target=0.95)


def test_repeated_candidate_names(siting_ws, tmp_path):
    g = gpd.GeoDataFrame({"NAME": ["A", "A"]}, geometry=[box(0, 0, 90, 90), box(0, 200, 90, 290)],
                         crs=CRS)
    g.to_file(siting_ws / "data" / "twice.gpkg", engine="pyogrio")
    (siting_ws / "layers" / "twice.yml").write_text(
        "role: candidates\nsource: data/twice.gpkg\nfields: {name: NAME}\n", encoding="utf-8")
    with pytest.raises(LayerError, match=r"the 'name' field repeats 'A'"):
        _site(siting_ws, candidates="twice", target=0.95)


# -- the command -------------------------------------------------------------------------


def _cli(*args: str):
    return CliRunner().invoke(cli, ["-q", "site", *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--analysis", "nope", "--candidates", "sites"], "no analysis 'nope'"),
        (["--analysis", "park500", "--candidates", "nope"], "no layer 'nope'"),
        (["--analysis", "forest", "--candidates", "sites"], "kind 'forest_cover' cannot be sited"),
        (["--analysis", "park500", "--candidates", "useless"], "lifts pop_share only to 0.3000"),
    ],
)
def test_cli_errors_are_one_line_exit_2(siting_ws, args, message):
    r = _cli(str(siting_ws), *args)
    assert r.exit_code == 2
    assert r.output.startswith("Error: ") and message in r.output
    assert r.output.count("\n") == 1


def test_cli_writes_the_outputs(siting_ws, tmp_path):
    r = _cli(str(siting_ws), "--analysis", "park500", "--candidates", "sites", "--target", "0.95",
             "--out", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output
    data = json.loads((tmp_path / "o" / "sites.json").read_text(encoding="utf-8"))
    assert (data["method"], [s["name"] for s in data["sites"]]) == ("exact", ["Big"])


# -- network distance: one street, walked by hand -----------------------------------------

STREET_CRS = pyproj.CRS(32648)


def _street_ctx(pop_x: list[float]) -> Context:
    """A street along y = 0 from x = 0 to 2,000; residents 20 m south of it at ``pop_x``;
    an existing 3,600 m² park far from the street (its access points do not snap)."""
    g = lambda geoms, **c: gpd.GeoDataFrame(c, geometry=list(geoms), crs=STREET_CRS)  # noqa: E731
    return Context(Layers(crs=STREET_CRS, vectors={
        "streets": g([shapely.LineString([(0, 0), (2000, 0)])]),
        "parks": g([shapely.box(1900, 400, 1960, 460)], name=["Old"]),
        "landuse": g([shapely.box(0, -60, 2000, -10)], **{"class": ["residential"]}),
        "population": g(shapely.points([[x, -20] for x in pop_x]), population=[1.0] * len(pop_x)),
    }))


def test_network_coverage_walks_from_the_candidate_edge():
    # candidate park [0, 80] x [10, 90] (6,400 m²: 500 m); its nearest access point on the
    # bottom edge at (80, 10) snaps 10 m to (80, 0). A resident at (x, -20) walks
    # 20 + (x - 80) + 10 m: x = 300 -> 250 (in), 540 -> 490 (in), 560 -> 510 (out),
    # 700 -> 650 (out).
    ctx = _street_ctx([300, 540, 560, 700])
    p = park_coverage.validate_params({"distance": "network"}, where="a.yml")
    base = park_coverage.run(ctx, name="net", params=p, target=None)
    cands = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(0, 10, 80, 90)],
                             crs=STREET_CRS)
    cov = coverage_matrix(ctx, base, cands, key="pop_share")
    assert cov.matrix.toarray().tolist() == [[True, True, False, False]]


def test_living_circle_coverage_walks_to_the_candidate_point():
    # market candidate at (100, 30) snaps 30 m to (100, 0); an existing market at
    # (1990, 0). Residents at (x, -20): x = 1700 walks 20 + 290 = 310 m to the old market
    # (covered already, not open); to the candidate x walks 20 + (x - 100) + 30 m:
    # 300 -> 250 (in), 540 -> 490 (in), 560 -> 510 (out, the 500 m limit).
    ctx = _street_ctx([300, 540, 560, 1700])
    ctx.layers.vectors["facilities"] = gpd.GeoDataFrame(
        {"category": ["market"]}, geometry=[shapely.Point(1990, 0)], crs=STREET_CRS)
    p = living_circle.validate_params(
        {"level": 15, "distance_m": 500, "categories": ["market"]}, where="c.yml")
    base = living_circle.run(ctx, name="c", params=p, target=None)
    cands = gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.Point(100, 30)], crs=STREET_CRS)
    cov = coverage_matrix(ctx, base, cands, key="pop_share_market")
    assert cov.matrix.toarray().tolist() == [[True, True, False]]
    assert (cov.base, cov.total) == (1.0, 4.0)


# -- solver: small random instances against brute force ----------------------------------


def _instance(seed: int, n: int = 8, m: int = 30) -> tuple[sparse.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.random((n, m)) < 0.2
    dense[n - 1] = False  # one candidate covers nothing
    return sparse.csr_matrix(dense), rng.integers(1, 100, m).astype(float)


def _fewest_by_brute_force(cover, weight, need):
    for k in range(cover.shape[0] + 1):
        for combo in itertools.combinations(range(cover.shape[0]), k):
            if covered_weight(cover, weight, list(combo)) >= need:
                return k
    return math.inf


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("exact_max", [0, 10**6])
def test_target_mode_against_brute_force(seed, exact_max):
    cover, weight = _instance(seed)
    reach = covered_weight(cover, weight, list(range(cover.shape[0])))
    need = 0.8 * reach
    best = _fewest_by_brute_force(cover, weight, need)
    plan = choose(cover, weight, need=need, max_sites=None, exact_max=exact_max,
                  total=weight.sum())
    assert covered_weight(cover, weight, plan.choice.order) >= need
    if exact_max:
        assert (plan.method, len(plan.choice.order)) == ("exact", best)
    # the greedy result is within its reported gap of the optimum
    assert len(plan.greedy.order) - best <= plan.gap.value + 1e-9
    assert cover.shape[0] - 1 not in plan.choice.order


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("exact_max", [0, 10**6])
def test_budget_mode_against_brute_force(seed, exact_max):
    cover, weight = _instance(seed)
    best = max(covered_weight(cover, weight, list(c))
               for c in itertools.combinations(range(cover.shape[0]), 3))
    plan = choose(cover, weight, need=None, max_sites=3, exact_max=exact_max,
                  total=weight.sum())
    if exact_max:
        assert covered_weight(cover, weight, plan.choice.order) == pytest.approx(best)
    greedy_cov = covered_weight(cover, weight, plan.greedy.order)
    assert (best - greedy_cov) / weight.sum() <= plan.gap.value + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_least_cost_against_brute_force(seed):
    cover, weight = _instance(seed)
    cost = np.random.default_rng(100 + seed).integers(1, 10, cover.shape[0]).astype(float)
    need = 0.8 * covered_weight(cover, weight, list(range(cover.shape[0])))
    best = min(cost[list(c)].sum()
               for k in range(cover.shape[0] + 1)
               for c in itertools.combinations(range(cover.shape[0]), k)
               if covered_weight(cover, weight, list(c)) >= need)
    plan = choose(cover, weight, cost, need=need, max_sites=None, exact_max=10**6,
                  total=weight.sum())
    assert cost[plan.choice.order].sum() == pytest.approx(best)
    assert cost[plan.greedy.order].sum() - best <= plan.gap.value + 1e-9


def test_greedy_picks_by_lazy_gains_by_hand():
    # units weigh 1, 1, 1, 5; candidates {0, 1}, {1, 2}, {3}, {0, 1, 2}: the 5 first, then
    # {0, 1, 2} (3 new); the others add nothing after that and are never taken
    m = sparse.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1], [1, 1, 1, 0]],
                                   dtype=bool))
    c = greedy(m, np.array([1.0, 1.0, 1.0, 5.0]), max_sites=4)
    assert (c.order, c.gains) == ([2, 3], [5.0, 3.0])


# -- euclidean: the matrix against shapely distances, choices against brute force ---------


def _random_city(seed: int):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 3000, (60, 2))
    pop = gpd.GeoDataFrame({"population": rng.integers(1, 50, 60).astype(float)},
                           geometry=shapely.points(pts), crs=STREET_CRS)
    park = gpd.GeoDataFrame({"name": ["Old"]}, geometry=[shapely.box(0, 0, 100, 100)],
                            crs=STREET_CRS)
    land = gpd.GeoDataFrame({"class": ["residential"]}, geometry=[shapely.box(0, 0, 3000, 3000)],
                            crs=STREET_CRS)
    xy = rng.uniform(0, 2900, (7, 2))
    side = rng.choice([30.0, 50.0, 80.0], 7)  # 900 m² (nothing), 2,500 (300 m), 6,400 (500 m)
    cands = gpd.GeoDataFrame(
        {"name": [f"c{i}" for i in range(7)]},
        geometry=shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + side, xy[:, 1] + side),
        crs=STREET_CRS,
    )
    ctx = Context(Layers(crs=STREET_CRS, vectors={"parks": park, "landuse": land,
                                                  "population": pop}))
    return ctx, pop, park, cands, side


def _independent_cover(pop, park, cands, side):
    """Units a candidate newly covers, by shapely distances (not buffers)."""
    radius = np.where(side >= 70.71, 500.0, np.where(side >= 44.73, 300.0, -1.0))
    d_old = shapely.distance(pop.geometry.values, park.geometry.values[0])
    homes = np.asarray(pop.geometry.values, dtype=object)
    sites = np.asarray(cands.geometry.values, dtype=object)
    d = shapely.distance(homes[None, :], sites[:, None])
    return (d <= radius[:, None]) & (d_old > 500.0)[None, :], d, radius


@pytest.mark.parametrize("seed", range(4))
def test_euclidean_matrix_matches_shapely_distances(seed):
    ctx, pop, park, cands, side = _random_city(seed)
    p = park_coverage.validate_params({}, where="a.yml")
    base = park_coverage.run(ctx, name="p", params=p, target=None)
    cov = coverage_matrix(ctx, base, cands, key="pop_share")
    expect, d, radius = _independent_cover(pop, park, cands, side)
    # the open units are the population points beyond 500 m of the old park, in order
    open_ = shapely.distance(pop.geometry.values, park.geometry.values[0]) > 500.0
    expect = expect[:, open_]
    near_edge = np.abs(d[:, open_] - radius[:, None]) < 1.0  # buffer chords: 0.5 m at most
    got = cov.matrix.toarray()
    assert (got == expect)[~near_edge].all()


@pytest.mark.parametrize("seed", range(4))
def test_euclidean_fewest_sites_match_brute_force_on_shapely_distances(seed):
    ctx, pop, park, cands, side = _random_city(seed)
    p = park_coverage.validate_params({}, where="a.yml")
    base = park_coverage.run(ctx, name="p", params=p, target=None)
    cov = coverage_matrix(ctx, base, cands, key="pop_share")
    expect, _, _ = _independent_cover(pop, park, cands, side)
    w = pop["population"].to_numpy()
    ind = sparse.csr_matrix(expect)
    need = 0.7 * covered_weight(ind, w, list(range(7)))
    best = _fewest_by_brute_force(ind, w, need)
    plan = choose(cov.matrix, cov.weight, need=need, max_sites=None, exact_max=10**6,
                  total=cov.total)
    assert len(plan.choice.order) == best


# -- the demo city ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "urbanform.yml", root / "urbanform.yml")
    for folder in ("layers", "analyses"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def test_demo_park500_reaches_90_percent_and_runs_back(demo_ws):
    ws = load_workspace(demo_ws)
    res = site_workspace(ws, SiteRequest(analysis="park500", candidates="candidates"))
    assert res.met and res.value_after >= 0.9 > res.value_before
    write_site_outputs(res, demo_ws / "site-out", workspace=demo_ws)
    promised = json.loads((demo_ws / "site-out" / "sites.json").read_text(encoding="utf-8"))
    # run back as a scenario: the scenario.yml that `site` wrote, as `run --scenario` reads it
    run = run_scenario(load_workspace(demo_ws), str(demo_ws / "site-out" / "scenario.yml"),
                       only=["park500"], write=False)
    city = run.summary["analyses"]["park500"]["indicators"]["pop_share"]["city"]
    assert city["value"] == pytest.approx(promised["value_after"], abs=1e-12)
    assert city["baseline"] == pytest.approx(promised["value_before"], abs=1e-12)
    # and as one more parks layer of an ordinary run
    (demo_ws / "layers" / "zz_sites.yml").write_text(
        "role: parks\nsource: scenarios/site-park500.gpkg\nlayer: sites\nfields: {name: name}\n",
        encoding="utf-8",
    )
    again = run_workspace(load_workspace(demo_ws), only=["park500"], write=False)
    value = again.summary["analyses"]["park500"]["indicators"]["pop_share"]["city"]["value"]
    assert value == pytest.approx(promised["value_after"], abs=1e-12)
    assert promised["value_after"] >= 0.9
