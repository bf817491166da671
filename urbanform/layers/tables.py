"""Tables as layers: CSV and text files with coordinate columns or H3 cell ids.

A table becomes points from two coordinate columns, mapped as fields ``x`` and ``y``
or detected by name (``x/y``, ``lon/lat``, ``lng/lat``, ``longitude/latitude``,
``经度/纬度``, any letter case), or cells from a column of H3 ids (``fields: {h3:
COLUMN}``). Detected longitude/latitude columns whose values fit are read in EPSG:4326
when the layer declares no ``crs``, and a warning says so.

What the reader noticed travels with the frame in ``attrs["urbanform_read"]``:
``notes`` (choices, printed by ``urbanform validate``) and ``warnings``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from h3ronpy import cells_parse, cells_valid
from h3ronpy import vector as h3v

from urbanform.errors import CRSError, LayerError
from urbanform.layers.gcj02 import is_gcj02
from urbanform.layers.types import LayerSpec

__all__ = ["TABLE_SUFFIXES", "read_table", "detect_xy", "h3_polygons", "set_h3_geometry"]

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".csv", ".txt")

# (x, y) column names tried in this order, compared in lower case
_XY_PAIRS = (
    ("x", "y"),
    ("lon", "lat"),
    ("lng", "lat"),
    ("long", "lat"),
    ("longitude", "latitude"),
    ("经度", "纬度"),
)
_LONLAT = {"lon", "lng", "long", "longitude", "经度"}


def _where(spec: LayerSpec) -> str:
    return f"layer {spec.name!r} ({spec.file or spec.source})"


def first_rows(mask: np.ndarray, *, n: int = 5) -> str:
    """The 1-based data rows where ``mask`` holds, at most ``n``, as text.

    Examples
    --------
    >>> first_rows(np.array([False, True, True]))
    'rows 2, 3'
    """
    rows = np.flatnonzero(mask)[:n] + 1
    word = "row" if len(rows) == 1 else "rows"
    return f"{word} {', '.join(str(r) for r in rows)}"


def detect_xy(columns: list[str]) -> list[tuple[str, str]]:
    """The coordinate column pairs found among ``columns``, in order of preference.

    Examples
    --------
    >>> detect_xy(["id", "Lng", "LAT", "jobs"])
    [('Lng', 'LAT')]
    >>> detect_xy(["经度", "纬度"])
    [('经度', '纬度')]
    """
    lower = {str(c).strip().lower(): str(c) for c in columns}
    return [(lower[x], lower[y]) for x, y in _XY_PAIRS if x in lower and y in lower]


def _delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as f:
        head = f.readline()
    counts = {d: head.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_frame(spec: LayerSpec, path: Path) -> pd.DataFrame:
    """The table as text columns (UTF-8, with or without BOM, else GB 18030)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            sep = _delimiter(path, encoding)
            return pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False)
        except UnicodeDecodeError:
            continue
        except Exception as exc:
            raise LayerError(f"{_where(spec)}: cannot read table {path.name} ({exc})") from None
    raise LayerError(f"{_where(spec)}: {path.name} is neither UTF-8 nor GB 18030 text")


def read_table(spec: LayerSpec, path: Path) -> gpd.GeoDataFrame:
    """A CSV or text table as points (coordinate columns) or H3 cells (``fields.h3``).

    Raises
    ------
    LayerError, CRSError
        For a table without usable coordinates, values that are not numbers (naming the
        first rows), or coordinates that need a ``crs``.
    """
    df = _read_frame(spec, path)
    df.columns = [str(c).strip() for c in df.columns]
    if "h3" in spec.fields:
        return set_h3_geometry(df, spec, path.name)
    notes: list[str] = []
    warns: list[str] = []
    xcol, ycol = _xy_columns(df, spec, path.name, notes)
    if df.empty:  # the loader says "the layer is empty"
        return gpd.GeoDataFrame(df.drop(columns=[xcol, ycol]), geometry=[], crs="EPSG:4326")
    x = pd.to_numeric(df[xcol].str.strip(), errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[ycol].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise LayerError(
            f"{_where(spec)}: {int(bad.sum())} rows of {path.name} have no numeric "
            f"{xcol}/{ycol} ({first_rows(bad)}, counting data rows from 1); fix or remove them"
        )
    crs = _table_crs(spec, xcol, x, y, path.name, notes, warns)
    gdf = gpd.GeoDataFrame(df.drop(columns=[xcol, ycol]), geometry=shapely.points(x, y), crs=crs)
    gdf.attrs["urbanform_read"] = {"notes": notes, "warnings": warns}
    return gdf


def _xy_columns(df: pd.DataFrame, spec: LayerSpec, name: str, notes: list[str]) -> tuple[str, str]:
    cols = ", ".join(map(str, df.columns[:12]))
    xcol, ycol = spec.fields.get("x"), spec.fields.get("y")
    if xcol and ycol:
        for key, col in (("x", xcol), ("y", ycol)):
            if col not in df.columns:
                raise LayerError(
                    f"{_where(spec)}: field {key!r} maps to column {col!r}, which {name} "
                    f"lacks; columns: {cols}"
                )
        return xcol, ycol
    if xcol or ycol:
        raise LayerError(
            f"{_where(spec)}: map both coordinate columns: 'fields: {{x: ..., y: ...}}'"
        )
    pairs = detect_xy(list(df.columns))
    if not pairs:
        raise LayerError(
            f"{_where(spec)}: {name} has no coordinate columns (x/y, lon/lat, lng/lat, "
            f"longitude/latitude, 经度/纬度); map them with 'fields: {{x: COLUMN, y: COLUMN}}' "
            f"or give H3 ids with 'fields: {{h3: COLUMN}}'; columns: {cols}"
        )
    if len(pairs) > 1:
        found = "; ".join(f"{a}/{b}" for a, b in pairs)
        raise LayerError(
            f"{_where(spec)}: {name} has several coordinate column pairs ({found}); choose one "
            "with 'fields: {x: COLUMN, y: COLUMN}'"
        )
    notes.append(f"coordinates from columns {pairs[0][0]}/{pairs[0][1]} (detected)")
    return pairs[0]


def _table_crs(
    spec: LayerSpec,
    xcol: str,
    x: np.ndarray,
    y: np.ndarray,
    name: str,
    notes: list[str],
    warns: list[str],
) -> Any:
    if spec.crs is not None:
        return None if is_gcj02(spec.crs) else spec.crs
    lonlat = xcol.strip().lower() in _LONLAT and "x" not in spec.fields
    fits = bool(len(x)) and (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all()
    if lonlat and fits:
        msg = (
            f"{_where(spec)}: {name} declares no CRS; longitude/latitude columns "
            f"{xcol} were read as EPSG:4326 (WGS 84); add 'crs:' if they are not (for "
            "example 'crs: GCJ-02' for Amap or Tencent coordinates)"
        )
        warns.append(msg)
        notes.append("CRS EPSG:4326 assumed (longitude/latitude values)")
        return "EPSG:4326"
    if lonlat:
        outside = (np.abs(x) > 180) | (np.abs(y) > 90)
        raise CRSError(
            f"{_where(spec)}: {name} has longitude/latitude columns but values outside "
            f"-180..180 / -90..90 ({first_rows(outside)}); add 'crs:' to its YAML"
        )
    raise CRSError(f"{_where(spec)}: a table has no CRS; add 'crs:' (for example EPSG:4326)")


def h3_polygons(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Cell polygons (EPSG:4326) of H3 ids given as hex strings or 64-bit integers.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The polygons (``None`` for a bad id) and a mask of the bad ids.

    Examples
    --------
    >>> polys, bad = h3_polygons(pd.Series(["8928308280fffff", "617700169958293503", "nope"]))
    >>> polys[0].equals(polys[1]), bad.tolist()
    (True, [False, False, True])
    """
    text = ids.astype(str).str.strip().str.lower()
    decimal = text.str.fullmatch(r"\d{16,20}").to_numpy()
    cells = np.zeros(len(text), dtype=np.uint64)
    cells[decimal] = [int(v) for v in text[decimal]]
    cells[~decimal] = pc.fill_null(
        pa.array(cells_parse(pa.array(text[~decimal].tolist(), pa.string()), True)), 0
    ).to_numpy()
    checked = pa.array(cells_valid(pa.array(cells, pa.uint64())))
    ok = checked.is_valid().to_numpy(zero_copy_only=False) & (cells > 0)
    out = np.full(len(text), None, dtype=object)
    if ok.any():
        wkb = pa.array(h3v.cells_to_wkb_polygons(pa.array(cells[ok]))).to_numpy(
            zero_copy_only=False
        )
        out[ok] = shapely.from_wkb(wkb)
    return out, ~ok


def set_h3_geometry(df: pd.DataFrame, spec: LayerSpec, name: str) -> gpd.GeoDataFrame:
    """``df`` with the cells of its ``fields.h3`` column as geometry (EPSG:4326)."""
    col = spec.fields["h3"]
    if col not in df.columns:
        cols = ", ".join(str(c) for c in df.columns[:12])
        raise LayerError(
            f"{_where(spec)}: field 'h3' maps to column {col!r}, which {name} lacks; "
            f"columns: {cols}"
        )
    if spec.crs is not None and str(spec.crs).upper() not in ("EPSG:4326", "WGS84", "WGS 84"):
        raise CRSError(f"{_where(spec)}: H3 cells are defined in WGS 84; remove 'crs: {spec.crs}'")
    polys, bad = h3_polygons(df[col])
    if bad.any():
        examples = ", ".join(map(str, df[col][bad].head(3)))
        raise LayerError(
            f"{_where(spec)}: {int(bad.sum())} values of column {col!r} in {name} are not H3 "
            f"cell ids ({examples}; {first_rows(bad)}); fix or remove them"
        )
    data = pd.DataFrame(df).drop(columns=[c for c in df.columns if c in ("geometry", col)])
    gdf = gpd.GeoDataFrame(data, geometry=polys, crs="EPSG:4326")
    gdf.attrs["urbanform_read"] = {
        "notes": [f"geometry: H3 cells from column {col} ({len(gdf)} cells)"],
        "warnings": [],
    }
    return gdf
