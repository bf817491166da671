"""jobs_housing: district ratios, balance, local ratio and the minimum commute.

Layers are tiny hand-made frames in EPSG:32648 (UTM 48N, around Chengdu); every
expected value is worked out by hand in the comments.
"""

from __future__ import annotations

import math

import geopandas as gpd
import h3
import numpy as np
import pyproj
import pytest
import shapely

from urbanform.analyses import jobs_housing
from urbanform.analyses.commute import min_mean_commute_km
from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError
from urbanform.layers.types import Layers

CRS = pyproj.CRS(32648)
X0, Y0 = 400_000.0, 3_390_000.0


def _districts() -> gpd.GeoDataFrame:
    # a: x 0-2 km, b: x 2-4 km (relative to X0, Y0)
    return gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 2000),
                  shapely.box(X0 + 2000, Y0, X0 + 4000, Y0 + 2000)],
        crs=CRS,
    )


def _points(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    pts = shapely.points([(X0 + x, Y0 + y) for x, y in xy])
    return gpd.GeoDataFrame(rows, geometry=pts, crs=CRS)


def _ctx(population: gpd.GeoDataFrame, jobs: gpd.GeoDataFrame, *, districts=True) -> Context:
    vectors = {"population": population, "jobs": jobs}
    if districts:
        vectors["districts"] = _districts()
    return Context(Layers(crs=CRS, vectors=vectors))


def _two_districts() -> Context:
    # a: 1,000 residents, 1,000 workers, 1,200 jobs -> ratio 1.2 (balanced, top of band)
    # b: 2,000 residents, 1,000 workers, 500 jobs   -> ratio 0.5 (not balanced)
    pop = _points([{"population": 1000.0, "workers": 1000.0},
                   {"population": 2000.0, "workers": 1000.0}], [(500, 500), (3000, 500)])
    jobs = _points([{"jobs": 1200.0}, {"jobs": 500.0}], [(1500, 500), (3500, 1500)])
    return _ctx(pop, jobs)


def _run(ctx: Context, **params):
    p = jobs_housing.validate_params(params, where="analyses/jh.yml")
    return jobs_housing.run(ctx, name="jh", params=p, target=None)


def _at_cell_centre(cell: str) -> tuple[float, float]:
    lat, lng = h3.cell_to_latlng(cell)
    x, y = pyproj.Transformer.from_crs(4326, CRS, always_xy=True).transform(lng, lat)
    return x - X0, y - Y0


def test_district_ratio_is_jobs_over_workers():
    res = _run(_two_districts())
    assert res.indicators["ratio"].districts["a"].value == pytest.approx(1.2)  # 1,200 / 1,000


def test_ratio_at_the_top_of_the_band_is_balanced():
    res = _run(_two_districts())
    balance = res.layers["balance"].set_index("name")
    assert bool(balance.loc["a", "balanced"]) is True  # 1.2 in [0.8, 1.2], bounds included
    assert bool(balance.loc["b", "balanced"]) is False  # 0.5


def test_city_ratio_is_all_jobs_over_all_workers():
    res = _run(_two_districts())
    assert res.indicators["ratio"].city.value == pytest.approx(1700 / 2000)


def test_balanced_share_is_share_of_residents_in_balanced_districts():
    res = _run(_two_districts())
    # 1,000 of 3,000 residents live in the balanced district a
    assert res.indicators["balanced_share"].city.value == pytest.approx(1 / 3)


def test_balance_layer_carries_jobs_and_workers():
    res = _run(_two_districts())
    b = res.layers["balance"].set_index("name")
    assert (b.loc["b", "jobs"], b.loc["b", "workers"]) == (500.0, 1000.0)


def test_employment_rate_fallback_without_workers_field():
    # 2,000 residents x 0.5 = 1,000 workers; 1,200 jobs -> 1.2
    pop = _points([{"population": 2000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1200.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs), employment_rate=0.5)
    assert res.indicators["ratio"].districts["a"].value == pytest.approx(1.2)


def test_default_employment_rate_is_named_in_method():
    pop = _points([{"population": 2000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1100.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs))
    assert "default employment rate of 0.55" in res.method


def test_without_districts_balance_uses_the_city_ratio():
    pop = _points([{"population": 1000.0, "workers": 500.0}], [(500, 500)])
    jobs = _points([{"jobs": 500.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs, districts=False))
    assert res.indicators["balanced_share"].city.value == pytest.approx(1.0)  # ratio 1.0


def test_min_commute_by_hand_crossed_assignment():
    # workers at (0, 0) and (1 km, 0); jobs at (1 km, 100 m) and (0, 100 m): each worker
    # takes the job 100 m north of them, not the one listed in the same position.
    km = min_mean_commute_km(
        np.array([[0.0, 0.0], [1000.0, 0.0]]), np.array([1.0, 1.0]),
        np.array([[1000.0, 100.0], [0.0, 100.0]]), np.array([1.0, 1.0]),
    )
    assert km == pytest.approx(0.1)


def test_min_commute_scales_jobs_to_workers():
    # 300 workers at 0; 10 jobs 3 km away and 10 jobs 4 km away -> half go 3 km, half 4 km
    km = min_mean_commute_km(
        np.array([[0.0, 0.0]]), np.array([300.0]),
        np.array([[3000.0, 0.0], [0.0, 4000.0]]), np.array([10.0, 10.0]),
    )
    assert km == pytest.approx(3.5)


def test_min_commute_in_run_on_h3_cells():
    # two cells about 6 km apart; points sit at the cell centres (so the cell-centre
    # distance equals the point distance). Cell A: 100 workers, 50 jobs; cell B: 100
    # workers, 150 jobs. 50 of A's workers must go to B: mean = 50 * d / 200 = d / 4.
    a = h3.latlng_to_cell(30.63, 103.96, 8)
    b = h3.latlng_to_cell(30.63, 104.022, 8)
    (ax, ay), (bx, by) = _at_cell_centre(a), _at_cell_centre(b)
    d_km = math.hypot(bx - ax, by - ay) / 1000
    pop = _points([{"population": 100.0, "workers": 100.0}] * 2, [(ax, ay), (bx, by)])
    jobs = _points([{"jobs": 50.0}, {"jobs": 150.0}], [(ax, ay), (bx, by)])
    res = _run(_ctx(pop, jobs, districts=False))
    assert res.extra["min_mean_commute_km"] == pytest.approx(d_km / 4, rel=1e-6)


def test_transport_problem_is_coarsened_above_the_cell_limit():
    pop = _points([{"population": 100.0}] * 3, [(0, 0), (3000, 0), (6000, 0)])
    jobs = _points([{"jobs": 100.0}], [(0, 0)])
    res = _run(_ctx(pop, jobs, districts=False), max_transport_cells=2)
    assert res.extra["transport_h3_resolution"] < 8
    assert "coarser resolution" in res.method


def test_local_ratio_counts_cells_within_commute_radius():
    # cell A: 1,200 jobs and 1,000 workers; cell B, 10 km away: 1,000 workers.
    # With a 5 km radius A sees only itself: 1,200 / 1,000 = 1.2; B sees no job: 0.
    pop = _points([{"population": 1000.0, "workers": 1000.0}] * 2, [(0, 0), (10_000, 0)])
    jobs = _points([{"jobs": 1200.0}], [(0, 0)])
    res = _run(_ctx(pop, jobs, districts=False))
    cells = res.layers["local_ratio"].sort_values("jobs", ascending=False)
    assert cells["local_ratio"].tolist() == pytest.approx([1.2, 0.0])


def test_local_ratio_with_a_radius_covering_both_cells():
    # radius 20 km: both cells see 1,200 jobs and 2,000 workers -> 0.6
    pop = _points([{"population": 1000.0, "workers": 1000.0}] * 2, [(0, 0), (10_000, 0)])
    jobs = _points([{"jobs": 1200.0}], [(0, 0)])
    res = _run(_ctx(pop, jobs, districts=False), commute_radius_m=20_000)
    assert res.layers["local_ratio"]["local_ratio"].tolist() == pytest.approx([0.6, 0.6])


def test_actual_mean_commute_from_od_csv(tmp_path):
    a = h3.latlng_to_cell(30.63, 103.96, 8)
    b = h3.latlng_to_cell(30.63, 104.022, 8)
    (ax, ay), (bx, by) = _at_cell_centre(a), _at_cell_centre(b)
    d_km = math.hypot(bx - ax, by - ay) / 1000
    # 30 trips A -> B and 10 trips A -> A: mean = 30 * d / 40 = 0.75 d
    od = tmp_path / "od.csv"
    od.write_text(
        "origin_x,origin_y,dest_x,dest_y,count\n"
        f"{X0 + ax},{Y0 + ay},{X0 + bx},{Y0 + by},30\n"
        f"{X0 + ax},{Y0 + ay},{X0 + ax},{Y0 + ay},10\n"
    )
    pop = _points([{"population": 100.0, "workers": 100.0}], [(ax, ay)])
    jobs = _points([{"jobs": 100.0}], [(bx, by)])
    res = _run(_ctx(pop, jobs, districts=False), od=str(od))
    assert res.extra["actual_mean_commute_km"] == pytest.approx(0.75 * d_km, rel=1e-6)


def test_reversed_band_is_rejected():
    with pytest.raises(AnalysisError, match=r"jh\.yml: params\.band must be \[low, high\]"):
        jobs_housing.validate_params({"band": [1.2, 0.8]}, where="analyses/jh.yml")


def test_employment_rate_above_one_is_rejected():
    with pytest.raises(AnalysisError, match=r"params\.employment_rate must be a share"):
        jobs_housing.validate_params({"employment_rate": 55}, where="analyses/jh.yml")


def test_negative_commute_radius_is_rejected():
    with pytest.raises(AnalysisError, match=r"params\.commute_radius_m must be a positive"):
        jobs_housing.validate_params({"commute_radius_m": -5}, where="analyses/jh.yml")


def test_unknown_parameter_is_rejected():
    with pytest.raises(AnalysisError, match=r"unknown parameter 'radius_m'"):
        jobs_housing.validate_params({"radius_m": 5}, where="analyses/jh.yml")
