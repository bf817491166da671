"""Coverage figures on the demo city checked by a second, independent method.

- Park coverage (straight line): the residential land and the park service areas are
  rasterised at 5 m (rasterio.features.rasterize, pixel centres) and the pixels counted;
  the service areas are built here from the parks with plain geopandas (same-name
  touching parks merged, area >= 5,000 m² -> 500 m, >= 2,000 m² -> 300 m).
- Forest cover: plain numpy over the land-cover pixels lying entirely inside a district
  (pixels touched by a district edge are left out), against exactextract's exact
  fractional coverage.

Both agree within 0.5 percentage points per district and for the city.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import yaml
from rasterio import features
from rasterio.transform import from_origin

from urbanform.analyses import forest_cover, park_coverage
from urbanform.analyses.context import Context
from urbanform.layers.types import Layers

demo = pytest.importorskip("urbanform.demo")
LANDUSE_YML = Path(__file__).resolve().parents[1] / "layers" / "landuse.yml"

CRS = pyproj.CRS(32648)
TOLERANCE = 0.005  # 0.5 percentage points
PIXEL_M = 5.0


@pytest.fixture(scope="module")
def city() -> dict:
    names = ["boundary", "districts", "landuse", "parks", "landcover"]
    layers = {n: demo.demo_layer(n) for n in names}
    classes = yaml.safe_load(LANDUSE_YML.read_text(encoding="utf-8"))["classes"]
    code_class = {code: cls for cls, codes in classes.items() for code in codes}
    layers["landuse"]["class"] = layers["landuse"]["LU_CODE"].map(code_class)
    return layers


def _ctx(city: dict) -> Context:
    vectors = {k: v for k, v in city.items() if k != "landcover"}
    return Context(Layers(crs=CRS, vectors=vectors, rasters={"landcover": city["landcover"]}))


def _service_areas_by_hand(parks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    merged = parks[["name", "geometry"]].dissolve(by="name", as_index=False)
    merged = pd.concat([merged, parks[parks["name"].isna()][["name", "geometry"]]])
    merged = merged.explode(index_parts=False)
    area = merged.geometry.area
    radius = np.where(area >= 5000, 500.0, np.where(area >= 2000, 300.0, 0.0))
    keep = radius > 0
    return gpd.GeoDataFrame(geometry=merged.geometry[keep].buffer(radius[keep]), crs=parks.crs)


def _grid(bounds: np.ndarray) -> tuple:
    x0, y0 = np.floor(bounds[:2] / PIXEL_M) * PIXEL_M
    x1, y1 = np.ceil(bounds[2:] / PIXEL_M) * PIXEL_M
    shape = (int((y1 - y0) / PIXEL_M), int((x1 - x0) / PIXEL_M))
    return shape, from_origin(x0, y1, PIXEL_M, PIXEL_M)


def test_park_area_share_matches_rasterised_count(city: dict) -> None:
    params = park_coverage.validate_params({}, where="analyses/park500.yml")
    res = park_coverage.run(_ctx(city), name="park500", params=params, target=None)
    land = city["landuse"][city["landuse"]["class"] == "residential"]
    districts = city["districts"]
    shape, transform = _grid(np.asarray(land.total_bounds))
    resid = features.rasterize(land.geometry, out_shape=shape, transform=transform, dtype="uint8")
    cover = features.rasterize(
        _service_areas_by_hand(city["parks"]).geometry, out_shape=shape, transform=transform,
        dtype="uint8",
    )
    label = features.rasterize(
        ((g, i + 1) for i, g in enumerate(districts.geometry)), out_shape=shape,
        transform=transform, dtype="int16",
    )
    r, c = resid.astype(bool), (resid & cover).astype(bool)
    expected = {"city": c.sum() / r.sum()}
    for i, name in enumerate(districts["name"]):
        in_d = label == i + 1
        expected[name] = c[in_d].sum() / r[in_d].sum()
    ind = res.indicators["area_share"]
    got = {"city": ind.city.value, **{n: ind.districts[n].value for n in districts["name"]}}
    assert got == pytest.approx(expected, abs=TOLERANCE)


def test_forest_share_matches_whole_pixel_count(city: dict) -> None:
    params = forest_cover.validate_params({}, where="analyses/forest.yml")
    res = forest_cover.run(_ctx(city), name="forest", params=params, target=None)
    lc, districts = city["landcover"], city["districts"].to_crs(city["landcover"].crs)
    shape = lc.data.shape
    label = features.rasterize(
        ((g, i + 1) for i, g in enumerate(districts.geometry)), out_shape=shape,
        transform=lc.transform, dtype="int16",
    )
    edge = features.rasterize(
        districts.boundary, out_shape=shape, transform=lc.transform, all_touched=True,
        dtype="uint8",
    ).astype(bool)
    data = np.asarray(lc.data)
    land = (data != lc.nodata) & ~np.isin(data, lc.codes_for("water")) & ~edge
    forest = land & np.isin(data, lc.codes_for("forest"))
    expected = {}
    for i, name in enumerate(districts["name"]):
        in_d = label == i + 1
        expected[name] = forest[in_d].sum() / land[in_d].sum()
    inside = label > 0
    expected["city"] = forest[inside].sum() / land[inside].sum()
    ind = res.indicators["share"]
    got = {"city": ind.city.value, **{n: ind.districts[n].value for n in districts["name"]}}
    assert got == pytest.approx(expected, abs=TOLERANCE)
