"""Folium maps, the offline HTML report and (in :mod:`urbanform.maps.qgis`) QGIS styles.

``maps`` takes :class:`urbanform.results.AnalysisResult` objects and never imports
:mod:`urbanform.analyses`. Nothing here fetches anything: maps and report inline the
vendored Leaflet (``assets/``) and add a basemap only for a tile URL that is given.

Public API
----------
analysis_map(result, *, h3_cells=None, tiles=None, language="en") -> folium.Map
write_map(fmap, path) -> None
write_report(path, *, workspace_name, crs, results, maps, provenance, warnings,
             language="en", version, run_seconds, started_at) -> None
"""

from __future__ import annotations

from urbanform.maps.folium_layers import analysis_map, render_map_html, write_map
from urbanform.maps.report import render_report, write_report

__all__ = ["analysis_map", "render_map_html", "render_report", "write_map", "write_report"]
