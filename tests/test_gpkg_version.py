"""results.gpkg is a GeoPackage 1.2, which QGIS 3.22 LTR (GDAL 3.6) opens without warning.

The version lives in the SQLite header: ``application_id`` 0x47504B47 (the ASCII bytes
"GPKG") and ``user_version`` major * 10000 + minor * 100 + patch, so 1.2.0 is 10200 and
GDAL's newer default, 1.4.0, would be 10400 (GeoPackage standard, clause 1.1.1.1.1).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import shapely

from urbanform.maps.qgis import write_layer_styles
from urbanform.outputs import write_gpkg

GPKG_APPLICATION_ID = int.from_bytes(b"GPKG", "big")  # 1196444487
GPKG_1_2 = 1 * 10000 + 2 * 100 + 0


def _header(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        user = conn.execute("PRAGMA user_version").fetchone()[0]
    return app, user


def _layers() -> dict[str, gpd.GeoDataFrame]:
    one = gpd.GeoDataFrame(
        {"name": ["A"], "pop_share": [0.5]}, geometry=[shapely.box(0, 0, 100, 100)],
        crs="EPSG:32648",
    )
    return {"park__districts": one, "park__gaps": one[["geometry"]]}


def test_results_gpkg_is_geopackage_1_2(tmp_path: Path) -> None:
    path = tmp_path / "results.gpkg"
    layers = _layers()
    write_gpkg(layers, path, crs=layers["park__districts"].crs)
    assert _header(path) == (GPKG_APPLICATION_ID, GPKG_1_2)


def test_stored_styles_keep_the_version(tmp_path: Path) -> None:
    path = tmp_path / "results.gpkg"
    layers = _layers()
    write_gpkg(layers, path, crs=layers["park__districts"].crs)
    write_layer_styles(path, layers, {})
    assert _header(path) == (GPKG_APPLICATION_ID, GPKG_1_2)
    assert set(gpd.list_layers(path)["name"]) >= set(layers)
