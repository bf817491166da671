"""Snapping many points in chunks (``snapping._CHUNK`` points per pass) gives the answer of
one pass, and each snap is the nearest point of the nearest edge (shapely, independently)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from urbanform.network import graph_from_lines, snap_points, snapping

CRS = "EPSG:32648"


@pytest.fixture
def graph():
    # a 5 x 5 grid of 100 m blocks with two diagonals: points snap to many edges
    lines = [shapely.LineString([(0, 100 * i), (500, 100 * i)]) for i in range(6)]
    lines += [shapely.LineString([(100 * i, 0), (100 * i, 500)]) for i in range(6)]
    lines += [shapely.LineString([(0, 0), (500, 500)]), shapely.LineString([(0, 500), (500, 0)])]
    return graph_from_lines(gpd.GeoDataFrame(geometry=lines, crs=CRS))


def _points(n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.uniform(-150.0, 650.0, size=(n, 2))  # some beyond max_snap_m of every edge


@pytest.mark.parametrize("threads", [1, 2])
def test_chunks_give_the_answer_of_one_pass(graph, monkeypatch, threads) -> None:
    xy = _points(400)
    monkeypatch.setattr(snapping, "_KD_THREADS", 1)
    whole = snap_points(graph, xy, max_snap_m=60.0)
    monkeypatch.setattr(snapping, "_CHUNK", 7)  # 58 passes, the last one short
    monkeypatch.setattr(snapping, "_KD_THREADS", threads)  # 2: chunks on two threads
    chunked = snap_points(graph, xy, max_snap_m=60.0)
    for name in ("edge", "offset_m", "snap_m"):
        assert np.array_equal(getattr(whole, name), getattr(chunked, name)), name


def test_chunked_snaps_are_the_nearest_points_of_the_nearest_edges(graph, monkeypatch) -> None:
    monkeypatch.setattr(snapping, "_CHUNK", 5)
    xy = _points(300)
    snapped = snap_points(graph, xy, max_snap_m=60.0)
    pts = shapely.points(xy)
    nearest = np.array([shapely.distance(graph.edge_geometry, p).min() for p in pts])
    far = nearest > 60.0
    assert far.any() and (~far).any()  # both kinds of point are in the sample
    assert np.all(snapped.edge[far] == -1) and np.all(np.isinf(snapped.snap_m[far]))
    assert np.allclose(snapped.snap_m[~far], nearest[~far], rtol=0, atol=1e-9)
    # the offset names a point of that edge at that distance from the point
    on = shapely.line_interpolate_point(graph.edge_geometry[snapped.edge[~far]],
                                        snapped.offset_m[~far])
    assert np.allclose(shapely.distance(on, pts[~far]), nearest[~far], rtol=0, atol=1e-9)


@pytest.mark.parametrize("max_snap_m", [60.0, 250.0])
def test_each_stage_of_the_search_finds_the_nearest_edge(graph, monkeypatch, max_snap_m) -> None:
    """Points settled by the 8 nearest piece midpoints, by the second stage's more, and by
    the exact search all get the nearest edge; at 250 m (pieces of 40 m, 100 m blocks,
    10 candidates in the second stage) some points need the second and the last stage."""
    stages = {"more": 0, "exact": 0}
    real_k, real_within = snapping._pick_nearest_k, snapping._pieces_within

    def count_k(seg, xy, ik, radius_m):
        if ik.shape[1] == snapping._K_MORE:
            stages["more"] += xy.shape[0]
        return real_k(seg, xy, ik, radius_m)

    def count_within(seg, xy, radius_m):
        stages["exact"] += xy.shape[0]
        return real_within(seg, xy, radius_m)

    monkeypatch.setattr(snapping, "_pick_nearest_k", count_k)
    monkeypatch.setattr(snapping, "_pieces_within", count_within)
    monkeypatch.setattr(snapping, "_K_MORE", 10)
    rng = np.random.default_rng(11)
    xy = rng.uniform(-300.0, 800.0, size=(600, 2))
    snapped = snap_points(graph, xy, max_snap_m=max_snap_m)
    nearest = np.array([shapely.distance(graph.edge_geometry, p).min()
                        for p in shapely.points(xy)])
    far = nearest > max_snap_m
    assert np.all(snapped.edge[far] == -1)
    assert np.allclose(snapped.snap_m[~far], nearest[~far], rtol=0, atol=1e-9)
    if max_snap_m > 100:
        assert stages["more"] > 0 and stages["exact"] > 0
