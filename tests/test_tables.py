"""CSV and text tables: detected coordinates, assumed WGS 84, H3 ids (issue 13, items 4, 5)."""

from __future__ import annotations

from pathlib import Path

import h3
import pyproj
import pytest
import shapely
from conftest import CRS

from urbanform.errors import CRSError, LayerError
from urbanform.layers.harmonise import load_layers
from urbanform.layers.types import LayerSpec

LNG, LAT = 104.0665, 30.5728
UTM = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)


def spec(source: Path, role: str, **kw) -> LayerSpec:
    return LayerSpec(name=role, role=role, source=str(source), file=f"layers/{role}.yml", **kw)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


@pytest.mark.parametrize(
    ("header", "sep"),
    [
        ("lon,lat", ","),
        ("LNG,Lat", ","),
        ("Longitude,Latitude", ","),
        ("经度,纬度", ","),
        ("lon\tlat", "\t"),
        ("lon;lat", ";"),
    ],
)
def test_lonlat_columns_are_detected_and_wgs84_assumed(
    tmp_path: Path, header: str, sep: str
) -> None:
    path = write(tmp_path / "jobs.csv", f"jobs{sep}{header}\n120{sep}{LNG}{sep}{LAT}\n")
    layers = load_layers([spec(path, "jobs")], crs=CRS)
    x, y = UTM.transform(LNG, LAT)
    p = layers.vectors["jobs"].geometry.iloc[0]
    assert (p.x, p.y) == pytest.approx((x, y), abs=1e-6)
    assert layers.vectors["jobs"]["jobs"].tolist() == [120.0]


def test_the_assumed_crs_is_said_in_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.csv", f"jobs,lng,lat\n120,{LNG},{LAT}\n")
    layers = load_layers([spec(path, "jobs")], crs=CRS)
    assert any(
        "jobs.csv declares no CRS; longitude/latitude columns lng were read as EPSG:4326" in w
        for w in layers.warnings
    )


def test_the_detected_columns_are_noted_for_validate(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.txt", f"jobs\tlng\tlat\n120\t{LNG}\t{LAT}\n")
    layers = load_layers([spec(path, "jobs")], crs=CRS)
    assert "layer 'jobs': coordinates from columns lng/lat (detected)" in layers.notes


def test_gb18030_table_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "岗位.csv", f"岗位数,经度,纬度\n7,{LNG},{LAT}\n", "gb18030")
    layers = load_layers([spec(path, "jobs", fields={"jobs": "岗位数"})], crs=CRS)
    assert layers.vectors["jobs"]["jobs"].tolist() == [7.0]


def test_detected_xy_needs_a_crs(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.csv", "jobs,X,Y\n1,400000,3390000\n")
    with pytest.raises(CRSError, match=r"a table has no CRS; add 'crs:'"):
        load_layers([spec(path, "jobs")], crs=CRS)


def test_lonlat_values_that_do_not_fit_name_the_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.csv", f"jobs,lon,lat\n1,{LNG},{LAT}\n2,400000,3390000\n")
    with pytest.raises(CRSError, match=r"values outside -180\.\.180 / -90\.\.90 \(row 2\)"):
        load_layers([spec(path, "jobs")], crs=CRS)


def test_bad_coordinates_name_the_first_rows(tmp_path: Path) -> None:
    rows = "".join(f"1,{v},{LAT}\n" for v in [LNG, "", LNG, "n/a", "x"])
    path = write(tmp_path / "jobs.csv", "jobs,lon,lat\n" + rows)
    with pytest.raises(
        LayerError, match=r"3 rows of jobs\.csv have no numeric lon/lat \(rows 2, 4, 5"
    ):
        load_layers([spec(path, "jobs")], crs=CRS)


def test_several_coordinate_pairs_must_be_chosen(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.csv", f"jobs,x,y,lon,lat\n1,1,2,{LNG},{LAT}\n")
    with pytest.raises(LayerError, match=r"several coordinate column pairs \(x/y; lon/lat\)"):
        load_layers([spec(path, "jobs")], crs=CRS)


def test_h3_ids_become_cells(tmp_path: Path) -> None:
    cell = h3.latlng_to_cell(LAT, LNG, 9)
    other = h3.latlng_to_cell(LAT + 0.01, LNG, 9)
    path = write(tmp_path / "pop.csv", f"id,population\n{cell},100\n{h3.str_to_int(other)},50\n")
    layers = load_layers([spec(path, "population", fields={"h3": "id"})], crs=CRS)
    pop = layers.vectors["population"]
    assert pop["population"].tolist() == [100.0, 50.0]
    # the first polygon is the cell: its area matches h3's own, its centre the cell centre
    area = h3.cell_area(cell, unit="m^2")
    assert pop.geometry.iloc[0].area == pytest.approx(area, rel=0.01)
    clat, clng = h3.cell_to_latlng(cell)
    cx, cy = UTM.transform(clng, clat)
    assert pop.geometry.iloc[0].centroid.distance(shapely.Point(cx, cy)) < 1.0


def test_bad_h3_ids_name_the_rows(tmp_path: Path) -> None:
    cell = h3.latlng_to_cell(LAT, LNG, 9)
    path = write(tmp_path / "pop.csv", f"id,population\n{cell},1\nabc,2\n")
    with pytest.raises(LayerError, match=r"1 values of column 'id' in pop\.csv are not H3 .*row 2"):
        load_layers([spec(path, "population", fields={"h3": "id"})], crs=CRS)


def test_h3_with_another_crs_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "pop.csv", "id,population\n8928308280fffff,1\n")
    with pytest.raises(CRSError, match=r"H3 cells are defined in WGS 84; remove 'crs: EPSG:32648'"):
        load_layers([spec(path, "population", fields={"h3": "id"}, crs=CRS)], crs=CRS)


def test_bad_count_values_name_the_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.csv", f"jobs,lon,lat\n1,{LNG},{LAT}\nmany,{LNG},{LAT}\n")
    with pytest.raises(
        LayerError, match=r"field 'jobs' has 1 non-numeric or empty values \(row 2\)"
    ):
        load_layers([spec(path, "jobs")], crs=CRS)


def test_validate_prints_the_detected_columns(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from urbanform.cli.main import cli

    root = tmp_path / "w"
    (root / "layers").mkdir(parents=True)
    (root / "urbanform.yml").write_text("name: T\n", encoding="utf-8")
    write(root / "jobs.csv", f"jobs,经度,纬度\n5,{LNG},{LAT}\n")
    (root / "layers" / "jobs.yml").write_text("role: jobs\nsource: jobs.csv\n", encoding="utf-8")
    (root / "analyses").mkdir()
    (root / "analyses" / "jh.yml").write_text("kind: jobs_housing\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["validate", str(root)])
    assert "layer 'jobs': coordinates from columns 经度/纬度 (detected)" in r.output
    assert "CRS EPSG:4326 assumed" in r.output


def test_a_table_with_only_a_header_is_an_empty_layer(tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.csv", "jobs,lon,lat\n")
    with pytest.raises(LayerError, match=r"layer 'jobs' .*the layer is empty"):
        load_layers([spec(path, "jobs")], crs=CRS)
