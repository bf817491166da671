"""grid.H3Memo: each point of a run is indexed once per resolution, with the cells
cells_at gives (h3's own latlng_to_cell is the independent reference)."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pyproj
import shapely

from urbanform import grid

UTM = pyproj.CRS(32648)


def _points(xy: np.ndarray, crs=UTM) -> gpd.GeoSeries:
    return gpd.GeoSeries(shapely.points(xy), crs=crs)


def _reference(points: gpd.GeoSeries, res: int) -> list[int]:
    """h3-py cell by cell, from the points projected to WGS 84."""
    ll = points.to_crs(4326)
    return [h3.str_to_int(h3.latlng_to_cell(p.y, p.x, res)) for p in ll]


def _counting(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = grid._cells_xy

    def spy(xy, crs, resolutions):
        calls.append(xy.shape[0] * len(resolutions))
        return real(xy, crs, resolutions)

    monkeypatch.setattr(grid, "_cells_xy", spy)
    return calls


def test_sets_that_share_points_index_each_point_once(monkeypatch):
    rng = np.random.default_rng(5)
    base = np.column_stack([rng.uniform(400_000, 420_000, 300),
                            rng.uniform(3_280_000, 3_300_000, 300)])
    a = _points(base[:200])
    b = _points(np.r_[base[100:300], base[150:160]])  # 100 shared, 100 new, 10 repeated
    calls = _counting(monkeypatch)
    memo = grid.H3Memo()
    got_a = memo.cells(a, (8, 9))
    assert calls == [200, 200]  # two resolutions, 200 points each
    got_b = memo.cells(b, (8, 9))
    assert calls[2:] == [100, 100]  # only the 100 new points
    got_a2 = memo.cells(a, (9,))
    assert calls[4:] == []  # nothing new
    for pts, got in ((a, got_a), (b, got_b)):
        for res in (8, 9):
            assert got[res].tolist() == _reference(pts, res)
    assert got_a2[9].tolist() == got_a[9].tolist()


def test_a_new_resolution_covers_points_of_earlier_sets(monkeypatch):
    rng = np.random.default_rng(6)
    xy = np.column_stack([rng.uniform(400_000, 420_000, 50),
                          rng.uniform(3_280_000, 3_300_000, 50)])
    memo = grid.H3Memo()
    memo.cells(_points(xy[:30]), (8,))
    calls = _counting(monkeypatch)
    later = _points(xy[20:])
    got = memo.cells(later, (7, 8))
    # resolution 7 is new: the 50 points seen so far (30 + 20 new) are indexed at it;
    # resolution 8 only for the 20 new points
    assert sorted(calls) == [20, 50]
    assert got[7].tolist() == _reference(later, 7)
    assert got[8].tolist() == _reference(later, 8)
    first = memo.cells(_points(xy[:30]), (7,))
    assert first[7].tolist() == _reference(_points(xy[:30]), 7)


def test_points_in_another_crs_are_not_mixed_up():
    memo = grid.H3Memo()
    utm = _points(np.array([[410_000.0, 3_290_000.0]]))
    wgs = utm.to_crs(4326)
    # the same numbers in another CRS are another place
    same_numbers = _points(np.array([[104.07, 30.57]]), crs=4326)
    got_utm = memo.cells(utm, (9,))[9]
    got_wgs = memo.cells(wgs, (9,))[9]
    got_other = memo.cells(same_numbers, (9,))[9]
    assert got_utm.tolist() == got_wgs.tolist() == _reference(utm, 9)
    assert got_other.tolist() == _reference(same_numbers, 9) != got_utm.tolist()


def test_memo_cells_without_memo_is_cells_at():
    pts = _points(np.array([[410_000.0, 3_290_000.0], [411_000.0, 3_291_000.0]]))
    assert grid.memo_cells(pts, (9,), None)[9].tolist() == _reference(pts, 9)
    assert grid.memo_cells(pts.iloc[:0], (9,), grid.H3Memo())[9].tolist() == []
