"""Mapped park entrances: point features of a parks layer are access points too.

A street runs along y = 0. The park [400, 500] x [120, 220] (10,000 m²: 500 m tier)
lies 120 m from it, beyond the 100 m snap limit, so none of its edge points reach a
street. An entrance at (450, 90) is 30 m from the park and 90 m from the street.
A resident at (100, 0) walks 350 m along the street and 90 m to the entrance: 440 m,
within 500 m. Without the entrance nobody reaches the park.
"""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
import shapely

from urbanform.analyses import park_coverage
from urbanform.analyses.context import Context
from urbanform.layers.types import Layers

CRS = pyproj.CRS(32648)


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


def make_run(parks: gpd.GeoDataFrame):
    vectors = {
        "parks": parks,
        "landuse": gdf([shapely.box(90, -10, 110, 10)], **{"class": ["residential"]}),
        "population": gdf([shapely.Point(100, 0)], population=[10.0]),
        "streets": gdf([shapely.LineString([(0, 0), (1000, 0)])]),
    }
    ctx = Context(Layers(crs=CRS, vectors=vectors))
    p = park_coverage.validate_params({"distance": "network"}, where="analyses/park.yml")
    return park_coverage.run(ctx, name="park", params=p, target=None)


PARK = shapely.box(400, 120, 500, 220)


def test_park_without_entrance_serves_nobody() -> None:
    res = make_run(gdf([PARK], name=["Hill Park"]))
    assert res.indicators["pop_share"].city.value == 0.0
    assert any("no access point near a street" in w for w in res.warnings)


def test_mapped_entrance_gives_access() -> None:
    res = make_run(gdf([PARK, shapely.Point(450, 90)], name=["Hill Park", "gate"]))
    assert res.indicators["pop_share"].city.value == 1.0
    walk = res.units.loc[res.units["pop_share__den"] > 0, "walk_m"].iloc[0]
    assert walk == pytest.approx(350 + 90)


def test_entrance_far_from_every_park_is_not_used() -> None:
    res = make_run(gdf([PARK, shapely.Point(800, 10)], name=["Hill Park", "stray"]))
    assert res.indicators["pop_share"].city.value == 0.0
    assert any("1 of 1 mapped park entrances" in w for w in res.warnings)


def test_entrances_do_not_count_in_straight_line_coverage() -> None:
    ctx_parks = gdf([PARK, shapely.Point(450, 90)], name=["Hill Park", "gate"])
    p = park_coverage.validate_params({}, where="analyses/park.yml")
    vectors = {
        "parks": ctx_parks,
        "landuse": gdf([shapely.box(90, -10, 110, 10)], **{"class": ["residential"]}),
    }
    res = park_coverage.run(
        Context(Layers(crs=CRS, vectors=vectors)), name="p", params=p, target=None
    )
    # the land's farthest corner (90, -10) is ~384 m from the park edge: covered either way
    assert res.indicators["area_share"].city.value == 1.0
    assert len(res.layers["parks"]) == 1
