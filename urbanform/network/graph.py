"""The walk graph: an undirected street network held as flat numpy arrays.

Nodes are street intersections and dead ends; edges are the street pieces between
them, each with its geometry in the ``edge_u -> edge_v`` direction and its length in
metres. The shortest-path engine works on :meth:`WalkGraph.csgraph`, a symmetric
``scipy.sparse`` matrix, so every search runs in compiled code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from urbanform.errors import NetworkError

__all__ = ["WalkGraph", "graph_from_arrays"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WalkGraph:
    """An undirected walk network in a metric CRS.

    Attributes
    ----------
    crs
        The metric working CRS of ``node_xy`` and ``edge_geometry``.
    node_xy
        ``(n_nodes, 2)`` node coordinates.
    edge_u, edge_v
        ``(n_edges,)`` node index of each edge's start and end.
    edge_length_m
        ``(n_edges,)`` length of each edge's geometry in metres.
    edge_geometry
        ``(n_edges,)`` shapely LineStrings drawn from ``edge_u`` to ``edge_v``.
    component
        ``(n_nodes,)`` connected-component label; 0 is the largest component.
    """

    crs: pyproj.CRS
    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry: np.ndarray
    component: np.ndarray
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.edge_u.shape[0])

    def csgraph(self) -> sp.csr_matrix:
        """Symmetric ``(n_nodes, n_nodes)`` adjacency matrix of edge lengths in metres.

        Parallel edges keep their shortest length; self-loops are left out (they never
        shorten a path). The matrix is built once and cached.
        """
        if "csgraph" not in self._cache:
            self._cache["csgraph"] = _adjacency(
                self.edge_u, self.edge_v, self.edge_length_m, self.n_nodes
            )
        return self._cache["csgraph"]

    def search_csgraph(self) -> tuple[np.ndarray, sp.csr_matrix]:
        """:meth:`csgraph` renumbered for searches, and each node's new number (``rank``).

        Dijkstra settles nodes in distance order, so nodes close in space are touched
        together; numbering them along a Z-order (Morton) curve keeps its working set in
        the CPU cache (about 20-40% faster on a 100k-node grid). Dijkstra's distances do
        not depend on the numbering (each is the least sum over already-settled
        neighbours), so results are the same to the last bit: node ``i`` of the graph is
        row ``rank[i]`` here. Built once and cached.
        """
        if "search_csgraph" not in self._cache:
            self._cache["search_csgraph"] = _renumbered(self.csgraph(), self.node_xy)
        return cast("tuple[np.ndarray, sp.csr_matrix]", self._cache["search_csgraph"])

    def edge_tree(self) -> shapely.STRtree:
        """STRtree over :attr:`edge_geometry` (built once and cached)."""
        if "tree" not in self._cache:
            self._cache["tree"] = shapely.STRtree(self.edge_geometry)
        return self._cache["tree"]

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame (``u``, ``v``, ``length_m``, ``component``) for maps."""
        return gpd.GeoDataFrame(
            {
                "u": self.edge_u,
                "v": self.edge_v,
                "length_m": self.edge_length_m,
                "component": self.component[self.edge_u],
            },
            geometry=gpd.GeoSeries(self.edge_geometry, crs=self.crs),
            crs=self.crs,  # pragma: no mutate - the geometry column already has this CRS
        )


def _adjacency(u: np.ndarray, v: np.ndarray, length_m: np.ndarray, n_nodes: int) -> sp.csr_matrix:
    """Symmetric CSR matrix with the minimum length per node pair, no self-loops."""
    keep = u != v
    a, b = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
    w = length_m[keep]
    key = a * np.int64(n_nodes) + b
    order = np.lexsort((w, key))
    first = order[np.r_[True, key[order][1:] != key[order][:-1]]] if order.size else order
    a, b, w = a[first], b[first], w[first]
    rows = np.concatenate([a, b]).astype(np.int32)
    cols = np.concatenate([b, a]).astype(np.int32)
    mat = sp.csr_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n_nodes, n_nodes))
    mat.sort_indices()
    return mat


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """Spread the 16 low bits of ``v`` (uint32) to the even bit positions."""
    for shift, mask in ((8, 0x00FF00FF), (4, 0x0F0F0F0F), (2, 0x33333333), (1, 0x55555555)):
        v = (v | (v << np.uint32(shift))) & np.uint32(mask)
    return v


def _morton_order(xy: np.ndarray) -> np.ndarray:
    """Node indices sorted along a Z-order (Morton) curve over a 2**16 x 2**16 grid."""
    x, y = xy[:, 0], xy[:, 1]
    x0, y0 = x.min(), y.min()
    span = max(float(x.max() - x0), float(y.max() - y0), 1e-9)
    scale = 65535.0 / span
    cx = np.minimum((x - x0) * scale, 65535.0).astype(np.uint32)
    cy = np.minimum((y - y0) * scale, 65535.0).astype(np.uint32)
    return np.argsort(_spread_bits(cx) | (_spread_bits(cy) << np.uint32(1)))


def _renumbered(base: sp.csr_matrix, node_xy: np.ndarray) -> tuple[np.ndarray, sp.csr_matrix]:
    """``base`` with its nodes renumbered along a Z-order curve, and each node's new number."""
    order = _morton_order(node_xy)  # new number -> node
    rank = np.empty(order.size, dtype=base.indices.dtype)
    rank[order] = np.arange(order.size, dtype=rank.dtype)
    counts = np.diff(base.indptr)[order]
    indptr = np.zeros(order.size + 1, dtype=base.indptr.dtype)
    np.cumsum(counts, out=indptr[1:])
    src = np.repeat(base.indptr[:-1][order] - indptr[:-1], counts)
    src += np.arange(src.size, dtype=src.dtype)
    mat = sp.csr_matrix((base.data[src], rank[base.indices[src]], indptr), shape=base.shape)
    return rank, mat


def label_components(u: np.ndarray, v: np.ndarray, n_nodes: int) -> np.ndarray:
    """Connected-component label per node, 0 for the largest, then by decreasing size."""
    if n_nodes == 0:
        return np.zeros(0, dtype=np.int64)
    ones = np.ones(u.size, dtype=np.int8)
    adj = sp.csr_matrix((ones, (u, v)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(adj, directed=False)
    sizes = np.bincount(labels)
    # rank by size descending; ties by first appearance (stable)
    rank = np.empty(sizes.size, dtype=np.int64)
    rank[np.argsort(-sizes, kind="stable")] = np.arange(sizes.size)
    return cast(np.ndarray, rank[labels])


def graph_from_arrays(
    node_xy: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    *,
    crs: pyproj.CRS | str,
    edge_geometry: np.ndarray | None = None,
) -> WalkGraph:
    """Build a :class:`WalkGraph` from node coordinates and edge node pairs.

    Parameters
    ----------
    node_xy
        ``(n_nodes, 2)`` coordinates in the metric ``crs``.
    edge_u, edge_v
        Node index of each edge's ends.
    crs
        Metric CRS of the coordinates.
    edge_geometry
        Optional LineStrings from ``u`` to ``v``; straight segments when omitted.

    Returns
    -------
    WalkGraph
        Lengths measured on the geometries, components labelled.

    Raises
    ------
    NetworkError
        If there is no edge or an edge refers to a missing node.
    """
    node_xy = np.asarray(node_xy, dtype=np.float64).reshape(-1, 2)
    edge_u = np.asarray(edge_u, dtype=np.int64)
    edge_v = np.asarray(edge_v, dtype=np.int64)
    n = node_xy.shape[0]
    if edge_u.size == 0:
        raise NetworkError("walk graph: no edge given; give at least one street segment")
    if min(edge_u.min(), edge_v.min()) < 0 or max(edge_u.max(), edge_v.max()) >= n:
        raise NetworkError(f"walk graph: an edge refers to a node outside 0..{n - 1}")
    if edge_geometry is None:
        pairs = np.stack([node_xy[edge_u], node_xy[edge_v]], axis=1)
        edge_geometry = shapely.linestrings(pairs)
    length_m = shapely.length(edge_geometry).astype(np.float64)
    return WalkGraph(
        crs=pyproj.CRS.from_user_input(crs),
        node_xy=node_xy,
        edge_u=edge_u,
        edge_v=edge_v,
        edge_length_m=length_m,
        edge_geometry=np.asarray(edge_geometry, dtype=object),
        component=label_components(edge_u, edge_v, n),
    )
