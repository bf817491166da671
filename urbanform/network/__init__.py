"""Walk network engine: graph from street lines or OSM, snapping, multi-source distances.

Typical use::

    graph = graph_from_lines(streets)                  # or graph_from_osm("city.osm.pbf")
    homes = snap_points(graph, population.geometry, max_snap_m=100)
    parks = snap_points(graph, park_access_points, max_snap_m=100)
    walk_m = nearest_distance(graph, homes, parks, cutoff_m=500)   # inf beyond 500 m
"""

from __future__ import annotations

from urbanform.network.catchment import (
    merge_intervals,
    reach_intervals,
    reached_edges,
    substrings,
)
from urbanform.network.distances import (
    component_report,
    distance_from_sources,
    end_costs,
    nearest_distance,
    same_edge_walk_m,
    via_nearer_end,
)
from urbanform.network.graph import WalkGraph, graph_from_arrays
from urbanform.network.noding import graph_from_lines
from urbanform.network.osm import graph_from_osm
from urbanform.network.snapping import Snapped, island_warning, near_street, snap_points

__all__ = [
    "Snapped",
    "WalkGraph",
    "component_report",
    "distance_from_sources",
    "end_costs",
    "graph_from_arrays",
    "graph_from_lines",
    "graph_from_osm",
    "island_warning",
    "merge_intervals",
    "near_street",
    "nearest_distance",
    "reach_intervals",
    "reached_edges",
    "same_edge_walk_m",
    "snap_points",
    "substrings",
    "via_nearer_end",
]
