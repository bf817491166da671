"""Census polygons onto housing (issue 13, item 2); answers worked out by hand.

Layout (EPSG:32648, metres): one census polygon C = [0, 1000] x [0, 200] with 10,000
residents over residential land R = [0, 400] x [0, 200] and industrial land
I = [400, 1000] x [0, 200]. A long park P = [-400, -300] x [-1000, 1200] (220,000 m²,
serves 500 m) reaches exactly x = 200 along R: half of R is within reach.
Before placement, C counted 20% (its area within reach, 200 of 1000 m) or 0% (its
representative point (500, 100) is 800 m away); placed on R it is 50%.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from urbanform.analyses import park_coverage
from urbanform.analyses.context import Context
from urbanform.layers.harmonise import load_layers
from urbanform.layers.types import LayerSpec

CRS = "EPSG:32648"
X0, Y0 = 400_000.0, 3_390_000.0


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def write(tmp_path: Path, layer: str, geoms, **cols) -> LayerSpec:
    path = tmp_path / f"{layer}.gpkg"
    gpd.GeoDataFrame(cols, geometry=list(geoms), crs=CRS).to_file(path, engine="pyogrio")
    role = {"census": "population", "jobs_poly": "jobs"}.get(layer, layer)
    return LayerSpec(name=layer, role=role, source=str(path), file=f"layers/{layer}.yml")


@pytest.fixture
def base(tmp_path: Path) -> list[LayerSpec]:
    return [
        write(tmp_path, "parks", [box(-400, -1000, -300, 1200)], name=["Long Park"]),
        write(
            tmp_path,
            "landuse",
            [box(0, 0, 400, 200), box(400, 0, 1000, 200)],
            **{"class": ["residential", "industrial"]},
        ),
        write(tmp_path, "census", [box(0, 0, 1000, 200)], population=[10_000.0], name=["Jiedao A"]),
    ]


def pop_share(specs: list[LayerSpec]) -> float:
    layers = load_layers(specs, crs=CRS)
    params = park_coverage.validate_params({}, where="analyses/park.yml")
    res = park_coverage.run(Context(layers), name="park", params=params, target=None)
    return res.indicators["pop_share"].city.value


def test_census_polygon_is_placed_on_its_residential_land(base) -> None:
    assert pop_share(base) == pytest.approx(0.5, abs=1e-9)


def test_placed_population_adds_up_and_sits_on_housing(base) -> None:
    pop = load_layers(base, crs=CRS).vectors["population"]
    assert pop["population"].sum() == pytest.approx(10_000)
    assert shapely.union_all(pop.geometry.values).equals(box(0, 0, 400, 200).normalize()) or (
        shapely.union_all(pop.geometry.values).symmetric_difference(box(0, 0, 400, 200)).area < 1e-6
    )


def test_buildings_weigh_by_floor_area(base, tmp_path: Path) -> None:
    # A = [0, 100] x [0, 100], 10 floors (100,000 m² floor area), within reach;
    # B = [300, 400] x [0, 100], 30 floors (300,000 m²), beyond x = 200;
    # C on industrial land, 50 floors: holds no residents. 100,000 / 400,000 = 25%
    bld = write(
        tmp_path,
        "buildings",
        [box(0, 0, 100, 100), box(300, 0, 400, 100), box(500, 0, 600, 100)],
        floors=[10.0, 30.0, 50.0],
    )
    assert pop_share([*base, bld]) == pytest.approx(0.25, abs=1e-9)


def test_floor_area_field_wins_over_floors(base, tmp_path: Path) -> None:
    # floor areas 300 (A, within reach) and 100 (B): 75%
    bld = write(
        tmp_path,
        "buildings",
        [box(0, 0, 100, 100), box(300, 0, 400, 100)],
        floors=[1.0, 9.0],
        floor_area=[300.0, 100.0],
    )
    assert pop_share([*base, bld]) == pytest.approx(0.75, abs=1e-9)


def test_polygon_without_housing_keeps_its_area_and_is_named(base, tmp_path: Path) -> None:
    # a second census polygon D = [0, 1000] x [300, 500] with 1,000 residents, no housing
    base[2] = write(
        tmp_path,
        "census",
        [box(0, 0, 1000, 200), box(0, 300, 1000, 500)],
        population=[10_000.0, 1_000.0],
        name=["Jiedao A", "Shequ D"],
    )
    layers = load_layers(base, crs=CRS)
    pop = layers.vectors["population"]
    lonely = pop[pop["population"] == 1_000.0]
    assert lonely.geometry.area.tolist() == pytest.approx([200_000.0])
    assert any(
        "role 'population': 1 of 2 polygons hold no residential land (Shequ D); their 1,000 "
        "population stay spread" in w
        for w in layers.warnings
    )


def test_jobs_polygons_go_to_non_residential_land(base, tmp_path: Path) -> None:
    jobs = write(tmp_path, "jobs_poly", [box(0, 0, 1000, 200)], jobs=[600.0])
    placed = load_layers([base[1], jobs], crs=CRS).vectors["jobs"]
    assert placed["jobs"].sum() == pytest.approx(600)
    # all on the industrial land I = [400, 1000] x [0, 200]
    assert placed.geometry.area.sum() == pytest.approx(120_000)
    assert placed.total_bounds[0] == pytest.approx(X0 + 400)


def test_points_are_left_as_they_are(base, tmp_path: Path) -> None:
    base[2] = write(tmp_path, "census", [shapely.Point(X0 + 500, Y0 + 100)], population=[5.0])
    pop = load_layers(base, crs=CRS).vectors["population"]
    assert pop.geom_type.tolist() == ["Point"]
    assert np.allclose(shapely.get_coordinates(pop.geometry.values), [[X0 + 500, Y0 + 100]])
