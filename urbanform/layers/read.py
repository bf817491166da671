"""Reading one layer source: files (vector, CSV, GeoTIFF), ``demo:`` and ``osm:``.

What comes back is still in the source's CRS with the source's column names; the
harmonising step (:mod:`urbanform.layers.harmonise`) maps fields and reprojects.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import warnings
from pathlib import Path, PurePosixPath
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
from urbanform.layers.gtfs import is_gtfs, read_gtfs_stations
from urbanform.layers.tables import TABLE_SUFFIXES, read_table, set_h3_geometry
from urbanform.layers.types import LayerSpec, RasterLayer

__all__ = [
    "read_source", "gdal_path", "checksum", "source_checksum", "RASTER_SUFFIXES", "Window",
]

log = logging.getLogger(__name__)

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img")


def checksum(spec: LayerSpec, data: gpd.GeoDataFrame | RasterLayer) -> str:
    """SHA-256 of the source file, or of the data for ``demo:`` and GDAL virtual sources."""
    h = hashlib.sha256()
    if spec.source.startswith("demo:") or gdal_path(spec.source) is not None:
        if isinstance(data, RasterLayer):
            h.update(np.ascontiguousarray(data.data).tobytes())
        else:
            h.update(b"".join(shapely.to_wkb(data.geometry.values).tolist()))
            h.update(pd.util.hash_pandas_object(data.drop(columns="geometry")).to_numpy().tobytes())
        return h.hexdigest()
    return source_checksum(spec)


def source_checksum(spec: LayerSpec) -> str:
    """SHA-256 of a file source (a folder's files in name order); not for ``demo:``."""
    h = hashlib.sha256()
    path = Path(spec.source.removeprefix("osm:"))
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    try:
        for file in files:  # a folder (a GTFS feed): its files in name order
            with file.open("rb") as f:
                while block := f.read(1 << 20):
                    h.update(block)
    except OSError as exc:  # removed or made unreadable while the run was reading it
        raise LayerError(
            f"{_where(spec)}: cannot read {path.name} ({exc.strerror or exc}); check the file"
        ) from None
    return h.hexdigest()


def _where(spec: LayerSpec) -> str:
    return f"layer {spec.name!r} ({spec.file or spec.source})"


_SCHEMES = {"s3://": "/vsis3/", "gs://": "/vsigs/"}


class VirtualPath(str):
    """A GDAL virtual path (``/vsizip//data/a.zip/b.gpkg``) kept as written, with a name."""

    @property
    def suffix(self) -> str:
        """The file suffix, as :attr:`pathlib.Path.suffix`."""
        return PurePosixPath(self).suffix

    @property
    def name(self) -> str:
        """The last part, as :attr:`pathlib.Path.name`."""
        return PurePosixPath(self).name


def gdal_path(source: str) -> str | None:
    """The GDAL virtual path of a source GDAL reads itself; ``None`` for a local file.

    Examples
    --------
    >>> gdal_path("s3://bucket/city/streets.gpkg")
    '/vsis3/bucket/city/streets.gpkg'
    >>> gdal_path("/vsizip/data/city.zip/parks.gpkg"), gdal_path("data/parks.gpkg")
    ('/vsizip/data/city.zip/parks.gpkg', None)
    """
    for scheme, prefix in _SCHEMES.items():
        if source.startswith(scheme):
            return prefix + source[len(scheme):]
    return source if source.startswith("/vsi") else None


@dataclasses.dataclass(frozen=True)
class Window:
    """A box to read in: only the features of a vector file that may touch it are read.

    A tile of a tiled run and its halo (:mod:`urbanform.tiles`). The box is in ``crs``
    (the working CRS); each file gets it in its own CRS, grown to hold the reprojected
    box whole, so a read holds every feature that touches the box and some more (the
    caller keeps those that touch it). Sources read whole all the same: ``demo:``,
    ``osm:``, CSV tables, H3 cell tables, GTFS feeds, GeoParquet, GCJ-02 files, rasters.
    """

    box: tuple[float, float, float, float]
    crs: pyproj.CRS

    def bbox_in(self, crs: pyproj.CRS) -> tuple[float, float, float, float]:
        """The box in ``crs``: the bounds of the densified box, grown by 1% on each side.

        Examples
        --------
        >>> w = Window((0.0, 0.0, 100.0, 50.0), pyproj.CRS("EPSG:32648"))
        >>> w.bbox_in(pyproj.CRS("EPSG:32648"))
        (0.0, 0.0, 100.0, 50.0)
        """
        return self.box if crs == self.crs else reprojected_bounds(self.box, self.crs, crs)

    def holding(self, bounds: tuple[float, float, float, float], crs: Any) -> Window:
        """The window grown to hold ``bounds`` (a box in ``crs``)."""
        x0, y0, x1, y1 = reprojected_bounds(bounds, crs, self.crs)
        b = self.box
        return Window((min(b[0], x0), min(b[1], y0), max(b[2], x1), max(b[3], y1)), self.crs)


def reprojected_bounds(
    bounds: tuple[float, float, float, float], src: Any, dst: Any
) -> tuple[float, float, float, float]:
    """Bounds in ``dst`` holding the box ``bounds`` of ``src``.

    The bounds of the box densified to 21 points a side, grown by 1% on each side (its
    edges curve between the points).
    """
    t = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    x0, y0, x1, y1 = t.transform_bounds(*bounds, densify_pts=21)
    dx, dy = (x1 - x0) / 100, (y1 - y0) / 100
    return (x0 - dx, y0 - dy, x1 + dx, y1 + dy)


def read_source(spec: LayerSpec, window: Window | None = None) -> gpd.GeoDataFrame | RasterLayer:
    """Read the source of ``spec`` (within ``window`` where the source allows it).

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
    virtual = gdal_path(spec.source)
    if virtual is not None:  # read by GDAL (a shared bucket of a cluster, a zip file)
        vpath = VirtualPath(virtual)
        return _read_raster(spec, vpath) if vpath.suffix.lower() in RASTER_SUFFIXES else (
            _read_vector(spec, vpath, window))
    path = Path(spec.source)
    if not path.exists():
        raise LayerError(
            f"{_where(spec)}: source {path} does not exist; fix 'source' (paths are relative "
            "to the workspace folder)"
        )
    if is_gtfs(path):
        return read_gtfs_stations(spec, path)
    if path.is_dir():
        raise LayerError(
            f"{_where(spec)}: source {path} is a folder without stops.txt; name a file, or a "
            "GTFS feed folder"
        )
    suffix = path.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        return _read_raster(spec, path)
    if suffix in TABLE_SUFFIXES:
        return read_table(spec, path)
    if suffix == ".pbf" or path.name.endswith(".osm"):
        raise LayerError(f"{_where(spec)}: write 'source: osm:{path}' for an OpenStreetMap extract")
    if "h3" in spec.fields:  # cells without geometry: read whole
        gdf = _read_vector(spec, path)
        return set_h3_geometry(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), spec, path.name)
    return _read_vector(spec, path, window)


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

    if spec.preset not in (None, "osm"):
        raise LayerError(
            f"{_where(spec)}: an OpenStreetMap extract is classified by its tags "
            f"(osm_tags.yml), not by preset {spec.preset!r}; remove it or write 'classes: osm'"
        )
    return read_osm(path, spec.role, classes=spec.classes or None)


def _read_vector(
    spec: LayerSpec, path: Path | VirtualPath, window: Window | None = None
) -> gpd.GeoDataFrame:
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
            bbox = _bbox(spec, path, window)
            if bbox is None:
                return gpd.read_file(path, layer=spec.layer, engine="pyogrio")
            # a spatial index gives features in its own order: put them in the file's
            gdf = gpd.read_file(path, layer=spec.layer, engine="pyogrio", bbox=bbox,
                                fid_as_index=True).sort_index().reset_index(drop=True)
            if not len(gdf):  # the fields of one feature, for the checks
                gdf = gpd.read_file(path, layer=spec.layer, engine="pyogrio", max_features=1)
            return gdf
    except LayerError:
        raise
    except Exception as exc:  # pyogrio/GDAL raise many types for corrupt files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LayerError(
            f"{_where(spec)}: cannot read {path.name} ({first}); is it a valid GeoPackage, "
            "Shapefile, GeoJSON, GeoParquet or FlatGeobuf file?"
        ) from None


def _bbox(
    spec: LayerSpec, path: Path | VirtualPath, window: Window | None
) -> tuple[float, float, float, float] | None:
    """``window`` in the CRS of the file's layer; ``None``: read the whole layer."""
    if window is None:
        return None
    info = pyogrio.read_info(path, layer=spec.layer)
    crs = info["crs"] or spec.crs
    if crs is None or is_gcj02(spec.crs) or info["geometry_type"] is None:
        return None  # no CRS or no geometry (an error later), or shifted coordinates
    return window.bbox_in(pyproj.CRS.from_user_input(crs))


def _read_raster(spec: LayerSpec, path: Path | VirtualPath) -> RasterLayer:
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
