"""A workspace of real-shaped inputs, no glue code (issue 13, "done when").

An H3 population CSV with only ``id`` and ``population``, a jobs CSV with ``jobs``,
``lng``, ``lat`` and no mapping or CRS, a GTFS zip as stations and a GeoJSON park, all in
WGS 84 around (104.06 E, 30.65 N). The shares urbanform reports are recomputed here
independently: h3-py for the cells, pyproj and shapely for the geometry.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h3
import numpy as np
import pyproj
import pytest
import shapely

from urbanform.pipeline import run_workspace
from urbanform.workspace import load_workspace

LNG, LAT = 104.06, 30.65
UTM = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)  # the zone urbanform picks
TO_LL = pyproj.Transformer.from_crs(32648, 4326, always_xy=True)
CX, CY = UTM.transform(LNG, LAT)
CELLS = sorted(h3.grid_disk(h3.latlng_to_cell(LAT, LNG, 9), 3))  # 37 cells, ~1.2 km across
POP = {c: 10.0 * (i + 1) for i, c in enumerate(CELLS)}
STATIONS = {"A": (CX - 300, CY), "B": (CX + 700, CY + 400)}  # metres in UTM 48N
JOBS = [(CX - 250, CY + 100, 400), (CX + 200, CY - 50, 300), (CX + 1500, CY, 200)]
PARK = shapely.box(CX + 100, CY + 100, CX + 250, CY + 250)  # 22,500 m²: serves 500 m
RADIUS_M = 600


def ll(x: float, y: float) -> tuple[float, float]:
    return TO_LL.transform(x, y)


def write_workspace(root: Path) -> Path:
    data = root / "data"
    data.mkdir(parents=True)
    (root / "layers").mkdir()
    (root / "analyses").mkdir()
    (root / "urbanform.yml").write_text("name: Real shape\nh3_resolutions: [9]\n", "utf-8")
    rows = "".join(f"{c},{p:g}\n" for c, p in POP.items())
    (data / "pop_h3.csv").write_text("id,population\n" + rows, "utf-8")
    rows = "".join("{2},{0:.8f},{1:.8f}\n".format(*ll(x, y), n) for x, y, n in JOBS)
    (data / "jobs.csv").write_text("jobs,lng,lat\n" + rows, "utf-8")
    stops = ["stop_id,stop_name,stop_lat,stop_lon"]
    stops += ["{0},{0},{2:.8f},{1:.8f}".format(n, *ll(*xy)) for n, xy in STATIONS.items()]
    with zipfile.ZipFile(data / "metro.zip", "w") as z:
        z.writestr("stops.txt", "\n".join(stops) + "\n")
        z.writestr("routes.txt", "route_id,route_short_name,route_type\nM,1,1\n")
        z.writestr("trips.txt", "route_id,service_id,trip_id\nM,WK,T\n")
        z.writestr(
            "stop_times.txt",
            "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
            "T,08:00:00,08:00:00,A,1\nT,08:10:00,08:10:00,B,2\n",
        )
    park = shapely.transform(PARK, lambda xy: np.column_stack(TO_LL.transform(*xy.T)))
    feature = {"type": "Feature", "properties": {"name": "P"}, "geometry": park.__geo_interface__}
    (data / "parks.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8"
    )
    layers = {
        "population": "role: population\nsource: data/pop_h3.csv\nfields: {h3: id}\n",
        "jobs": "role: jobs\nsource: data/jobs.csv\n",
        "stations": "role: stations\nsource: data/metro.zip\n",
        "parks": "role: parks\nsource: data/parks.geojson\n",
    }
    for name, text in layers.items():
        (root / "layers" / f"{name}.yml").write_text(text, "utf-8")
    (root / "analyses" / "park.yml").write_text("kind: park_coverage\n", "utf-8")
    (root / "analyses" / "tod.yml").write_text(
        f"kind: tod\nparams: {{radius_m: {RADIUS_M}, distance: euclidean}}\n", "utf-8"
    )
    return root


def cell_polygon(cell: str) -> shapely.Polygon:
    ring = [UTM.transform(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
    return shapely.Polygon(ring)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    root = write_workspace(tmp_path_factory.mktemp("real") / "ws")
    return run_workspace(load_workspace(root), write=False)


def value(run, analysis: str, key: str) -> float:
    return next(r for r in run.results if r.name == analysis).indicators[key].city.value


def test_park_pop_share_matches_an_independent_overlay(run) -> None:
    # no land use: each cell counts by the share of its area within 500 m of the park.
    # urbanform's buffer has 16 segments per quarter circle (0.5 m chord error at 500 m,
    # about 0.1% less area than the circle); the check here uses 256 and allows 0.2%
    reach = PARK.buffer(500, quad_segs=256)
    covered = sum(
        p * cell_polygon(c).intersection(reach).area / cell_polygon(c).area for c, p in POP.items()
    )
    assert value(run, "park", "pop_share") == pytest.approx(covered / sum(POP.values()), rel=2e-3)


def test_tod_pop_share_matches_an_independent_count(run) -> None:
    # walking analyses count a cell at a point inside it (shapely's representative point)
    stations = [shapely.Point(xy) for xy in STATIONS.values()]
    near = sum(
        p
        for c, p in POP.items()
        if min(cell_polygon(c).representative_point().distance(s) for s in stations) <= RADIUS_M
    )
    assert value(run, "tod", "pop_share") == pytest.approx(near / sum(POP.values()), abs=1e-9)


def test_tod_jobs_share_matches_an_independent_count(run) -> None:
    # job 1 is 103 m from A, job 2 is 508 m from A; job 3 is 900 m from B
    near = sum(
        n
        for x, y, n in JOBS
        if min(np.hypot(x - sx, y - sy) for sx, sy in STATIONS.values()) <= RADIUS_M
    )
    assert near == 700
    assert value(run, "tod", "jobs_share") == pytest.approx(near / 900, abs=1e-9)


def test_the_run_says_what_it_assumed(run) -> None:
    assert any(
        "jobs.csv declares no CRS; longitude/latitude columns lng were read as EPSG:4326" in w
        for w in run.layers.warnings
    )
    assert run.layers.crs.to_epsg() == 32648
