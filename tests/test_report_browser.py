"""The report and a standalone map in a real browser (Debian's chromium), offline.

Every request that is not file:// is aborted and recorded; the page must request
nothing, raise no error, log no console error, and draw every map's Leaflet layers.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_maps import EVIL, make_h3_cells, make_park_result, make_tod_result

from urbanform.layers.types import Provenance
from urbanform.maps import analysis_map, write_map, write_report

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

#: The run facts both reports share (everything but results, maps and data notes).
RUN = {
    "workspace_name": "Chengdu demo",
    "crs": "EPSG:32648",
    "version": "0.1.0",
    "run_seconds": 3.2,
    "started_at": "2026-11-25T15:00:00Z",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


@dataclass
class Visit:
    """What the browser saw while opening one page."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    maps: list[dict] = field(default_factory=list)
    sorted_names: list[str] = field(default_factory=list)
    popup: dict = field(default_factory=dict)
    acted: Any = None


def _count(frame) -> dict:
    return {
        "containers": len(frame.query_selector_all(".leaflet-container")),
        "paths": len(frame.query_selector_all(".leaflet-interactive")),
        "legends": len(frame.query_selector_all(".uf-legend-part")),
    }


def _drawn(page, get_frame) -> dict:
    """Wait (up to 5 s) for Leaflet to draw in the frame ``get_frame()`` gives (asked
    again each time: a frame whose page is set late navigates once); count what it drew."""
    for _ in range(100):
        frame = get_frame()
        try:
            if frame is not None and frame.query_selector(".leaflet-interactive") is not None:
                return _count(frame)
        except PlaywrightError:  # the frame navigated to its page meanwhile
            pass
        page.wait_for_timeout(50)
    frame = get_frame()
    return _count(frame) if frame is not None else {"containers": 0, "paths": 0, "legends": 0}


def _frames_layers(page) -> list[dict]:
    """What each map drew: a standalone map's page, or each report map once scrolled to
    (the report draws a map when it comes near the screen)."""
    frames = page.query_selector_all("iframe[data-map]")
    if not frames:
        main = page.main_frame
        has_map = main.query_selector(".leaflet-container") is not None
        return [_drawn(page, lambda: main)] if has_map else []
    out = []
    for element in frames:
        element.scroll_into_view_if_needed()
        out.append(_drawn(page, element.content_frame))
    return out


_OPEN_POPUP = """
(text) => {
    const map = Object.keys(window).filter(k => k.startsWith("map_")).map(k => window[k])[0];
    map.eachLayer(l => {
        if (l.feature && l.feature.properties.f0 === text) {
            l.fire("click", {latlng: l.getBounds().getCenter()}, true);  // bubbles to GeoJson
        }
    });
    const box = document.querySelector(".leaflet-popup-content");
    return {text: box.textContent, scripts: box.querySelectorAll("script").length};
}
"""


try:
    from playwright.sync_api import Error as PlaywrightError
except ImportError:  # the module is skipped without chromium; keep the name defined
    PlaywrightError = Exception


def _visit(
    path: Path,
    *,
    sort_column: int | None = None,
    popup_of: str | None = None,
    act: Callable[[Any], Any] | None = None,
) -> Visit:
    """Open ``path`` offline in Chromium; ``act(page)``, if given, runs after the load and
    its answer is ``Visit.acted``."""
    from playwright.sync_api import sync_playwright

    visit = Visit()

    def guard(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            visit.requests.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", guard)
            page = context.new_page()
            page.on("pageerror", lambda exc: visit.errors.append(f"pageerror: {exc}"))
            page.on(
                "console",
                lambda msg: visit.errors.append(msg.text) if msg.type == "error" else None,
            )
            page.on("dialog", lambda d: (visit.dialogs.append(d.message), d.dismiss()))
            page.goto(path.as_uri(), wait_until="load")
            if act is not None:
                visit.acted = act(page)
                return visit
            visit.maps = _frames_layers(page)
            if popup_of is not None:
                visit.popup = page.evaluate(_OPEN_POPUP, html.escape(popup_of))
            if sort_column is not None:
                page.click(f"table.uf-districts thead th >> nth={sort_column}")
                visit.sorted_names = page.eval_on_selector_all(
                    "table.uf-districts tbody tr td:first-child",
                    "cells => cells.map(c => c.textContent.trim())",
                )
        finally:
            browser.close()
    return visit


@pytest.fixture(scope="module")
def report_visit(tmp_path_factory) -> Visit:
    park, tod = make_park_result(), make_tod_result()
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(
        path,
        **RUN,
        results=[park, tod],
        maps={
            park.name: analysis_map(park, h3_cells=make_h3_cells()),
            tod.name: analysis_map(tod),
        },
        provenance=[Provenance("parks", "parks", "data/parks.gpkg", 2, "EPSG:4490", "0" * 64)],
        warnings=["2 geometries repaired in layer parks"],
    )
    # column 1 = parks_500m pop_share: Qingyang 0.6 < Jinjiang 0.95 < Wuhou 1.0
    return _visit(path, sort_column=1)


@pytest.fixture(scope="module")
def comparison_visit(tmp_path_factory) -> Visit:
    from test_report import make_network_park_result

    park, network = make_park_result(), make_network_park_result()
    path = tmp_path_factory.mktemp("compare") / "report.html"
    write_report(
        path,
        **RUN,
        results=[park, network],
        maps={r.name: analysis_map(r) for r in (park, network)},
        provenance=[],
        warnings=[],
    )
    return _visit(path)


@pytest.fixture(scope="module")
def map_visit(tmp_path_factory) -> Visit:
    path = tmp_path_factory.mktemp("maps") / "tod_800m.html"
    write_map(analysis_map(make_tod_result()), path)
    return _visit(path)


@pytest.fixture(scope="module")
def parks_map_visit(tmp_path_factory) -> Visit:
    path = tmp_path_factory.mktemp("maps") / "parks_500m.html"
    write_map(analysis_map(make_park_result()), path)
    return _visit(path, popup_of=EVIL)


def test_report_requests_nothing(report_visit: Visit):
    assert report_visit.requests == []


def test_report_has_no_errors(report_visit: Visit):
    assert report_visit.errors == []


def test_report_script_names_open_no_dialog(report_visit: Visit):
    assert report_visit.dialogs == []


def test_report_draws_every_map(report_visit: Visit):
    assert [m["containers"] for m in report_visit.maps] == [1, 1]


def test_report_maps_draw_shown_layers(report_visit: Visit):
    # parks: 3 districts (first indicator) + 2 gaps + 2 parks; tod: 3 districts + 2 stations
    assert [m["paths"] for m in report_visit.maps] == [7, 5]


def test_report_maps_show_legends(report_visit: Visit):
    assert all(m["legends"] >= 1 for m in report_visit.maps)


def test_district_table_sorts_on_click(report_visit: Visit):
    assert report_visit.sorted_names == ["Qingyang", "Jinjiang", "Wuhou"]


def test_comparison_report_requests_nothing_and_has_no_errors(comparison_visit: Visit):
    assert (comparison_visit.requests, comparison_visit.errors) == ([], [])


def test_comparison_maps_draw_copies_of_the_analysis_maps(comparison_visit: Visit):
    # two analysis maps + their two copies side by side; each: 3 districts, 2 gaps, 2 parks
    assert [m["paths"] for m in comparison_visit.maps] == [7, 7, 7, 7]


def test_standalone_map_requests_nothing(map_visit: Visit):
    assert (map_visit.requests, map_visit.errors) == ([], [])


def test_standalone_map_draws_layers(map_visit: Visit):
    assert map_visit.maps == [{"containers": 1, "paths": 5, "legends": 3}]


def test_popup_shows_script_name_as_text(parks_map_visit: Visit):
    assert " ".join(parks_map_visit.popup["text"].split()) == f"Name {EVIL} area_m2 2,500"


def test_popup_holds_no_script_element(parks_map_visit: Visit):
    assert (parks_map_visit.popup["scripts"], parks_map_visit.dialogs) == (0, [])


_ZOOMED = """
() => {
    if (!window.ufZoomed) { return null; }
    const map = Object.keys(window).filter(k => k.startsWith("map_")).map(k => window[k])[0];
    const c = map.getCenter();
    return {zoom: map.getZoom(), center: [c.lat, c.lng], ring: window.ufZoomed};
}
"""


def test_where_to_act_row_zooms_its_map(tmp_path: Path):
    """A click on a "where to act" row zooms the analysis's map onto that H3 cell."""
    import shapely
    from conftest import write_tiny_workspace

    from urbanform.pipeline import run_workspace
    from urbanform.workspace import load_workspace

    run = run_workspace(load_workspace(write_tiny_workspace(tmp_path / "tiny")))

    def click_and_wait(page) -> dict | None:
        rows = page.query_selector_all("table.uf-priorities tbody tr")
        assert len(rows) == 2  # P2's and P4's cells (tests/test_scenarios.py)
        rows[1].click()  # the map is not loaded yet: the click loads it, then zooms
        frame_el = page.query_selector("#" + rows[1].get_attribute("data-zoom"))
        for _ in range(200):
            try:
                seen = frame_el.content_frame().evaluate(_ZOOMED)
            except PlaywrightError:
                seen = None
            if seen:
                return seen
            page.wait_for_timeout(50)
        return None

    visit = _visit(run.out / "report.html", act=click_and_wait)
    seen = visit.acted
    assert seen is not None, "the map never zoomed"
    # the whole 2 km city fits at about zoom 15.5 in this frame; a ~350 m cell at 17
    assert seen["zoom"] >= 16.5
    cell = shapely.Polygon([(lng, lat) for lat, lng in seen["ring"]])
    lat, lng = seen["center"]
    assert cell.contains(shapely.Point(lng, lat))
    from urbanform.maps.report import priority_rows

    p4 = priority_rows(run.summary["analyses"]["park500"]["priorities"])[1]
    assert seen["ring"] == json.loads(p4["ring"])  # the clicked row's cell, P4's
    assert (visit.requests, visit.errors) == ([], [])
