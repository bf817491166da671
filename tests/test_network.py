"""Walk network engine: noding, snapping, multi-source distances, catchments.

Expected distances are worked out by hand in the comments (snap + along-edge + network +
along-edge + snap) or computed by networkx on an equivalent graph with the snap points
inserted as nodes.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _network_helpers import nx_reference
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, MultiLineString, Point
from shapely.ops import substring

from urbanform.errors import CRSError, LayerError, NetworkError
from urbanform.network import (
    WalkGraph,
    component_report,
    distance_from_sources,
    graph_from_arrays,
    graph_from_lines,
    graph_from_osm,
    nearest_distance,
    reached_edges,
    snap_points,
)

CRS = "EPSG:32648"
X0, Y0 = 500_000.0, 3_000_000.0


def lines_gdf(coord_lists, **columns) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coord_lists]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=CRS)


def xy(*points) -> np.ndarray:
    return np.array([(X0 + x, Y0 + y) for x, y in points], dtype=float)


@pytest.fixture
def grid() -> WalkGraph:
    """4 x 4 blocks of 100 m: 5 horizontal and 5 vertical 400 m streets, not noded."""
    rows = [[(0, k * 100), (400, k * 100)] for k in range(5)]
    cols = [[(k * 100, 0), (k * 100, 400)] for k in range(5)]
    return graph_from_lines(lines_gdf(rows + cols))


# --- noding -------------------------------------------------------------------------


def test_grid_streets_are_noded_at_every_crossing(grid):
    assert (grid.n_nodes, grid.n_edges) == (25, 40)
    np.testing.assert_allclose(grid.edge_length_m, 100.0)


def test_noding_matches_geos_node_on_random_crossing_segments():
    # 120 random segments cross each other everywhere; GEOS noding (shapely.node) is the
    # independent answer for the pieces and their end points
    rng = np.random.default_rng(3)
    segs = shapely.linestrings(rng.uniform(0, 1000, (120, 2, 2)) + (X0, Y0))
    g = graph_from_lines(gpd.GeoDataFrame(geometry=segs, crs=CRS))
    pieces = shapely.get_parts(shapely.node(shapely.multilinestrings(segs)))
    ends = np.unique(shapely.get_coordinates(shapely.boundary(pieces)), axis=0)
    assert (g.n_edges, g.n_nodes) == (len(pieces), len(ends))


def test_t_junction_is_noded_where_a_line_ends_on_another():
    g = graph_from_lines(lines_gdf([[(0, 0), (200, 0)], [(100, 0), (100, 100)]]))
    assert (g.n_nodes, g.n_edges) == (4, 3)


def test_multilinestrings_are_exploded():
    mls = MultiLineString([[(X0, Y0), (X0 + 100, Y0)], [(X0, Y0 + 50), (X0 + 100, Y0 + 50)]])
    g = graph_from_lines(gpd.GeoDataFrame(geometry=[mls], crs=CRS))
    assert (g.n_edges, int(g.component.max())) == (2, 1)


def test_duplicate_and_zero_length_edges_are_removed():
    lines = lines_gdf([[(0, 0), (100, 0)], [(100, 0), (0, 0)], [(50, 50), (50, 50)]])
    g = graph_from_lines(lines, node_crossings=False)
    assert g.n_edges == 1


def test_components_are_labelled_largest_first():
    lines = lines_gdf(
        [[(0, 0), (10, 0)], [(0, 500), (100, 500), (200, 500)], [(200, 500), (300, 500)]]
    )
    g = graph_from_lines(lines)
    # the 3-node / 2-edge street at y=500 is the largest component
    assert sorted(g.component[g.edge_u].tolist()) == [0, 0, 1]


def test_no_edge_raises_network_error():
    with pytest.raises(NetworkError, match="no street segment"):
        graph_from_lines(lines_gdf([[(5, 5), (5, 5)]]))


def test_geographic_crs_raises():
    lines = gpd.GeoDataFrame(geometry=[LineString([(100, 10), (100.1, 10)])], crs="EPSG:4326")
    with pytest.raises(CRSError, match="geographic CRS"):
        graph_from_lines(lines)


def test_non_line_geometry_raises_layer_error():
    gdf = gpd.GeoDataFrame(geometry=[Point(X0, Y0)], crs=CRS)
    with pytest.raises(LayerError, match="Point, not lines"):
        graph_from_lines(gdf)


# --- snapping and distances -----------------------------------------------------------


def test_grid_walk_includes_snap_and_along_edge_parts(grid):
    # origin (30, 108): snap 8 onto y=100 at x=30; destination (305, 250): snap 5 onto
    # x=300 at y=250; Manhattan walk 270 + 150 = 420; total 8 + 420 + 5 = 433
    o = snap_points(grid, xy((30, 108)))
    d = snap_points(grid, xy((305, 250)))
    assert nearest_distance(grid, o, d, cutoff_m=2000)[0] == pytest.approx(433.0, abs=1e-9)


def test_snap_is_to_the_nearest_point_on_an_edge_not_a_node(grid):
    # (30, 108) is 8 m from (30, 100) on the y=100 street, 30 m from the nearest node
    s = snap_points(grid, xy((30, 108)))
    snap_point = grid.edge_geometry[s.edge[0]].interpolate(s.offset_m[0])
    assert (s.snap_m[0], snap_point.x - X0, snap_point.y - Y0) == pytest.approx((8, 30, 100))


def test_nearest_of_several_destinations_is_taken(grid):
    # origin on (100, 100) exactly; destinations at (100, 40) [60 m] and (220, 100) [120 m]
    o = snap_points(grid, xy((100, 100)))
    d = snap_points(grid, xy((100, 40), (220, 100)))
    assert nearest_distance(grid, o, d, cutoff_m=2000)[0] == pytest.approx(60.0)


def test_two_crossing_lines_connect_through_the_crossing():
    # X through (100, 100): (0,0)->(100,100) 100*sqrt2, then -> (0,200) 100*sqrt2; snaps 5 + 5
    g = graph_from_lines(lines_gdf([[(0, 0), (200, 200)], [(0, 200), (200, 0)]]))
    d = nearest_distance(g, snap_points(g, xy((0, -5))), snap_points(g, xy((0, 205))), cutoff_m=1e4)
    assert d[0] == pytest.approx(10.0 + 200.0 * math.sqrt(2.0), abs=1e-9)


def test_osm_ways_without_shared_vertex_do_not_connect():
    lines = lines_gdf([[(0, 0), (200, 200)], [(0, 200), (200, 0)]])
    g = graph_from_lines(lines, node_crossings=False)
    d = nearest_distance(g, snap_points(g, xy((0, -5))), snap_points(g, xy((0, 205))), cutoff_m=1e4)
    assert d[0] == np.inf


@pytest.mark.parametrize("flag", [{"bridge": ["no", "yes", None, None]},
                                  {"bridge": [0.0, 1.0, 0.0, np.nan]},
                                  {"tunnel": [None, "viaduct", "no", "0"]},
                                  {"layer": [0, 1, 0, 0]}])  # fmt: skip
def test_bridge_does_not_connect_where_it_crosses_a_street(flag):
    # street y=0 from x=0..200; bridge x=100 from y=-100..100 over it; detour
    # (0,0)->(0,100)->(100,100) joins the bridge's north end. Origin (50,-3) snaps 3 at
    # x=50; destination (103, 60) snaps 3 on the bridge at y=60. Through the crossing it
    # would be 3+50+60+3 = 116; around: 3 + 50 + 100 + 100 + 40 + 3 = 296.
    lines = lines_gdf(
        [[(0, 0), (200, 0)], [(100, -100), (100, 100)], [(0, 0), (0, 100)], [(0, 100), (100, 100)]],
        **flag,
    )
    g = graph_from_lines(lines)
    o, d = snap_points(g, xy((50, -3))), snap_points(g, xy((103, 60)))
    d = nearest_distance(g, o, d, cutoff_m=1e4)
    assert d[0] == pytest.approx(296.0, abs=1e-9)


def test_same_edge_walk_is_direct():
    # one edge 0..100; origin (20, 4), destination (70, -3): 4 + 50 + 3 = 57
    g = graph_from_arrays(xy((0, 0), (100, 0)), [0], [1], crs=CRS)
    d = nearest_distance(g, snap_points(g, xy((20, 4))), snap_points(g, xy((70, -3))), cutoff_m=1e3)
    assert d[0] == pytest.approx(57.0)


def test_same_edge_takes_the_cheapest_destination_with_its_snap():
    # origin at 50 on the edge; destinations at 10 (snap 30: 40 + 30 = 70) and
    # at 80 (snap 1: 30 + 1 = 31)
    g = graph_from_arrays(xy((0, 0), (100, 0)), [0], [1], crs=CRS)
    o = snap_points(g, xy((50, 0)))
    d = snap_points(g, xy((10, 30), (80, -1)))
    assert nearest_distance(g, o, d, cutoff_m=1e3)[0] == pytest.approx(31.0)


def test_points_beyond_max_snap_are_unsnapped(grid):
    s = snap_points(grid, xy((200, 550)), max_snap_m=100)
    assert (s.edge[0], s.snap_m[0], s.n_unsnapped) == (-1, np.inf, 1)


def test_unsnapped_origin_gets_inf(grid):
    o = snap_points(grid, xy((200, 550), (200, 450)), max_snap_m=100)
    d = snap_points(grid, xy((200, 400)))
    np.testing.assert_allclose(nearest_distance(grid, o, d, cutoff_m=1e4), [np.inf, 50.0])


def test_cutoff_is_respected(grid):
    o = snap_points(grid, xy((30, 108)))
    d = snap_points(grid, xy((305, 250)))
    got = [nearest_distance(grid, o, d, cutoff_m=c)[0] for c in (432.9, 433.0)]
    assert got == [np.inf, pytest.approx(433.0)]


def test_negative_cutoff_raises(grid):
    s = snap_points(grid, xy((0, 0)))
    with pytest.raises(NetworkError, match="cutoff_m must be"):
        nearest_distance(grid, s, s, cutoff_m=-1)


def test_points_in_another_crs_raise(grid):
    pts = gpd.GeoSeries([Point(105, 27)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="reproject the points"):
        snap_points(grid, pts)


def test_distance_from_sources_to_nodes(grid):
    # source (107, 50): snap 7 onto x=100 at y=50; node (100, 100) at 7 + 50 = 57,
    # node (0, 0) at 7 + 50 + 100 = 157, beyond the 150 m cut-off
    dist = distance_from_sources(grid, snap_points(grid, xy((107, 50))), cutoff_m=150)
    at = {tuple(np.round(grid.node_xy[i] - (X0, Y0))): dist[i] for i in range(grid.n_nodes)}
    assert (at[(100.0, 100.0)], at[(0.0, 0.0)]) == (pytest.approx(57.0), np.inf)


# --- networkx agreement ---------------------------------------------------------------


@st.composite
def random_network(draw):
    n = draw(st.integers(2, 12))
    coords = draw(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)),
                           min_size=n, max_size=n, unique=True))  # fmt: skip
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    edges = draw(st.lists(pairs, min_size=1, max_size=3 * n))
    pts = st.tuples(st.floats(-50, 550), st.floats(-50, 550))
    origins = draw(st.lists(pts, min_size=1, max_size=15))
    dests = draw(st.lists(pts, min_size=1, max_size=6))
    cutoff = draw(st.floats(10, 1500))
    return coords, edges, origins, dests, cutoff


@settings(max_examples=60, deadline=None)
@given(random_network())
def test_nearest_distance_equals_networkx(case):
    coords, edges, origins, dests, cutoff = case
    u, v = np.array(edges).T
    g = graph_from_arrays(xy(*coords), u, v, crs=CRS)
    o = snap_points(g, xy(*origins), max_snap_m=80)
    d = snap_points(g, xy(*dests), max_snap_m=80)
    got = nearest_distance(g, o, d, cutoff_m=cutoff)
    want = nx_reference(g, o, d, cutoff)
    both = np.isfinite(got) & np.isfinite(want)
    np.testing.assert_allclose(got[both], want[both], rtol=0, atol=1e-6)
    # where only one side is finite, the finite distance sits on the cut-off
    one = np.isfinite(got) != np.isfinite(want)
    finite_side = np.where(np.isfinite(got), got, want)[one]
    np.testing.assert_allclose(finite_side, cutoff, rtol=0, atol=1e-6)


# --- catchments and components --------------------------------------------------------


def test_reached_edges_cut_partial_edges_at_the_cutoff():
    # T: (0,0)-(100,0)-(200,0) and (100,0)-(100,100); source (60, 5) snaps 5 m at x=60,
    # leaving 90 m: west 60 m to (0,0) (whole), east 40 m to (100,0), then 50 m on the
    # east street and 50 m up the stem: 100 + 50 + 50 = 200 m reached.
    lines = lines_gdf([[(0, 0), (100, 0)], [(100, 0), (200, 0)], [(100, 0), (100, 100)]])
    g = graph_from_lines(lines)
    r = reached_edges(g, snap_points(g, xy((60, 5))), cutoff_m=95)
    assert r.length.sum() == pytest.approx(200.0)


def test_reached_edge_piece_matches_shapely_substring():
    bent = np.array([LineString(xy((0, 0), (100, 80), (300, 0)))])
    g = graph_from_arrays(xy((0, 0), (300, 0)), [0], [1], crs=CRS, edge_geometry=bent)
    s = snap_points(g, xy((100, 80)))
    r = reached_edges(g, s, cutoff_m=50)
    want = substring(g.edge_geometry[0], s.offset_m[0] - 50, s.offset_m[0] + 50)
    assert r.geometry.iloc[0].equals_exact(want, 1e-9)


def test_component_report_counts_weight_off_the_main_network():
    lines = lines_gdf([[(0, 0), (100, 0), (200, 0)], [(0, 500), (50, 500)]])
    g = graph_from_lines(lines)
    o = snap_points(g, xy((10, 1), (20, 501), (30, 499)))
    rep = component_report(g, o, np.array([5.0, 7.0, 11.0]))
    assert rep.loc[1, ["n_nodes", "n_origins", "weight"]].tolist() == [2, 2, 18.0]


# --- OSM ------------------------------------------------------------------------------


def test_graph_from_osm_missing_file_raises(tmp_path):
    with pytest.raises(LayerError, match="does not exist"):
        graph_from_osm(tmp_path / "nowhere.osm.pbf")


def test_graph_from_osm_corrupt_pbf_raises(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 10)
    with pytest.raises(LayerError, match="cannot be read"):
        graph_from_osm(bad)


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="60.1700" lon="24.9400" version="1"/>
  <node id="2" lat="60.1700" lon="24.9420" version="1"/>
  <node id="3" lat="60.1710" lon="24.9420" version="1"/>
  <node id="4" lat="60.1710" lon="24.9440" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/></way>
  <way id="11" version="1"><nd ref="3"/><nd ref="4"/><tag k="highway" v="motorway"/></way>
  <way id="12" version="1"><nd ref="2"/><nd ref="4"/>
    <tag k="highway" v="footway"/><tag k="foot" v="no"/></way>
</osm>
"""


def test_graph_from_osm_xml_keeps_walkable_ways_only(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML)
    g = graph_from_osm(path)
    # only way 10 is walkable: nodes 1, 2, 3 and its two segments
    assert (g.n_nodes, g.n_edges, g.crs.to_epsg()) == (3, 2, 32635)


def test_snapping_equals_shapely_nearest_on_random_streets():
    # bent random streets; snap distance and offset checked against GEOS
    rng = np.random.default_rng(7)
    starts = rng.uniform(0, 2000, (300, 2))
    mids = starts + rng.normal(0, 60, (300, 2))
    ends = mids + rng.normal(0, 60, (300, 2))
    lines = gpd.GeoDataFrame(
        geometry=[LineString(xy(*map(tuple, p))) for p in np.stack([starts, mids, ends], 1)],
        crs=CRS,
    )
    g = graph_from_lines(lines, node_crossings=False)
    pts = xy(*map(tuple, rng.uniform(-100, 2100, (2000, 2))))
    s = snap_points(g, pts, max_snap_m=100)
    geoms = gpd.points_from_xy(pts[:, 0], pts[:, 1]).to_numpy()
    (pi, _), dist = g.edge_tree().query_nearest(geoms, max_distance=100, return_distance=True)
    want = np.full(len(pts), np.inf)
    want[pi] = dist
    np.testing.assert_allclose(s.snap_m, want, rtol=0, atol=1e-6)
    ok = s.ok
    located = [g.edge_geometry[e].project(p) for e, p in zip(s.edge[ok], geoms[ok], strict=True)]
    np.testing.assert_allclose(s.offset_m[ok], located, rtol=0, atol=1e-6)


def test_search_csgraph_is_the_adjacency_with_nodes_renumbered():
    # a 3 x 3 grid of 100 m blocks, nodes numbered row by row
    xy = [[x, y] for y in (0, 100, 200) for x in (0, 100, 200)]
    u = [0, 1, 3, 4, 6, 7, 0, 3, 1, 4, 2, 5]
    v = [1, 2, 4, 5, 7, 8, 3, 6, 4, 7, 5, 8]
    g = graph_from_arrays(xy, u, v, crs=CRS)
    rank, mat = g.search_csgraph()
    assert sorted(rank.tolist()) == list(range(9))
    renumbered = mat.toarray()[np.ix_(rank, rank)]
    np.testing.assert_array_equal(renumbered, g.csgraph().toarray())


def test_snap_finds_a_long_edge_hidden_behind_many_short_ones():
    # edge 0: (0, 0)-(200, 0); ten 0.5 m edges 28 m above the point crowd the nearest
    # piece midpoints, yet the long edge, 25 m below it, is the nearest
    xy = [[0.0, 0.0], [200.0, 0.0]]
    for i in range(10):
        xy += [[35.0 + i, 53.0], [35.5 + i, 53.0]]
    u = [0] + list(range(2, 22, 2))
    v = [1] + list(range(3, 22, 2))
    g = graph_from_arrays(xy, u, v, crs=CRS)
    s = snap_points(g, np.array([[40.0, 25.0]]), max_snap_m=100)
    assert (s.edge[0], s.offset_m[0], s.snap_m[0]) == (0, 40.0, 25.0)


def test_snapped_concat_keeps_points_in_order_and_islands():
    from urbanform.network import Snapped

    a = Snapped(np.array([0, -1]), np.array([1.0, 0.0]), np.array([2.0, np.inf]))
    b = Snapped(np.array([3]), np.array([5.0]), np.array([1.5]), island=np.array([True]))
    both = Snapped.concat([a, b])
    assert (both.edge.tolist(), both.snap_m.tolist(), both.island.tolist()) == (
        [0, -1, 3], [2.0, np.inf, 1.5], [False, False, True]
    )
