"""Mutation-testing tests for the walk network engine (issue 14 item 6, helper netB).

Each test pins one behaviour of urbanform/network/{graph,snapping,distances,catchment}.py
on a tiny hand-made network; expected values come from hand arithmetic (in comments) or an
independent method (networkx, shapely), never from the code under test.
"""

from __future__ import annotations

import re

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely import LineString, Point
from shapely.ops import substring

from urbanform.errors import CRSError, NetworkError
from urbanform.network import (
    Snapped,
    component_report,
    distance_from_sources,
    graph_from_arrays,
    island_warning,
    merge_intervals,
    near_street,
    nearest_distance,
    reached_edges,
    snap_points,
    substrings,
)
from urbanform.network.graph import label_components
from urbanform.network.snapping import main_edges

CRS = "EPSG:32648"


def snapped(edge, offset, snap, island=None) -> Snapped:
    """A hand-made Snapped (edge, offset along it, snap distance per point)."""
    return Snapped(
        np.asarray(edge, dtype=np.int64),
        np.asarray(offset, dtype=float),
        np.asarray(snap, dtype=float),
        None if island is None else np.asarray(island, dtype=bool),
    )


# --- graph.py -----------------------------------------------------------------------


def test_graph_counts_nodes_and_edges():
    # 4 nodes, 2 edges; a node with no edge still counts
    g = graph_from_arrays([[0, 0], [10, 0], [20, 0], [99, 99]], [0, 1], [1, 2], crs=CRS)
    assert (g.n_nodes, g.n_edges) == (4, 2)


def test_csgraph_keeps_the_shortest_parallel_edge_and_drops_self_loops():
    # nodes 0 (0,0), 1 (100,0), 2 (100,50). Edge 0: 1 -> 0 detour (100,0)-(100,40)-(0,40)-(0,0)
    # = 40 + 100 + 40 = 180 m; edge 1: 0 -> 1 straight 100 m; edge 2: 1 -> 2, 50 m;
    # edge 3: a 30 m self-loop at 2 (square of 10 m sides minus one side: 10 + 10 + 14.14 m).
    geoms = [
        LineString([(100, 0), (100, 40), (0, 40), (0, 0)]),
        LineString([(0, 0), (100, 0)]),
        LineString([(100, 0), (100, 50)]),
        LineString([(100, 50), (110, 50), (110, 60), (100, 50)]),
    ]
    g = graph_from_arrays([[0, 0], [100, 0], [100, 50]], [1, 0, 1, 2], [0, 1, 2, 2], crs=CRS,
                          edge_geometry=np.array(geoms, dtype=object))
    np.testing.assert_allclose(g.edge_length_m[:3], [180.0, 100.0, 50.0])
    want = [[0, 100, 0], [100, 0, 50], [0, 50, 0]]
    np.testing.assert_array_equal(g.csgraph().toarray(), want)
    assert g.csgraph().nnz == 4  # no stored self-loop, one entry per direction
    assert g.csgraph() is g.csgraph()  # built once


def test_csgraph_keeps_the_shortest_of_parallel_edges_listed_either_way():
    # 5 nodes on a line, edges 0-1 (10 m), then parallel 3-4 given as 4 -> 3 straight (10 m)
    # and as 3 -> 4 via a 30 m detour; also 1-2, 2-3 straight (10 m each)
    geoms = [
        LineString([(0, 0), (10, 0)]),
        LineString([(40, 0), (30, 0)]),
        LineString([(30, 0), (30, 10), (40, 10), (40, 0)]),
        LineString([(10, 0), (20, 0)]),
        LineString([(20, 0), (30, 0)]),
    ]
    xy = [[0, 0], [10, 0], [20, 0], [30, 0], [40, 0]]
    g = graph_from_arrays(xy, [0, 4, 3, 1, 2], [1, 3, 4, 2, 3], crs=CRS,
                          edge_geometry=np.array(geoms, dtype=object))
    dense = g.csgraph().toarray()
    want = np.zeros((5, 5))
    for a in range(4):
        want[a, a + 1] = want[a + 1, a] = 10.0
    np.testing.assert_array_equal(dense, want)


def morton_key(ix: int, iy: int) -> int:
    """Bit-interleaved Z-order key, x in the even bits, y in the odd bits (bit by bit)."""
    key = 0
    for bit in range(16):
        key |= ((ix >> bit) & 1) << (2 * bit)
        key |= ((iy >> bit) & 1) << (2 * bit + 1)
    return key


def test_search_csgraph_numbers_nodes_along_the_z_order_curve():
    # a 4 x 4 lattice with 1 m spacing, offset far from 0, nodes listed in a scrambled
    # order: cell coordinates scale to 0, 21845, 43690, 65535 (65535 / 3 per metre).
    rng = np.random.default_rng(3)
    cells = [(ix, iy) for iy in range(4) for ix in range(4)]
    perm = rng.permutation(16)
    cells = [cells[i] for i in perm]
    xy = [[700_000.0 + ix, 3_000_000.0 + iy] for ix, iy in cells]
    u = list(range(15))
    v = list(range(1, 16))
    g = graph_from_arrays(xy, u, v, crs=CRS)
    rank, mat = g.search_csgraph()
    keys = [morton_key(ix * 21845, iy * 21845) for ix, iy in cells]
    want = np.empty(16, dtype=int)
    want[np.argsort(keys)] = np.arange(16)
    assert rank.tolist() == want.tolist()
    np.testing.assert_array_equal(mat.toarray()[np.ix_(rank, rank)], g.csgraph().toarray())
    assert g.search_csgraph() is g.search_csgraph()


def test_search_csgraph_on_a_wide_flat_lattice_scales_by_the_longer_side():
    # 8 nodes on a 300 m x 50 m lattice (x = 0, 100, 200, 300; y = 0, 50): the span is the
    # x extent, 300 m, so scale = 65535 / 300; x cells 0, 21845, 43690, 65535, y cells 0, 10922
    cells = [(x, y) for y in (0.0, 50.0) for x in (300.0, 0.0, 200.0, 100.0)]
    g = graph_from_arrays(cells, list(range(7)), list(range(1, 8)), crs=CRS)
    rank, _ = g.search_csgraph()
    scale = 65535.0 / 300.0
    keys = [morton_key(int(x * scale), int(y * scale)) for x, y in cells]
    want = np.empty(8, dtype=int)
    want[np.argsort(keys)] = np.arange(8)
    assert rank.tolist() == want.tolist()


def test_edge_tree_holds_the_edge_geometries():
    g = graph_from_arrays([[0, 0], [100, 0], [100, 100]], [0, 1], [1, 2], crs=CRS)
    tree = g.edge_tree()
    assert tree is g.edge_tree()
    # the point (90, 60) is nearest to edge 1 (x = 100), 10 m away
    assert tree.query_nearest(Point(90, 60)).tolist() == [1]


def test_edges_gdf_lists_edges_with_lengths_and_components():
    # edges 0-1 (100 m) and 1-2 (50 m) form the big piece; 3-4 (5 m) is component 1
    xy = [[0, 0], [100, 0], [100, 50], [300, 0], [305, 0]]
    g = graph_from_arrays(xy, [0, 3, 1], [1, 4, 2], crs=CRS)
    gdf = g.edges_gdf()
    assert isinstance(gdf, gpd.GeoDataFrame)
    assert list(gdf.columns) == ["u", "v", "length_m", "component", "geometry"]
    assert gdf["u"].tolist() == [0, 3, 1]
    assert gdf["v"].tolist() == [1, 4, 2]
    assert gdf["length_m"].tolist() == [100.0, 5.0, 50.0]
    assert gdf["component"].tolist() == [0, 1, 0]
    assert gdf.crs == pyproj.CRS(CRS)
    assert gdf.geometry.crs == pyproj.CRS(CRS)
    assert gdf.geometry.iloc[1].equals(LineString([(300, 0), (305, 0)]))


def test_graph_from_arrays_refuses_an_edge_beyond_the_last_node():
    # text from urbanform/network/graph.py (graph_from_arrays); 3 nodes -> 0..2
    with pytest.raises(NetworkError) as err:
        graph_from_arrays([[0, 0], [1, 0], [2, 0]], [0, 1], [1, 3], crs=CRS)
    assert str(err.value) == "walk graph: an edge refers to a node outside 0..2"
    with pytest.raises(NetworkError, match=re.escape("outside 0..2")):
        graph_from_arrays([[0, 0], [1, 0], [2, 0]], [0, 3], [1, 2], crs=CRS)


def test_graph_from_arrays_refuses_a_negative_node():
    for u, v in (([-1], [1]), ([0], [-1])):
        with pytest.raises(NetworkError, match=re.escape("outside 0..1")):
            graph_from_arrays([[0, 0], [1, 0]], u, v, crs=CRS)


def test_graph_from_arrays_accepts_the_last_and_first_node():
    g = graph_from_arrays([[0, 0], [3, 4]], [1], [0], crs=CRS)
    assert g.edge_length_m.tolist() == [5.0]  # 3-4-5 triangle


def test_graph_from_arrays_without_edges_raises_the_documented_error():
    # docs/errors.md: "Error: walk graph: no edge given; give at least one street segment"
    with pytest.raises(NetworkError) as err:
        graph_from_arrays([[0, 0]], [], [], crs=CRS)
    assert str(err.value) == "walk graph: no edge given; give at least one street segment"


def test_graph_from_arrays_draws_straight_edges_and_reads_the_crs():
    g = graph_from_arrays([[0, 0], [30, 40]], [0], [1], crs=CRS)
    assert g.edge_geometry[0].equals(LineString([(0, 0), (30, 40)]))
    assert g.edge_length_m.dtype == np.float64
    assert g.crs == pyproj.CRS(CRS)
    assert g.node_xy.dtype == np.float64 and g.node_xy.shape == (2, 2)


def test_label_components_largest_first_ties_by_first_appearance():
    # pieces: {0, 1} (2 nodes), {2, 3, 4} (3 nodes), {5, 6} (2 nodes), {7} alone
    u = np.array([0, 2, 3, 5])
    v = np.array([1, 3, 4, 6])
    assert label_components(u, v, 8).tolist() == [1, 1, 0, 0, 0, 2, 2, 3]


def test_label_components_of_no_node_is_empty():
    got = label_components(np.zeros(0, np.int64), np.zeros(0, np.int64), 0)
    assert got.shape == (0,) and got.dtype == np.int64


# --- snapping.py: Snapped -----------------------------------------------------------


def test_snapped_counts_and_masks():
    s = snapped([2, -1, 0, -1], [1.0, 0.0, 3.0, 0.0], [0.5, np.inf, 2.0, np.inf])
    assert len(s) == 4
    assert s.ok.tolist() == [True, False, True, False]
    assert s.n_unsnapped == 2
    assert s.n_island == 0 and s.island is None
    s2 = snapped([0, 1, 2], [0, 0, 0], [1, 1, 1], island=[True, False, True])
    assert s2.n_island == 2


def test_snapped_subset_by_mask_and_by_index_keeps_islands():
    s = snapped([5, 6, 7], [1.0, 2.0, 3.0], [0.1, 0.2, 0.3], island=[False, True, False])
    a = s.subset(np.array([False, True, True]))
    assert (a.edge.tolist(), a.offset_m.tolist(), a.snap_m.tolist(), a.island.tolist()) == (
        [6, 7], [2.0, 3.0], [0.2, 0.3], [True, False]
    )
    b = snapped([5, 6, 7], [1.0, 2.0, 3.0], [0.1, 0.2, 0.3]).subset(np.array([2, 0]))
    assert (b.edge.tolist(), b.offset_m.tolist(), b.snap_m.tolist(), b.island) == (
        [7, 5], [3.0, 1.0], [0.3, 0.1], None
    )


def test_snapped_concat_without_islands_has_none_and_with_islands_is_boolean():
    a = snapped([0], [1.0], [2.0])
    b = snapped([1, -1], [3.0, 0.0], [4.0, np.inf])
    both = Snapped.concat([a, b])
    assert both.island is None and both.n_island == 0
    assert (both.edge.tolist(), both.offset_m.tolist(), both.snap_m.tolist()) == (
        [0, 1, -1], [1.0, 3.0, 0.0], [2.0, 4.0, np.inf]
    )
    c = snapped([2], [0.0], [1.0], island=[True])
    mixed = Snapped.concat([a, c, b])
    assert mixed.island.dtype == bool
    assert mixed.island.tolist() == [False, True, False, False]
    assert mixed.n_island == 1


# --- snapping.py: points in, errors ---------------------------------------------------


@pytest.fixture
def bar():
    """One 100 m street from (0, 0) to (100, 0)."""
    return graph_from_arrays([[0, 0], [100, 0]], [0], [1], crs=CRS)


def test_snap_accepts_a_geodataframe_and_a_geoseries_without_crs(bar):
    # (30, 4) lies 4 m above the street, 30 m from its u end
    pts = [Point(30, 4)]
    for given in (gpd.GeoDataFrame(geometry=pts, crs=CRS), gpd.GeoSeries(pts),
                  gpd.GeoSeries(pts, crs=pyproj.CRS(32648))):
        s = snap_points(bar, given)
        assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == ([0], [30.0], [4.0])


def test_snap_refuses_points_in_another_crs_with_the_full_message(bar):
    pts = gpd.GeoSeries([Point(30, 4)], crs="EPSG:4326")
    want = ("points are in EPSG:4326 but the walk graph is in EPSG:32648; "
            "reproject the points with .to_crs() first")
    with pytest.raises(CRSError) as err:
        snap_points(bar, pts)
    assert str(err.value) == want
    with pytest.raises(CRSError):
        near_street(bar, pts)


def test_snap_refuses_non_points_counting_them(bar):
    geoms = [Point(1, 1), shapely.box(0, 0, 1, 1), LineString([(0, 0), (1, 1)]), None]
    with pytest.raises(NetworkError) as err:
        snap_points(bar, gpd.GeoSeries(geoms, crs=CRS))
    assert str(err.value) == (
        "snap_points: 2 geometries are not points; "
        "pass points (polygon centroids or boundary points) to snap"
    )


def test_missing_and_empty_points_stay_unsnapped(bar):
    geoms = [None, Point(), Point(50, 2)]
    s = snap_points(bar, gpd.GeoSeries(geoms, crs=CRS))
    assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == (
        [-1, -1, 0], [0.0, 0.0, 50.0], [np.inf, np.inf, 2.0]
    )
    assert near_street(bar, gpd.GeoSeries(geoms, crs=CRS)).tolist() == [False, False, True]


def test_nan_coordinates_stay_unsnapped(bar):
    pts = np.array([[np.nan, 1.0], [10.0, np.nan], [10.0, 1.0]])
    s = snap_points(bar, pts)
    assert s.edge.tolist() == [-1, -1, 0]
    assert near_street(bar, pts).tolist() == [False, False, True]
    allnan = np.full((2, 2), np.nan)
    assert snap_points(bar, allnan).edge.tolist() == [-1, -1]
    assert near_street(bar, allnan).tolist() == [False, False]


@pytest.mark.parametrize("shape", [(3,), (2, 3), (1, 2, 2)])
def test_snap_refuses_arrays_that_are_not_n_by_2(bar, shape):
    with pytest.raises(NetworkError) as err:
        snap_points(bar, np.zeros(shape))
    assert str(err.value) == f"snap_points: expected an (n, 2) array of x, y; got shape {shape}"


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_negative_or_nan_max_snap_is_refused(bar, bad):
    with pytest.raises(NetworkError) as err:
        snap_points(bar, np.array([[1.0, 1.0]]), max_snap_m=bad)
    assert str(err.value) == f"snap_points: max_snap_m must be >= 0; got {bad}"
    with pytest.raises(NetworkError) as err:
        near_street(bar, np.array([[1.0, 1.0]]), max_snap_m=bad)
    assert str(err.value) == f"near_street: max_snap_m must be >= 0; got {bad}"


# --- snapping.py: where points snap ---------------------------------------------------


def test_point_exactly_at_max_snap_is_snapped_and_zero_reach_takes_points_on_the_street(bar):
    # (30, 4): 4 m from the street; (60, 0) lies on it
    s = snap_points(bar, np.array([[30.0, 4.0], [60.0, 0.0]]), max_snap_m=4.0)
    assert (s.edge.tolist(), s.snap_m.tolist()) == ([0, 0], [4.0, 0.0])
    z = snap_points(bar, np.array([[30.0, 4.0], [60.0, 0.0]]), max_snap_m=0.0)
    assert (z.edge.tolist(), z.offset_m.tolist(), z.snap_m.tolist()) == (
        [-1, 0], [0.0, 60.0], [np.inf, 0.0]
    )
    assert near_street(bar, np.array([[30.0, 4.0], [30.0, 4.5]]), max_snap_m=4.0).tolist() == [
        True, False
    ]


def test_points_beyond_either_end_snap_to_the_end(bar):
    # (-30, 40): 50 m from (0, 0) (3-4-5); (130, -40): 50 m from (100, 0)
    s = snap_points(bar, np.array([[-30.0, 40.0], [130.0, -40.0]]))
    assert s.offset_m.tolist() == [0.0, 100.0]
    assert s.snap_m.tolist() == [50.0, 50.0]


def test_offset_is_measured_along_a_bent_edge():
    # edge 0 (from u): (0, 0) - (0, 50) - (200, 50) - (200, 0), 50 + 200 + 50 = 300 m;
    # edge 1: (500, 0) - (600, 0). The point (120, 53) snaps to (120, 50): 50 + 120 = 170 m.
    # The point (203, 10) snaps to (200, 10) on the last segment: 50 + 200 + 40 = 290 m.
    geoms = [LineString([(0, 0), (0, 50), (200, 50), (200, 0)]), LineString([(500, 0), (600, 0)])]
    g = graph_from_arrays([[0, 0], [200, 0], [500, 0], [600, 0]], [0, 2], [1, 3], crs=CRS,
                          edge_geometry=np.array(geoms, dtype=object))
    s = snap_points(g, np.array([[120.0, 53.0], [203.0, 10.0], [590.0, -6.0]]))
    assert s.edge.tolist() == [0, 0, 1]
    assert s.offset_m.tolist() == [170.0, 290.0, 90.0]
    assert s.snap_m.tolist() == [3.0, 3.0, 6.0]


def test_offset_along_a_second_bent_edge_restarts_at_its_own_u_end():
    # edge 0: (0, 0) - (100, 0); edge 1 (from u): (0, 300) - (0, 200) - (80, 200),
    # 100 + 80 m. The point (60, 204) snaps to (60, 200): 100 + 60 = 160 m along edge 1.
    geoms = [LineString([(0, 0), (100, 0)]), LineString([(0, 300), (0, 200), (80, 200)])]
    g = graph_from_arrays([[0, 0], [100, 0], [0, 300], [80, 200]], [0, 2], [1, 3], crs=CRS,
                          edge_geometry=np.array(geoms, dtype=object))
    s = snap_points(g, np.array([[60.0, 204.0], [3.0, 250.0]]))
    assert s.edge.tolist() == [1, 1]
    assert s.offset_m.tolist() == [160.0, 50.0]


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_a_point_halfway_between_two_streets_takes_the_lower_edge_index(order):
    # streets y = 0 and y = 10 (200 m long); the point (100, 5) is 5 m from each
    lines = [LineString([(0, 0), (200, 0)]), LineString([(0, 10), (200, 10)])]
    lines = [lines[i] for i in order]
    xy = [list(lines[0].coords[0]), list(lines[0].coords[1]),
          list(lines[1].coords[0]), list(lines[1].coords[1])]
    g = graph_from_arrays(xy, [0, 2], [1, 3], crs=CRS, edge_geometry=np.array(lines, object))
    s = snap_points(g, np.array([[100.0, 5.0]]))
    assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == ([0], [100.0], [5.0])


def test_a_point_equally_near_three_segments_of_one_edge_takes_the_least_offset():
    # a U: (0, 0) - (0, 10) - (20, 10) - (20, 0); (10, 0) is 10 m from each of its three
    # segments, at offsets 0 (0, 0), 20 (10, 10) and 40 (20, 0): the least offset wins
    u_edge = LineString([(0, 0), (0, 10), (20, 10), (20, 0)])
    g = graph_from_arrays([[0, 0], [20, 0]], [0], [1], crs=CRS,
                          edge_geometry=np.array([u_edge], object))
    s = snap_points(g, np.array([[10.0, 0.0]]))
    assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == ([0], [0.0], [10.0])


def crowded(main_lines, tiny_at, tiny_len=0.5):
    """A graph of ``main_lines`` then tiny horizontal edges starting at ``tiny_at`` points.

    Many tiny edges near a point fill its 8 nearest piece midpoints, which sends the point
    to the exact fallback search of snapping.
    """
    lines = list(main_lines) + [LineString([(x, y), (x + tiny_len, y)]) for x, y in tiny_at]
    xy, u, v = [], [], []
    for line in lines:
        (a, b) = line.coords[0], line.coords[-1]
        u.append(len(xy))
        xy.append(list(a))
        v.append(len(xy))
        xy.append(list(b))
    return graph_from_arrays(xy, u, v, crs=CRS, edge_geometry=np.array(lines, object))


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_fallback_search_breaks_ties_by_the_lower_edge_index(order):
    # as above, (100, 5) is 5 m from both long streets; 10 tiny edges 10-20 m east of it
    # fill the nearest midpoints (the 8th lies within 5 + 20 m), so the fallback decides
    lines = [LineString([(0, 0), (200, 0)]), LineString([(0, 10), (200, 10)])]
    g = crowded([lines[i] for i in order], [(110.0 + i, 5.0) for i in range(10)])
    s = snap_points(g, np.array([[100.0, 5.0]]))
    assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == ([0], [100.0], [5.0])
    assert near_street(g, np.array([[100.0, 5.0]]), max_snap_m=5.0).tolist() == [True]


def test_fallback_search_breaks_ties_on_one_edge_by_the_least_offset():
    # the U of the test above, crowded by tiny edges 12-21 m right of (10, 0)
    u_edge = LineString([(0, 0), (0, 10), (20, 10), (20, 0)])
    g = crowded([u_edge], [(30.0 + i, -2.0) for i in range(10)])
    s = snap_points(g, np.array([[10.0, 0.0]]))
    assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == ([0], [0.0], [10.0])


def test_fallback_search_keeps_a_street_exactly_at_max_snap_and_drops_one_beyond():
    # tiny vertical edges at x = 10, 10.5, ..., 14 around the x axis: from (0, 0) the nearest
    # is exactly 10 m away (at (10, 0)); from (-1, 0) it is 11 m. max_snap_m = 10.
    lines = [LineString([(10 + 0.5 * i, -0.25), (10 + 0.5 * i, 0.25)]) for i in range(9)]
    g = crowded(lines, [])
    s = snap_points(g, np.array([[0.0, 0.0], [-1.0, 0.0]]), max_snap_m=10.0)
    assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == (
        [0, -1], [0.25, 0.0], [10.0, np.inf]
    )
    assert near_street(g, np.array([[0.0, 0.0], [-1.0, 0.0]]), max_snap_m=10.0).tolist() == [
        True, False
    ]


def test_fallback_and_quick_points_mixed_keep_their_own_answers():
    # point A (100, 5) needs the fallback (crowded), point B (100, 300) does not: it snaps
    # to a street at y = 310 (10 m), and an unsnappable point C (900, 900) stays out
    lines = [LineString([(0, 0), (200, 0)]), LineString([(0, 310), (200, 310)])]
    g = crowded(lines, [(110.0 + i, 5.0) for i in range(10)])
    s = snap_points(g, np.array([[900.0, 900.0], [100.0, 300.0], [100.0, 5.0]]))
    assert s.edge.tolist() == [-1, 1, 0]
    assert s.snap_m.tolist() == [np.inf, 10.0, 5.0]
    assert s.offset_m.tolist() == [0.0, 100.0, 100.0]


def test_snap_logs_how_many_points_are_beyond_reach(bar, caplog):
    with caplog.at_level("INFO", logger="urbanform.network.snapping"):
        snap_points(bar, np.array([[50.0, 500.0], [50.0, 1.0], [50.0, -300.0]]), max_snap_m=100)
    assert "snap: 2 of 3 points beyond 100 m" in caplog.messages
    caplog.clear()
    with caplog.at_level("INFO", logger="urbanform.network.snapping"):
        snap_points(bar, np.array([[50.0, 1.0]]), max_snap_m=100)
    assert caplog.messages == []


def test_snap_equals_shapely_on_long_bent_edges():
    # independent check: shapely's distance and project on a few long multi-vertex edges
    rng = np.random.default_rng(7)
    lines = []
    for _ in range(4):
        pts = np.cumsum(rng.uniform(-90, 90, (5, 2)), axis=0) + rng.uniform(0, 300, 2)
        lines.append(LineString(pts))
    g = crowded(lines, [])
    pts = rng.uniform(-150, 450, (300, 2))
    s = snap_points(g, pts, max_snap_m=60)
    for i, p in enumerate(pts):
        d = [line.distance(Point(p)) for line in lines]
        best = min(d)
        if best > 60:
            assert s.edge[i] == -1
            continue
        assert s.snap_m[i] == pytest.approx(best, abs=1e-9)
        e = int(s.edge[i])
        assert d[e] == pytest.approx(best, abs=1e-9)
        assert s.offset_m[i] == pytest.approx(lines[e].project(Point(p)), abs=1e-6)
    assert near_street(g, pts, max_snap_m=60).tolist() == s.ok.tolist()


# --- snapping.py: small pieces (islands) ---------------------------------------------


def island_graph(main_m: float = 750.0, small_m: float = 250.0):
    """Main street (0, 0)-(main_m, 0) and a separate piece (0, 100)-(small_m, 100)."""
    return graph_from_arrays([[0, 0], [main_m, 0], [0, 100], [small_m, 100]], [0, 2], [1, 3],
                             crs=CRS)


def test_main_edges_keeps_a_piece_holding_exactly_the_share():
    # 750 + 250 = 1000 m; the small piece holds 250 / 1000 = 0.25 of the length
    g = island_graph()
    assert main_edges(g, 0.25) is None
    assert main_edges(g, 0.2500001).tolist() == [0]
    assert main_edges(g, 0.0) is None
    assert main_edges(g, -1.0) is None


def test_main_edges_sums_a_piece_over_its_edges():
    # piece A: two 30 m edges (60 m), piece B: one 50 m edge; total 110 m. Share 0.5 =
    # 55 m: A (60 m) is kept although each of its edges (30 m) is shorter than B (50 m)
    xy = [[0, 0], [30, 0], [60, 0], [0, 100], [50, 100]]
    g = graph_from_arrays(xy, [3, 0, 1], [4, 1, 2], crs=CRS)
    assert main_edges(g, 0.5).tolist() == [1, 2]


def test_point_nearer_the_island_is_marked_and_snapped_to_the_main_street():
    # (100, 90): 10 m from the small piece (y = 100), 90 m from the main street (y = 0)
    # (100, 50): 50 m from each: not nearer the island, not marked
    # (600, 30): 30 m from the main street, 350 m from the small piece's end (250, 100)
    g = island_graph(1000.0, 250.0)  # share 0.2
    pts = np.array([[100.0, 90.0], [100.0, 50.0], [600.0, 30.0], [5000.0, 0.0]])
    s = snap_points(g, pts, max_snap_m=100, min_piece_share=0.21)
    assert s.edge.tolist() == [0, 0, 0, -1]
    assert s.snap_m.tolist() == [90.0, 50.0, 30.0, np.inf]
    assert s.island.tolist() == [True, False, False, False]
    plain = snap_points(g, pts, max_snap_m=100)
    assert plain.island is None and plain.edge.tolist() == [1, 0, 0, -1]
    near = near_street(g, np.array([[100.0, 150.0], [100.0, 90.0]]), max_snap_m=60,
                       min_piece_share=0.21)
    assert near.tolist() == [False, False]  # only the skipped piece lies within 60 m
    assert near_street(g, np.array([[100.0, 150.0]]), max_snap_m=60).tolist() == [True]


def test_island_warning_counts_points_and_weight():
    # text from urbanform/network/snapping.py (island_warning), shown as a run warning
    s = snapped([0, 0, 0], [0, 0, 0], [1, 1, 1], island=[True, False, True])
    got = island_warning(s, np.array([1200.4, 7.0, 300.0]), "population units", "residents")
    assert got == [
        "2 population units (1,500 residents) lie nearest to a small piece of street network "
        "cut off from the rest (under min_piece_share of its length) and were snapped to the "
        "main network instead"
    ]
    assert island_warning(snapped([0], [0], [1]), np.ones(1), "x", "y") == []
    assert island_warning(snapped([0], [0], [1], island=[False]), np.ones(1), "x", "y") == []


# --- distances.py -------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-5, -0.5, float("nan")])
def test_negative_or_nan_cutoff_is_refused_with_its_message(bar, bad):
    s = snapped([0], [10.0], [1.0])
    want = f"cutoff_m must be a distance >= 0 in metres; got {bad!r}"
    for call in (
        lambda: distance_from_sources(bar, s, cutoff_m=bad),
        lambda: nearest_distance(bar, s, s, cutoff_m=bad),
        lambda: reached_edges(bar, s, cutoff_m=bad),
    ):
        with pytest.raises(NetworkError) as err:
            call()
        assert str(err.value) == want


@pytest.fixture
def path3():
    """Nodes 0 (0, 0), 1 (100, 0), 2 (100, 50), 3 (300, 50): edges 0-1, 1-2, 2-3."""
    return graph_from_arrays([[0, 0], [100, 0], [100, 50], [300, 50]], [0, 1, 2], [1, 2, 3],
                             crs=CRS)


def test_distance_from_sources_adds_snap_offset_and_network(path3):
    # source on edge 0 at offset 30, snap 4: node 0: 4 + 30 = 34; node 1: 4 + 70 = 74;
    # node 2: 74 + 50 = 124; node 3: 124 + 200 = 324
    s = snapped([0], [30.0], [4.0])
    got = distance_from_sources(path3, s, cutoff_m=1000)
    assert got.tolist() == [34.0, 74.0, 124.0, 324.0]
    # cutoff 124: node 2 exactly at the cutoff is kept, node 3 is not
    assert distance_from_sources(path3, s, cutoff_m=124).tolist() == [34.0, 74.0, 124.0, np.inf]


def test_distance_from_sources_takes_the_nearest_of_several_sources(path3):
    # A on edge 0 at 30 (snap 4): 34, 74, 124, 324. B on edge 2 at 150 (snap 1): node 2
    # 1 + 150 = 151, node 3 1 + 50 = 51, node 1 151 + 50 = 201. Unsnapped C ignored.
    s = snapped([0, 2, -1], [30.0, 150.0, 0.0], [4.0, 1.0, np.inf])
    assert distance_from_sources(path3, s, cutoff_m=1000).tolist() == [34.0, 74.0, 124.0, 51.0]


def test_two_sources_entering_one_node_keep_the_cheaper(path3):
    # both on edge 1 (50 m): A at 10 (snap 0) enters node 1 at 10, node 2 at 40;
    # B at 45 (snap 0) enters node 1 at 45, node 2 at 5 -> node 1: 10, node 2: 5
    s = snapped([1, 1], [10.0, 45.0], [0.0, 0.0])
    got = distance_from_sources(path3, s, cutoff_m=1000)
    assert got.tolist() == [110.0, 10.0, 5.0, 205.0]


def test_source_extra_cost_scalar_and_per_source(path3):
    # A on edge 0 at 30 (snap 4), B at node 3's end of edge 2 (offset 200, snap 0)
    s = snapped([0, 2], [30.0, 200.0], [4.0, 0.0])
    got = distance_from_sources(path3, s, cutoff_m=1000, source_extra_m=10.0)
    # A: 44, 84, 134, 334; B: node 3 10, node 2 210 -> min
    assert got.tolist() == [44.0, 84.0, 134.0, 10.0]
    got = distance_from_sources(path3, s, cutoff_m=1000, source_extra_m=np.array([0.0, 500.0]))
    # A: 34, 74, 124, 324; B: node 3 500 -> 324 wins
    assert got.tolist() == [34.0, 74.0, 124.0, 324.0]
    got = distance_from_sources(path3, s, cutoff_m=1000, source_extra_m=np.array([np.inf, 0.0]))
    # A dropped: B only: node 3 0, node 2 200, node 1 250, node 0 350
    assert got.tolist() == [350.0, 250.0, 200.0, 0.0]


def test_no_source_within_the_cutoff_reaches_nothing(path3):
    assert distance_from_sources(path3, snapped([-1], [0.0], [np.inf]), cutoff_m=100).tolist() == (
        [np.inf] * 4
    )
    # snap 150 > cutoff 100: no node can be reached
    far = snapped([0], [50.0], [150.0])
    assert distance_from_sources(path3, far, cutoff_m=100).tolist() == [np.inf] * 4
    # a source entering node 0 exactly at the cutoff (snap 70 + offset 30 = 100) links it
    edge = snapped([0], [30.0], [70.0])
    assert distance_from_sources(path3, edge, cutoff_m=100).tolist() == [100.0] + [np.inf] * 3


def test_distance_from_sources_equals_networkx_on_a_small_ring():
    # independent: networkx Dijkstra with the source inserted as a node on its edge
    xy = [[0, 0], [100, 0], [100, 100], [0, 100], [50, 170], [400, 400], [450, 400]]
    u, v = [0, 1, 2, 3, 2, 5], [1, 2, 3, 0, 4, 6]
    g = graph_from_arrays(xy, u, v, crs=CRS)
    s = snapped([1, 4], [25.0, 10.0], [3.0, 2.0])
    got = distance_from_sources(g, s, cutoff_m=260)
    nxg = nx.Graph()
    for e in range(g.n_edges):
        nxg.add_edge(int(g.edge_u[e]), int(g.edge_v[e]), weight=float(g.edge_length_m[e]))
    for k in range(2):
        e = int(s.edge[k])
        a, b = int(g.edge_u[e]), int(g.edge_v[e])
        nxg.add_edge(("s", k), a, weight=float(s.snap_m[k] + s.offset_m[k]))
        nxg.add_edge(("s", k), b, weight=float(s.snap_m[k] + g.edge_length_m[e] - s.offset_m[k]))
        nxg.add_edge("src", ("s", k), weight=0.0)
    ref = nx.single_source_dijkstra_path_length(nxg, "src", cutoff=260)
    want = [ref.get(i, np.inf) for i in range(g.n_nodes)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


def test_nearest_distance_on_the_same_edge_walks_directly(path3):
    # origin O on edge 2 at 20 (snap 3), destination D on edge 2 at 170 (snap 5):
    # direct 3 + 150 + 5 = 158; D is 170 + 5 = 175 from node 2 and 30 + 5 = 35 from node 3,
    # so via node 2: 3 + 20 + 175 = 198, via node 3: 3 + 180 + 35 = 218 -> 158
    o = snapped([2, 0, -1], [20.0, 50.0, 0.0], [3.0, 1.0, np.inf])
    d = snapped([2], [170.0], [5.0])
    got = nearest_distance(path3, o, d, cutoff_m=1000)
    # O2 on edge 0 at 50 (snap 1): 1 + 50 to node 1, + 50 to node 2, + 175 = 276
    assert got.tolist() == [158.0, 276.0, np.inf]
    # cutoff exactly 158 keeps the first; 157.5 drops it
    assert nearest_distance(path3, o, d, cutoff_m=158).tolist() == [158.0, np.inf, np.inf]
    assert nearest_distance(path3, o, d, cutoff_m=157.5).tolist() == [np.inf] * 3


def test_same_edge_destinations_on_other_edges_do_not_leak(path3):
    # O1 on edge 0 at 10 (snap 0) and O2 on edge 2 at 100 (snap 0); D1 on edge 0 at 90 with
    # snap 50, D2 on edge 2 at 100 with snap 0.
    # O1: direct to D1 80 + 50 = 130; via node 0: 10 + (50 + 90) = 150; via node 1:
    #     90 + min(D1 50 + 10, D2 100 + 50) = 150 -> 130 (D2, 90 m along edge 2's offsets
    #     with cost 0, must not count as if on edge 0: it would give 90)
    # O2: D2 at its own offset: 0
    o = snapped([0, 2], [10.0, 100.0], [0.0, 0.0])
    d = snapped([0, 2], [90.0, 100.0], [50.0, 0.0])
    assert nearest_distance(path3, o, d, cutoff_m=1000).tolist() == [130.0, 0.0]


def test_same_edge_destination_behind_and_ahead(path3):
    # edge 2 (200 m): O at 100; D1 at 40 (snap 30) -> 60 + 30 = 90; D2 at 180 (snap 5)
    # -> 80 + 5 = 85; via the ends: node 2 100 + min(D1 40 + 30) = 170; node 3 100 + 25 = 125
    o = snapped([2], [100.0], [2.0])
    d = snapped([2, 2], [40.0, 180.0], [30.0, 5.0])
    assert nearest_distance(path3, o, d, cutoff_m=1000).tolist() == [87.0]
    d_behind = snapped([2, 2], [40.0, 180.0], [30.0, 50.0])  # ahead: 80 + 50 = 130
    assert nearest_distance(path3, o, d_behind, cutoff_m=1000).tolist() == [92.0]


def test_nearest_distance_without_destinations_is_inf(path3):
    o = snapped([0, 1], [1.0, 1.0], [1.0, 1.0])
    d = snapped([-1], [0.0], [np.inf])
    assert nearest_distance(path3, o, d, cutoff_m=1000).tolist() == [np.inf, np.inf]


def two_piece_graph():
    """Piece 0: nodes 0-1-2-3 (3 edges); piece 1: nodes 4-5 (1 edge); piece 2: 6-7-8 (2)."""
    xy = [[0, 0], [10, 0], [20, 0], [30, 0], [100, 0], [110, 0], [200, 0], [210, 0], [220, 0]]
    return graph_from_arrays(xy, [0, 1, 2, 4, 6, 7], [1, 2, 3, 5, 7, 8], crs=CRS)


def test_component_report_counts_each_small_piece():
    g = two_piece_graph()
    assert g.component.tolist() == [0, 0, 0, 0, 2, 2, 1, 1, 1]  # 4 nodes, then 3, then 2
    # origins: edge 3 (piece of nodes 4-5, label 2) twice, edge 4 (label 1) once,
    # edge 0 (main) once, one unsnapped
    o = snapped([3, 4, 0, 3, -1], [1, 1, 1, 1, 0], [1, 1, 1, 1, np.inf])
    rep = component_report(g, o, np.array([10.0, 7.0, 100.0, 5.0, 1000.0]))
    assert rep.index.name == "component"
    assert list(rep.columns) == ["n_nodes", "n_edges", "n_origins", "weight"]
    # label 2: 2 nodes, 1 edge, 2 origins, 15; label 1: 3 nodes, 2 edges, 1 origin, 7
    assert rep.index.tolist() == [2, 1]
    assert rep["n_nodes"].tolist() == [2, 3]
    assert rep["n_edges"].tolist() == [1, 2]
    assert rep["n_origins"].tolist() == [2, 1]
    assert rep["weight"].tolist() == [15.0, 7.0]


def test_component_report_ties_on_weight_put_the_larger_piece_first():
    g = two_piece_graph()
    o = snapped([3, 4], [1, 1], [1, 1])
    rep = component_report(g, o)  # one origin each: weight 1 and 1, then 3 nodes > 2
    assert rep.index.tolist() == [1, 2]
    assert rep["weight"].tolist() == [1.0, 1.0]
    none = component_report(g, snapped([0], [1], [1]))
    assert none.index.tolist() == [1, 2] and none["weight"].tolist() == [0.0, 0.0]
    assert none["n_origins"].tolist() == [0, 0]


def test_component_report_counts_an_isolated_node_without_edges():
    # nodes 0-1-2 joined by two edges; node 3 has no edge: component 1, 1 node, 0 edges
    g = graph_from_arrays([[0, 0], [10, 0], [20, 0], [500, 500]], [0, 1], [1, 2], crs=CRS)
    rep = component_report(g, snapped([0], [1], [1]))
    assert rep.index.tolist() == [1]
    assert (rep["n_nodes"].tolist(), rep["n_edges"].tolist(), rep["n_origins"].tolist()) == (
        [1], [0], [0]
    )


def test_component_report_reads_missing_weights_as_zero():
    # a nullable integer column (as read from a GeoPackage) with a missing value
    g = two_piece_graph()
    o = snapped([3, 4, 4], [1, 1, 1], [1, 1, 1])
    w = pd.Series([10, pd.NA, 5], dtype="Int64")
    rep = component_report(g, o, w)
    assert rep.loc[1, "weight"] == 5.0 and rep.loc[2, "weight"] == 10.0
    rep = component_report(g, o, np.array([np.nan, 2.0, 3.0]))
    assert rep.loc[2, "weight"] == 0.0 and rep.loc[1, "weight"] == 5.0


def test_component_report_refuses_weights_of_the_wrong_shape():
    g = two_piece_graph()
    o = snapped([3, 4, 4], [1, 1, 1], [1, 1, 1])
    with pytest.raises(NetworkError) as err:
        component_report(g, o, np.ones(2))
    assert str(err.value) == "component_report: weights have shape (2,), expected (3,)"


def test_component_report_of_a_connected_graph_is_empty(path3):
    rep = component_report(path3, snapped([0], [1], [1]))
    assert len(rep) == 0 and list(rep.columns) == ["n_nodes", "n_edges", "n_origins", "weight"]


# --- catchment.py -------------------------------------------------------------------


def coords(geom) -> list[tuple[float, float]]:
    return [tuple(map(float, c)) for c in shapely.get_coordinates(geom)]


def test_substrings_cut_at_and_between_vertices():
    # a staircase (0, 0) - (10, 0) - (10, 10) - (20, 10): vertices at 0, 10, 20, 30 m.
    # 10..25 starts on a vertex: (10, 0), (10, 10), (15, 10), without a repeated vertex;
    # 0..20 ends on one: (0, 0), (10, 0), (10, 10); 5..8 is inside one segment.
    stair = LineString([(0, 0), (10, 0), (10, 10), (20, 10)])
    got = substrings(np.array([stair, stair, stair], object), np.array([10.0, 0.0, 5.0]),
                     np.array([25.0, 20.0, 8.0]))
    assert coords(got[0]) == [(10.0, 0.0), (10.0, 10.0), (15.0, 10.0)]
    assert coords(got[1]) == [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)]
    assert coords(got[2]) == [(5.0, 0.0), (8.0, 0.0)]


def test_substrings_of_several_lines_measure_each_from_its_own_start():
    # independent: shapely.ops.substring, line by line
    lines = [
        LineString([(0, 0), (10, 0), (10, 10), (20, 10)]),
        LineString([(100, 100), (100, 160), (40, 160)]),
        LineString([(5, 5), (9, 8)]),
        LineString([(0, 0), (0, 7), (3, 11), (3, 30), (50, 30)]),
    ]
    start = np.array([12.0, 55.0, 0.0, 6.5])
    end = np.array([30.0, 61.0, 5.0, 70.0])
    got = substrings(np.array(lines, object), start, end)
    for line, a, b, piece in zip(lines, start, end, got, strict=True):
        want = substring(line, a, b)
        np.testing.assert_allclose(shapely.get_coordinates(piece),
                                   shapely.get_coordinates(want), atol=1e-9)


def test_merge_intervals_joins_touching_and_overlapping_runs_per_key():
    # key 0: [0, 10] + [10, 20] touch -> [0, 20]; [20.5, 25] stays apart
    # key 1: [0, 30] holds [5, 10]; [20, 40] overlaps -> [0, 40]
    # key 2: [1, 2] alone; given out of order on purpose
    edge = np.array([1, 0, 2, 1, 0, 0, 1])
    start = np.array([20.0, 10.0, 1.0, 5.0, 20.5, 0.0, 0.0])
    end = np.array([40.0, 20.0, 2.0, 10.0, 25.0, 10.0, 30.0])
    e, s, t = merge_intervals(edge, start, end)
    assert (e.tolist(), s.tolist(), t.tolist()) == (
        [0, 0, 1, 2], [0.0, 20.5, 0.0, 1.0], [20.0, 25.0, 40.0, 2.0]
    )


def test_merge_intervals_keeps_keys_apart_even_where_values_overlap():
    e, s, t = merge_intervals(np.array([0, 1]), np.array([0.0, 5.0]), np.array([10.0, 20.0]))
    assert (e.tolist(), s.tolist(), t.tolist()) == ([0, 1], [0.0, 5.0], [10.0, 20.0])
    # a long first run on key 0 must not swallow key 1's start
    e, s, t = merge_intervals(np.array([0, 1, 1]), np.array([0.0, 5.0, 50.0]),
                              np.array([100.0, 20.0, 60.0]))
    assert (e.tolist(), s.tolist(), t.tolist()) == ([0, 1, 1], [0.0, 5.0, 50.0],
                                                    [100.0, 20.0, 60.0])


def test_merge_intervals_of_nothing_is_empty():
    e, s, t = merge_intervals(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    assert (e.size, s.size, t.size) == (0, 0, 0)


def test_reached_edges_of_one_source_on_a_path(path3):
    # source on edge 1 (1-2, 50 m) at 20 with snap 5, cutoff 85: node 1 at 25, node 2 at 35;
    # edge 0 from node 1 (its v end): 60 m left -> [40, 100]; edge 1 whole; edge 2 from
    # node 2 (its u end): 50 m left -> [0, 50]
    s = snapped([1], [20.0], [5.0])
    r = reached_edges(path3, s, cutoff_m=85)
    assert list(r.columns) == ["edge", "start_m", "end_m", "full", "geometry"]
    assert r.crs == pyproj.CRS(CRS)
    assert r["edge"].tolist() == [0, 1, 2]
    assert r["start_m"].tolist() == [40.0, 0.0, 0.0]
    assert r["end_m"].tolist() == [100.0, 50.0, 50.0]
    assert r["full"].tolist() == [False, True, False]
    assert coords(r.geometry.iloc[0]) == [(40.0, 0.0), (100.0, 0.0)]
    assert r.geometry.iloc[1].equals(path3.edge_geometry[1])
    assert coords(r.geometry.iloc[2]) == [(100.0, 50.0), (150.0, 50.0)]


def test_reached_edges_within_one_edge_and_when_nothing_is_reached(path3):
    # source on edge 2 (200 m) at 100, snap 10, cutoff 40: [70, 130] of edge 2 only
    r = reached_edges(path3, snapped([2], [100.0], [10.0]), cutoff_m=40)
    assert (r["edge"].tolist(), r["start_m"].tolist(), r["end_m"].tolist()) == (
        [2], [70.0], [130.0]
    )
    assert r["full"].tolist() == [False]
    # snap 40 = cutoff: no length is left, nothing is reached
    r = reached_edges(path3, snapped([2], [100.0], [40.0]), cutoff_m=40)
    assert len(r) == 0
    r = reached_edges(path3, snapped([-1], [0.0], [np.inf]), cutoff_m=40)
    assert len(r) == 0


def test_reached_edges_stop_exactly_at_a_node_reached_at_the_cutoff(path3):
    # source at node 0 (edge 0, offset 0, snap 0), cutoff 100: edge 0 whole, node 1 reached
    # with nothing left: no zero-length piece of edge 1
    r = reached_edges(path3, snapped([0], [0.0], [0.0]), cutoff_m=100)
    assert (r["edge"].tolist(), r["full"].tolist()) == ([0], [True])
    # from node 3's end (edge 2 at 200), cutoff 260: edge 2 whole, edge 1 whole (50),
    # edge 0 from its v end: 10 m -> [90, 100]
    r = reached_edges(path3, snapped([2], [200.0], [0.0]), cutoff_m=260)
    assert r["edge"].tolist() == [0, 1, 2]
    assert r["start_m"].tolist() == [90.0, 0.0, 0.0]
    assert r["end_m"].tolist() == [100.0, 50.0, 200.0]
    assert r["full"].tolist() == [False, True, True]


def test_default_reach_is_100_m_and_nothing_is_skipped_by_default(bar):
    # (50, 100) is 100 m from the street, (50, -100.5) 100.5 m
    pts = np.array([[50.0, 100.0], [50.0, -100.5]])
    near = near_street(bar, pts)
    assert near.dtype == bool and near.tolist() == [True, False]
    assert snap_points(bar, pts).edge.tolist() == [0, -1]
    # only the small piece (y = 100, 250 m of 1,250 m) lies within 100 m of (100, 150)
    g = island_graph(1000.0, 250.0)
    assert near_street(g, np.array([[100.0, 150.0]])).tolist() == [True]
    assert snap_points(g, np.array([[100.0, 150.0]])).edge.tolist() == [1]


def test_near_street_with_zero_reach_takes_points_on_the_street_only(bar):
    near = near_street(bar, np.array([[40.0, 0.0], [40.0, 0.5]]), max_snap_m=0.0)
    assert near.tolist() == [True, False]


def test_near_street_does_not_trust_a_piece_midpoint_beyond_reach():
    # one 10 m edge (one piece, midpoint (5, 0)); (5, 15) is 15 m away: beyond 10 m
    g = graph_from_arrays([[0, 0], [10, 0]], [0], [1], crs=CRS)
    assert near_street(g, np.array([[5.0, 15.0], [5.0, 9.0]]), max_snap_m=10).tolist() == [
        False, True
    ]


def test_graph_from_arrays_takes_node_indices_given_as_whole_floats():
    # e.g. read from a table column of floats
    g = graph_from_arrays([[0, 0], [100, 0], [100, 30]], np.array([0.0, 1.0]),
                          np.array([1.0, 2.0]), crs=CRS)
    assert g.edge_u.tolist() == [0, 1] and g.edge_v.tolist() == [1, 2]
    assert g.edge_length_m.tolist() == [100.0, 30.0]
    assert distance_from_sources(g, snapped([0], [0.0], [0.0]), cutoff_m=500).tolist() == [
        0.0, 100.0, 130.0
    ]


def test_a_source_with_half_a_metre_left_reaches_half_a_metre_each_way(path3):
    # edge 2 (200 m) at 100, snap 39.5, cutoff 40: [99.5, 100.5]
    r = reached_edges(path3, snapped([2], [100.0], [39.5]), cutoff_m=40)
    assert (r["edge"].tolist(), r["start_m"].tolist(), r["end_m"].tolist()) == (
        [2], [99.5], [100.5]
    )


def test_a_piece_starting_half_a_metre_in_is_not_full(path3):
    # source at node 1 (edge 1 at 0, snap 0), cutoff 99.5: edge 0 from its v end: [0.5, 100]
    r = reached_edges(path3, snapped([1], [0.0], [0.0]), cutoff_m=99.5)
    assert r["edge"].tolist() == [0, 1, 2]
    assert r["start_m"].tolist() == [0.5, 0.0, 0.0]
    assert r["end_m"].tolist() == [100.0, 50.0, 49.5]
    assert r["full"].tolist() == [False, True, False]
    assert coords(r.geometry.iloc[0]) == [(0.5, 0.0), (100.0, 0.0)]


def test_a_zero_length_edge_gives_no_piece():
    # nodes 1 and 2 share (100, 0): edge 1 between them is 0 m long; edge 2 goes on to (150, 0)
    g = graph_from_arrays([[0, 0], [100, 0], [100, 0], [150, 0]], [0, 1, 2], [1, 2, 3],
                          crs=CRS)
    assert g.edge_length_m.tolist() == [100.0, 0.0, 50.0]
    r = reached_edges(g, snapped([0], [0.0], [0.0]), cutoff_m=120)
    assert r["edge"].tolist() == [0, 2]
    assert r["end_m"].tolist() == [100.0, 20.0]


def test_no_piece_within_reach_gives_no_candidate_pair(bar):
    # the fallback search's candidate pairs: (50, 500) is 500 m from the only street
    from urbanform.network.snapping import _pieces_within, _segments

    pi, si = _pieces_within(_segments(bar), np.array([[50.0, 500.0]]), 120.0)
    assert (pi.shape, si.shape, pi.dtype, si.dtype) == ((0,), (0,), np.int64, np.int64)
    pi, si = _pieces_within(_segments(bar), np.array([[50.0, 500.0], [50.0, 10.0]]), 120.0)
    # the 100 m street is cut into 3 pieces of 33.3 m: all 3 midpoints within 120 m of (50, 10)
    assert (pi.tolist(), si.tolist()) == ([1, 1, 1], [0, 0, 0])


def test_near_street_finds_a_street_whose_piece_midpoint_is_far():
    # one 40 m edge (one piece, midpoint (20, 0)); (-9, 0) is 9 m from its end but 29 m
    # from the midpoint: near within 10 m
    g = graph_from_arrays([[0, 0], [40, 0]], [0], [1], crs=CRS)
    assert near_street(g, np.array([[-9.0, 0.0], [-11.0, 0.0]]), max_snap_m=10).tolist() == [
        True, False
    ]


def test_near_street_is_exact_just_beyond_reach_above_a_midpoint():
    # one 10 m edge, midpoint (5, 0); (5, 10 + 5e-9) is 5e-9 m beyond the 10 m reach
    g = graph_from_arrays([[0, 0], [10, 0]], [0], [1], crs=CRS)
    pts = np.array([[5.0, 10.0 + 5e-9], [5.0, 10.0]])
    assert near_street(g, pts, max_snap_m=10).tolist() == [False, True]
    assert snap_points(g, pts, max_snap_m=10).ok.tolist() == [False, True]


def test_reach_intervals_keep_less_than_a_metre(bar):
    from urbanform.network import reach_intervals

    e = np.array([0])
    got = reach_intervals(bar, (e, np.array([0.5])), (e, np.array([0.25])),
                          (e, np.array([50.0]), np.array([0.75])))
    assert [a.tolist() for a in got] == [[0, 0, 0], [0.0, 99.75, 49.25], [0.5, 100.0, 50.75]]


def test_same_offset_walk_takes_the_smaller_of_the_two_float_sums():
    # same_edge_walk_m documents the sums (c - o_d) + o and (c + o_d) - o; at o = o_d both
    # apply. In floats: (0.1 - 0.2) + 0.2 = 0.1 but (0.1 + 0.2) - 0.2 = 0.10000000000000003;
    # (0.3 - 0.6) + 0.6 = 0.3 but (0.3 + 0.6) - 0.6 = 0.29999999999999993
    from urbanform.network import same_edge_walk_m

    got = same_edge_walk_m(np.array([0.2, 0.6]), np.array([0.2, 0.6]), np.array([0.1, 0.3]))
    assert got.tolist() == [0.1, 0.29999999999999993]


def test_a_graph_of_one_closed_loop_has_no_adjacency_but_reaches_its_node():
    # a 40 m square loop from node 0 back to node 0; self-loops never shorten a path
    loop = LineString([(0, 0), (10, 0), (10, 10), (0, 10), (0, 0)])
    g = graph_from_arrays([[0, 0]], [0], [0], crs=CRS, edge_geometry=np.array([loop], object))
    assert g.csgraph().nnz == 0 and g.csgraph().shape == (1, 1)
    assert g.component.tolist() == [0]
    # a source at 15 m along the loop (snap 1): node 0 at 1 + 15 = 16 or 1 + 25 = 26
    assert distance_from_sources(g, snapped([0], [15.0], [1.0]), cutoff_m=100).tolist() == [16.0]


def z_rank(cells) -> list[int]:
    """Each cell's position along the Z-order curve (independent bit-by-bit keys)."""
    keys = [morton_key(int(ix), int(iy)) for ix, iy in cells]
    rank = np.empty(len(keys), dtype=int)
    rank[np.argsort(keys)] = np.arange(len(keys))
    return rank.tolist()


def test_search_csgraph_z_order_on_integer_cells_down_to_the_lowest_bit():
    # corners (0, 0) and (65535, 65535) make the scale exactly 1 cell per metre, so every
    # node's cell is its integer coordinate; 40 random cells of 0..65535 plus a 4 x 4 block
    # at (0..3, 0..3) that differs only in the lowest bits
    rng = np.random.default_rng(11)
    cells = [(0, 0), (65535, 65535)] + [(int(a), int(b)) for a, b in rng.integers(0, 65536,
                                                                                 (40, 2))]
    cells += [(ix, iy) for ix in range(4) for iy in range(4) if (ix, iy) != (0, 0)]
    n = len(cells)
    g = graph_from_arrays(np.array(cells, float), np.arange(n - 1), np.arange(1, n), crs=CRS)
    rank, _ = g.search_csgraph()
    assert rank.tolist() == z_rank(cells)


def test_search_csgraph_on_a_tall_lattice_scales_by_the_taller_side():
    # x in 0..50, y in 0..300: span 300 m, scale 65535 / 300 for both axes
    pts = [(x, y) for x in (0.0, 50.0) for y in (300.0, 0.0, 200.0, 100.0)]
    g = graph_from_arrays(pts, list(range(7)), list(range(1, 8)), crs=CRS)
    rank, _ = g.search_csgraph()
    scale = 65535.0 / 300.0
    assert rank.tolist() == z_rank([(min(x * scale, 65535), min(y * scale, 65535))
                                    for x, y in pts])


def test_search_csgraph_keeps_an_isolated_last_node():
    # node 2 at the far corner comes last on the Z-order curve and has no edge
    g = graph_from_arrays([[0, 0], [10, 0], [50, 50]], [0], [1], crs=CRS)
    rank, mat = g.search_csgraph()
    assert rank.tolist() == [0, 1, 2]
    assert mat.shape == (3, 3)
    assert distance_from_sources(g, snapped([0], [5.0], [0.0]), cutoff_m=100).tolist() == [
        5.0, 5.0, np.inf
    ]


def test_pick_nearest_groups_unsorted_candidate_pairs_by_point(bar):
    # candidate (point, segment) pairs in any order; the one segment is the 100 m street:
    # point 0 (30, 4) -> 4 m at 30; point 1 (70, -3) -> 3 m at 70
    from urbanform.network.snapping import _pick_nearest, _segments

    seg = _segments(bar)
    xy = np.array([[30.0, 4.0], [70.0, -3.0]])
    pi, e, off, dist = _pick_nearest(seg, xy, np.array([0, 1, 0]), np.array([0, 0, 0]), 50.0)
    assert (pi.tolist(), e.tolist(), off.tolist(), dist.tolist()) == (
        [0, 1], [0, 0], [30.0, 70.0], [4.0, 3.0]
    )
    got = _pick_nearest(seg, xy, np.zeros(0, np.int64), np.zeros(0, np.int64), 50.0)
    assert [a.size for a in got] == [0, 0, 0, 0]


def test_fallback_search_survives_a_zero_length_edge():
    # a 0 m edge at (104, 5) among the tiny edges that push (100, 5) to the fallback; it is
    # 4 m away, nearer than the street at y = 0 (5 m): it wins, at offset 0
    lines = [LineString([(0, 0), (200, 0)]), LineString([(104, 5), (104, 5)])]
    g = crowded(lines, [(110.0 + i, 5.0) for i in range(10)])
    s = snap_points(g, np.array([[100.0, 5.0]]))
    assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == ([1], [0.0], [4.0])


def test_snap_onto_the_middle_of_a_half_metre_edge():
    # a 0.5 m edge (0, 0)-(0.5, 0); (0.25, 3) snaps to (0.25, 0): offset 0.25, 3 m. Two
    # 200 m streets at y = +-40 (10 pieces) give the quick search its 8 candidates.
    lines = [LineString([(0, 0), (0.5, 0)]), LineString([(-100, 40), (100, 40)]),
             LineString([(-100, -40), (100, -40)])]
    g = crowded(lines, [])
    s = snap_points(g, np.array([[0.25, 3.0]]))
    assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == ([0], [0.25], [3.0])


def test_nearest_street_behind_eight_nearer_piece_midpoints_is_found():
    # street S (0, 0)-(40, 0) is one piece with its midpoint at (20, 0); P = (0, -5) is 5 m
    # from S (at its end) but sqrt(20**2 + 5**2) = 20.6 m from that midpoint. Eight tiny
    # edges centred 6, 8, ..., 18 and 19.5 m below P fill P's 8 nearest midpoints; the
    # nearest of them (6 m) is no proof that nothing nearer exists (6 > 19.5 - 20), so the
    # exact search must find S at 5 m.
    below = [6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 19.5]
    g = crowded([LineString([(0, 0), (40, 0)])], [(-0.25, -5.0 - c) for c in below])
    s = snap_points(g, np.array([[0.0, -5.0]]))
    assert (s.edge.tolist(), s.offset_m.tolist(), s.snap_m.tolist()) == ([0], [0.0], [5.0])


def test_offset_beyond_the_v_end_is_the_edge_length_exactly():
    # on this bent edge the running sum of segment lengths (2008.865254540693) exceeds the
    # edge's length as GEOS measures it (2008.8652545406926) in the last bit; a point past
    # the v end must still get offset == length, never more
    pts = [[195.10739845680502, 577.6878925178593], [602.2391763796257, 962.423093124381],
           [72.26526552987677, 499.9728236586185], [744.0974792826482, 177.2267404746588]]
    line = LineString(pts)
    g = graph_from_arrays([pts[0], pts[-1]], [0], [1], crs=CRS,
                          edge_geometry=np.array([line], object))
    # 10 m past the last vertex, along the last segment
    d = np.subtract(pts[-1], pts[-2])
    beyond = np.add(pts[-1], 10.0 * d / np.hypot(*d))
    s = snap_points(g, beyond[None, :])
    assert s.offset_m[0] == g.edge_length_m[0] == line.length


def test_label_components_breaks_ties_by_first_appearance_among_many_pieces():
    # 40 two-node pieces listed in order, then a three-node piece: the big one is 0 and the
    # pairs keep their order of appearance: pair k (nodes 2k, 2k + 1) gets label k + 1
    u = [2 * k for k in range(40)] + [80, 81]
    v = [2 * k + 1 for k in range(40)] + [81, 82]
    got = label_components(np.array(u), np.array(v), 83)
    want = [k // 2 + 1 for k in range(80)] + [0, 0, 0]
    assert got.tolist() == want


def test_missing_coordinates_in_a_list_stay_unsnapped(bar):
    # x, y pairs as a plain list with a missing pair (None), e.g. from a table
    s = snap_points(bar, [[30.0, 4.0], [None, None]])
    assert (s.edge.tolist(), s.snap_m.tolist()) == ([0, -1], [4.0, np.inf])
