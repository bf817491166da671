"""zonal.raster_pixels derives each pixel's value and centre from its index: the numbers
exactextract's own ``values``, ``center_x`` and ``center_y`` operations give."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from affine import Affine
from exactextract import exact_extract

from urbanform.analyses import zonal
from urbanform.layers.types import RasterLayer

CRS = pyproj.CRS(32648)


def _layer(data: np.ndarray, transform: Affine) -> RasterLayer:
    return RasterLayer(name="lc", role="landcover", data=data, transform=transform, crs=CRS,
                       nodata=0, classes={"forest": [10]})


def _exactextract_reference(raster: RasterLayer, polygons: gpd.GeoSeries) -> dict[str, list]:
    """The five columns straight from exactextract (the way raster_cells read them before)."""
    zones = gpd.GeoDataFrame({"zone": np.arange(len(polygons))}, geometry=polygons.values,
                             crs=CRS)
    ops = ["values", "coverage", "center_x", "center_y", "cell_id"]
    res = exact_extract(zonal._numpy_source(raster), zones, ops, include_cols=["zone"],
                        output="pandas")
    n = res["values"].map(len).to_numpy()
    out = {c: np.concatenate(res[c].to_list()) for c in ops}
    out["zone"] = np.repeat(res["zone"].to_numpy(), n)
    keep = out["coverage"] > 0
    return {k: v[keep].tolist() for k, v in out.items()}


@pytest.mark.parametrize("north_up", [True, False])
def test_values_and_centres_equal_exactextracts_own(north_up):
    rng = np.random.default_rng(3)
    data = rng.integers(0, 5, size=(37, 53)).astype(np.uint8) * 10  # value 0 is nodata
    a, e = 7.3, 4.1  # pixel sizes whose centres are not round numbers
    x0, y0 = 412_345.67, 3_301_234.5
    transform = (Affine(a, 0, x0, 0, -e, y0 + 37 * e) if north_up
                 else Affine(a, 0, x0, 0, e, y0))
    raster = _layer(data, transform)
    polygons = gpd.GeoSeries([
        shapely.Polygon([(x0 + 10, y0 + 5), (x0 + 300, y0 + 40), (x0 + 150, y0 + 140)]),
        shapely.box(x0 + 100, y0 + 20, x0 + 390, y0 + 152).buffer(-3.3),
    ], crs=CRS)
    got = zonal.raster_pixels(raster, polygons)
    ref = _exactextract_reference(raster, polygons)
    assert len(ref["cell_id"]) > 1000  # a real test: many pixels, some nodata left out
    assert int((data == 0).sum()) > 0
    assert got["zone"].tolist() == ref["zone"]
    assert got["cell"].tolist() == ref["cell_id"]
    assert got["value"].tolist() == ref["values"]
    assert got["coverage"].tolist() == ref["coverage"]
    # exactextract crops its grid around each polygon, so its centres can differ from the
    # whole grid's in the last bit; a centre off by a pixel would be off by metres
    assert got["x"].tolist() == pytest.approx(ref["center_x"], rel=1e-14, abs=0)
    assert got["y"].tolist() == pytest.approx(ref["center_y"], rel=1e-14, abs=0)
    assert 0 not in got["value"].tolist()


def test_no_pixel_covered_gives_empty_typed_arrays():
    raster = _layer(np.full((2, 2), 10, np.uint8), Affine(10, 0, 0, 0, -10, 20))
    far = gpd.GeoSeries([shapely.box(500, 500, 600, 600)], crs=CRS)
    got = zonal.raster_pixels(raster, far)
    assert {k: v.size for k, v in got.items()} == dict.fromkeys(
        ["zone", "value", "coverage", "x", "y", "cell"], 0)
    assert got["zone"].dtype == np.int64 and got["cell"].dtype == np.int64
