"""Stations from a GTFS feed (issue 13, item 6); feeds are written by the tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pyproj
import pytest
from conftest import CRS, X0, Y0, write_tiny_workspace

from urbanform.errors import LayerError, WorkspaceError
from urbanform.layers.harmonise import load_layers
from urbanform.layers.types import LayerSpec
from urbanform.pipeline import run_workspace
from urbanform.workspace import load_workspace

TO_LONLAT = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True)


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(X0 + x, Y0 + y)
    return round(lon, 8), round(lat, 8)


def stop(sid: str, name: str, x: float | None, y: float | None, ltype: int = 0, parent: str = ""):
    lon, lat = lonlat(x, y) if x is not None else ("", "")
    return f"{sid},{name},{lat},{lon},{ltype},{parent}"


# Tiny-city positions (m): station "Tianfu Square" (parent S1 at 200, 200) with two platforms
# served by metro lines 1 and 2 and one entrance; "East" (no parent) served by line 2 at
# (1300, 200); a bus stop at (1075, 500) served by bus 55 only; "Ghost" (parent G without
# coordinates) with a platform served by tram T at (950, 500).
STOPS = [
    "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station",
    stop("S1", "Tianfu Square", 200, 200, 1),
    stop("S1a", "Tianfu Square L1", 190, 200, 0, "S1"),
    stop("S1b", "Tianfu Square L2", 210, 200, 0, "S1"),
    stop("S1e", "Tianfu Square Exit A", 200, 260, 2, "S1"),
    stop("E1", "East", 1300, 200),
    stop("B1", "Bus stop", 1075, 500),
    stop("G", "Ghost", None, None, 1),
    stop("G1", "Ghost platform", 950, 500, 0, "G"),
]
ROUTES = [
    "route_id,route_short_name,route_long_name,route_type",
    "L1,1,Line 1,1",
    "L2,2,Line 2,1",
    "BUS,55,Bus 55,3",
    "TR,,Tram T,0",
]
TRIPS = ["route_id,service_id,trip_id", "L1,WK,T1", "L2,WK,T2", "BUS,WK,T3", "TR,WK,T4"]
STOP_TIMES = [
    "trip_id,arrival_time,departure_time,stop_id,stop_sequence",
    "T1,08:00:00,08:00:00,S1a,1",
    "T2,08:00:00,08:00:00,S1b,1",
    "T2,08:05:00,08:05:00,E1,2",
    "T3,08:00:00,08:00:00,B1,1",
    "T4,08:00:00,08:00:00,G1,1",
]


def write_feed(path: Path, *, routes: list[str] = ROUTES, as_zip: bool = True) -> Path:
    files = {
        "stops.txt": STOPS,
        "routes.txt": routes,
        "trips.txt": TRIPS,
        "stop_times.txt": STOP_TIMES,
        "agency.txt": [
            "agency_id,agency_name,agency_url,agency_timezone",
            "A,Metro,http://example.org,Asia/Shanghai",
        ],
    }
    if as_zip:
        with zipfile.ZipFile(path, "w") as z:
            for name, lines in files.items():
                z.writestr(name, "\n".join(lines) + "\n")
        return path
    path.mkdir(parents=True)
    for name, lines in files.items():
        (path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load(source: Path, **kw):
    spec = LayerSpec(
        name="stations", role="stations", source=str(source), file="layers/s.yml", **kw
    )
    return load_layers([spec], crs=CRS)


@pytest.fixture(params=["zip", "folder"])
def feed(request, tmp_path: Path) -> Path:
    as_zip = request.param == "zip"
    return write_feed(tmp_path / ("feed.zip" if as_zip else "feed"), as_zip=as_zip)


def test_rail_stations_are_grouped_by_parent_and_named(feed: Path) -> None:
    st = load(feed).vectors["stations"]
    got = sorted(zip(st["name"], st["line"], st["kind"], strict=True))
    assert got == [
        ("East", "2", "station"),
        ("Ghost", "Tram T", "station"),  # no short name: the long name
        ("Tianfu Square", "", "entrance"),
        ("Tianfu Square", "1; 2", "station"),
    ]


def test_station_sits_at_its_parent(feed: Path) -> None:
    st = load(feed).vectors["stations"]
    p = st[(st["name"] == "Tianfu Square") & (st["kind"] == "station")].geometry.iloc[0]
    assert (p.x - X0, p.y - Y0) == pytest.approx((200, 200), abs=0.01)


def test_parent_without_coordinates_sits_at_its_platforms(feed: Path) -> None:
    st = load(feed).vectors["stations"]
    p = st[st["name"] == "Ghost"].geometry.iloc[0]
    assert (p.x - X0, p.y - Y0) == pytest.approx((950, 500), abs=0.01)


def test_route_types_choose_the_stops(tmp_path: Path) -> None:
    st = load(write_feed(tmp_path / "f.zip"), route_types=(3,)).vectors["stations"]
    assert st["name"].tolist() == ["Bus stop"]


def test_feed_without_rail_names_its_route_types(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "f.zip", routes=[ROUTES[0], "L1,1,Line 1,3", "L2,2,L2,3"])
    with pytest.raises(LayerError, match=r"no route of types 0, 1, 2, 12, .*route types are 3; "):
        load(feed, route_types=None)


def test_route_types_in_yaml_are_checked(tmp_path: Path) -> None:
    root = tmp_path / "w"
    (root / "layers").mkdir(parents=True)
    (root / "urbanform.yml").write_text("name: T\n", encoding="utf-8")
    (root / "layers" / "s.yml").write_text(
        "role: stations\nsource: f.zip\nroute_types: [metro]\n", encoding="utf-8"
    )
    with pytest.raises(WorkspaceError, match=r"'route_types' must be a list of GTFS route types"):
        load_workspace(root)


def test_tod_on_a_gtfs_zip_gives_the_hand_value(tmp_path: Path) -> None:
    root = write_tiny_workspace(
        tmp_path / "tiny",
        analyses={"tod": "kind: tod\nparams: {radius_m: 100, distance: euclidean}\n"},
    )
    write_feed(root / "data" / "metro.zip")
    (root / "layers" / "stations.yml").write_text(
        "role: stations\nsource: data/metro.zip\n", encoding="utf-8"
    )
    run = run_workspace(load_workspace(root), write=False)
    # straight line within 100 m of a rail station's entrance (Tianfu Square: its entrance
    # at (200, 260); East at (1300, 200); Ghost at (950, 500)): P1 (200, 200) 100 at 60 m,
    # P2 (1300, 200) 300 at 0 m, P3 (950, 500) 50 at 0 m; P4 (1075, 500) 50 is 125 m from
    # Ghost and only the bus stop stands there: 450 of 500
    assert run.results[0].indicators["pop_share"].city.value == pytest.approx(0.9)
