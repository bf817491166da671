"""forest_cover on a tiny hand-made raster and polygons in EPSG:32648.

Raster: 10 x 10 pixels of 10 m over x 0..100, y 0..100 (100 m² each), row 0 at the top.
Columns 0-3 (x 0..40) forest (10), columns 4-6 (x 40..70) cropland (40), columns 7-9
(x 70..100) water (80); pixel (row 0, col 0) is nodata (0); pixel (row 9, col 5), the
bottom one at x 50..60, is forest. Districts West x 0..55 and East x 55..100 cut column 5
(x 50..60) in half.

West: forest 39 + 0.5 = 39.5 px; cropland col 4 (10) + half of col 5 rows 0-8 (4.5) =
14.5 px; land 54 px -> 39.5 / 54.
East: forest 0.5 px; cropland 4.5 + col 6 (10) = 14.5 px; water 30 px left out; land
15 px -> 0.5 / 15.  City: 40 / 69.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine

from urbanform.analyses import forest_cover
from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError, LayerError
from urbanform.layers.types import Layers, RasterLayer

CRS = pyproj.CRS(32648)


def gdf(geoms, **cols):
    return gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS)


def landcover(classes=None):
    data = np.zeros((10, 10), dtype=np.uint8)
    data[:, 0:4], data[:, 4:7], data[:, 7:10] = 10, 40, 80
    data[0, 0], data[9, 5] = 0, 10
    return RasterLayer(
        name="landcover", role="landcover", data=data, transform=Affine(10, 0, 0, 0, -10, 100),
        crs=CRS, nodata=0,
        classes={"forest": [10], "water": [80]} if classes is None else classes,
    )


DISTRICTS = gdf([shapely.box(0, 0, 55, 100), shapely.box(55, 0, 100, 100)], name=["West", "East"])


def run(layers, **params):
    p = forest_cover.validate_params(params, where="analyses/forest.yml")
    return forest_cover.run(Context(layers), name="forest", params=p, target=None)


def raster_layers(**kw):
    vectors = {"districts": DISTRICTS, **kw.pop("vectors", {})}
    return Layers(crs=CRS, vectors=vectors, rasters={"landcover": landcover(**kw)})


def test_raster_share_exact_at_split_pixels():
    ind = run(raster_layers()).indicators["share"]
    got = (ind.districts["West"].value, ind.districts["East"].value, ind.city.value)
    assert got == pytest.approx((39.5 / 54, 0.5 / 15, 40 / 69), abs=1e-6)


def test_raster_areas_in_square_metres():
    ind = run(raster_layers()).indicators["share"]
    west = ind.districts["West"]
    assert (west.numerator, west.denominator) == pytest.approx((3950, 5400), abs=1e-3)


def test_water_counts_as_land_when_not_excluded():
    ind = run(raster_layers(), exclude=[]).indicators["share"]
    # East: 15 px of land plus 30 px of water
    assert ind.districts["East"].value == pytest.approx(0.5 / 45, abs=1e-6)


def test_raw_codes_as_classes():
    ind = run(raster_layers(), classes=[40]).indicators["share"]
    # cropland as "forest": East 14.5 / 15
    assert ind.districts["East"].value == pytest.approx(14.5 / 15, abs=1e-6)


def test_city_value_over_the_boundary():
    boundary = gdf([shapely.box(0, 0, 100, 50)])  # rows 5-9
    ind = run(raster_layers(vectors={"boundary": boundary})).indicators["share"]
    # West: forest 20 + 0.5, cropland 5 + 2; East: forest 0.5, cropland 2 + 5 -> 21 / 35
    assert ind.city.value == pytest.approx(0.6, abs=1e-6)


def test_units_add_up_to_the_district_figures():
    units = run(raster_layers()).units
    east = units[units["district"] == "East"]
    assert (east["share__num"].sum(), east["share__den"].sum()) == pytest.approx((50, 1500))


def test_unmapped_forest_class_is_rejected():
    with pytest.raises(AnalysisError, match="maps no code to it"):
        run(raster_layers(classes={"water": [80]}))


def test_no_boundary_nor_districts_is_rejected():
    layers = Layers(crs=CRS, rasters={"landcover": landcover()})
    with pytest.raises(LayerError, match="needs a 'boundary' or a 'districts' layer"):
        run(layers)


# Polygons: West x 0..100, East x 100..200 (10,000 m² each). Forest x 0..40 (West, 4,000),
# x 90..130 (1,000 West + 3,000 East) and x 180..200 y 0..50 (inside the water); water
# x 150..200 (East, 5,000). West 5,000 / 10,000; East 3,000 / 5,000; city 8,000 / 15,000.
POLY_DISTRICTS = gdf([shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100)],
                     name=["West", "East"])
LANDUSE = gdf(
    [shapely.box(0, 0, 40, 100), shapely.box(90, 0, 130, 100), shapely.box(180, 0, 200, 50),
     shapely.box(150, 0, 200, 100), shapely.box(40, 0, 90, 100)],
    **{"class": ["forest", "forest", "forest", "water", "residential"]},
)


def polygon_result(**params):
    layers = Layers(crs=CRS, vectors={"districts": POLY_DISTRICTS, "landuse": LANDUSE})
    return run(layers, **params)


def test_polygon_share_with_water_left_out():
    ind = polygon_result().indicators["share"]
    got = (ind.districts["West"].value, ind.districts["East"].value, ind.city.value)
    assert got == pytest.approx((0.5, 0.6, 8000 / 15000), abs=1e-9)


def test_polygon_source_without_raster():
    res = polygon_result()
    assert (res.params["source"], res.layers["forest"]["area_m2"].sum()) == pytest.approx(
        ("landuse", 8000)
    )


def test_polygon_source_rejects_raster_codes():
    with pytest.raises(AnalysisError, match="hold raster codes"):
        polygon_result(classes=[10])


def test_bad_source_is_rejected():
    with pytest.raises(AnalysisError, match="params.source must be one of"):
        forest_cover.validate_params({"source": "lidar"}, where="analyses/forest.yml")


def test_geographic_raster_counts_pixels_in_square_metres():
    # 10 x 10 pixels of 0.0001 degrees at 104 E, 30.6 N, same class columns as above but
    # no nodata; one district holding the whole raster: forest 4 of 7 land columns (rows
    # share a latitude, so pixel areas cancel); a pixel is about 0.0001 deg x 111,320 m x
    # cos(30.6 deg) = 9.58 m wide and 0.0001 x 110,860 m = 11.09 m tall -> 70 px ~ 7,437 m².
    data = np.zeros((10, 10), dtype=np.uint8)
    data[:, 0:4], data[:, 4:7], data[:, 7:10] = 10, 40, 80
    raster = RasterLayer(
        name="wc", role="landcover", data=data,
        transform=Affine(0.0001, 0, 104.0, 0, -0.0001, 30.601), crs=pyproj.CRS(4326),
        nodata=0, classes={"forest": [10], "water": [80]},
    )
    district = gpd.GeoDataFrame(
        {"name": ["All"]}, geometry=[shapely.box(103.99, 30.59, 104.01, 30.61)], crs=4326
    ).to_crs(CRS)
    layers = Layers(crs=CRS, vectors={"districts": district}, rasters={"landcover": raster})
    city = run(layers).indicators["share"].city
    assert (city.value, city.denominator) == pytest.approx((4 / 7, 7437), rel=1e-2)
