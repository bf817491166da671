from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import rasterio
import shapely
from conftest import CRS, X0, Y0, box, tiny_layers, write_landcover

from urbanform.errors import CRSError, LayerError, WorkspaceError
from urbanform.layers.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02
from urbanform.layers.harmonise import load_layers
from urbanform.layers.types import LayerSpec


def spec(source: Path | str, role: str, **kw) -> LayerSpec:
    return LayerSpec(
        name=kw.pop("name", role), role=role, source=str(source), file=f"layers/{role}.yml", **kw
    )


@pytest.fixture
def gpkgs(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, gdf in tiny_layers().items():
        out[name] = tmp_path / f"{name}.gpkg"
        gdf.to_file(out[name], layer=name, engine="pyogrio")
    return out


def test_fields_and_classes_are_mapped(gpkgs: dict[str, Path]) -> None:
    layers = load_layers(
        [
            spec(
                gpkgs["landuse"],
                "landuse",
                fields={"class": "LU"},
                classes={"residential": ["R1", "R2"], "green": ["G1"]},
            )
        ],
        crs=CRS,
    )
    lu = layers.vectors["landuse"]
    assert list(lu.columns) == ["class", "geometry"]
    assert lu["class"].tolist() == ["residential", "residential", "residential", "green", "other"]


def test_unmapped_class_values_are_counted(gpkgs: dict[str, Path]) -> None:
    layers = load_layers(
        [
            spec(
                gpkgs["landuse"],
                "landuse",
                fields={"class": "LU"},
                classes={"residential": ["R1", "R2"]},
            )
        ],
        crs=CRS,
    )
    assert any("2 features with unmapped class values (G1, M1)" in w for w in layers.warnings)


def test_missing_field_names_layer_field_and_fix(gpkgs: dict[str, Path]) -> None:
    with pytest.raises(
        LayerError,
        match=r"layer 'population' .*missing field 'population'.*"
        r"fields: \{population: COLUMN\}.*columns: POP",
    ):
        load_layers([spec(gpkgs["population"], "population")], crs=CRS)


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"layer 'parks' .*nope\.gpkg does not exist"):
        load_layers([spec(tmp_path / "nope.gpkg", "parks")], crs=CRS)


def test_corrupt_file(tmp_path: Path) -> None:
    bad = tmp_path / "parks.gpkg"
    bad.write_bytes(b"this is not a geopackage" * 10)
    with pytest.raises(LayerError, match=r"layer 'parks' .*cannot read parks\.gpkg"):
        load_layers([spec(bad, "parks")], crs=CRS)


def test_empty_layer(tmp_path: Path) -> None:
    path = tmp_path / "parks.gpkg"
    gpd.GeoDataFrame({"name": []}, geometry=[], crs=CRS).to_file(path, engine="pyogrio")
    with pytest.raises(LayerError, match=r"layer 'parks' .*the layer is empty"):
        load_layers([spec(path, "parks")], crs=CRS)


def test_wrong_geometry_type(gpkgs: dict[str, Path]) -> None:
    with pytest.raises(LayerError, match=r"role 'parks' needs polygons, found Point"):
        load_layers([spec(gpkgs["population"], "parks")], crs=CRS)


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_missing_crs(tmp_path: Path) -> None:
    path = tmp_path / "parks.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {}, "geometry": {"type": "Polygon", "coordinates": '
        "[[[0,0],[1,0],[1,1],[0,0]]]}}]}"
    )
    gdf = gpd.read_file(path).set_crs(None, allow_override=True)
    gdf.to_file(tmp_path / "nocrs.shp", engine="pyogrio")
    (tmp_path / "nocrs.prj").unlink(missing_ok=True)
    with pytest.raises(CRSError, match=r"layer 'parks' .*has no CRS; add 'crs:'"):
        load_layers([spec(tmp_path / "nocrs.shp", "parks")], crs=CRS)


def test_contradicting_crs(gpkgs: dict[str, Path]) -> None:
    with pytest.raises(CRSError, match=r"'crs: EPSG:4326' contradicts the file's own CRS"):
        load_layers([spec(gpkgs["parks"], "parks", crs="EPSG:4326")], crs=CRS)


def test_geographic_working_crs_is_refused(gpkgs: dict[str, Path]) -> None:
    with pytest.raises(WorkspaceError, match=r"crs 'EPSG:4326' is geographic"):
        load_layers([spec(gpkgs["parks"], "parks")], crs="EPSG:4326")


def test_raster_without_nodata(tmp_path: Path) -> None:
    path = tmp_path / "lc.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=2,
        height=2,
        count=1,
        dtype="uint8",
        crs=CRS,
        transform=rasterio.transform.from_origin(X0, Y0, 10, 10),
    ) as dst:
        dst.write(np.full((2, 2), 10, dtype=np.uint8), 1)
    with pytest.raises(LayerError, match=r"layer 'landcover' .*has no nodata value; set one"):
        load_layers([spec(path, "landcover")], crs=CRS)


def test_raster_is_read_with_classes(tmp_path: Path) -> None:
    write_landcover(tmp_path / "lc.tif")
    layers = load_layers(
        [spec(tmp_path / "lc.tif", "landcover", classes={"forest": [10]})], crs=CRS
    )
    r = layers.rasters["landcover"]
    assert r.data.shape == (10, 20) and r.nodata == 0 and r.codes_for("forest") == [10]
    assert r.pixel_area_m2 == 10_000


def test_invalid_geometry_is_repaired_and_counted(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    ok = box(500, 500, 600, 600)
    path = tmp_path / "parks.gpkg"
    gpd.GeoDataFrame({"name": ["bow", "ok"]}, geometry=[bowtie, ok], crs=CRS).to_file(path)
    layers = load_layers([spec(path, "parks")], crs=CRS)
    parks = layers.vectors["parks"]
    assert parks.geometry.is_valid.all()
    # the bow-tie becomes its two triangles: 2 x (100 x 50 / 2) = 5,000 m2
    assert parks.geometry.area.tolist() == pytest.approx([5_000, 10_000])
    assert any("1 invalid geometries were repaired" in w for w in layers.warnings)


def test_csv_with_xy_columns(tmp_path: Path) -> None:
    path = tmp_path / "stations.csv"
    pd.DataFrame({"NAME": ["A"], "LINE": ["1"], "LON": [104.0665], "LAT": [30.5728]}).to_csv(path)
    layers = load_layers(
        [
            spec(
                path,
                "stations",
                crs="EPSG:4326",
                fields={"name": "NAME", "line": "LINE", "x": "LON", "y": "LAT"},
            )
        ],
        crs=CRS,
    )
    st = layers.vectors["stations"]
    x, y = pyproj.Transformer.from_crs(4326, 32648, always_xy=True).transform(104.0665, 30.5728)
    assert st.geometry.x[0] == pytest.approx(x, abs=1e-6) and st.geometry.y[0] == pytest.approx(y)
    assert st["name"].tolist() == ["A"]


def test_csv_without_coordinate_columns(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    pd.DataFrame({"E": [1.0], "N": [2.0]}).to_csv(path, index=False)
    with pytest.raises(
        LayerError,
        match=r"s\.csv has no coordinate columns .*fields: \{x: COLUMN, y: COLUMN\}.*columns: E, N",
    ):
        load_layers([spec(path, "stations", crs="EPSG:4326")], crs=CRS)


def test_gcj02_source_is_moved_to_wgs84(tmp_path: Path) -> None:
    # a station surveyed at WGS 84 (104.0665, 30.5728), published in GCJ-02
    glng, glat = wgs84_to_gcj02(104.0665, 30.5728)
    path = tmp_path / "s.csv"
    pd.DataFrame({"LON": [float(glng)], "LAT": [float(glat)]}).to_csv(path)
    layers = load_layers(
        [spec(path, "stations", crs="GCJ-02", fields={"x": "LON", "y": "LAT"})], crs=CRS
    )
    x, y = pyproj.Transformer.from_crs(4326, 32648, always_xy=True).transform(104.0665, 30.5728)
    p = layers.vectors["stations"].geometry.iloc[0]
    assert shapely.Point(x, y).distance(p) < 0.01
    # and the GCJ-02 offset itself is of the documented size (300-700 m here)
    gx, gy = pyproj.Transformer.from_crs(4326, 32648, always_xy=True).transform(glng, glat)
    assert 200 < np.hypot(gx - x, gy - y) < 800


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [  # published test vectors of the eviltransform / coordtransform projects (lng, lat)
        ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
        ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
        ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ],
)
def test_gcj02_against_published_vectors(wgs: tuple, gcj: tuple) -> None:
    assert np.allclose(wgs84_to_gcj02(*wgs), gcj, atol=1e-9)
    assert np.allclose(gcj02_to_wgs84(*gcj), wgs, atol=1e-8)


def test_utm_zone_chosen_when_no_crs(tmp_path: Path, gpkgs: dict[str, Path]) -> None:
    parks = tiny_layers()["parks"].to_crs(4326)
    parks.to_file(tmp_path / "p.geojson", engine="pyogrio")
    layers = load_layers([spec(tmp_path / "p.geojson", "parks")], crs=None)
    assert layers.crs.to_epsg() == 32648
    assert layers.vectors["parks"].geometry.area.iloc[0] == pytest.approx(10_000, rel=1e-4)


def test_several_layers_of_one_role_are_combined(gpkgs: dict[str, Path]) -> None:
    layers = load_layers(
        [spec(gpkgs["parks"], "parks", name="a"), spec(gpkgs["parks"], "parks", name="b")], crs=CRS
    )
    assert len(layers.vectors["parks"]) == 2
    assert [p.name for p in layers.provenance] == ["a", "b"]
    assert len(layers.provenance[0].sha256) == 64


def test_multi_layer_file_needs_layer_name(tmp_path: Path) -> None:
    path = tmp_path / "all.gpkg"
    for name, gdf in tiny_layers().items():
        gdf.to_file(path, layer=name, engine="pyogrio")
    with pytest.raises(LayerError, match=r"holds 4 layers .*name one with 'layer:'"):
        load_layers([spec(path, "parks")], crs=CRS)
    layers = load_layers([spec(path, "parks", layer="parks")], crs=CRS)
    assert len(layers.vectors["parks"]) == 1


def test_negative_population_is_refused(tmp_path: Path) -> None:
    pop = tiny_layers()["population"]
    pop.loc[0, "POP"] = -5
    pop.to_file(tmp_path / "p.gpkg", engine="pyogrio")
    with pytest.raises(LayerError, match=r"field 'population' has negative values"):
        load_layers(
            [spec(tmp_path / "p.gpkg", "population", fields={"population": "POP"})], crs=CRS
        )


def test_demo_source_with_bad_option() -> None:
    with pytest.raises(LayerError, match=r"bad demo option 'size=2'; use demo:NAME\?scale="):
        load_layers([spec("demo:boundary?size=2", "boundary")], crs=CRS)


def test_demo_source_with_scale_makes_a_larger_city() -> None:
    one = load_layers([spec("demo:boundary", "boundary")], crs=CRS)
    two = load_layers([spec("demo:boundary?scale=2", "boundary")], crs=CRS)
    ratio = two.vectors["boundary"].area.sum() / one.vectors["boundary"].area.sum()
    assert ratio == pytest.approx(2.0, rel=0.05)


def test_unknown_field_key_is_refused_by_the_loader(gpkgs: dict[str, Path]) -> None:
    with pytest.raises(LayerError, match=r"layer 'parks' .*unknown key 'title' under 'fields'"):
        load_layers([spec(gpkgs["parks"], "parks", fields={"title": "name"})], crs=CRS)
