"""Writing the deliverables of a run: per-analysis maps, the report, QGIS styles and project.

Takes the run's results (duck-typed: anything with ``workspace``, ``layers``,
``results`` and ``h3``) and never imports :mod:`urbanform.analyses`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from urbanform import __version__
from urbanform.grid import coarsen
from urbanform.maps.thinning import (
    LAYER_VERTICES,
    MAP_FEATURES,
    VERTICES_PER_FEATURE,
    thin_for_map,
)
from urbanform.outputs import summary_warnings
from urbanform.progress import Progress
from urbanform.results import LayerStyle

__all__ = ["write_all", "select_map_layers", "map_cells", "share_budget"]

log = logging.getLogger(__name__)


def share_budget(sizes: dict[str, int], budget: int) -> dict[str, int]:
    """Split a map's feature budget among its layers.

    Small layers get what they need, the rest is shared equally by the larger ones
    (water-filling).

    Examples
    --------
    >>> share_budget({"stations": 100, "cells": 5000, "parks": 9000}, 2100)
    {'stations': 100, 'cells': 1000, 'parks': 1000}
    """
    out: dict[str, int] = {}
    left = budget
    order = sorted(sizes, key=lambda k: sizes[k])
    for i, key in enumerate(order):
        out[key] = min(sizes[key], left // (len(order) - i))
        left -= out[key]
    return {k: out[k] for k in sizes}


def select_map_layers(
    result: Any, spec: Any | None, h3: dict[int, gpd.GeoDataFrame] | None = None
) -> tuple[Any, gpd.GeoDataFrame | None]:
    """The result and H3 cells a map shows, within the web-map budget.

    The layers and indicators are those the map spec names; the map's
    :data:`~urbanform.maps.thinning.MAP_FEATURES` are shared among its layers and H3
    cells (:func:`share_budget`), and each layer is held to its share by
    :func:`~urbanform.maps.thinning.thin_for_map` and :func:`map_cells`.

    Returns
    -------
    tuple
        A copy of ``result`` with the thinned layers, and the H3 cells (or ``None``).
    """
    layers = result.layers
    if spec is not None and spec.layers is not None:
        layers = {k: v for k, v in layers.items() if k in spec.layers or k == "districts"}
    layers = {k: v for k, v in layers.items() if v is not None and len(v)}
    indicators = result.indicators
    if spec is not None and spec.indicators is not None:
        indicators = {k: v for k, v in indicators.items() if k in spec.indicators} or indicators
    # a layer's size: its features, or its vertices in features' worth when it has more
    sizes = {
        k: max(len(v), -(-int(shapely.get_num_coordinates(v.geometry.to_numpy()).sum())
                         // VERTICES_PER_FEATURE))
        for k, v in layers.items()
        if k != "districts"
    }
    if h3:
        sizes[" h3"] = len(h3[min(h3)])
    budget = share_budget(sizes, MAP_FEATURES)
    shown, styles = {}, {}
    for key, gdf in layers.items():
        if key == "districts":  # one copy per indicator on the map: share the budget
            budget_v = LAYER_VERTICES // max(1, len(indicators))
            shown[key], styles[key] = thin_for_map(
                gdf, result.style(key), max_features=len(gdf), max_vertices=budget_v
            )
        else:
            share = max(budget[key], 1)
            shown[key], styles[key] = thin_for_map(
                gdf, result.style(key), max_features=share,
                max_vertices=max(share * VERTICES_PER_FEATURE, 2_000),
                gpkg_layer=f"{result.name}__{key}",
            )
    cells = map_cells(result, h3, max_cells=budget[" h3"]) if h3 else None
    return replace(result, layers=shown, styles=styles, indicators=indicators), cells


def map_cells(
    result: Any, h3: dict[int, gpd.GeoDataFrame], *, max_cells: int = MAP_FEATURES
) -> gpd.GeoDataFrame | None:
    """The H3 cells a map shows.

    The coarsest configured resolution, regrouped on coarser parents (down to
    resolution 3, :func:`urbanform.grid.coarsen`) while there are more than
    ``max_cells``.
    """
    if not h3:
        return None
    res = min(h3)
    cells = h3[res]
    while len(cells) > max_cells and res > 3:
        res -= 1
        cells = coarsen(h3[min(h3)], res)
    return cells


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
    gpkg_styles: dict[str, LayerStyle] | None = None,
    started: str,
    seconds: float,
    progress: Progress | None = None,
    before_qgis: Callable[[], None] | None = None,
) -> None:
    """Write ``maps/NAME.html``, ``report.html``, GeoPackage styles and ``results.qgz``.

    ``progress`` shows the stages ``web maps`` (a step per map), ``report`` and
    ``QGIS styles and project``. ``before_qgis`` waits for a GeoPackage written
    elsewhere (the styles go into it).
    """
    from urbanform.maps.context import context_frames
    from urbanform.maps.folium_layers import analysis_map, context_geojson, write_map

    ws = run.workspace
    lang, tiles = ws.report.language, ws.report.tiles
    progress = progress or Progress()
    (folder / "maps").mkdir(exist_ok=True)
    maps = {}
    specs = _map_specs(run)
    with progress.stage("web maps", total=len(specs)) as step:
        context = context_geojson(context_frames(run.layers))
        for name, result, spec in specs:
            h3 = run.h3.get(result.name, {}) if spec is None or spec.h3 else {}
            shown, cells = select_map_layers(result, spec, h3)
            title = None
            if spec is not None:
                title = spec.title_zh if lang == "zh" and spec.title_zh else spec.title
            fmap = analysis_map(
                shown, h3_cells=cells, tiles=tiles, language=lang, title=title, context=context
            )
            write_map(fmap, folder / "maps" / f"{name}.html")
            maps[result.name] = fmap
            step.advance(note=name)
    with progress.stage("report"):
        _report(run, folder, maps, started=started, seconds=seconds)
    if before_qgis is not None:
        with progress.stage("GeoPackage (written beside)"):
            before_qgis()
    if gpkg_layers:
        with progress.stage("QGIS styles and project"):
            _qgis(run, folder, gpkg_layers, gpkg_styles or {})


def _report(run: Any, folder: Path, maps: dict[str, Any], *, started: str, seconds: float) -> None:
    from urbanform.maps.report import write_report

    ws = run.workspace
    lang = ws.report.language
    write_report(
        folder / "report.html",
        workspace_name=ws.name,
        crs=run.layers.crs.to_string(),
        results=run.results,
        maps=maps,
        provenance=run.layers.provenance,
        warnings=[
            w if group == "layers" else f"{group}: {w}"
            for group, items in summary_warnings(run.summary).items()
            for w in items
        ],
        language=lang,
        version=__version__,
        run_seconds=seconds,
        started_at=started,
        summary=run.summary,
    )


def _qgis(
    run: Any,
    folder: Path,
    gpkg_layers: dict[str, gpd.GeoDataFrame],
    gpkg_styles: dict[str, LayerStyle],
) -> None:
    from urbanform.maps import qgis

    ws = run.workspace
    gpkg = folder / "results.gpkg"
    qgis.write_layer_styles(gpkg, gpkg_layers, gpkg_styles, language=ws.report.language)
    groups: dict[str, list[str]] = {}
    for lname in gpkg_layers:
        groups.setdefault(lname.split("__", 1)[0], []).append(lname)
    qgis.write_qgis_project(
        folder / "results.qgz", gpkg, groups=groups, crs=run.layers.crs, title=ws.name
    )
