"""The walk graph started on a background thread (``Context.start_walk_graph``).

Park coverage starts the graph before it dissolves the residential land; the graph it
then uses must be the one :meth:`Context.walk_graph` builds on the spot, an error while
building must reach the analysis as it would have, and a second start builds nothing.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from urbanform.analyses.context import Context
from urbanform.errors import LayerError, NetworkError
from urbanform.layers.types import Layers

CRS = "EPSG:32648"


def _streets() -> gpd.GeoDataFrame:
    rows = [[(-50, k * 100.0), (450, k * 100.0)] for k in range(5)]
    cols = [[(k * 100.0, -50), (k * 100.0, 450)] for k in range(5)]
    return gpd.GeoDataFrame(geometry=shapely.linestrings(rows + cols), crs=CRS)


def test_started_graph_is_the_graph_built_on_the_spot() -> None:
    started = Context(Layers(crs=CRS, vectors={"streets": _streets()}))
    started.start_walk_graph(needed_by="park")
    on_the_spot = Context(Layers(crs=CRS, vectors={"streets": _streets()})).walk_graph()
    g = started.walk_graph()
    assert (g.n_nodes, g.n_edges) == (45, 60)  # 25 crossings + 20 ends; 10 streets x 6
    for name in ("node_xy", "edge_u", "edge_v", "edge_length_m", "component"):
        assert np.array_equal(getattr(g, name), getattr(on_the_spot, name)), name
    assert shapely.equals_exact(g.edge_geometry, on_the_spot.edge_geometry, 0).all()
    assert started.walk_graph() is g  # cached


def test_a_second_start_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = Context(Layers(crs=CRS, vectors={"streets": _streets()}))
    built = []
    real = Context._build_walk_graph

    def counting(self: Context, needed_by: str):  # type: ignore[no-untyped-def]
        built.append(needed_by)
        return real(self, needed_by)

    monkeypatch.setattr(Context, "_build_walk_graph", counting)
    ctx.start_walk_graph(needed_by="a")
    ctx.start_walk_graph(needed_by="b")
    ctx.walk_graph()
    ctx.start_walk_graph(needed_by="c")
    ctx.walk_graph()
    assert built == ["a"]


def test_an_error_while_building_is_raised_by_walk_graph() -> None:
    no_streets = Context(Layers(crs=CRS, vectors={}))
    no_streets.start_walk_graph(needed_by="park")  # no error yet: it is the thread's
    with pytest.raises(LayerError, match="analysis 'park' needs a vector layer with role"):
        no_streets.walk_graph(needed_by="park")
    points = gpd.GeoDataFrame(geometry=shapely.points([[0, 0], [1, 1]]), crs=CRS)
    bad = Context(Layers(crs=CRS, vectors={"streets": points}))
    bad.start_walk_graph(needed_by="park")
    with pytest.raises(Exception) as started:
        bad.walk_graph()
    with pytest.raises(Exception) as direct:
        Context(Layers(crs=CRS, vectors={"streets": points})).walk_graph()
    assert type(started.value) is type(direct.value)
    assert str(started.value) == str(direct.value)
    assert isinstance(started.value, LayerError | NetworkError)
