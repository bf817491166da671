"""Open a report in headless Chromium, offline, and time it: page load and each map's draw.

The issue's targets: ``report.html`` loads in under 3 s, and each map draws within 1 s of
being scrolled into view. Every request that is not ``file://`` is aborted and counted.
Prints the load time, then per map the seconds from scrolling it into view until every
layer is on screen (the page's ``data-uf-drawn`` mark, set two animation frames after
the last layer was added) and how many Leaflet layers (features) it holds.

Usage::

    python benchmarks/report_browser.py out/report.html
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _draw_seconds(page, element, timeout_s: float = 10.0) -> tuple[float, int]:
    """Scroll ``element`` (a map frame) into view; seconds until it shows a vector."""
    from playwright.sync_api import Error as PlaywrightError

    t0 = time.perf_counter()
    element.scroll_into_view_if_needed()
    while time.perf_counter() - t0 < timeout_s:
        frame = element.content_frame()
        try:
            drawn = frame.get_attribute("html", "data-uf-drawn") if frame is not None else None
            if drawn:
                return time.perf_counter() - t0, int(drawn)
        except PlaywrightError:  # navigated to its page meanwhile
            pass
        page.wait_for_timeout(10)
    return float("inf"), 0


def visit(report: Path) -> dict:
    """Load ``report`` and draw each map; the figures as a dict."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []

    def guard(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            requests.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", guard)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            t0 = time.perf_counter()
            page.goto(report.resolve().as_uri(), wait_until="load")
            load_s = time.perf_counter() - t0
            maps = [
                (el.get_attribute("data-map"), *_draw_seconds(page, el))
                for el in page.query_selector_all("iframe[data-map]")
            ]
        finally:
            browser.close()
    return {"load_s": load_s, "maps": maps, "requests": requests, "errors": errors}


def report_lines(figures: dict) -> list[str]:
    """The figures as printable lines."""
    maps = figures["maps"]
    worst = max((m[1] for m in maps), default=0.0)
    lines = [
        f"report load {figures['load_s']:.2f} s (target < 3 s); {len(maps)} map frames, "
        f"slowest draw {worst:.2f} s after scrolling into view (target < 1 s); "
        f"{len(figures['requests'])} requests, {len(figures['errors'])} page errors"
    ]
    lines += [f"  {name:10s} drawn in {s:5.2f} s, {n:,} Leaflet layers" for name, s, n in maps]
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("report", type=Path)
    args = p.parse_args(argv)
    if not CHROMIUM.exists():
        print("needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 1
    print("\n".join(report_lines(visit(args.report))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
