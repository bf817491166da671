"""Pins for the walk-graph builders: urbanform/network/noding.py and urbanform/network/osm.py.

Added for mutation testing (issue 14 item 6). Every expected value is worked out by hand
in the comments, or comes from an independent method: GEOS pairwise intersections
(``shapely.intersection``), ``shapely.length`` of the input lines, pyproj.
Coordinates are offsets from (X0, Y0) in EPSG:32648, as in tests/test_network.py.
"""

from __future__ import annotations

import logging
import types
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
)

from urbanform.errors import CRSError, LayerError, NetworkError
from urbanform.network import graph_from_lines, graph_from_osm

CRS = "EPSG:32648"
X0, Y0 = 500_000.0, 3_000_000.0


def lines_gdf(coord_lists, **columns) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coord_lists]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=CRS)


def edge_set(g) -> set[tuple[tuple[float, float], ...]]:
    """Each edge as its vertex offsets from (X0, Y0), in the direction with the smaller start."""
    out = set()
    for geom in g.edge_geometry:
        c = [(float(x - X0), float(y - Y0)) for x, y in shapely.get_coordinates(geom)]
        out.add(tuple(min(c, c[::-1])))
    return out


def node_set(g) -> set[tuple[float, float]]:
    return {(float(x - X0), float(y - Y0)) for x, y in g.node_xy}


# A street along y = 0 from x = 0 to 200 and a line along x = 100 from y = -100 to 100
# crossing it at (100, 0). Noded: 5 nodes (4 ends + the crossing), 4 edges of 100 m.
# Not noded (the second line is a bridge / tunnel / off the ground): 4 nodes, 2 edges.
CROSS = [[(0, 0), (200, 0)], [(100, -100), (100, 100)]]
NODED, NOT_NODED = (5, 4), (4, 2)


def shape(g) -> tuple[int, int]:
    return g.n_nodes, g.n_edges


# --- bridge / tunnel / layer flags ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [True, 1, 2, -1, 0.5, "1", "yes", " Yes ", "viaduct", "true", "T", "covered"],
)
def test_truthy_bridge_value_keeps_the_line_off_the_crossing(value):
    # docstring of graph_from_lines: anything but empty, no, false, 0 marks a bridge
    g = graph_from_lines(lines_gdf(CROSS, bridge=pd.Series([None, value], dtype=object)))
    assert shape(g) == NOT_NODED


@pytest.mark.parametrize(
    "value",
    [False, 0, 0.0, "0", "", "  ", "no", " No ", "FALSE", "false", "none", "None", "nan",
     "null", "n", "f", "F", None, np.nan],
)  # fmt: skip
def test_falsy_bridge_value_leaves_the_line_on_the_ground(value):
    # the falsy words of the docstring and the usual spellings of "nothing"
    g = graph_from_lines(lines_gdf(CROSS, bridge=pd.Series([None, value], dtype=object)))
    assert shape(g) == NODED


def test_numeric_bridge_column():
    # a float column: 1.0 marks the bridge, 0.0 and NaN do not
    g = graph_from_lines(lines_gdf(CROSS, bridge=[0.0, 1.0]))
    assert shape(g) == NOT_NODED
    g = graph_from_lines(lines_gdf(CROSS, bridge=[np.nan, 0.0]))
    assert shape(g) == NODED


@pytest.mark.parametrize("value", ["yes", 1, "building_passage"])
def test_tunnel_value_keeps_the_line_off_the_crossing(value):
    g = graph_from_lines(lines_gdf(CROSS, tunnel=pd.Series(["no", value], dtype=object)))
    assert shape(g) == NOT_NODED


@pytest.mark.parametrize("value", [1, -1, 2, 0.5, "1", "-1"])
def test_non_zero_layer_keeps_the_line_off_the_crossing(value):
    g = graph_from_lines(lines_gdf(CROSS, layer=pd.Series([0, value], dtype=object)))
    assert shape(g) == NOT_NODED


@pytest.mark.parametrize("value", [0, 0.0, "0", None, np.nan, "ground", ""])
def test_zero_or_unreadable_layer_is_the_ground(value):
    # a missing or non-numeric layer counts as 0 (the ground)
    g = graph_from_lines(lines_gdf(CROSS, layer=pd.Series([0, value], dtype=object)))
    assert shape(g) == NODED


def test_flags_come_from_the_named_columns():
    lines = lines_gdf(CROSS, brug=["no", "yes"], tun=["no", "no"], niveau=[0, 0])
    kw = {"tunnel_field": "tun", "layer_field": "niveau"}
    assert shape(graph_from_lines(lines, bridge_field="brug", **kw)) == NOT_NODED
    lines = lines_gdf(CROSS, brug=["no", "no"], tun=["no", "yes"], niveau=[0, 0])
    assert shape(graph_from_lines(lines, bridge_field="brug", **kw)) == NOT_NODED
    lines = lines_gdf(CROSS, brug=["no", "no"], tun=["no", "no"], niveau=[0, 1])
    assert shape(graph_from_lines(lines, bridge_field="brug", **kw)) == NOT_NODED
    lines = lines_gdf(CROSS, brug=["no", "no"], tun=["no", "no"], niveau=[0, 0])
    assert shape(graph_from_lines(lines, bridge_field="brug", **kw)) == NODED


@pytest.mark.parametrize("field", ["bridge_field", "tunnel_field", "layer_field"])
def test_field_none_ignores_the_column(field):
    # bridge_field=None etc.: the column is not read even when it is present
    column = field.removesuffix("_field")
    lines = lines_gdf(CROSS, **{column: pd.Series([0, 1], dtype=object)})
    assert shape(graph_from_lines(lines)) == NOT_NODED
    assert shape(graph_from_lines(lines, **{field: None})) == NODED


def test_other_field_names_do_not_read_the_default_columns():
    lines = lines_gdf(CROSS, bridge=["no", "yes"], tunnel=["no", "yes"], layer=[0, 1])
    g = graph_from_lines(lines, bridge_field="a", tunnel_field="b", layer_field="c")
    assert shape(g) == NODED


def test_two_bridges_crossing_each_other_do_not_connect():
    # both lines elevated: nothing is on the ground, so nothing is noded
    g = graph_from_lines(lines_gdf(CROSS, bridge=["yes", "yes"]))
    assert shape(g) == NOT_NODED


def test_ground_lines_are_noded_among_themselves_around_a_bridge():
    # street y=0, bridge x=100 and a second street x=50 from y=-50 to 50: the streets
    # cross at (50, 0) -> the street y=0 has pieces 0-50, 50-200 (bridge not noded),
    # street x=50 has two pieces, the bridge one: 5 edges; nodes: 6 ends + (50, 0) = 7
    lines = lines_gdf(CROSS + [[(50, -50), (50, 50)]], bridge=["no", "yes", "no"])
    g = graph_from_lines(lines)
    assert shape(g) == (7, 5)
    assert ((0.0, 0.0), (50.0, 0.0)) in edge_set(g)
    assert ((50.0, 0.0), (200.0, 0.0)) in edge_set(g)


def test_flags_stay_with_their_rows_past_missing_geometries_and_multilines():
    # row 0 has no geometry but bridge=yes; row 1 is a two-part line whose second part
    # crosses the vertical street; row 2 is that street. No row but row 0 is a bridge, so
    # the crossing at (100, 0) is noded: parts (0,0)-(50,0)... see below.
    # part 1: (0, 50)-(50, 50) alone; part 2: (0, 0)-(200, 0) split at x=100;
    # street x=100 from -100 to 100 split at y=0 -> edges 1 + 2 + 2 = 5;
    # nodes: (0,50) (50,50) (0,0) (200,0) (100,-100) (100,100) (100,0) = 7
    mls = MultiLineString([[(X0, Y0 + 50), (X0 + 50, Y0 + 50)], [(X0, Y0), (X0 + 200, Y0)]])
    street = LineString([(X0 + 100, Y0 - 100), (X0 + 100, Y0 + 100)])
    lines = gpd.GeoDataFrame({"bridge": ["yes", "no", "no"]}, geometry=[None, mls, street], crs=CRS)
    assert shape(graph_from_lines(lines)) == (7, 5)
    # the same with row 2 a bridge instead: no crossing -> 6 nodes, 3 edges
    lines["bridge"] = ["no", "no", "yes"]
    assert shape(graph_from_lines(lines)) == (6, 3)
    # and with the two-part row a bridge: both of its parts are off the ground
    lines["bridge"] = ["no", "yes", "no"]
    assert shape(graph_from_lines(lines)) == (6, 3)


# --- input checks -----------------------------------------------------------------------


def test_no_crs_message():
    lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 0)])])
    with pytest.raises(CRSError) as err:
        graph_from_lines(lines)
    assert str(err.value) == "streets layer has no CRS; set one (e.g. layers/streets.yml 'crs:')"


def test_geographic_crs_message():
    lines = gpd.GeoDataFrame(geometry=[LineString([(100, 10), (100.1, 10)])], crs="EPSG:4326")
    with pytest.raises(CRSError) as err:
        graph_from_lines(lines)
    assert str(err.value) == (
        "streets layer is in geographic CRS EPSG:4326; "
        "reproject it to the workspace's metric CRS first"
    )


def test_non_line_types_are_named_once_each_in_type_order():
    # 8 non-line features of 6 types (Point twice, Polygon twice) among 2 lines; the
    # names come sorted by GEOS type id: Point 0, LinearRing 2, Polygon 3, MultiPoint 4,
    # MultiPolygon 6, GeometryCollection 7
    sq = Polygon([(0, 0), (1, 0), (1, 1)])
    geoms = [
        Polygon([(0, 0), (2, 0), (2, 2)]), LineString([(0, 0), (5, 0)]), Point(1, 1),
        GeometryCollection([Point(0, 0)]), MultiPolygon([sq]), Point(2, 2),
        MultiLineString([[(0, 0), (0, 5)]]), MultiPoint([(0, 0), (1, 1)]),
        LinearRing([(0, 0), (3, 0), (3, 3)]), sq,
    ]  # fmt: skip
    with pytest.raises(LayerError) as err:
        graph_from_lines(gpd.GeoDataFrame(geometry=geoms, crs=CRS))
    assert str(err.value) == (
        "streets layer: 8 features are Point, LinearRing, Polygon, MultiPoint, MultiPolygon, "
        "GeometryCollection, not lines; give LineString or MultiLineString geometries"
    )


def test_missing_and_empty_geometries_of_any_type_are_skipped():
    # None, an empty line and an empty polygon are no features; the one line remains
    geoms = [None, LineString(), Polygon(), Point(), LineString([(X0, Y0), (X0 + 30, Y0)])]
    g = graph_from_lines(gpd.GeoDataFrame(geometry=geoms, crs=CRS))
    assert shape(g) == (2, 1)
    np.testing.assert_array_equal(g.edge_length_m, [30.0])


def test_no_edge_message():
    # both lines collapse to one vertex: nothing of non-zero length remains
    with pytest.raises(NetworkError) as err:
        graph_from_lines(lines_gdf([[(5, 5), (5, 5)], [(7, 7), (7, 7), (7, 7)]]))
    assert str(err.value) == (
        "streets layer: no street segment of non-zero length remains; "
        "check that the layer holds street centrelines"
    )


def test_z_is_dropped():
    # 3-D lines crossing at (100, 0): a 2-D graph with the 2-D crossing, lengths in 2-D
    lines = gpd.GeoDataFrame(
        geometry=[
            LineString([(X0, Y0, 5.0), (X0 + 200, Y0, 5.0)]),
            LineString([(X0 + 100, Y0 - 100, 0.0), (X0 + 100, Y0 + 100, 40.0)]),
        ],
        crs=CRS,
    )
    g = graph_from_lines(lines)
    assert g.node_xy.shape == (5, 2)
    assert not shapely.has_z(g.edge_geometry).any()
    np.testing.assert_array_equal(g.edge_length_m, [100.0] * 4)


# --- the graph built ----------------------------------------------------------------------


def test_graph_carries_the_layer_crs_and_float_lengths():
    g = graph_from_lines(lines_gdf(CROSS))
    assert g.crs == pyproj.CRS(CRS)
    assert g.edge_length_m.dtype == np.float64
    assert g.edge_u.dtype == np.int64 and g.edge_v.dtype == np.int64


def test_crossings_on_multi_vertex_lines_are_placed_in_order():
    # line A (0,0)-(300,0)-(300,200) is crossed on its first segment at x=200 and x=100
    # (lines listed in that order) and on its second segment at y=100:
    #   x=200 line (200,-50)-(200,50), x=100 line (100,-50)-(100,50),
    #   y=100 line (250,100)-(350,100)
    # A's pieces in order: (0,0)-(100,0), (100,0)-(200,0), (200,0)-(300,0)-(300,100),
    # (300,100)-(300,200); each crossing line splits in two: 4 + 6 = 10 edges;
    # nodes: A's 2 ends, 6 crossing-line ends, 3 crossings = 11
    lines = lines_gdf(
        [[(0, 0), (300, 0), (300, 200)], [(200, -50), (200, 50)], [(100, -50), (100, 50)],
         [(250, 100), (350, 100)]]
    )  # fmt: skip
    g = graph_from_lines(lines)
    assert shape(g) == (11, 10)
    assert edge_set(g) == {
        ((0.0, 0.0), (100.0, 0.0)),
        ((100.0, 0.0), (200.0, 0.0)),
        ((200.0, 0.0), (300.0, 0.0), (300.0, 100.0)),
        ((300.0, 100.0), (300.0, 200.0)),
        ((200.0, -50.0), (200.0, 0.0)), ((200.0, 0.0), (200.0, 50.0)),
        ((100.0, -50.0), (100.0, 0.0)), ((100.0, 0.0), (100.0, 50.0)),
        ((250.0, 100.0), (300.0, 100.0)), ((300.0, 100.0), (350.0, 100.0)),
    }  # fmt: skip


def test_crossing_placed_along_a_line_that_runs_backwards():
    # line (300,0)-(0,0) runs west; crossed at x=250 and x=50: its pieces from its start
    # are 300-250, 250-50, 50-0 -> 3 + 2 + 2 = 7 edges, 2 + 4 + 2 = 8 nodes
    lines = lines_gdf([[(300, 0), (0, 0)], [(50, -10), (50, 10)], [(250, -10), (250, 10)]])
    g = graph_from_lines(lines)
    assert shape(g) == (8, 7)
    assert {((250.0, 0.0), (300.0, 0.0)), ((50.0, 0.0), (250.0, 0.0)),
            ((0.0, 0.0), (50.0, 0.0))} <= edge_set(g)  # fmt: skip
    np.testing.assert_allclose(sorted(g.edge_length_m), [10] * 4 + [50, 50, 200])


def test_line_ending_on_an_interior_vertex_splits_the_other():
    # B ends at A's interior vertex (100, 0) without crossing it: A splits there
    lines = lines_gdf([[(0, 0), (100, 0), (200, 0)], [(100, 0), (100, 80)]])
    for node in (True, False):
        g = graph_from_lines(lines, node_crossings=node)
        assert shape(g) == (4, 3)
        assert edge_set(g) == {((0.0, 0.0), (100.0, 0.0)), ((100.0, 0.0), (200.0, 0.0)),
                               ((100.0, 0.0), (100.0, 80.0))}  # fmt: skip


def test_line_through_another_line_s_vertex_is_noded_there_once():
    # B passes through A's interior vertex (100, 0): one node there, A and B both split
    lines = lines_gdf([[(0, 0), (100, 0), (200, 0)], [(100, -50), (100, 50)]])
    g = graph_from_lines(lines)
    assert shape(g) == (5, 4)
    assert ((100.0, -50.0), (100.0, 0.0)) in edge_set(g)


def test_overlapping_lines_are_noded_at_the_overlap_ends():
    # A (0,0)-(200,0) and B (100,0)-(300,0) overlap on 100..200: A splits at 100,
    # B at 200; the two 100-200 pieces are equal -> one is dropped: 3 edges, 4 nodes
    g = graph_from_lines(lines_gdf([[(0, 0), (200, 0)], [(100, 0), (300, 0)]]))
    assert shape(g) == (4, 3)
    np.testing.assert_array_equal(sorted(g.edge_length_m), [100.0, 100.0, 100.0])


def test_lines_sharing_only_an_end_are_joined_there():
    # an L: (0,0)-(100,0) and (100,0)-(100,100); no crossing, one shared node
    g = graph_from_lines(lines_gdf([[(0, 0), (100, 0)], [(100, 0), (100, 100)]]))
    assert shape(g) == (3, 2)
    assert int(g.component.max()) == 0


def test_consecutive_duplicate_vertices_are_dropped():
    lines = lines_gdf([[(0, 0), (0, 0), (100, 0), (100, 0), (100, 0), (200, 0)]])
    g = graph_from_lines(lines, node_crossings=False)
    assert edge_set(g) == {((0.0, 0.0), (100.0, 0.0), (200.0, 0.0))}


def test_consecutive_duplicate_vertices_are_dropped_on_every_line():
    # the duplicates sit on the second line: still one edge per line, not split at the
    # repeated vertex (100, 0)
    lines = lines_gdf([[(500, 500), (600, 500)],
                       [(0, 0), (0, 0), (100, 0), (100, 0), (200, 0)]])  # fmt: skip
    g = graph_from_lines(lines, node_crossings=False)
    assert edge_set(g) == {((0.0, 0.0), (100.0, 0.0), (200.0, 0.0)),
                           ((500.0, 500.0), (600.0, 500.0))}  # fmt: skip


def test_vertex_used_twice_on_one_line_is_a_node():
    # a figure-eight-ish line passing (100, 0) twice: (0,0)-(100,0)-(100,100)-(200,100)
    # -(200,0)-(100,0)-(100,-100): pieces 0->(100,0), the loop back to (100,0), then on
    # to (100,-100) -> 3 edges, nodes (0,0), (100,0), (100,-100) = 3
    lines = lines_gdf([[(0, 0), (100, 0), (100, 100), (200, 100), (200, 0), (100, 0),
                        (100, -100)]])  # fmt: skip
    g = graph_from_lines(lines, node_crossings=False)
    assert shape(g) == (3, 3)
    np.testing.assert_allclose(sorted(g.edge_length_m), [100.0, 100.0, 400.0])


def test_closed_ring_is_a_self_loop():
    # a closed 4 x 100 m loop: its start and end are one node, one 400 m edge
    g = graph_from_lines(lines_gdf([[(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]]))
    assert shape(g) == (1, 1)
    assert (int(g.edge_u[0]), int(g.edge_v[0])) == (0, 0)
    np.testing.assert_array_equal(g.edge_length_m, [400.0])


def test_parallel_edges_of_different_shape_are_kept_equal_ones_dropped():
    # between (0,0) and (100,0): a straight line (100 m), a detour via (50,50)
    # (2 * 50 * sqrt 2 = 141.42 m), the straight line reversed (equal: dropped), and the
    # straight line again with a midpoint vertex (equal as a set of points: dropped)
    lines = lines_gdf([[(0, 0), (50, 50), (100, 0)], [(0, 0), (100, 0)], [(100, 0), (0, 0)],
                       [(0, 0), (50, 0), (100, 0)]])  # fmt: skip
    g = graph_from_lines(lines, node_crossings=False)
    assert shape(g) == (2, 2)
    # the kept edges stay in input order: the detour first
    np.testing.assert_allclose(g.edge_length_m, [100.0 * np.sqrt(2.0), 100.0])


def test_short_edges_are_kept():
    # a 0.25 m stub and a 0.5 m street are real edges
    g = graph_from_lines(lines_gdf([[(0, 0), (0.5, 0)], [(10, 10), (10, 10.25)]]))
    np.testing.assert_array_equal(g.edge_length_m, [0.5, 0.25])


def test_unused_nodes_are_dropped_and_edges_renumbered():
    # two separate 1-edge streets: 4 nodes; every edge end is a node of the graph
    g = graph_from_lines(lines_gdf([[(0, 0), (10, 0)], [(0, 50), (30, 50)]]))
    assert shape(g) == (4, 2)
    for e, geom in enumerate(g.edge_geometry):
        c = shapely.get_coordinates(geom)
        np.testing.assert_array_equal(c[0], g.node_xy[g.edge_u[e]])
        np.testing.assert_array_equal(c[-1], g.node_xy[g.edge_v[e]])


def random_segments(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return shapely.linestrings(rng.uniform(0, 1000, (n, 2, 2)) + (X0, Y0))


@pytest.mark.parametrize("seed", [5, 11])
def test_nodes_are_the_ends_and_the_geos_pairwise_intersections(seed):
    # independent: GEOS intersection of every pair of input segments (exact doubles);
    # the graph's nodes are exactly the segment ends plus these points
    segs = random_segments(seed, 40)
    g = graph_from_lines(gpd.GeoDataFrame(geometry=segs, crs=CRS))
    i, j = np.triu_indices(len(segs), k=1)
    meet = shapely.intersection(segs[i], segs[j])
    want = np.unique(
        np.concatenate([shapely.get_coordinates(meet), shapely.get_coordinates(segs)]), axis=0
    )
    np.testing.assert_array_equal(np.unique(g.node_xy, axis=0), want)
    # every edge runs from its edge_u node to its edge_v node, and is a straight piece
    for e, geom in enumerate(g.edge_geometry):
        c = shapely.get_coordinates(geom)
        assert c.shape == (2, 2)
        np.testing.assert_array_equal(c[0], g.node_xy[g.edge_u[e]])
        np.testing.assert_array_equal(c[-1], g.node_xy[g.edge_v[e]])
    # noding only cuts: the edges add up to the lines' length
    assert g.edge_length_m.sum() == pytest.approx(shapely.length(segs).sum(), rel=1e-12)
    # each edge is the segment between consecutive meeting points of its line, so no
    # edge contains a node in its interior
    inner = shapely.points(g.node_xy)
    tree = shapely.STRtree(g.edge_geometry)
    pt, ed = tree.query(inner, predicate="intersects")
    np.testing.assert_array_equal(
        (g.edge_u[ed] == pt) | (g.edge_v[ed] == pt), np.ones(pt.size, dtype=bool)
    )


@pytest.mark.parametrize(
    ("seed", "low", "high"),
    [(1, -1000.0, 1000.0), (2, -1.0, 1.0), (3, -1e5, 1e5), (4, -1e-3, 1e-3)],
)
def test_crossings_near_the_crs_origin_are_the_geos_doubles(seed, low, high):
    # segments around (0, 0), where the differences of coordinates are not exact in
    # doubles: each crossing is still the double GEOS returns (bug found by mutation
    # testing: about 1 in 3 crossings came out 1 ulp off before the fix)
    rng = np.random.default_rng(seed)
    segs = shapely.linestrings(rng.uniform(low, high, (40, 2, 2)))
    g = graph_from_lines(gpd.GeoDataFrame(geometry=segs, crs=CRS))
    i, j = np.triu_indices(len(segs), k=1)
    meet = shapely.get_coordinates(shapely.intersection(segs[i], segs[j]))
    want = np.unique(np.concatenate([meet, shapely.get_coordinates(segs)]), axis=0)
    np.testing.assert_array_equal(np.unique(g.node_xy, axis=0), want)


def test_random_polylines_match_pairwise_intersections():
    # bent lines (3 to 5 vertices): crossings on later segments are placed by the
    # distance along the whole line; same independent check as above
    rng = np.random.default_rng(17)
    geoms = [
        LineString(rng.uniform(0, 600, (int(k), 2)) + (X0, Y0)) for k in rng.integers(3, 6, 15)
    ]
    g = graph_from_lines(gpd.GeoDataFrame(geometry=geoms, crs=CRS))
    segs = []
    for line in geoms:
        c = shapely.get_coordinates(line)
        segs += [LineString(c[k : k + 2]) for k in range(len(c) - 1)]
    segs_a = np.array(segs, dtype=object)
    i, j = np.triu_indices(len(segs_a), k=1)
    ends = shapely.get_coordinates(shapely.boundary(geoms))
    # a line's own segments meet at its vertices, which are no nodes unless shared, and a
    # line is not noded where it crosses itself: compare the points where segments of
    # different lines meet, plus the line ends
    line_of = np.repeat(np.arange(len(geoms)), [len(shapely.get_coordinates(x)) - 1 for x in geoms])
    other = line_of[i] != line_of[j]
    meet = shapely.get_coordinates(shapely.intersection(segs_a[i[other]], segs_a[j[other]]))
    want = np.unique(np.concatenate([meet, ends]), axis=0)
    np.testing.assert_array_equal(np.unique(g.node_xy, axis=0), want)
    assert g.edge_length_m.sum() == pytest.approx(shapely.length(geoms).sum(), rel=1e-12)
    for e, geom in enumerate(g.edge_geometry):
        c = shapely.get_coordinates(geom)
        np.testing.assert_array_equal(c[0], g.node_xy[g.edge_u[e]])
        np.testing.assert_array_equal(c[-1], g.node_xy[g.edge_v[e]])


def test_info_log_counts_nodes_and_edges(caplog):
    # the -v log lines name the graph's size and the crossings: CROSS plus a second
    # vertical at x=50 crosses the street twice; nodes 6 ends + 2 crossings = 8, edges
    # 3 street pieces + 2 + 2 = 7
    with caplog.at_level(logging.DEBUG, logger="urbanform.network.noding"):
        graph_from_lines(lines_gdf(CROSS + [[(50, -100), (50, 100)]]))
    assert "walk graph: 8 nodes, 7 edges" in caplog.messages
    assert "noding: 2 crossing points inserted" in caplog.messages


def test_debug_log_counts_duplicates(caplog):
    lines = lines_gdf([[(0, 0), (100, 0)], [(100, 0), (0, 0)], [(0, 0), (100, 0)]])
    with caplog.at_level(logging.DEBUG, logger="urbanform.network.noding"):
        graph_from_lines(lines, node_crossings=False)
    assert "noding: 2 duplicate edges removed" in caplog.messages


# --- OSM extracts -------------------------------------------------------------------------

# One 2-node way per tag set, way k from (lat 60.170, lon 24.90 + 0.002 k) north to lat
# 60.171, no way sharing a node with another, so each kept way is one edge whose
# longitude tells which way it is. (tag sets, walkable under OSMnx's 'walk' filter)
WAYS: list[tuple[dict[str, str], bool]] = [
    ({"highway": "footway"}, True),
    ({"highway": "residential"}, True),
    ({"highway": "service", "service": "driveway"}, True),
    ({"highway": "path", "foot": "yes"}, True),
    ({"highway": "path", "area": "no"}, True),
    ({"highway": "service", "access": "destination"}, True),
    ({"highway": "service", "access": "no", "foot": "yes"}, True),
    ({"highway": "service", "access": "private", "foot": "designated"}, True),
    ({"highway": "service", "access": "no", "foot": "permissive"}, True),
    ({"highway": "service", "access": "no", "foot": "official"}, True),
    ({"highway": "residential", "sidewalk": "both"}, True),
    ({"highway": "footway", "foot": "no"}, False),
    ({"highway": "pedestrian", "area": "yes"}, False),
    ({"highway": "service", "service": "private"}, False),
    ({"highway": "service", "access": "no"}, False),
    ({"highway": "service", "access": "private"}, False),
    ({"highway": "service", "access": "private", "foot": "customers"}, False),
    ({"highway": "residential", "sidewalk": "separate"}, False),
    ({"highway": "residential", "sidewalk:both": "separate"}, False),
    ({"highway": "residential", "sidewalk:left": "separate"}, False),
    ({"highway": "residential", "sidewalk:right": "separate"}, False),
    ({"railway": "rail"}, False),
] + [
    ({"highway": v}, False)
    for v in ("abandoned", "bus_guideway", "construction", "cycleway", "motor", "motorway",
              "motorway_link", "no", "planned", "platform", "proposed", "raceway", "razed",
              "rest_area", "services")
]  # fmt: skip


def osm_xml(ways: list[dict[str, str]], extra: str = "") -> str:
    nodes, body = [], []
    for k, tags in enumerate(ways):
        lon = 24.90 + 0.002 * k
        nodes.append(f'<node id="{2 * k + 1}" lat="60.1700" lon="{lon:.3f}" version="1"/>')
        nodes.append(f'<node id="{2 * k + 2}" lat="60.1710" lon="{lon:.3f}" version="1"/>')
        tag = "".join(f'<tag k="{a}" v="{b}"/>' for a, b in tags.items())
        body.append(
            f'<way id="{100 + k}" version="1"><nd ref="{2 * k + 1}"/><nd ref="{2 * k + 2}"/>'
            f"{tag}</way>"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\" generator=\"hand\">\n"
        + "\n".join(nodes + body)
        + extra
        + "\n</osm>\n"
    )


def kept_ways(g) -> list[int]:
    """Index k of each way in the graph, from the longitude of its edge's start."""
    to_wgs = pyproj.Transformer.from_crs(g.crs, "EPSG:4326", always_xy=True)
    lon, _ = to_wgs.transform(g.node_xy[g.edge_u, 0], g.node_xy[g.edge_u, 1])
    return sorted(np.rint((np.asarray(lon) - 24.90) / 0.002).astype(int).tolist())


@pytest.fixture(scope="module")
def tag_xml(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("osm") / "tags.osm"
    path.write_text(osm_xml([t for t, _ in WAYS]), encoding="utf-8")
    return path


def test_xml_walk_filter_keeps_exactly_the_walkable_ways(tag_xml):
    # module docstring of urbanform/network/osm.py (OSMnx 'walk' filter)
    g = graph_from_osm(tag_xml, crs="EPSG:3067")
    assert kept_ways(g) == [k for k, (_, ok) in enumerate(WAYS) if ok]


@pytest.mark.parametrize("network_type", ["walking", "walk"])
def test_xml_walking_names_filter_alike(tag_xml, network_type):
    g = graph_from_osm(tag_xml, network_type=network_type, crs="EPSG:3067")
    assert g.n_edges == sum(ok for _, ok in WAYS)


def test_xml_network_type_all_keeps_every_way(tag_xml):
    # 'all' applies no tag filter: all 37 ways, the non-highway railway included
    g = graph_from_osm(tag_xml, network_type="all", crs="EPSG:3067")
    assert kept_ways(g) == list(range(len(WAYS)))


def test_xml_graph_is_in_the_given_crs_or_the_utm_zone(tag_xml):
    # longitude 24.9 lies in UTM zone 35 (24 E - 30 E): EPSG:32635 by default
    assert graph_from_osm(tag_xml, crs="EPSG:3067").crs.to_epsg() == 3067
    assert graph_from_osm(tag_xml, crs=pyproj.CRS(3857)).crs.to_epsg() == 3857
    g = graph_from_osm(tag_xml)
    assert g.crs.to_epsg() == 32635
    # node (60.170 N, 24.900 E) in EPSG:32635 by pyproj
    x, y = pyproj.Transformer.from_crs(4326, 32635, always_xy=True).transform(24.90, 60.17)
    assert np.min(np.hypot(g.node_xy[:, 0] - x, g.node_xy[:, 1] - y)) < 1e-6


def test_xml_osmnx_settings_are_restored(tag_xml):
    import osmnx as ox

    before = list(ox.settings.useful_tags_way)
    graph_from_osm(tag_xml, crs="EPSG:3067")
    assert ox.settings.useful_tags_way == before


def test_xml_crossing_ways_join_only_at_shared_nodes(tmp_path):
    # a footway crossing a street without a shared node (a footbridge, say) does not
    # connect; a third way sharing the street's end node does: 6 nodes, 3 edges,
    # components {street, third way} and {footway}
    xml = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="60.1700" lon="24.9400" version="1"/>
  <node id="2" lat="60.1700" lon="24.9420" version="1"/>
  <node id="3" lat="60.1690" lon="24.9410" version="1"/>
  <node id="4" lat="60.1710" lon="24.9410" version="1"/>
  <node id="5" lat="60.1710" lon="24.9430" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
  <way id="11" version="1"><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/></way>
  <way id="12" version="1"><nd ref="2"/><nd ref="5"/><tag k="highway" v="footway"/></way>
</osm>
"""
    path = tmp_path / "cross.osm"
    path.write_text(xml)
    g = graph_from_osm(path, crs="EPSG:3067")
    assert (g.n_nodes, g.n_edges, int(g.component.max())) == (5, 3, 1)


@pytest.mark.parametrize("name", ["Tiny.OSM", "tiny.xml", "TINY.XML"])
def test_xml_suffixes_in_any_case(tmp_path, name):
    path = tmp_path / name
    path.write_text(osm_xml([{"highway": "footway"}, {"highway": "footway"}]))
    assert graph_from_osm(path, crs="EPSG:3067").n_edges == 2


def test_xml_keeps_small_components(tmp_path):
    # two separate ways of one edge each: both kept (no largest-component filter)
    path = tmp_path / "two.osm"
    path.write_text(osm_xml([{"highway": "footway"}, {"highway": "residential"}]))
    g = graph_from_osm(path, crs="EPSG:3067")
    assert (g.n_edges, int(g.component.max())) == (2, 1)


def test_xml_way_keeps_every_vertex(tmp_path):
    # a 3-node way bent at node 2 stays two edges (no simplification): 3 nodes, 2 edges
    xml = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="60.1700" lon="24.9400" version="1"/>
  <node id="2" lat="60.1700" lon="24.9420" version="1"/>
  <node id="3" lat="60.1710" lon="24.9420" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/></way>
</osm>
"""
    path = tmp_path / "bent.osm"
    path.write_text(xml)
    g = graph_from_osm(path, crs="EPSG:3067")
    assert (g.n_nodes, g.n_edges) == (3, 2)


def test_xml_without_walkable_way_message(tmp_path):
    path = tmp_path / "cars.osm"
    path.write_text(osm_xml([{"highway": "motorway"}, {"highway": "cycleway"}]))
    with pytest.raises(LayerError) as err:
        graph_from_osm(path)
    assert str(err.value) == f"OSM extract {path} holds no walking way; check the extract"


def test_xml_unknown_network_type_message(tmp_path):
    path = tmp_path / "t.osm"
    path.write_text(osm_xml([{"highway": "footway"}]))
    with pytest.raises(LayerError) as err:
        graph_from_osm(path, network_type="driving")
    assert str(err.value) == (
        f"OSM extract {path}: network_type 'driving' is not supported for XML; "
        "use 'walking' or 'all', or convert the file to .osm.pbf"
    )


def test_xml_read_error_message(tmp_path, monkeypatch):
    # the reader's error type and its first 120 characters are quoted; settings restored
    import osmnx as ox

    before = list(ox.settings.useful_tags_way)

    def broken(*args, **kwargs):
        raise ValueError("y" * 200)

    monkeypatch.setattr(ox, "graph_from_xml", broken)
    path = tmp_path / "t.osm"
    path.write_text("<osm/>")
    with pytest.raises(LayerError) as err:
        graph_from_osm(path)
    assert str(err.value) == (
        f"OSM extract {path} cannot be read as .osm XML (ValueError: {'y' * 120}); "
        "check that the file is complete"
    )
    assert ox.settings.useful_tags_way == before


def test_xml_reader_gets_the_tags_the_filter_needs(tmp_path, monkeypatch):
    # while osmnx reads, its way tags include foot, access, area, service and sidewalks
    import osmnx as ox

    seen = []
    real = ox.graph_from_xml

    def spy(*args, **kwargs):
        seen.append(set(ox.settings.useful_tags_way))
        return real(*args, **kwargs)

    monkeypatch.setattr(ox, "graph_from_xml", spy)
    path = tmp_path / "t.osm"
    path.write_text(osm_xml([{"highway": "footway"}]))
    graph_from_osm(path, crs="EPSG:3067")
    need = {"foot", "access", "area", "service", "sidewalk", "sidewalk:both", "sidewalk:left",
            "sidewalk:right", "highway"}  # fmt: skip
    assert need <= seen[0]


def test_missing_file_message(tmp_path):
    path = tmp_path / "nowhere.osm.pbf"
    with pytest.raises(LayerError) as err:
        graph_from_osm(str(path))
    assert str(err.value) == f"OSM extract {path} does not exist; check the 'source: osm:' path"


def test_directory_is_not_a_file(tmp_path):
    folder = tmp_path / "x.osm"
    folder.mkdir()
    with pytest.raises(LayerError, match="does not exist"):
        graph_from_osm(folder)


def test_unknown_format_message(tmp_path):
    path = tmp_path / "streets.geojson"
    path.write_text("{}")
    with pytest.raises(LayerError) as err:
        graph_from_osm(path)
    assert str(err.value) == (f"OSM extract {path}: unknown format; give an .osm.pbf or .osm file")


class FakeOSM:
    """Stands in for pyrosm.OSM: records the call, returns two WGS 84 ways."""

    calls: list[tuple[str, str]] = []

    def __init__(self, path: str) -> None:
        self.path = path

    def get_network(self, network_type: str) -> gpd.GeoDataFrame:
        FakeOSM.calls.append((self.path, network_type))
        # a way bent at its middle vertex, one crossing it with no shared vertex and a
        # row without geometry (dropped)
        return gpd.GeoDataFrame(
            geometry=[
                LineString([(24.940, 60.170), (24.942, 60.170), (24.942, 60.171)]),
                LineString([(24.941, 60.169), (24.941, 60.171)]),
                None,
            ],
            crs="EPSG:4326",
        )


@pytest.fixture
def fake_pyrosm(monkeypatch):
    import importlib

    real = importlib.import_module
    fake = types.SimpleNamespace(OSM=FakeOSM)
    FakeOSM.calls = []

    def import_module(name, *args):
        return fake if name == "pyrosm" else real(name, *args)

    monkeypatch.setattr(importlib, "import_module", import_module)
    return fake


@pytest.mark.parametrize("name", ["x.osm.pbf", "X.OSM.PBF"])
def test_pbf_ways_are_joined_only_at_shared_vertices(tmp_path, fake_pyrosm, name):
    # the bent way is one edge (its middle vertex is shared with no way): 2 nodes; the
    # crossing way 2 more nodes, 1 edge, not joined: 2 components
    path = tmp_path / name
    path.write_bytes(b"pbf")
    g = graph_from_osm(path, crs="EPSG:3067")
    assert (g.n_nodes, g.n_edges, int(g.component.max()), g.crs.to_epsg()) == (4, 2, 1, 3067)
    assert FakeOSM.calls == [(str(path), "walking")]


def test_pbf_network_type_is_passed_to_pyrosm(tmp_path, fake_pyrosm):
    path = tmp_path / "x.osm.pbf"
    path.write_bytes(b"pbf")
    g = graph_from_osm(path, network_type="all")
    assert FakeOSM.calls == [(str(path), "all")]
    assert g.crs.to_epsg() == 32635  # UTM zone 35 N for longitude 24.9


def test_pbf_without_ways_message(tmp_path, monkeypatch):
    import importlib

    class Empty(FakeOSM):
        def get_network(self, network_type: str):
            return None  # pyrosm returns None when no way matches

    real = importlib.import_module
    fake = types.SimpleNamespace(OSM=Empty)
    monkeypatch.setattr(
        importlib, "import_module", lambda n, *a: fake if n == "pyrosm" else real(n, *a)
    )
    path = tmp_path / "x.osm.pbf"
    path.write_bytes(b"pbf")
    with pytest.raises(LayerError) as err:
        graph_from_osm(path, network_type="cycling")
    assert str(err.value) == f"OSM extract {path} holds no cycling way; check the extract"


def test_pbf_read_error_message(tmp_path, monkeypatch):
    import importlib

    class Broken:
        def __init__(self, path: str) -> None:
            raise KeyError("z" * 200)

    real = importlib.import_module
    fake = types.SimpleNamespace(OSM=Broken)
    monkeypatch.setattr(
        importlib, "import_module", lambda n, *a: fake if n == "pyrosm" else real(n, *a)
    )
    path = tmp_path / "x.osm.pbf"
    path.write_bytes(b"pbf")
    with pytest.raises(LayerError) as err:
        graph_from_osm(path)
    # str(KeyError('zz..')) is the repr "'zz..'": its first 120 characters are ' and 119 z
    assert str(err.value) == (
        f"OSM extract {path} cannot be read as .osm.pbf (KeyError: '{'z' * 119}); "
        "check that the file is complete"
    )


def test_pbf_without_pyrosm_message(tmp_path, monkeypatch):
    import importlib

    real = importlib.import_module

    def no_pyrosm(name, *args):
        if name == "pyrosm":
            raise ImportError("No module named 'pyrosm'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_pyrosm)
    path = tmp_path / "x.osm.pbf"
    path.write_bytes(b"pbf")
    with pytest.raises(LayerError) as err:
        graph_from_osm(path)
    assert str(err.value) == (
        f"OSM extract {path}: reading .osm.pbf needs pyrosm; pip install pyrosm"
    )


def test_osm_info_log(tmp_path, fake_pyrosm, caplog):
    path = tmp_path / "x.osm.pbf"
    path.write_bytes(b"pbf")
    with caplog.at_level(logging.INFO, logger="urbanform.network.osm"):
        graph_from_osm(path, crs="EPSG:3067")
    # 2 ways with a geometry (the third row has none)
    assert "OSM x.osm.pbf: 2 ways, working CRS EPSG:3067" in caplog.messages


# --- more gaps found by mutation testing ----------------------------------------------------


def local_gdf(coord_lists) -> gpd.GeoDataFrame:
    """Lines in raw coordinates (no offset), near the CRS origin."""
    return gpd.GeoDataFrame(geometry=[LineString(c) for c in coord_lists], crs=CRS)


@pytest.mark.parametrize(
    "coords",
    [
        [[(0, 5), (10, 5)], [(5, 5), (5, -5)]],
        [[(5, 5), (15, 5)], [(10, 5), (10, -5)]],
    ],
)
def test_t_junction_with_equal_x_and_y_values(coords):
    # the second line ends on the first one's interior: the first splits there into two
    # 5 m pieces; the 10 m stem: 3 edges, 4 nodes
    g = graph_from_lines(local_gdf(coords))
    assert shape(g) == (4, 3)
    np.testing.assert_array_equal(sorted(g.edge_length_m), [5.0, 5.0, 10.0])


def test_collinear_lines_sharing_an_end_are_noded_along_their_overlap():
    # A (0,0)-(200,0) and B (0,0)-(100,0) share the end (0,0) and overlap on 0..100: A
    # splits at 100; B equals A's first piece and is dropped: edges 100 + 100 m
    g = graph_from_lines(lines_gdf([[(0, 0), (200, 0)], [(0, 0), (100, 0)]]))
    assert shape(g) == (3, 2)
    np.testing.assert_array_equal(sorted(g.edge_length_m), [100.0, 100.0])


def test_crossings_along_a_line_through_the_origin():
    # in raw coordinates, A (-100,0)-(100,0)-(100,200) runs through the origin; B crosses
    # it at (0,0) and C at (100,150). A's pieces: (-100,0)-(0,0), (0,0)-(100,0)-(100,150),
    # (100,150)-(100,200); B and C split in two: 7 edges; 6 ends + 2 crossings = 8 nodes
    g = graph_from_lines(
        local_gdf([[(-100, 0), (100, 0), (100, 200)], [(0, -50), (0, 50)], [(50, 150), (150, 150)]])
    )
    pieces = {tuple(map(tuple, shapely.get_coordinates(e).tolist())) for e in g.edge_geometry}
    assert ((-100.0, 0.0), (0.0, 0.0)) in pieces
    assert ((0.0, 0.0), (100.0, 0.0), (100.0, 150.0)) in pieces
    assert ((100.0, 150.0), (100.0, 200.0)) in pieces
    assert shape(g) == (8, 7)


def test_xml_filter_does_not_rely_on_the_osmnx_tag_settings(tmp_path, monkeypatch):
    # with osmnx told to keep only 'highway', the filter still sees access, area, service,
    # foot and sidewalk tags: only the two plain footways (ways 0 and 6) remain
    import osmnx as ox

    monkeypatch.setattr(ox.settings, "useful_tags_way", ["highway"])
    ways = [
        {"highway": "footway"},
        {"highway": "service", "access": "private"},
        {"highway": "pedestrian", "area": "yes"},
        {"highway": "service", "service": "private"},
        {"highway": "footway", "foot": "no"},
        {"highway": "residential", "sidewalk:left": "separate"},
        {"highway": "footway"},
    ]
    path = tmp_path / "t.osm"
    path.write_text(osm_xml(ways))
    assert kept_ways(graph_from_osm(path, crs="EPSG:3067")) == [0, 6]
    assert ox.settings.useful_tags_way == ["highway"]


def test_xml_without_any_highway_tag_holds_no_walking_way(tmp_path):
    # no way has a highway tag (the column is absent): nothing is walkable
    path = tmp_path / "rail.osm"
    path.write_text(osm_xml([{"railway": "rail"}, {"waterway": "river"}]))
    with pytest.raises(LayerError, match="holds no walking way"):
        graph_from_osm(path)


def test_xml_list_tags_count_by_their_first_value(tmp_path, monkeypatch):
    # osmnx lists the tags of merged ways; the first value decides: [motorway, footway]
    # is not walkable, [footway, motorway] is
    import osmnx as ox

    real = ox.graph_to_gdfs

    def listed(graph, **kwargs):
        edges = real(graph, **kwargs)
        first_way = edges.index.get_level_values("u") <= 2  # way 0 has nodes 1 and 2
        edges["highway"] = [
            ["motorway", "footway"] if w else ["footway", "motorway"] for w in first_way
        ]
        return edges

    monkeypatch.setattr(ox, "graph_to_gdfs", listed)
    path = tmp_path / "t.osm"
    path.write_text(osm_xml([{"highway": "x"}] * 2))
    assert kept_ways(graph_from_osm(path, crs="EPSG:3067")) == [1]


@pytest.fixture
def geos_pairs(monkeypatch) -> list[int]:
    """Number of segment pairs handed to GEOS (shapely.intersection) per call."""
    sent: list[int] = []
    real = shapely.intersection

    def counting(a, b, *args, **kwargs):
        sent.append(len(a))
        return real(a, b, *args, **kwargs)

    monkeypatch.setattr(shapely, "intersection", counting)
    return sent


def test_proper_crossings_are_computed_without_geos(geos_pairs):
    # _meeting_points' docstring: proper crossings are computed in numpy, only touches,
    # overlaps and near-degenerate pairs go to GEOS (the speed of noding rests on it).
    # 5 horizontal and 5 vertical streets overrunning each other cross properly at right
    # angles at 25 points: no pair for GEOS. Each street splits into 6 pieces: 60 edges;
    # nodes 25 crossings + 20 ends = 45
    rows = [[(-50, k * 100), (450, k * 100)] for k in range(5)]
    cols = [[(k * 100, -50), (k * 100, 450)] for k in range(5)]
    g = graph_from_lines(lines_gdf(rows + cols))
    assert shape(g) == (45, 60)
    assert sum(geos_pairs) == 0


@pytest.mark.parametrize("scale", [1.0, 1e-3])
def test_pairs_that_cannot_meet_never_reach_geos(geos_pairs, scale):
    # _segment_candidates' docstring: pairs clearly apart (strict orientation test) or
    # only sharing an end vertex without overlapping are dropped before GEOS.
    # - an L: (0,0)-(100,0) and (100,0)-(100,100) share an end;
    # - (200,0)-(300,20) and (250,15)-(250,50): envelopes overlap, but the second lies
    #   wholly above the first (at x=250 the first is at y=10);
    # - (400,0)-(500,100) and (460,0)-(500,30): the second lies below the first;
    # - (650,15)-(650,50) listed before (600,0)-(700,20): the first lies wholly above
    #   the second (the other side of the orientation test).
    # At 1 mm scale the orientation products are below 1: still apart.
    coords = [[(0, 0), (100, 0)], [(100, 0), (100, 100)], [(200, 0), (300, 20)],
              [(250, 15), (250, 50)], [(400, 0), (500, 100)], [(460, 0), (500, 30)],
              [(650, 15), (650, 50)], [(600, 0), (700, 20)]]  # fmt: skip
    scaled = [[(x * scale, y * scale) for x, y in c] for c in coords]
    g = graph_from_lines(local_gdf(scaled))
    assert shape(g) == (15, 8)
    assert sum(geos_pairs) == 0


def test_crossings_of_long_lines_close_to_the_origin_are_the_geos_doubles():
    # 30 long lines (10 m to 100 km on either side) all passing within 1 mm of (0, 0):
    # their crossings lie near the origin, far from the middle of the segments, so the
    # extended-precision sum cancels and its error bound decides numpy vs GEOS. The
    # nodes must still be GEOS's pairwise intersections, exactly.
    rng = np.random.default_rng(0)
    c = rng.uniform(-1e-3, 1e-3, (30, 2))
    ang = rng.uniform(0, np.pi, 30)
    d = np.stack([np.cos(ang), np.sin(ang)], 1)
    s0, s1 = rng.uniform(10, 1e4, (30, 1)), rng.uniform(1e4, 1e5, (30, 1))
    segs = shapely.linestrings(np.stack([c - s0 * d, c + s1 * d], 1))
    g = graph_from_lines(gpd.GeoDataFrame(geometry=segs, crs=CRS))
    i, j = np.triu_indices(len(segs), k=1)
    meet = shapely.get_coordinates(shapely.intersection(segs[i], segs[j]))
    want = np.unique(np.concatenate([meet, shapely.get_coordinates(segs)]), axis=0)
    np.testing.assert_array_equal(np.unique(g.node_xy, axis=0), want)
