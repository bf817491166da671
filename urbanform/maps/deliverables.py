"""Writing the deliverables of a run: per-analysis maps, the report, QGIS styles and project.

Takes the run's results (duck-typed: anything with ``workspace``, ``layers``,
``results`` and ``h3``) and never imports :mod:`urbanform.analyses`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from urbanform import __version__
from urbanform.outputs import summary_warnings

__all__ = ["write_all", "select_map_layers", "thin_for_map", "MAX_MAP_POINTS", "SIMPLIFY_M"]

log = logging.getLogger(__name__)

MAX_MAP_POINTS = 2_000
"""Point layers with more features show the ones with the largest values (the GeoPackage
keeps them all); a web map of tens of thousands of markers is neither readable nor small."""

SIMPLIFY_M = 3.0
"""Polygons and lines are simplified to this tolerance (metres) for web maps only."""


def _rank_field(gdf: gpd.GeoDataFrame) -> str | None:
    hints = gdf.attrs.get("urbanform", {})
    for name in (hints.get("value_field"), "population", "jobs", "residents"):
        if name and name in gdf.columns and np.issubdtype(gdf[name].dtype, np.number):
            return str(name)
    return None


def thin_for_map(
    gdf: gpd.GeoDataFrame, *, max_points: int = MAX_MAP_POINTS, simplify_m: float = SIMPLIFY_M
) -> gpd.GeoDataFrame:
    """A lighter copy of a result layer for web maps (working CRS in, same CRS out).

    Points beyond ``max_points`` keep the largest by the layer's value field (or
    population); polygons and lines are simplified to ``simplify_m`` metres. The title
    hint says when features were left out.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = gpd.GeoDataFrame({"population": [5.0, 1.0, 9.0]},
    ...     geometry=shapely.points([[0, 0], [1, 1], [2, 2]]), crs=32648)
    >>> thin_for_map(pts, max_points=2)["population"].tolist()
    [9.0, 5.0]
    """
    attrs = dict(gdf.attrs)
    hints = dict(attrs.get("urbanform", {}))
    kinds = set(gdf.geom_type.unique())
    if kinds <= {"Point", "MultiPoint"}:
        if len(gdf) <= max_points:
            return gdf
        field = _rank_field(gdf)
        order = (
            np.argsort(-gdf[field].fillna(0).to_numpy(), kind="stable")
            if field
            else np.arange(len(gdf))
        )
        out = gdf.iloc[np.sort(order[:max_points]) if not field else order[:max_points]].copy()
        basis = f" by {field}" if field else ""
        note = f" (largest {max_points:,} of {len(gdf):,}{basis}; all in results.gpkg)"
        hints["title"] = str(hints.get("title", "")) + note
        if "title_zh" in hints:
            hints["title_zh"] = (
                str(hints["title_zh"]) + f"（显示前{max_points:,}个，共{len(gdf):,}个）"
            )
    else:
        if gdf.crs is None or not gdf.crs.is_projected:
            return gdf
        out = gdf.copy()
        out.geometry = out.geometry.simplify(simplify_m, preserve_topology=True)
        out = out[~out.geometry.is_empty]
    attrs["urbanform"] = hints
    out.attrs = attrs
    return out


def select_map_layers(result: Any, spec: Any | None) -> Any:
    """A copy of ``result`` for a map: the layers and indicators a map spec names, thinned."""
    from dataclasses import replace

    layers = result.layers
    if spec is not None and spec.layers is not None:
        layers = {k: v for k, v in layers.items() if k in spec.layers or k == "districts"}
    layers = {k: thin_for_map(v) for k, v in layers.items() if v is not None and len(v)}
    indicators = result.indicators
    if spec is not None and spec.indicators is not None:
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
        # the coarsest configured resolution: readable at city scale, light in the page
        cells = h3[min(h3)] if h3 and (spec is None or spec.h3) else None
        title = None
        if spec is not None:
            title = spec.title_zh if lang == "zh" and spec.title_zh else spec.title
        fmap = analysis_map(shown, h3_cells=cells, tiles=tiles, language=lang, title=title)
        write_map(fmap, folder / "maps" / f"{name}.html")
        maps[result.name] = fmap
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
