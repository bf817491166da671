"""Reading one layer source: files (vector, CSV, GeoTIFF), ``demo:`` and ``osm:``.

What comes back is still in the source's CRS with the source's column names; the
harmonising step (:mod:`urbanform.layers.harmonise`) maps fields and reprojects.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import rasterio
import shapely

from urbanform.errors import CRSError, LayerError
from urbanform.layers.gcj02 import is_gcj02
from urbanform.layers.types import LayerSpec, RasterLayer

__all__ = ["read_source", "checksum", "RASTER_SUFFIXES"]

log = logging.getLogger(__name__)

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img")


def checksum(spec: LayerSpec, data: gpd.GeoDataFrame | RasterLayer) -> str:
    """SHA-256 of the source file, or of the generated data for ``demo:`` sources."""
    h = hashlib.sha256()
    if spec.source.startswith("demo:"):
        if isinstance(data, RasterLayer):
            h.update(np.ascontiguousarray(data.data).tobytes())
        else:
            h.update(shapely.to_wkb(data.geometry.values).astype(bytes).tobytes())
            h.update(pd.util.hash_pandas_object(data.drop(columns="geometry")).to_numpy().tobytes())
        return h.hexdigest()
    path = Path(spec.source.removeprefix("osm:"))
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:  # removed or made unreadable while the run was reading it
        raise LayerError(
            f"{_where(spec)}: cannot read {path.name} ({exc.strerror or exc}); check the file"
        ) from None
    return h.hexdigest()


def _where(spec: LayerSpec) -> str:
    return f"layer {spec.name!r} ({spec.file or spec.source})"


def read_source(spec: LayerSpec) -> gpd.GeoDataFrame | RasterLayer:
    """Read the source of ``spec``.

    Raises
    ------
    LayerError
        For a path that does not exist, an unreadable or corrupt file, an unknown
        format, a missing layer name in a multi-layer file, or missing CSV coordinates.
    """
    if spec.source.startswith("demo:"):
        return _read_demo(spec)
    if spec.source.startswith("osm:"):
        return _read_osm(spec)
    path = Path(spec.source)
    if not path.exists():
        raise LayerError(
            f"{_where(spec)}: source {path} does not exist; fix 'source' (paths are relative "
            "to the workspace folder)"
        )
    suffix = path.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        return _read_raster(spec, path)
    if suffix == ".csv":
        return _read_csv(spec, path)
    if suffix == ".pbf" or path.name.endswith(".osm"):
        raise LayerError(f"{_where(spec)}: write 'source: osm:{path}' for an OpenStreetMap extract")
    return _read_vector(spec, path)


def _read_demo(spec: LayerSpec) -> gpd.GeoDataFrame | RasterLayer:
    """``demo:NAME``, optionally ``demo:NAME?scale=25&seed=7`` (a larger or other city)."""
    from urbanform.demo import demo_layer

    name, _, query = spec.source.removeprefix("demo:").partition("?")
    options: dict[str, Any] = {}
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        try:
            options[key] = {"scale": float, "seed": int}[key](value)
        except (KeyError, ValueError):
            raise LayerError(
                f"{_where(spec)}: bad demo option {part!r}; use demo:NAME?scale=2&seed=7"
            ) from None
    return demo_layer(name, **options)


def _read_osm(spec: LayerSpec) -> gpd.GeoDataFrame:
    path = Path(spec.source.removeprefix("osm:"))
    if not path.exists():
        raise LayerError(f"{_where(spec)}: OpenStreetMap extract {path} does not exist")
    from urbanform.layers.osm import read_osm

    return read_osm(path, spec.role, classes=spec.classes or None)


def _read_vector(spec: LayerSpec, path: Path) -> gpd.GeoDataFrame:
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            return gpd.read_parquet(path)
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        if spec.layer is None and len(names) > 1:
            raise LayerError(
                f"{_where(spec)}: {path.name} holds {len(names)} layers ({', '.join(names[:8])}); "
                "name one with 'layer:'"
            )
        if spec.layer is not None and spec.layer not in names:
            raise LayerError(
                f"{_where(spec)}: {path.name} has no layer {spec.layer!r}; layers: "
                f"{', '.join(names[:8])}"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return gpd.read_file(path, layer=spec.layer, engine="pyogrio")
    except LayerError:
        raise
    except Exception as exc:  # pyogrio/GDAL raise many types for corrupt files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerError(
            f"{_where(spec)}: cannot read {path.name} ({first}); is it a valid GeoPackage, "
            "Shapefile, GeoJSON, GeoParquet or FlatGeobuf file?"
        ) from None


def _read_csv(spec: LayerSpec, path: Path) -> gpd.GeoDataFrame:
    try:
        df = pd.read_csv(path)
    except Exception as exc:
        raise LayerError(f"{_where(spec)}: cannot read CSV {path.name} ({exc})") from None
    xcol, ycol = spec.fields.get("x"), spec.fields.get("y")
    if not xcol or not ycol:
        raise LayerError(
            f"{_where(spec)}: a CSV source needs its coordinate columns mapped: add "
            "'fields: {x: LON_COLUMN, y: LAT_COLUMN}'"
        )
    for key, col in (("x", xcol), ("y", ycol)):
        if col not in df.columns:
            raise LayerError(
                f"{_where(spec)}: field {key!r} maps to column {col!r}, which {path.name} lacks; "
                f"columns: {', '.join(map(str, df.columns[:12]))}"
            )
    if spec.crs is None:
        raise CRSError(f"{_where(spec)}: a CSV has no CRS; add 'crs:' (for example EPSG:4326)")
    x = pd.to_numeric(df[xcol], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[ycol], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        raise LayerError(
            f"{_where(spec)}: {int(bad.sum())} rows have no numeric {xcol}/{ycol} (first at "
            f"line {row} of {path.name}); fix or remove them"
        )
    crs = None if is_gcj02(spec.crs) else spec.crs
    gdf = gpd.GeoDataFrame(df.drop(columns=[xcol, ycol]), geometry=shapely.points(x, y), crs=crs)
    return gdf


def _read_raster(spec: LayerSpec, path: Path) -> RasterLayer:
    try:
        with rasterio.open(path) as src:
            data = src.read(1)
            nodata, crs, transform = src.nodata, src.crs, src.transform
    except rasterio.errors.RasterioError as exc:
        raise LayerError(f"{_where(spec)}: cannot read raster {path.name} ({exc})") from None
    if nodata is None:
        raise LayerError(
            f"{_where(spec)}: raster {path.name} has no nodata value; set one, for example "
            f"'gdal_edit.py -a_nodata 0 {path.name}'"
        )
    if crs is None:
        if spec.crs is None:
            raise CRSError(f"{_where(spec)}: raster {path.name} has no CRS; add 'crs:' to its YAML")
        crs = spec.crs
    if np.issubdtype(data.dtype, np.integer) and float(nodata).is_integer():
        nodata = int(nodata)
    return RasterLayer(
        name=spec.name,
        role=spec.role,
        data=data,
        transform=transform,
        crs=pyproj.CRS.from_user_input(crs),
        nodata=nodata,
        classes=dict(spec.classes),
    )
