"""networkx reference distances shared by the walk-network tests."""

from __future__ import annotations

import networkx as nx
import numpy as np

from urbanform.network import Snapped, WalkGraph


def nx_reference(graph: WalkGraph, origins: Snapped, dests: Snapped, cutoff_m: float) -> np.ndarray:
    """networkx distances on the graph with every snap point inserted as a node."""
    g = nx.MultiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    on_edge: dict[int, list] = {}
    for kind, s in (("o", origins), ("d", dests)):
        for i in np.flatnonzero(s.edge >= 0):
            on_edge.setdefault(int(s.edge[i]), []).append((float(s.offset_m[i]), (kind, i)))
            g.add_edge((kind, i), (kind, i, "snap"), weight=float(s.snap_m[i]))
    for e in range(graph.n_edges):
        u, v, length = int(graph.edge_u[e]), int(graph.edge_v[e]), float(graph.edge_length_m[e])
        chain = [(0.0, u)] + sorted(on_edge.get(e, []), key=lambda t: t[0]) + [(length, v)]
        for (o1, n1), (o2, n2) in zip(chain[:-1], chain[1:], strict=True):
            g.add_edge(n1, n2, weight=o2 - o1)
    sources = [("d", i, "snap") for i in np.flatnonzero(dests.edge >= 0)]
    if not sources:
        return np.full(len(origins), np.inf)
    dist = nx.multi_source_dijkstra_path_length(g, sources, cutoff=cutoff_m, weight="weight")
    return np.array([dist.get(("o", i, "snap"), np.inf) for i in range(len(origins))])
