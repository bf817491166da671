"""Hostile geometry in the tiny city's layers (issue 9, part 2).

Each case either runs with the hand-checked values of conftest (park pop_share: 150 of
500 residents = 0.3) or stops with one Error line naming the layer.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from _faults import invoke, one_error
from conftest import CRS, X0, Y0, box, tiny_layers, write_tiny_workspace

PARK = {"park500": "kind: park_coverage\n"}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return write_tiny_workspace(tmp_path / "ws", analyses=PARK)


def _pop_share(ws: Path) -> float:
    s = json.loads((ws / "out" / "summary.json").read_text(encoding="utf-8"))
    return s["analyses"]["park500"]["indicators"]["pop_share"]["city"]["value"]


def _write(ws: Path, name: str, gdf: gpd.GeoDataFrame, *, suffix: str = "gpkg") -> None:
    path = ws / "data" / f"{name}.{suffix}"
    if suffix == "parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path, engine="pyogrio")
    text = (ws / "layers" / f"{name}.yml").read_text(encoding="utf-8")
    (ws / "layers" / f"{name}.yml").write_text(
        text.replace(f"data/{name}.gpkg", f"data/{name}.{suffix}"), encoding="utf-8"
    )


def _parks_wgs84(swap: bool = False, shift_lon: float = 0.0) -> gpd.GeoDataFrame:
    parks = tiny_layers()["parks"].to_crs(4326)

    def move(xy: np.ndarray) -> np.ndarray:
        xy = xy + [shift_lon, 0.0]
        return xy[:, ::-1] if swap else xy

    return parks.set_geometry(shapely.transform(parks.geometry.values, move))


@pytest.mark.parametrize(
    ("parks", "message"),
    [
        (_parks_wgs84(swap=True), "longitude and latitude may be swapped"),
        (_parks_wgs84(shift_lon=180.0), "outside the range of EPSG:4326"),
    ],
    ids=["swapped", "lon-out-of-range"],
)
def test_geographic_coordinates_out_of_range(ws: Path, parks, message: str) -> None:
    _write(ws, "parks", parks, suffix="geojson")
    line = one_error(invoke("run", ws))
    assert "layer 'parks'" in line and message in line


def test_projected_layer_far_from_its_crs_area(ws: Path) -> None:
    parks = tiny_layers()["parks"]
    moved = parks.set_geometry(parks.translate(xoff=0, yoff=-9_000_000))  # 81 deg south
    _write(ws, "parks", moved)
    line = one_error(invoke("run", ws))
    assert "far outside where EPSG:32648 is used" in line


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_coordinates(ws: Path, bad: float) -> None:
    pop = tiny_layers()["population"]
    geoms = pop.geometry.values.copy()
    with warnings.catch_warnings():  # GEOS warns about the very value under test
        warnings.simplefilter("ignore", RuntimeWarning)
        geoms[1] = shapely.Polygon([(X0, Y0), (bad, Y0), (X0, Y0 + 10)])
    _write(ws, "population", pop.set_geometry(geoms))
    line = one_error(invoke("run", ws))
    assert "layer 'population'" in line and "not finite numbers" in line


def test_all_geometries_empty(ws: Path) -> None:
    parks = gpd.GeoDataFrame({"name": ["Void"]}, geometry=[shapely.Polygon()], crs=CRS)
    _write(ws, "parks", parks)
    line = one_error(invoke("run", ws))
    assert "layer 'parks'" in line


def test_self_intersecting_park_is_repaired(ws: Path) -> None:
    # a bow tie over the park square: repaired into two triangles of 2,500 m2 each,
    # which serve 300 m only (GB/T 50563: 2,000-5,000 m2); the nearest residents are
    # P1 at 354 m (to (450, 450)) and P3 at 400 m (to (550, 500)): nobody is covered
    bow = shapely.Polygon(
        [(X0 + 450, Y0 + 450), (X0 + 550, Y0 + 550), (X0 + 550, Y0 + 450), (X0 + 450, Y0 + 550)]
    )
    _write(ws, "parks", gpd.GeoDataFrame({"name": ["Bow"]}, geometry=[bow], crs=CRS))
    r = invoke("run", ws)
    assert r.exit_code == 0, r.output
    assert "1 invalid geometries were repaired" in r.output
    assert _pop_share(ws) == 0.0


@pytest.mark.parametrize("dims", ["z", "m"])
def test_z_and_m_coordinates_are_dropped(ws: Path, dims: str) -> None:
    if dims == "m" and not hasattr(shapely, "has_m"):
        pytest.skip("shapely < 2.1 cannot write M coordinates")
    park = box(450, 450, 550, 550)
    ring = shapely.get_coordinates(park.exterior)
    extra = np.full((len(ring), 1), 12.5)
    coords = np.hstack([ring, extra])
    geom = (
        shapely.Polygon(coords)
        if dims == "z"
        else shapely.from_wkt(
            "POLYGON M ((" + ", ".join(f"{x} {y} {m}" for x, y, m in coords) + "))"
        )
    )
    parks = gpd.GeoDataFrame({"name": ["Central"]}, geometry=[geom], crs=CRS)
    # GeoPackage writers refuse M; GeoParquet keeps it
    _write(ws, "parks", parks, suffix="parquet" if dims == "m" else "gpkg")
    r = invoke("-q", "run", ws)
    assert r.exit_code == 0, r.output
    assert _pop_share(ws) == pytest.approx(0.3)


def test_geometry_collection_park(ws: Path) -> None:
    gc = shapely.GeometryCollection([box(450, 450, 550, 550), shapely.Point(X0, Y0)])
    _write(ws, "parks", gpd.GeoDataFrame({"name": ["Mixed"]}, geometry=[gc], crs=CRS))
    line = one_error(invoke("run", ws))
    assert "role 'parks' needs polygons" in line and "GeometryCollection" in line


def test_park_of_a_million_vertices(ws: Path) -> None:
    # the same 100 m square with a vertex every 0.4 mm: the same answer, 0.3
    park = shapely.segmentize(box(450, 450, 550, 550), 0.0004)
    assert shapely.get_num_coordinates(park) > 1_000_000
    _write(ws, "parks", gpd.GeoDataFrame({"name": ["Dense"]}, geometry=[park], crs=CRS))
    r = invoke("-q", "run", ws)
    assert r.exit_code == 0, r.output
    assert _pop_share(ws) == pytest.approx(0.3)


def test_resident_far_outside_the_study_area(ws: Path) -> None:
    # 1,000 residents 500 km east, outside every district: they count for the city (as
    # everything outside the districts does) and are not covered: 150 / 1,500 = 0.1;
    # the districts keep their values
    pop = tiny_layers()["population"]
    far = gpd.GeoDataFrame(
        {"POP": [1000]}, geometry=[shapely.Point(X0 + 500_000, Y0)], crs=CRS
    )
    _write(ws, "population", gpd.GeoDataFrame(
        {"POP": [*pop["POP"], *far["POP"]]},
        geometry=[*pop.geometry.values, *far.geometry.values], crs=CRS))
    r = invoke("-q", "run", ws)
    assert r.exit_code == 0, r.output
    assert _pop_share(ws) == pytest.approx(0.1)
    s = json.loads((ws / "out" / "summary.json").read_text(encoding="utf-8"))
    districts = s["analyses"]["park500"]["indicators"]["pop_share"]["districts"]
    assert districts["West"]["value"] == 1.0 and districts["East"]["value"] == 0.0


def test_raster_with_a_wrong_crs(ws: Path) -> None:
    # metre coordinates (x 400,000) tagged as degrees: no longitude is that large
    path = ws / "data" / "landcover.tif"
    with rasterio.open(path, "r+") as dst:
        dst.crs = rasterio.crs.CRS.from_epsg(4326)
    (ws / "analyses" / "forest.yml").write_text("kind: forest_cover\n", encoding="utf-8")
    line = one_error(invoke("run", ws))
    assert "layer 'landcover'" in line and "outside the range of EPSG:4326" in line


@pytest.mark.parametrize("count", [np.inf, 1e308, 2e12])
def test_absurd_population_count(ws: Path, count: float) -> None:
    pop = tiny_layers()["population"]
    pop["POP"] = [100.0, count, 50.0, 50.0]
    _write(ws, "population", pop)
    line = one_error(invoke("run", ws))
    assert "field 'population' has 1 values that are infinite or above 1e+12" in line


def test_parks_wholly_outside_the_study_area_are_reported(ws: Path) -> None:
    # the park moved 50 km east: valid coordinates, but nowhere near the districts
    parks = tiny_layers()["parks"]
    _write(ws, "parks", parks.set_geometry(parks.translate(xoff=50_000)))
    r = invoke("run", ws)
    assert r.exit_code == 0, r.output
    assert "role 'parks': every feature lies outside the study area (the districts)" in r.output
    assert _pop_share(ws) == 0.0
