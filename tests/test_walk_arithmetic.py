"""The walking arithmetic of urbanform.network that TOD catchments share with distances.

One 100 m edge from node 0 at x = 0 to node 1 at x = 100; answers worked out by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from urbanform.network import (
    end_costs,
    graph_from_arrays,
    reach_intervals,
    same_edge_walk_m,
    via_nearer_end,
)
from urbanform.network.distances import _same_edge_distance

CRS = "EPSG:32648"


@pytest.fixture
def edge():
    return graph_from_arrays([[0, 0], [100, 0]], [0], [1], crs=CRS)


def test_end_costs_enter_both_ends(edge):
    nodes, cost = end_costs(edge, np.array([0, 0]), np.array([30.0, 100.0]), np.array([5.0, 0.0]))
    assert nodes.tolist() == [0, 0, 1, 1]
    assert cost.tolist() == [35.0, 100.0, 75.0, 0.0]


def test_via_nearer_end_takes_the_shorter_sum(edge):
    # 30 m to u then 50 m = 80; 70 m to v then 5 m = 75
    got = via_nearer_end(edge, np.array([0]), np.array([30.0]), np.array([50.0]), np.array([5.0]))
    assert got.tolist() == [75.0]


def test_same_edge_walk_at_the_same_offset_is_the_destination_cost():
    assert same_edge_walk_m(np.array([40.0]), np.array([40.0]), np.array([8.0])).tolist() == [8.0]


def test_same_edge_walk_ahead_and_behind():
    got = same_edge_walk_m(np.array([40.0, 40.0]), np.array([90.0, 10.0]), np.array([1.0, 2.0]))
    assert got.tolist() == [51.0, 32.0]


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    o=st.lists(st.floats(0, 100), min_size=1, max_size=6),
    d=st.lists(st.tuples(st.floats(0, 100), st.floats(0, 50)), min_size=1, max_size=6),
)
def test_pairwise_same_edge_walk_equals_the_grouped_one(o, d):
    o_off = np.array(o)
    d_off, d_cost = (np.array(c) for c in zip(*d, strict=True))
    grouped = _same_edge_distance(np.zeros(o_off.size, np.int64), o_off,
                                  np.zeros(d_off.size, np.int64), d_off, d_cost)
    pairwise = same_edge_walk_m(o_off[:, None], d_off[None, :], d_cost[None, :]).min(axis=1)
    np.testing.assert_array_equal(grouped, pairwise)


def test_reach_intervals_from_each_end_and_from_a_point(edge):
    e = np.array([0])
    got = reach_intervals(
        edge, (e, np.array([30.0])), (e, np.array([20.0])), (e, np.array([50.0]), np.array([10.0]))
    )
    assert [a.tolist() for a in got] == [[0, 0, 0], [0.0, 80.0, 40.0], [30.0, 100.0, 60.0]]


def test_reach_intervals_stay_on_the_edge(edge):
    e = np.array([0])
    got = reach_intervals(
        edge, (e, np.array([500.0])), (e, np.array([500.0])), (e, np.array([5.0]), np.array([9.0]))
    )
    assert [a.tolist() for a in got] == [[0, 0, 0], [0.0, 0.0, 0.0], [100.0, 100.0, 14.0]]
