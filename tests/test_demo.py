"""Tests of the synthetic demo city.

The expected figures are worked out independently of the generator: plain shapely
buffers for park coverage, rasterio.features.rasterize plus numpy for forest share.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio.features
import shapely
import yaml

from urbanform.demo import DEMO_CRS, DEMO_LAYERS, demo_layer
from urbanform.demo._city import build_city
from urbanform.errors import LayerError
from urbanform.layers.types import LANDUSE_CLASSES, RasterLayer

ROOT = Path(__file__).resolve().parents[1]
VECTORS = tuple(n for n in DEMO_LAYERS if n != "landcover")
WORLDCOVER = {10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100}
RESIDENTIAL = ("R1", "R2", "R3")
CATEGORIES = (
    "kindergarten", "convenience_store", "community_service", "playground",
    "primary_school", "fresh_market", "sports_ground",
    "middle_school", "health_centre", "market", "elderly_care", "sports", "culture",
)
SMALL = 0.1  # a 40 km2 city for the tests that generate again


@pytest.fixture(scope="module")
def city() -> dict:
    return {name: demo_layer(name) for name in DEMO_LAYERS}


@pytest.fixture(scope="module")
def small_city() -> dict:
    return build_city(7, SMALL, DEMO_CRS)


def _residential_by_district(city: dict) -> list[shapely.Geometry]:
    lu = city["landuse"]
    res = shapely.union_all(lu[lu["LU_CODE"].isin(RESIDENTIAL)].geometry.values)
    return [res.intersection(d) for d in city["districts"].geometry.values]


# --- determinism and the API -------------------------------------------------------


def test_same_seed_gives_identical_layers(small_city):
    again = build_city(7, SMALL, DEMO_CRS)
    for name in VECTORS:
        assert again[name].equals(small_city[name]), name
    assert np.array_equal(again["landcover"].data, small_city["landcover"].data)


def test_different_seed_gives_different_layers(small_city):
    other = build_city(8, SMALL, DEMO_CRS)
    assert not other["streets"].equals(small_city["streets"])
    assert not np.array_equal(other["landcover"].data, small_city["landcover"].data)


def test_returned_layer_is_a_copy():
    first = demo_layer("districts")
    first["name"] = "changed"
    assert "changed" not in set(demo_layer("districts")["name"])


def test_returned_raster_is_a_copy():
    first = demo_layer("landcover")
    first.data[:] = 99
    assert 99 not in demo_layer("landcover").data


def test_unknown_layer_raises_with_valid_names():
    with pytest.raises(LayerError, match=r"unknown demo layer 'roads'.*boundary, districts"):
        demo_layer("roads")


def test_scale_must_be_positive():
    with pytest.raises(LayerError, match="scale must be > 0"):
        demo_layer("boundary", scale=0)


def test_scale_multiplies_area_and_counts(small_city):
    bigger = build_city(7, 4 * SMALL, DEMO_CRS)
    area_ratio = bigger["boundary"].area.sum() / small_city["boundary"].area.sum()
    count_ratio = len(bigger["population"]) / len(small_city["population"])
    assert area_ratio == pytest.approx(4.0)
    assert 2.5 < count_ratio < 6.0


# --- every layer -------------------------------------------------------------------


@pytest.mark.parametrize("name", VECTORS)
def test_vector_layer_is_in_demo_crs(city, name):
    assert city[name].crs == DEMO_CRS


@pytest.mark.parametrize("name", VECTORS)
def test_vector_layer_geometries_are_valid(city, name):
    geoms = city[name].geometry
    assert len(geoms) > 0
    assert geoms.is_valid.all() and not geoms.is_empty.any()


def test_landcover_is_a_raster_in_demo_crs(city):
    lc = city["landcover"]
    assert isinstance(lc, RasterLayer)
    assert lc.crs.to_epsg() == 32648


# --- boundary and districts --------------------------------------------------------


def test_area_is_about_400_km2(city):
    assert city["boundary"].area.sum() / 1e6 == pytest.approx(400.0, rel=0.1)


def test_at_least_six_named_districts(city):
    d = city["districts"]
    assert len(d) >= 6 and d["name"].is_unique
    assert {"Old Core", "High-Tech Zone", "West Hills"} <= set(d["name"])


def test_districts_tile_the_boundary_without_gaps(city):
    union = shapely.union_all(city["districts"].geometry.values)
    assert abs(union.area - city["boundary"].area.sum()) < 1.0
    assert union.symmetric_difference(city["boundary"].geometry.iloc[0]).area < 1.0


def test_districts_do_not_overlap(city):
    g = city["districts"].geometry.values
    overlap = sum(g[i].intersection(g[j]).area for i in range(len(g)) for j in range(i))
    assert overlap < 1.0


# --- land use, parks, population ---------------------------------------------------


def test_landuse_codes_are_all_mapped_in_yaml(city):
    spec = yaml.safe_load((ROOT / "layers" / "landuse.yml").read_text())
    mapped = {code for codes in spec["classes"].values() for code in codes}
    assert set(spec["classes"]) <= set(LANDUSE_CLASSES)
    assert set(city["landuse"]["LU_CODE"]) <= mapped


def test_parks_fill_all_three_size_tiers(city):
    area = city["parks"].area
    assert (area >= 5000).sum() >= 20
    assert ((area >= 2000) & (area < 5000)).sum() >= 5
    assert (area < 2000).sum() >= 5


def test_population_lies_only_on_residential_land(city):
    lu = city["landuse"]
    res = lu[lu["LU_CODE"].isin(RESIDENTIAL)]
    joined = gpd.sjoin(city["population"], res, predicate="within")
    assert joined.index.nunique() == len(city["population"])


def test_population_size_is_city_like(city):
    pop = city["population"]
    assert 20_000 <= len(pop) <= 60_000
    assert 2e6 <= pop["population"].sum() <= 4e6


def _density_km2(points: gpd.GeoDataFrame, column: str, districts: gpd.GeoDataFrame):
    joined = gpd.sjoin(points, districts[["name", "geometry"]], predicate="within")
    total = joined.groupby("name")[column].sum()
    return total / (districts.set_index("name").area / 1e6)


def test_core_is_denser_than_suburbs_and_hills(city):
    density = _density_km2(city["population"], "population", city["districts"])
    assert density["Old Core"] > 3 * density["North Suburbs"]
    assert density["North Suburbs"] > 2 * density["West Hills"]


def test_jobs_concentrate_in_core_and_high_tech_zone(city):
    density = _density_km2(city["jobs"], "jobs", city["districts"])
    top_two = set(density.sort_values().index[-2:])
    assert top_two == {"Old Core", "High-Tech Zone"}


def test_every_facility_category_is_present(city):
    assert set(city["facilities"]["category"]) == set(CATEGORIES)


def test_jobs_are_positive_integers(city):
    jobs = city["jobs"]["jobs"]
    assert jobs.dtype.kind == "i" and (jobs > 0).all()


# --- stations and streets ----------------------------------------------------------


def test_at_least_two_lines_share_a_transfer_station(city):
    st = city["stations"]
    assert st["line"].nunique() >= 2
    lines_per_name = st.groupby("name")["line"].nunique()
    assert (lines_per_name >= 2).any()


def test_stations_are_1_to_1_5_km_apart_along_a_line(city):
    st = city["stations"]
    gaps = []
    for _, group in st.groupby("line"):
        xy = shapely.get_coordinates(group.geometry.values)
        dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        np.fill_diagonal(dist, np.inf)
        gaps.append(dist.min(axis=1))
    assert 1000.0 <= np.median(np.concatenate(gaps)) <= 1500.0


def test_ground_streets_never_cross_the_river(city):
    lu, st = city["landuse"], city["streets"]
    water = shapely.union_all(lu[lu["LU_CODE"] == "E1"].geometry.values)
    ground = st[st["bridge"] == 0].geometry.values
    assert not shapely.intersects(ground, water).any()


def test_river_has_a_few_bridges(city):
    lu, st = city["landuse"], city["streets"]
    water = shapely.union_all(lu[lu["LU_CODE"] == "E1"].geometry.values)
    crossing = shapely.intersects(st[st["bridge"] == 1].geometry.values, water).sum()
    assert 2 <= crossing <= 20


def test_elevated_road_flies_over_local_streets(city):
    st = city["streets"]
    elevated = st[st["name"] == "Airport Elevated Expressway"]
    ground = st[st["bridge"] == 0].geometry.values
    assert (elevated["bridge"] == 1).all()
    assert shapely.crosses(ground, elevated.geometry.iloc[0]).sum() >= 5


def test_elevated_road_ends_where_ring_road_lines_end(city):
    st = city["streets"]
    elevated = st[st["name"] == "Airport Elevated Expressway"].geometry.iloc[0]
    rings = st[st["name"].str.endswith("Ring Road")].geometry.values
    ring_ends = {tuple(p) for g in rings for p in (g.coords[0], g.coords[-1])}
    assert {elevated.coords[0], elevated.coords[-1]} <= ring_ends


def test_long_streets_cross_between_vertices(city):
    st = city["streets"]
    ring = st[st["name"] == "Second Ring Road"].geometry.values[0]
    local = st[(st["bridge"] == 0) & (st["highway"] == "residential")].geometry.values
    crossed = local[shapely.crosses(local, ring)]
    hits = shapely.get_parts(shapely.intersection(crossed, ring))
    on_vertex = shapely.intersects(hits, shapely.multipoints(shapely.get_coordinates(crossed)))
    assert len(hits) >= 10 and not on_vertex.any()


def test_walk_network_size_is_city_like(city):
    st = city["streets"]
    noded = shapely.get_parts(shapely.node(shapely.union_all(st[st["bridge"] == 0].geometry)))
    ends = np.concatenate(
        [shapely.get_coordinates(shapely.get_point(noded, i)) for i in (0, -1)]
    )
    assert 30_000 <= len(np.unique(ends.round(3), axis=0)) <= 80_000


# --- land cover and mixed results --------------------------------------------------


def test_landcover_codes_are_worldcover_with_nodata(city):
    lc = city["landcover"]
    codes = set(np.unique(lc.data).tolist())
    assert lc.nodata == 0 and 0 in codes
    assert codes - {0} <= WORLDCOVER
    assert {10, 50, 80} <= codes
    assert lc.classes == {"forest": [10], "water": [80]}


def test_landcover_has_20_m_pixels(city):
    assert city["landcover"].pixel_area_m2 == pytest.approx(400.0)


def test_park_coverage_is_mixed_across_districts(city):
    parks = city["parks"]
    large = parks[parks.area >= 5000].geometry.values
    served = shapely.union_all(shapely.buffer(large, 500.0))
    shares = [r.intersection(served).area / r.area for r in _residential_by_district(city)]
    assert max(shares) >= 0.9
    assert min(shares) < 0.9


def _forest_shares(city: dict) -> np.ndarray:
    lc = city["landcover"]
    zones = rasterio.features.rasterize(
        ((g, i + 1) for i, g in enumerate(city["districts"].geometry)),
        out_shape=lc.data.shape, transform=lc.transform, fill=0, dtype="uint8",
    )
    land = (lc.data != lc.nodata) & (lc.data != 80)
    tree = np.bincount(zones[land & (lc.data == 10)], minlength=zones.max() + 1)
    total = np.bincount(zones[land], minlength=zones.max() + 1)
    return tree[1:] / total[1:]


def test_forest_share_is_mixed_across_districts(city):
    shares = _forest_shares(city)
    assert shares.max() >= 0.41
    assert shares.min() < 0.41


def test_city_forest_share_is_near_the_target(city):
    lc = city["landcover"].data
    land = (lc != 0) & (lc != 80)
    assert (lc[land] == 10).mean() == pytest.approx(0.41, abs=0.06)


# --- the workspace -----------------------------------------------------------------


@pytest.mark.parametrize("name", DEMO_LAYERS)
def test_workspace_has_a_yaml_for_every_layer(name):
    spec = yaml.safe_load((ROOT / "layers" / f"{name}.yml").read_text())
    assert spec["role"] == name
    assert spec["source"] == f"demo:{name}"


def test_workspace_root_config():
    spec = yaml.safe_load((ROOT / "urbanform.yml").read_text())
    assert spec["crs"] == DEMO_CRS
    assert spec["h3_resolutions"] == [8, 9]
    assert spec["report"]["language"] == "en"
