"""The demo run's city and district values, recomputed here by other means.

Every value in ``summary.json`` of the straight-line analyses, jobs-housing balance and
forest cover is recomputed from the raw demo layers with plain shapely, geopandas and
numpy, without urbanform's analysis code, and compared at the precision the method
allows:

- **park500** (straight line): parks merged by ``dissolve(by="name")`` + ``explode``,
  tiered by area, buffered with the documented 16 segments per quarter circle; residents
  counted by ``intersects`` with the buffers (equal to 1e-12), residential land by one
  polygon overlay (equal to 1e-7: urbanform's tiled overlay moves a few m²). Against
  *true* circles (``shapely.distance``) the resident share lies between the residents
  within ``r - chord error`` and those within ``r``.
- **tod_line** (straight line, 800 m): residents and jobs with a station within 800 m by
  scipy's kd-tree, not shapely. Equal to 1e-12.
- **jobs_housing**: jobs and workers summed per district by ``sjoin``; a district is
  balanced inside [0.8, 1.2] (bounds included); ``balanced_share`` is the residents of
  balanced districts over the residents of all districts. Equal to 1e-12.
- **circle5** (walk network, 300 m): on urbanform's walk graph and snaps (both tested on
  their own in tests/test_network.py), distances from networkx's Dijkstra with every snap
  point inserted as a node (tests/_network_helpers.py), and the shares summed here: a
  resident is covered for a category when a facility of it is within 300 m, and for
  ``all`` when covered for every category. Equal to 1e-12.
- **park_network** (``pop_share``): the same graph and snaps; access points every ~25 m
  along each counting park's outer edge (``ceil(L / 25)`` evenly spaced from the first
  vertex, parks merged and tiered as for park500), networkx distances per tier (500 m
  to first-tier parks, 300 m to either tier). Equal to 1e-12.
- **tod** (walk network, 800 m): the same graph; residents and jobs snapped as above,
  every station point a source, networkx distances. Equal to 1e-12.
- **forest**: the exact share of each 20 m pixel inside each district, from shapely
  intersections for the pixels a district edge touches and from the pixel centre for
  the rest; share = sum(fraction x forest) / sum(fraction x land). Equal to 1e-8.

The demo run is the session fixture ``demo_run`` (tests/conftest.py), shared with
tests/test_demo_report.py.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from _network_helpers import nx_reference
from rasterio import features
from scipy.spatial import cKDTree

from urbanform.network import graph_from_lines, snap_points

demo = pytest.importorskip("urbanform.demo")

ROOT = Path(__file__).resolve().parents[1]
TIERS = [(5000.0, 500.0), (2000.0, 300.0)]  # analyses/park500.yml: (min_area_m2, radius_m)
QUAD_SEGS = 16  # documented in park_coverage: 16 segments per quarter circle


@pytest.fixture(scope="module")
def summary(demo_run: Any) -> dict[str, Any]:
    return json.loads((demo_run.out / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def layers() -> dict[str, Any]:
    names = ["districts", "landuse", "parks", "population", "jobs", "stations", "landcover",
             "streets", "facilities"]
    out = {n: demo.demo_layer(n) for n in names}
    classes = yaml.safe_load((ROOT / "layers" / "landuse.yml").read_text(encoding="utf-8"))
    code_class = {code: cls for cls, codes in classes["classes"].items() for code in codes}
    out["landuse"]["class"] = out["landuse"]["LU_CODE"].map(code_class)
    return out


def _values(summary: dict[str, Any], analysis: str, key: str) -> dict[str, float | None]:
    ind = summary["analyses"][analysis]["indicators"][key]
    return {"city": ind["city"]["value"], **{d: v["value"] for d, v in ind["districts"].items()}}


def _district_of(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> pd.Series:
    """The district name of each point (None outside every district)."""
    joined = gpd.sjoin(points[["geometry"]], districts[["name", "geometry"]], predicate="within")
    joined = joined[~joined.index.duplicated()]
    return joined["name"].reindex(points.index)


def _shares(num: np.ndarray, den: np.ndarray, district: pd.Series) -> dict[str, float]:
    """City and per-district sum(num) / sum(den)."""
    frame = pd.DataFrame({"num": num, "den": den, "district": district.to_numpy()})
    by = frame.groupby("district")[["num", "den"]].sum()
    out = {"city": num.sum() / den.sum()}
    out.update({str(d): r.num / r.den for d, r in by.iterrows()})
    return out


def _parks_by_tier(parks: gpd.GeoDataFrame) -> list[tuple[float, shapely.Geometry]]:
    """(radius, parks of that tier as one geometry): same-name touching parks merged."""
    named = parks[parks["name"].notna() & (parks["name"].astype(str).str.strip() != "")]
    unnamed = parks.drop(index=named.index)
    merged = pd.concat([named[["name", "geometry"]].dissolve(by="name"), unnamed[["geometry"]]])
    merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=parks.crs).explode()
    area = merged.area.to_numpy()
    out = []
    for k, (min_area, radius) in enumerate(TIERS):
        bigger = TIERS[k - 1][0] if k else math.inf
        sel = merged.geometry[(area >= min_area) & (area < bigger)]
        out.append((radius, shapely.union_all(sel.to_numpy())))
    return out


def _service_area(parks: gpd.GeoDataFrame) -> shapely.Geometry:
    return shapely.union_all(
        [shapely.buffer(g, r, quad_segs=QUAD_SEGS) for r, g in _parks_by_tier(parks)]
    )


def test_park500_pop_share_equals_a_count_by_intersects(summary, layers) -> None:
    pop, districts = layers["population"], layers["districts"]
    area = _service_area(layers["parks"])
    shapely.prepare(area)
    covered = shapely.intersects(area, pop.geometry.to_numpy())
    w = pop["population"].to_numpy(dtype=float)
    expected = _shares(np.where(covered, w, 0.0), w, _district_of(pop, districts))
    assert _values(summary, "park500", "pop_share") == pytest.approx(expected, abs=1e-12)


def test_park500_pop_share_lies_within_the_chord_error_of_true_circles(summary, layers) -> None:
    # A 16-segment quarter circle of radius r lies at most r (1 - cos(pi / 64)) inside the
    # circle: 0.60 m at 500 m, 0.36 m at 300 m. Residents within r - that are surely
    # covered, those beyond r surely not.
    pop = layers["population"]
    xy = pop.geometry.to_numpy()
    surely, maybe = np.zeros(len(pop), bool), np.zeros(len(pop), bool)
    for radius, parks in _parks_by_tier(layers["parks"]):
        d = shapely.distance(parks, xy)
        surely |= d <= radius * math.cos(math.pi / (4 * QUAD_SEGS))
        maybe |= d <= radius
    w = pop["population"].to_numpy(dtype=float)
    lo, hi = w[surely].sum() / w.sum(), w[maybe].sum() / w.sum()
    got = summary["analyses"]["park500"]["indicators"]["pop_share"]["city"]["value"]
    assert lo <= got <= hi
    assert hi - lo < 1e-3  # the band is narrow: the comparison above is a real one


def test_park500_area_share_equals_one_polygon_overlay(summary, layers) -> None:
    land = layers["landuse"][layers["landuse"]["class"] == "residential"]
    area = _service_area(layers["parks"])
    expected_num, expected_den = {}, {}
    districts = layers["districts"]
    for name, district in zip(districts["name"], districts.geometry, strict=True):
        resid = shapely.intersection(land.geometry.to_numpy(), district)
        expected_den[name] = shapely.area(resid).sum()
        expected_num[name] = shapely.area(shapely.intersection(resid, area)).sum()
    expected = {n: expected_num[n] / expected_den[n] for n in expected_num}
    expected["city"] = sum(expected_num.values()) / sum(expected_den.values())
    # urbanform overlays tile by tile, which moves a few m² of ~100 km² (3e-8); a 1 m
    # error in a radius moves about 1e-3.
    assert _values(summary, "park500", "area_share") == pytest.approx(expected, abs=1e-7)


def test_tod_line_shares_equal_a_kd_tree_count(summary, layers) -> None:
    # analyses/tod_line.yml: rings [500, 800] m, straight line; the indicator ring is the
    # largest, 800 m, and a unit counts once however many stations reach it.
    st = layers["stations"]
    tree = cKDTree(np.column_stack([st.geometry.x, st.geometry.y]))
    for key, layer, field in [("pop_share", "population", "population"),
                              ("jobs_share", "jobs", "jobs")]:
        pts = layers[layer]
        d, _ = tree.query(np.column_stack([pts.geometry.x, pts.geometry.y]))
        w = pts[field].to_numpy(dtype=float)
        expected = _shares(np.where(d <= 800.0, w, 0.0), w, _district_of(pts, layers["districts"]))
        assert _values(summary, "tod_line", key) == pytest.approx(expected, abs=1e-12), key


def test_jobs_housing_ratio_and_balanced_share_equal_sums_by_district(summary, layers) -> None:
    pop, jobs, districts = layers["population"], layers["jobs"], layers["districts"]
    workers = pop.groupby(_district_of(pop, districts))["workers"].sum()
    job_sum = jobs.groupby(_district_of(jobs, districts))["jobs"].sum()
    ratio = (job_sum / workers).to_dict()
    expected = {"city": jobs["jobs"].sum() / pop["workers"].sum(), **ratio}
    assert _values(summary, "jobs_housing", "ratio") == pytest.approx(expected, abs=1e-12)

    residents = pop.groupby(_district_of(pop, districts))["population"].sum()
    balanced = [d for d, r in ratio.items() if 0.8 <= r <= 1.2]
    share = residents[balanced].sum() / residents.sum()
    got = summary["analyses"]["jobs_housing"]["indicators"]["balanced_share"]["city"]["value"]
    assert got == pytest.approx(share, abs=1e-12)
    assert 0 < len(balanced) < len(ratio)  # the demo mixes balanced and unbalanced districts


def _pixel_fractions(raster: Any, polygon: shapely.Geometry) -> np.ndarray:
    """The exact share of each pixel's area inside ``polygon``."""
    shape, t = raster.data.shape, raster.transform
    centre = features.rasterize([polygon], out_shape=shape, transform=t, dtype="uint8")
    edge = features.rasterize(
        [polygon.boundary], out_shape=shape, transform=t, all_touched=True, dtype="uint8"
    ).astype(bool)
    frac = centre.astype(float)
    rows, cols = np.nonzero(edge)
    x0, y0 = t.c + cols * t.a, t.f + rows * t.e
    boxes = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
    frac[rows, cols] = shapely.area(shapely.intersection(boxes, polygon)) / (t.a * -t.e)
    return frac


def test_forest_share_equals_exact_pixel_fractions(summary, layers) -> None:
    lc = layers["landcover"]
    data = np.asarray(lc.data)
    land = (data != lc.nodata) & ~np.isin(data, lc.codes_for("water"))
    forest = land & np.isin(data, lc.codes_for("forest"))
    num, den = {}, {}
    districts = layers["districts"]
    for name, polygon in zip(districts["name"], districts.geometry, strict=True):
        frac = _pixel_fractions(lc, polygon)
        num[name], den[name] = (frac * forest).sum(), (frac * land).sum()
    expected = {n: num[n] / den[n] for n in num}
    expected["city"] = sum(num.values()) / sum(den.values())
    # exactextract's fractions differ from shapely's in the last digits (4e-9); one pixel
    # more or less in a district moves its share by about 1e-5.
    assert _values(summary, "forest", "share") == pytest.approx(expected, abs=1e-8)


def test_circle5_shares_equal_networkx_distances(summary, layers) -> None:
    # analyses/circle5.yml: 300 m, four categories, max_snap_m 100; min_piece_share is
    # the default 0.01 (street pieces under 1% of the network's length are not snapped to).
    cats = ["kindergarten", "convenience_store", "community_service", "playground"]
    graph = graph_from_lines(layers["streets"])
    pop, fac = layers["population"], layers["facilities"]
    usnap = snap_points(graph, pop.geometry, max_snap_m=100.0, min_piece_share=0.01)
    w = pop["population"].to_numpy(dtype=float)
    district = _district_of(pop, layers["districts"])
    every = np.ones(len(pop), dtype=bool)
    for cat in cats:
        f = fac[fac["category"] == cat]
        fsnap = snap_points(graph, f.geometry, max_snap_m=100.0, min_piece_share=0.01)
        reach = nx_reference(graph, usnap, fsnap, 300.0) <= 300.0
        every &= reach
        expected = _shares(np.where(reach, w, 0.0), w, district)
        got = _values(summary, "circle5", f"pop_share_{cat}")
        assert got == pytest.approx(expected, abs=1e-12), cat
    expected = _shares(np.where(every, w, 0.0), w, district)
    assert _values(summary, "circle5", "pop_share_all") == pytest.approx(expected, abs=1e-12)


def _access_points(parks: gpd.GeoDataFrame) -> list[tuple[float, np.ndarray]]:
    """(radius, access points) per tier: ceil(L / 25) points evenly along each outer edge."""
    named = parks["name"].notna() & (parks["name"].astype(str).str.strip() != "")
    shared = named & parks["name"].duplicated(keep=False)
    merged = pd.concat([parks[shared][["name", "geometry"]].dissolve(by="name"),
                        parks[~shared][["geometry"]]])
    merged = gpd.GeoDataFrame(merged, geometry="geometry", crs=parks.crs).explode()
    area = merged.area.to_numpy()
    out = []
    for min_area, radius in TIERS:
        # parks of this tier *or a larger one* serve this radius
        rings = merged.geometry[area >= min_area].exterior.to_numpy()
        pts = [
            shapely.line_interpolate_point(ring, np.arange(n) * ring.length / n)
            for ring in rings
            for n in [max(1, math.ceil(ring.length / 25.0))]
        ]
        out.append((radius, shapely.get_coordinates(np.concatenate(pts))))
    return out


def test_park_network_pop_share_equals_networkx_distances(summary, layers) -> None:
    graph = graph_from_lines(layers["streets"])
    pop = layers["population"]
    usnap = snap_points(graph, pop.geometry, max_snap_m=100.0, min_piece_share=0.01)
    covered = np.zeros(len(pop), dtype=bool)
    for radius, pts in _access_points(layers["parks"]):
        asnap = snap_points(graph, pts, max_snap_m=100.0, min_piece_share=0.01)
        covered |= nx_reference(graph, usnap, asnap, radius) <= radius
    w = pop["population"].to_numpy(dtype=float)
    expected = _shares(np.where(covered, w, 0.0), w, _district_of(pop, layers["districts"]))
    assert _values(summary, "park_network", "pop_share") == pytest.approx(expected, abs=1e-12)


def test_tod_network_shares_equal_networkx_distances(summary, layers) -> None:
    # analyses/tod.yml: rings [500, 800] m on the walk network; the indicator ring is
    # 800 m; every demo station point is an entrance of its station.
    graph = graph_from_lines(layers["streets"])
    ssnap = snap_points(graph, layers["stations"].geometry, max_snap_m=100.0,
                        min_piece_share=0.01)
    for key, layer, field in [("pop_share", "population", "population"),
                              ("jobs_share", "jobs", "jobs")]:
        pts = layers[layer]
        snap = snap_points(graph, pts.geometry, max_snap_m=100.0, min_piece_share=0.01)
        reach = nx_reference(graph, snap, ssnap, 800.0) <= 800.0
        w = pts[field].to_numpy(dtype=float)
        expected = _shares(np.where(reach, w, 0.0), w, _district_of(pts, layers["districts"]))
        assert _values(summary, "tod", key) == pytest.approx(expected, abs=1e-12), key
