"""Web maps within their budget: simplification, H3 aggregation, context, shared pages.

Expected values are worked out by hand or by an independent method (h3-py, shapely on
the input); none comes from the code under test.
"""

from __future__ import annotations

import json

import geopandas as gpd
import h3
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box
from test_maps import CRS, X0, Y0, make_park_result

from urbanform.grid import cells_at, cells_of_points
from urbanform.layers.types import Layers
from urbanform.maps import folium_layers as fl
from urbanform.maps.context import MAIN_HIGHWAYS, context_frames, fit_budget
from urbanform.maps.deliverables import select_map_layers, share_budget
from urbanform.maps.report import CONTEXT_TOKEN, render_map_html
from urbanform.maps.thinning import aggregate_h3, simplify_to_budget, thin_for_map
from urbanform.results import LayerStyle


def _zigzag(x0: float, n: int) -> LineString:
    """A line along y = Y0 with 0.5 m wiggles: 2 vertices once simplified at 3 m."""
    return LineString([(x0 + i, Y0 + (i % 2) * 0.5) for i in range(n)])


def _points(n: int, *, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 5_000, size=(n, 2)) + [X0, Y0]
    pop = rng.integers(1, 50, size=n).astype(float)
    return gpd.GeoDataFrame({"population": pop}, geometry=shapely.points(xy), crs=CRS)


# ----------------------------------------------------------------- simplification


def test_simplify_keeps_each_feature_and_its_parts():
    multi = MultiLineString([_zigzag(X0, 101), _zigzag(X0 + 500, 51)])
    out, tol, fits = simplify_to_budget(np.array([multi, _zigzag(X0, 11)]), max_vertices=100)
    assert [g.geom_type for g in out] == ["MultiLineString", "LineString"]
    assert [len(shapely.get_parts(g)) for g in out] == [2, 1]
    assert (tol, fits) == (3.0, True)


def test_simplify_doubles_the_tolerance_until_the_budget_fits():
    # a 10 m sawtooth survives 3, 6 m and goes at 12 m (amplitude 10 m < 12 m)
    saw = LineString([(X0 + 50 * i, Y0 + (i % 2) * 10) for i in range(41)])
    out, tol, fits = simplify_to_budget(np.array([saw]), max_vertices=2)
    assert (tol, fits, shapely.get_num_coordinates(out).tolist()) == (12.0, True, [2])


def test_simplify_reports_a_layer_that_cannot_fit():
    lines = np.array([LineString([(X0 + i, Y0), (X0 + i, Y0 + 5)]) for i in range(10)])
    _, _, fits = simplify_to_budget(lines, max_vertices=19)  # 10 lines need 20 vertices
    assert fits is False


def test_simplify_multipolygon_stays_multipolygon():
    mp = MultiPolygon([box(X0, Y0, X0 + 10, Y0 + 10), box(X0 + 20, Y0, X0 + 30, Y0 + 10)])
    out, _, _ = simplify_to_budget(np.array([mp]), max_vertices=1_000)
    assert out[0].equals(mp)


# ----------------------------------------------------------------- aggregation


def test_points_over_budget_become_h3_cells_with_their_sums():
    pts = _points(500)
    cells, style = thin_for_map(pts, max_features=100, gpkg_layer="run__deficits")
    assert len(cells) <= 100
    assert cells["population"].sum() == pytest.approx(pts["population"].sum())
    assert cells["features"].sum() == 500
    assert "run__deficits" in style.title
    assert style.aggregated == {"features": 500, "cells": len(cells),
                                "resolution": h3.get_resolution(cells["hex_id"].iloc[0])}


def test_aggregated_cells_are_the_points_h3_cells():
    pts = _points(300, seed=4)
    cells, res = aggregate_h3(pts, max_cells=50)
    lnglat = pts.to_crs(4326).geometry
    expected = {h3.latlng_to_cell(p.y, p.x, res) for p in lnglat}
    assert set(cells["hex_id"]) == expected


def test_lines_aggregate_to_their_length():
    lines = gpd.GeoDataFrame(
        geometry=[LineString([(X0, Y0), (X0 + 3_000, Y0 + 4_000)]), _zigzag(X0, 200)], crs=CRS
    )
    cells, _ = aggregate_h3(lines, max_cells=40)
    assert cells["length_m"].sum() == pytest.approx(lines.length.sum(), abs=1.0)


def test_few_huge_polygons_fill_cells_when_over_the_vertex_budget():
    ring = Point(X0, Y0).buffer(3_000, quad_segs=2_000)  # 8,001 vertices, 28 km2
    gdf = gpd.GeoDataFrame({"tier": [1]}, geometry=[ring], crs=CRS)
    cells, _ = thin_for_map(gdf, max_features=400, max_vertices=100)
    area_cells = cells.to_crs(CRS).area.sum()
    assert len(cells) <= 400 and area_cells == pytest.approx(ring.area, rel=0.1)


def test_layer_within_budget_is_returned_as_is():
    pts = _points(20)
    style = LayerStyle(title="Points")
    out, kept = thin_for_map(pts, style, max_features=20)
    assert out is pts and kept is style


def test_share_budget_gives_small_layers_what_they_need():
    assert share_budget({"a": 10, "b": 5_000, "c": 7_000, "d": 40}, 2_050) == {
        "a": 10, "b": 1_000, "c": 1_000, "d": 40,
    }


def test_select_map_layers_holds_the_map_budget():
    park = make_park_result()
    many = _points(5_000)
    park = type(park)(**{**park.__dict__, "layers": {**park.layers, "many": many},
                         "styles": {**park.styles, "many": LayerStyle(
                             title="Many", value_field="population")}})
    shown, _ = select_map_layers(park, None)
    drawn = sum(len(v) for k, v in shown.layers.items() if k != "districts")
    assert drawn <= 2_500 and len(shown.layers["gaps"]) == 2


# ----------------------------------------------------------------- H3 cells


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.floats(103.5, 104.5), st.floats(30.2, 31.0)), min_size=1,
                max_size=40))
def test_cells_at_equal_cells_of_points_at_each_resolution(lnglat):
    pts = gpd.GeoSeries(shapely.points(lnglat), crs=4326)
    by_res = cells_at(pts, (6, 8, 9))
    assert all((by_res[r] == cells_of_points(pts, r)).all() for r in (6, 8, 9))


# ----------------------------------------------------------------- context


def _layers() -> Layers:
    streets = gpd.GeoDataFrame(
        {"highway": ["primary", "footway", "residential", "secondary_link"]},
        geometry=[LineString([(X0, Y0 + i * 100), (X0 + 900, Y0 + i * 100)]) for i in range(4)],
        crs=CRS,
    )
    landuse = gpd.GeoDataFrame(
        {"class": ["water", "residential"]},
        geometry=[box(X0, Y0, X0 + 100, Y0 + 100), box(X0 + 200, Y0, X0 + 300, Y0 + 100)],
        crs=CRS,
    )
    layers = Layers(crs=streets.crs)
    layers.vectors.update({"streets": streets, "landuse": landuse})
    return layers


def test_context_has_main_streets_and_water_only():
    frames = context_frames(_layers())
    assert sorted(frames) == ["street", "water"]
    assert sorted(frames["street"].bounds["miny"]) == [Y0, Y0 + 300]  # primary, secondary_link
    assert frames["water"].geometry.iloc[0].equals(box(X0, Y0, X0 + 100, Y0 + 100))


def test_main_highways_include_links():
    assert {"primary", "secondary_link", "tertiary"} <= MAIN_HIGHWAYS
    assert "footway" not in MAIN_HIGHWAYS


def test_fit_budget_keeps_the_longest_lines_that_fit():
    lines = gpd.GeoDataFrame(
        geometry=[LineString([(X0, Y0), (X0 + n, Y0)]) for n in (10, 300, 40)], crs=CRS
    )
    assert sorted(fit_budget(lines, 4).length.tolist()) == [40.0, 300.0]


def test_standalone_map_holds_its_context():
    park = make_park_result()
    context = fl.context_geojson(context_frames(_layers()))
    page = render_map_html(fl.analysis_map(park, context=context))
    assert CONTEXT_TOKEN not in page and context in page
    assert len(json.loads(context)["features"]) == 3


def test_shared_render_leaves_the_tokens_for_the_report():
    park = make_park_result()
    page = render_map_html(fl.analysis_map(park, context="null"), shared=True)
    assert CONTEXT_TOKEN in page and "<!--urbanform:assets-->" in page


# ----------------------------------------------------------------- rendering


def test_template_syntax_in_names_is_shown_as_written():
    park = make_park_result()
    park.layers["parks"].loc[0, "name"] = "{{ 7 * 7 }} {% raw %}"
    page = render_map_html(fl.analysis_map(park))
    assert "{{ 7 * 7 }} {% raw %}" in page


def test_least_vertices_counts_every_part_without_making_them() -> None:
    # 4 per polygon ring and 2 per other part, counted part by part (get_parts) as the
    # independent count; single, multi, empty and missing geometries of every type
    from shapely import wkt

    from urbanform.maps.thinning import _least_vertices

    texts = [
        "POINT (1 2)", "POINT EMPTY", "LINESTRING (0 0, 1 1, 2 2)", "LINESTRING EMPTY",
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (1 1, 2 1, 2 2, 1 1))", "POLYGON EMPTY",
        "MULTIPOINT ((0 0), (1 1))", "MULTIPOINT EMPTY",
        "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3, 4 4))", "MULTILINESTRING EMPTY",
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5), "
        "(5.1 5.1, 5.2 5.1, 5.2 5.2, 5.1 5.1)))",
        "MULTIPOLYGON EMPTY",
        "GEOMETRYCOLLECTION (POINT (0 0), LINESTRING (0 0, 1 1), POLYGON ((0 0, 1 0, 1 1, 0 0)))",
        "GEOMETRYCOLLECTION EMPTY",
    ]  # fmt: skip
    geoms = np.array([wkt.loads(t) for t in texts] + [None], dtype=object)
    expected = [2, 2, 2, 2, 8, 4, 4, 0, 4, 0, 12, 0, 8, 0, 0]  # by hand, one per geometry
    for g, want in zip(geoms, expected, strict=True):
        parts = shapely.get_parts(np.array([g], dtype=object))
        rings = np.maximum(shapely.get_num_interior_rings(parts), 0)
        by_parts = int(np.where(shapely.get_type_id(parts) == 3, 4 * (1 + rings), 2).sum())
        assert by_parts == want, g
        assert _least_vertices(np.array([g], dtype=object)) == want, g
    assert _least_vertices(geoms) == sum(expected)
