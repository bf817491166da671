"""Writing a run's outputs: summary.json, results.gpkg, H3 summaries, maps, report.

Everything is written into a temporary folder next to the output folder and moved
into place only when every file is complete (:func:`urbanform.outdir.staged_output`),
so a failed run never leaves a half-written output behind.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from urbanform import __version__
from urbanform.outdir import staged_output
from urbanform.progress import Stage
from urbanform.results import AnalysisResult, Indicator, LayerStyle

__all__ = [
    "SUMMARY_SCHEMA",
    "build_summary",
    "format_warnings",
    "summary_warnings",
    "staged_output",
    "write_summary",
    "write_gpkg",
    "write_h3",
    "gpkg_layers",
]

log = logging.getLogger(__name__)

SUMMARY_SCHEMA = "urbanform.summary/1"


def _num(v: float | None) -> float | None:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return float(v)


def _indicator_json(ind: Indicator) -> dict[str, Any]:
    return {
        "unit": ind.unit,
        "label": ind.label,
        "target": ind.target.to_dict() if ind.target else None,
        "city": {"value": _num(ind.city.value), "met": ind.city.met},
        "districts": {d: {"value": _num(v.value), "met": v.met} for d, v in ind.districts.items()},
    }


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def build_summary(
    *,
    workspace: str,
    crs: str,
    results: list[AnalysisResult],
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The scorecard as a JSON-ready mapping (schema ``urbanform.summary/1``).

    ``warnings`` are the layers' warnings (top-level ``warnings``); each analysis's own
    are in ``analyses.NAME.warnings``. Both are lists of strings, empty when none.
    """
    analyses: dict[str, Any] = {}
    for r in results:
        entry: dict[str, Any] = {
            "kind": r.kind,
            "params": _jsonable(r.params),
            "indicators": {k: _indicator_json(ind) for k, ind in r.indicators.items()},
            "warnings": [str(w) for w in r.warnings],
        }
        if r.extra:
            entry["extra"] = _jsonable(r.extra)
        analyses[r.name] = entry
    return {
        "schema": SUMMARY_SCHEMA,
        "urbanform_version": __version__,
        "workspace": workspace,
        "crs": crs,
        "warnings": [str(w) for w in warnings or []],
        "analyses": analyses,
    }


def summary_warnings(summary: dict[str, Any]) -> dict[str, list[str]]:
    """Every warning of a summary, grouped: ``"layers"`` first, then each analysis.

    Groups without warnings are left out.

    Examples
    --------
    >>> s = {"warnings": ["w1"], "analyses": {"a": {"warnings": []}, "b": {"warnings": ["w2"]}}}
    >>> summary_warnings(s)
    {'layers': ['w1'], 'b': ['w2']}
    """
    groups = {"layers": list(summary.get("warnings", []))}
    for name, entry in summary.get("analyses", {}).items():
        groups[name] = list(entry.get("warnings", []))
    return {k: v for k, v in groups.items() if v}


def format_warnings(summary: dict[str, Any]) -> str:
    """The warnings of a run as text: counted, grouped by layers and analysis ("" if none).

    Examples
    --------
    >>> s = {"warnings": ["w1"], "analyses": {"b": {"warnings": ["w2", "w3"]}}}
    >>> print(format_warnings(s))
    Warnings (3):
      layers (1):
        - w1
      analysis b (2):
        - w2
        - w3
    """
    groups = summary_warnings(summary)
    total = sum(len(v) for v in groups.values())
    if not total:
        return ""
    lines = [f"Warnings ({total}):"]
    for name, items in groups.items():
        lines.append(f"  {name if name == 'layers' else 'analysis ' + name} ({len(items)}):")
        lines += [f"    - {w}" for w in items]
    return "\n".join(lines)


def write_summary(summary: dict[str, Any], path: Path) -> None:
    """Write ``summary.json`` (UTF-8, indented, no NaN)."""
    path.write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8"
    )


def _gpkg_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns converted to types every GeoPackage reader understands."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if s.dtype == object:
            vals = s.dropna()
            if len(vals) and vals.map(lambda v: isinstance(v, bool | np.bool_)).all():
                out[col] = s.map(lambda v: None if v is None else int(bool(v))).astype("Int8")
            elif len(vals) and vals.map(lambda v: isinstance(v, list | tuple | dict)).any():
                out[col] = s.map(lambda v: v if v is None else json.dumps(_jsonable(v)))
            else:
                out[col] = s.map(lambda v: None if v is None or v is pd.NA else str(v))
        elif s.dtype == bool:
            out[col] = s.astype("int8")
    return out


def gpkg_layers(
    results: list[AnalysisResult],
    h3: dict[str, dict[int, gpd.GeoDataFrame]],
    h3_styles: Mapping[str, LayerStyle] | None = None,
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, LayerStyle]]:
    """GeoPackage layer name -> frame, and -> style.

    Names are ``{analysis}__{layer}`` and ``{analysis}__h3_r{res}``; a layer's style is
    its result's (:attr:`AnalysisResult.styles`), the H3 cells' that of ``h3_styles``.
    """
    layers: dict[str, gpd.GeoDataFrame] = {}
    styles: dict[str, LayerStyle] = {}
    for r in results:
        for lname, gdf in r.layers.items():
            if gdf is not None and len(gdf):
                layers[f"{r.name}__{lname}"] = gdf
                styles[f"{r.name}__{lname}"] = r.style(lname)
        for res, cells in h3.get(r.name, {}).items():
            layers[f"{r.name}__h3_r{res}"] = cells
            styles[f"{r.name}__h3_r{res}"] = (h3_styles or {}).get(r.name, LayerStyle())
    return layers, styles


#: GeoPackage version of ``results.gpkg``: 1.2 opens in QGIS 3.22 LTR (GDAL 3.6) without
#: the "version 1.4 not supported" warning that GDAL's newer default gives there.
GPKG_VERSION = "1.2"


def write_gpkg(
    layers: dict[str, gpd.GeoDataFrame], path: Path, *, crs: Any, step: Stage | None = None
) -> None:
    """Write every layer into one GeoPackage 1.2, in the working CRS ``crs``.

    ``step`` (a progress stage) advances once per layer. The version is set when the
    file is created (:data:`GPKG_VERSION`); later layers are added to it.
    """
    for name, gdf in layers.items():
        frame = _gpkg_ready(gdf.to_crs(crs) if gdf.crs != crs else gdf)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame.to_file(
                path, layer=name, driver="GPKG", engine="pyogrio", use_arrow=True,
                dataset_options={"VERSION": GPKG_VERSION},
            )
        if step is not None:
            step.advance(note=name)


H3_STYLE_KEYS = ("title", "value_field", "ramp", "target")
"""The style fields an H3 GeoParquet file stores, ``None`` ones too."""


def write_h3(
    cells: gpd.GeoDataFrame, folder: Path, stem: str, *, style: LayerStyle | None = None
) -> None:
    """Write one H3 summary as GeoParquet and CSV (CSV without geometry).

    The GeoParquet file keeps ``style`` (:data:`H3_STYLE_KEYS`) in its pandas metadata
    (``attrs["urbanform"]``), for readers of the file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    framed = cells.copy(deep=False)
    framed.attrs = {"urbanform": (style or LayerStyle()).hints(keys=H3_STYLE_KEYS)}
    framed.to_parquet(folder / f"{stem}.parquet", index=False)
    pd.DataFrame(cells.drop(columns=cells.geometry.name)).to_csv(
        folder / f"{stem}.csv", index=False
    )

