"""Writing the deliverables of a run: per-analysis maps, the report, QGIS styles and project.

Takes the run's results (duck-typed: anything with ``workspace``, ``layers``,
``results`` and ``h3``) and never imports :mod:`urbanform.analyses`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd

from urbanform import __version__

__all__ = ["write_all", "select_map_layers"]

log = logging.getLogger(__name__)


def select_map_layers(result: Any, spec: Any | None) -> Any:
    """A shallow copy of ``result`` keeping only the layers and indicators a map spec names."""
    if spec is None:
        return result
    from dataclasses import replace

    layers = result.layers
    if spec.layers is not None:
        layers = {k: v for k, v in layers.items() if k in spec.layers or k == "districts"}
    indicators = result.indicators
    if spec.indicators is not None:
        indicators = {k: v for k, v in indicators.items() if k in spec.indicators} or indicators
    return replace(result, layers=layers, indicators=indicators)


def _map_specs(run: Any) -> list[tuple[str, Any, Any]]:
    """(output name, result, map spec or None) for every map to draw."""
    by_name = {r.name: r for r in run.results}
    specs = [m for m in run.workspace.maps if m.analysis in by_name]
    covered = {m.analysis for m in specs}
    out = [(m.name, by_name[m.analysis], m) for m in specs]
    out += [(r.name, r, None) for r in run.results if r.name not in covered]
    return out


def write_all(
    run: Any,
    folder: Path,
    *,
    gpkg_layers: dict[str, gpd.GeoDataFrame],
    started: str,
    seconds: float,
) -> None:
    """Write ``maps/NAME.html``, ``report.html``, GeoPackage styles and ``results.qgz``."""
    from urbanform.maps import qgis
    from urbanform.maps.folium_layers import analysis_map, write_map
    from urbanform.maps.report import write_report

    ws = run.workspace
    lang, tiles = ws.report.language, ws.report.tiles
    (folder / "maps").mkdir(exist_ok=True)
    maps = {}
    for name, result, spec in _map_specs(run):
        shown = select_map_layers(result, spec)
        h3 = run.h3.get(result.name, {})
        cells = h3[max(h3)] if h3 and (spec is None or spec.h3) else None
        fmap = analysis_map(shown, h3_cells=cells, tiles=tiles, language=lang)
        write_map(fmap, folder / "maps" / f"{name}.html")
        maps[result.name] = fmap
    write_report(
        folder / "report.html",
        workspace_name=ws.name,
        crs=run.layers.crs.to_string(),
        results=run.results,
        maps=maps,
        provenance=run.layers.provenance,
        warnings=run.layers.warnings,
        language=lang,
        version=__version__,
        run_seconds=seconds,
        started_at=started,
    )
    gpkg = folder / "results.gpkg"
    if gpkg_layers:
        qgis.write_layer_styles(gpkg, gpkg_layers, language=lang)
        groups: dict[str, list[str]] = {}
        for lname in gpkg_layers:
            groups.setdefault(lname.split("__", 1)[0], []).append(lname)
        qgis.write_qgis_project(
            folder / "results.qgz", gpkg, groups=groups, crs=run.layers.crs, title=ws.name
        )
