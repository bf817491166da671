"""Shared fixtures: a tiny hand-checkable city written as a real workspace.

The tiny city (EPSG:32648, offsets from X0, Y0):

- districts West = [0, 1000] x [0, 1000], East = [1000, 2000] x [0, 1000];
- one park [450, 550] x [450, 550] (10,000 m2: serves 500 m, measured from its edge);
- residential land R1 = [100, 300]^2 (West; farthest corner 495 m from the park: covered),
  R2 = [1200, 1400] x [100, 300] (East; 650 m away: not covered),
  R3 = [900, 1100] x [450, 550] (straddles the district edge; covered up to x = 1050);
- residents P1 (200, 200) 100 West covered, P2 (1300, 200) 300 East not,
  P3 (950, 500) 50 West covered, P4 (1075, 500) 50 East not (25 m beyond the radius);
- land cover 100 m pixels: West all tree cover (10); East half water (80), half cropland (40).

By hand: area_share West = (40,000 + 10,000) / 50,000 = 1.0, East = 5,000 / 50,000 = 0.1,
city = 55,000 / 100,000 = 0.55; pop_share West = 150 / 150 = 1.0, East = 0 / 350 = 0,
city = 150 / 500 = 0.3; forest share West = 1.0, East = 0 / 50 land pixels = 0,
city = 100 / 150 = 2/3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

X0, Y0 = 400_000.0, 3_390_000.0
CRS = "EPSG:32648"

EXPECTED = {
    "area_share": {"city": 0.55, "West": 1.0, "East": 0.1},
    "pop_share": {"city": 0.3, "West": 1.0, "East": 0.0},
    "forest": {"city": 2 / 3, "West": 1.0, "East": 0.0},
}


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def tiny_layers() -> dict[str, gpd.GeoDataFrame]:
    districts = gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=CRS,
    )
    landuse = gpd.GeoDataFrame(
        {"LU": ["R2", "R2", "R1", "G1", "M1"]},
        geometry=[
            box(100, 100, 300, 300),
            box(1200, 100, 1400, 300),
            box(900, 450, 1100, 550),
            box(450, 450, 550, 550),
            box(1500, 600, 1900, 900),
        ],
        crs=CRS,
    )
    parks = gpd.GeoDataFrame(
        {"name": ["Central Park"]}, geometry=[box(450, 450, 550, 550)], crs=CRS
    )
    pop = gpd.GeoDataFrame(
        {"POP": [100, 300, 50, 50]},
        geometry=shapely.points(
            [
                [X0 + 200, Y0 + 200],
                [X0 + 1300, Y0 + 200],
                [X0 + 950, Y0 + 500],
                [X0 + 1075, Y0 + 500],
            ]
        ),
        crs=CRS,
    )
    return {"districts": districts, "landuse": landuse, "parks": parks, "population": pop}


def write_landcover(path: Path) -> None:
    data = np.full((10, 20), 10, dtype=np.uint8)
    data[:5, 10:] = 80  # East, northern half: water
    data[5:, 10:] = 40  # East, southern half: cropland
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=20,
        height=10,
        count=1,
        dtype="uint8",
        crs=CRS,
        transform=from_origin(X0, Y0 + 1000, 100, 100),
        nodata=0,
    ) as dst:
        dst.write(data, 1)


def write_tiny_workspace(root: Path, *, analyses: dict[str, str] | None = None) -> Path:
    """The tiny city as a workspace folder with GeoPackage and GeoTIFF sources."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "layers").mkdir(exist_ok=True)
    (root / "analyses").mkdir(exist_ok=True)
    for name, gdf in tiny_layers().items():
        gdf.to_file(root / "data" / f"{name}.gpkg", layer=name, engine="pyogrio")
    write_landcover(root / "data" / "landcover.tif")
    (root / "urbanform.yml").write_text(
        'name: "Tiny City"\ncrs: EPSG:32648\nh3_resolutions: [9]\n', encoding="utf-8"
    )
    layers = {
        "districts": "role: districts\nsource: data/districts.gpkg\n",
        "landuse": (
            "role: landuse\nsource: data/landuse.gpkg\nfields: {class: LU}\n"
            "classes: {residential: [R1, R2], green: [G1], industrial: [M1]}\n"
        ),
        "parks": "role: parks\nsource: data/parks.gpkg\n",
        "population": "role: population\nsource: data/population.gpkg\nfields: {population: POP}\n",
        "landcover": (
            "role: landcover\nsource: data/landcover.tif\nclasses: {forest: [10], water: [80]}\n"
        ),
    }
    for name, text in layers.items():
        (root / "layers" / f"{name}.yml").write_text(text, encoding="utf-8")
    runs = (
        analyses
        if analyses is not None
        else {
            "park500": (
                'kind: park_coverage\ntarget: {indicator: pop_share, op: ">=", value: 0.9, '
                "year: 2025}\n"
            ),
            "forest": 'kind: forest_cover\ntarget: {indicator: share, op: ">=", value: 0.41}\n',
        }
    )
    for name, text in runs.items():
        (root / "analyses" / f"{name}.yml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def tiny_workspace(tmp_path: Path) -> Path:
    return write_tiny_workspace(tmp_path / "tiny")


DEMO_RUNS = [
    "park500", "park_network", "circle5", "forest", "jobs_housing", "tod", "tod_line",
]
"""The demo analyses run once per session by :func:`demo_run`."""


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The repository's demo workspace run once (analyses :data:`DEMO_RUNS`)."""
    from urbanform.pipeline import run_workspace
    from urbanform.workspace import load_workspace

    out = tmp_path_factory.mktemp("demo") / "out"
    ws = load_workspace(Path(__file__).resolve().parents[1], out=out)
    return run_workspace(ws, only=DEMO_RUNS)
