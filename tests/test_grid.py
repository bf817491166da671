"""H3 summaries: cells add up to district and city figures; keys are H3 strings."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from urbanform.grid import cells_of_points, coarsen, h3_summary, indicator_keys
from urbanform.results import indicator_values

X0, Y0 = 400_000.0, 3_390_000.0


def units_frame(
    xy: np.ndarray, pop: np.ndarray, covered: np.ndarray, district: list
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "district": district,
            "population": pop,
            "pop_share__num": pop * covered,
            "pop_share__den": pop,
        },
        geometry=shapely.points(xy),
        crs=32648,
    )


def test_cells_match_h3_py_one_point_at_a_time() -> None:
    rng = np.random.default_rng(1)
    xy = np.column_stack([X0 + rng.random(50) * 5000, Y0 + rng.random(50) * 5000])
    pts = gpd.GeoSeries(shapely.points(xy), crs=32648)
    ll = pts.to_crs(4326)
    expected = [h3.latlng_to_cell(p.y, p.x, 9) for p in ll]
    got = [h3.int_to_str(int(c)) for c in cells_of_points(pts, 9)]
    assert got == expected


def test_summary_values_and_keys() -> None:
    # two units in one cell (one covered), one far away (not covered)
    xy = np.array([[X0, Y0], [X0 + 1, Y0], [X0 + 20_000, Y0]])
    u = units_frame(xy, np.array([10.0, 30.0, 60.0]), np.array([1.0, 0.0, 0.0]), ["a", "a", "b"])
    cells = h3_summary(u, resolution=9)
    assert indicator_keys(u) == ["pop_share"]
    assert len(cells) == 2 and cells["hex_id"].str.len().eq(15).all()
    assert cells.crs.to_epsg() == 4326
    assert sorted(cells["pop_share"].tolist()) == [0.0, 0.25]  # 10 / 40 by hand
    assert cells["population"].sum() == 100
    assert all(h3.is_valid_cell(c) for c in cells["hex_id"])


def test_cell_polygon_contains_its_units() -> None:
    xy = np.array([[X0 + 123, Y0 + 456]])
    u = units_frame(xy, np.array([1.0]), np.array([1.0]), ["a"])
    cells = h3_summary(u, resolution=8)
    assert cells.geometry.iloc[0].contains(u.to_crs(4326).geometry.iloc[0])


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=60),
    seed=st.integers(min_value=0, max_value=10_000),
    res=st.sampled_from([7, 8, 9]),
)
def test_cell_sums_equal_district_and_city_sums(n: int, seed: int, res: int) -> None:
    rng = np.random.default_rng(seed)
    xy = np.column_stack([X0 + rng.random(n) * 8000, Y0 + rng.random(n) * 8000])
    pop = rng.integers(0, 500, n).astype(float)
    covered = rng.random(n)
    district = list(np.where(xy[:, 0] < X0 + 4000, "west", "east"))
    u = units_frame(xy, pop, covered, district)
    cells = h3_summary(u, resolution=res)
    ind = indicator_values(u, "pop_share")
    district_num = sum(v.numerator for v in ind.districts.values())
    district_den = sum(v.denominator for v in ind.districts.values())
    assert cells["pop_share__num"].sum() == pytest.approx(district_num)
    assert cells["pop_share__den"].sum() == pytest.approx(district_den)
    assert cells["pop_share__num"].sum() == pytest.approx(float((pop * covered).sum()))
    finite = cells["pop_share"].dropna()
    assert ((finite >= 0) & (finite <= 1)).all()


def test_input_order_does_not_change_cells() -> None:
    rng = np.random.default_rng(7)
    xy = np.column_stack([X0 + rng.random(40) * 3000, Y0 + rng.random(40) * 3000])
    u = units_frame(xy, rng.random(40) * 100, rng.random(40), ["a"] * 40)
    a = h3_summary(u, resolution=9)
    b = h3_summary(u.iloc[::-1], resolution=9)
    assert a["hex_id"].tolist() == b["hex_id"].tolist()
    assert np.allclose(a["pop_share"], b["pop_share"], equal_nan=True)


def test_coarsen_keeps_the_sums_of_the_children():
    # two units in one res-9 cell and one in another, under one res-5 parent
    lng, lat = 104.0665, 30.5728
    pts = gpd.GeoSeries(shapely.points([(lng, lat), (lng, lat), (lng + 0.01, lat)]), crs=4326)
    units = gpd.GeoDataFrame(
        {"population": [10.0, 5.0, 20.0], "k__num": [1.0, 0.0, 2.0], "k__den": [1.0, 1.0, 4.0]},
        geometry=pts,
    )
    coarse = coarsen(h3_summary(units, resolution=9), 5)
    parent = h3.cell_to_parent(h3.latlng_to_cell(lat, lng, 9), 5)
    assert coarse[["hex_id", "population", "k"]].values.tolist() == [[parent, 35.0, 0.5]]


def test_cells_in_chunks_on_threads_match_h3_py(monkeypatch: pytest.MonkeyPatch) -> None:
    # chunks of 7 points on 2 threads: each chunk's cells land at its points, in order
    import urbanform.grid as grid

    monkeypatch.setattr(grid, "_H3_CHUNK", 7)
    monkeypatch.setattr(grid, "H3_THREADS", 2)
    rng = np.random.default_rng(3)
    lat = 30.5 + rng.random(60) * 0.3
    lng = 103.9 + rng.random(60) * 0.3
    expected = [h3.latlng_to_cell(a, b, 8) for a, b in zip(lat, lng, strict=True)]
    got = [h3.int_to_str(int(c)) for c in grid.latlng_cells(lat, lng, 8)]
    assert got == expected
    assert grid.latlng_cells(lat[:0], lng[:0], 8).size == 0


def test_commute_cells_match_h3_py_one_point_at_a_time() -> None:
    # the jobs-housing cell table's cells (h3ronpy, as strings): h3-py's, point by point
    from urbanform.analyses.commute import cells_of

    rng = np.random.default_rng(4)
    xy = np.column_stack([X0 + rng.random(500) * 20_000, Y0 + rng.random(500) * 20_000])
    ll = gpd.GeoSeries(shapely.points(xy), crs=32648).to_crs(4326)
    got = cells_of(xy, crs="EPSG:32648", resolution=8)
    assert got.tolist() == [h3.latlng_to_cell(p.y, p.x, 8) for p in ll]
    assert all(type(c) is str for c in got)


def test_projected_lat_lng_on_threads_is_one_transformers_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pyproj

    import urbanform.grid as grid

    monkeypatch.setattr(grid, "_H3_CHUNK", 10)
    monkeypatch.setattr(grid, "H3_THREADS", 2)
    rng = np.random.default_rng(5)
    xy = np.column_stack([X0 + rng.random(101) * 9000, Y0 + rng.random(101) * 9000])
    lng, lat = pyproj.Transformer.from_crs(32648, 4326, always_xy=True).transform(*xy.T)
    got_lat, got_lng = grid.projected_lat_lng(xy, pyproj.CRS(32648))
    assert np.array_equal(got_lat, lat) and np.array_equal(got_lng, lng)
    one = grid.projected_lat_lng(xy[:1], pyproj.CRS(32648))
    assert np.array_equal(one[0], lat[:1]) and np.array_equal(one[1], lng[:1])
