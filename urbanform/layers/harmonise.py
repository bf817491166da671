"""Harmonising input layers: fields, classes, geometries and the working CRS.

:func:`load_layers` reads every layer of a workspace, checks it against its role,
maps fields and classes onto the canonical names of its role (``types.ROLE_FIELDS``;
docs/architecture.md, "Workspace and layers"), repairs what can be
repaired (counting it), and reprojects everything once to the metric working CRS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from urbanform.checks import check_coordinates
from urbanform.errors import CRSError, LayerError, WorkspaceError
from urbanform.layers.dasymetric import COUNT_FIELDS, place_counts
from urbanform.layers.gcj02 import gcj02_geometries_to_wgs84, is_gcj02
from urbanform.layers.presets import code_classes, raster_classes
from urbanform.layers.read import Window, checksum, read_source
from urbanform.layers.tables import first_rows
from urbanform.layers.types import (
    LANDUSE_CLASSES,
    ROLE_FIELDS,
    Layers,
    LayerSpec,
    Provenance,
    RasterLayer,
    unknown_field,
)
from urbanform.progress import Progress, Stage

__all__ = ["load_layers", "harmonise_vector", "working_crs", "ROLE_FIELDS"]

log = logging.getLogger(__name__)

_POLYGONAL = {"boundary", "districts", "landuse", "parks", "buildings"}
_POINTS = {"stations", "facilities"}
_LINES = {"streets"}
_RASTER_ROLES = {"landcover", "population", "jobs"}
_NUMERIC = {"population", "dwellings", "workers", "jobs", "layer", "floors", "floor_area"}
MAX_COUNT = 1e12
"""The largest count a feature may carry: more than a hundred times the world's people."""


def working_crs(spec_crs: str | None, vectors: Iterable[gpd.GeoDataFrame]) -> pyproj.CRS:
    """The metric working CRS: the workspace's, else the UTM zone of the data."""
    if spec_crs:
        try:
            crs = pyproj.CRS.from_user_input(spec_crs)
        except pyproj.exceptions.CRSError:
            raise WorkspaceError(
                f"urbanform.yml: crs {spec_crs!r} is not a known CRS; use for example EPSG:32648"
            ) from None
        if not crs.is_projected:
            raise WorkspaceError(
                f"urbanform.yml: crs {spec_crs!r} is geographic (degrees); use a metric CRS "
                "such as the UTM zone of the city, or leave 'crs' out to choose it automatically"
            )
        log.info("working CRS: %s (from urbanform.yml)", crs.to_string())
        return crs
    frames = [v for v in vectors if len(v) and v.crs is not None]
    if not frames:
        raise WorkspaceError("urbanform.yml: no vector layer to choose a CRS from; set 'crs'")
    # only each layer's bounding box is reprojected, not its features
    boxes = [gpd.GeoSeries([shapely.box(*f.total_bounds)], crs=f.crs).to_crs(4326) for f in frames]
    bounds = np.array([b.total_bounds for b in boxes])
    lon = (bounds[:, 0].min() + bounds[:, 2].max()) / 2
    lat = (bounds[:, 1].min() + bounds[:, 3].max()) / 2
    crs = gpd.GeoSeries(shapely.points([[lon, lat]]), crs=4326).estimate_utm_crs()
    log.info(
        "working CRS: %s (UTM zone of the data; set 'crs' in urbanform.yml to change)",
        crs.to_string(),
    )
    return cast(pyproj.CRS, crs)


def _where(spec: LayerSpec) -> str:
    return f"layer {spec.name!r} ({spec.file or spec.source})"


def _set_crs(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    if is_gcj02(spec.crs):
        if gdf.crs is not None and not gdf.crs.is_geographic:
            raise CRSError(
                f"{_where(spec)}: declared GCJ-02 but the file is in a projected CRS "
                f"({gdf.crs.to_string()}); remove 'crs: GCJ-02'"
            )
        geoms = gcj02_geometries_to_wgs84(gdf.geometry.values)
        return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index), crs=4326)
    if gdf.crs is None:
        if spec.crs is None:
            raise CRSError(
                f"{_where(spec)}: the source has no CRS; add 'crs:' to its YAML "
                "(for example 'crs: EPSG:4326')"
            )
        try:
            return gdf.set_crs(spec.crs)
        except pyproj.exceptions.CRSError:
            raise CRSError(f"{_where(spec)}: crs {spec.crs!r} is not a known CRS") from None
    if spec.crs is not None and pyproj.CRS.from_user_input(spec.crs) != gdf.crs:
        raise CRSError(
            f"{_where(spec)}: 'crs: {spec.crs}' contradicts the file's own CRS "
            f"({gdf.crs.to_string()}); 'crs' is only for sources without one: remove it"
        )
    return gdf


def _map_fields(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    required, optional = ROLE_FIELDS[spec.role]
    problem = unknown_field(spec.role, spec.fields)
    if problem:
        raise LayerError(f"{_where(spec)}: {problem}")
    cols: dict[str, Any] = {}
    for canon in (*required, *optional):
        src = spec.fields.get(canon, canon)
        if src in gdf.columns:
            cols[canon] = gdf[src].to_numpy()
        elif canon in required:
            available = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
            hint = f"map it with 'fields: {{{canon}: COLUMN}}'"
            raise LayerError(
                f"{_where(spec)}: missing field {canon!r} (looked for column {src!r}); {hint}; "
                f"columns: {available[:200]}"
            )
        elif canon in spec.fields:
            raise LayerError(
                f"{_where(spec)}: field {canon!r} maps to column {src!r}, which the "
                "source lacks; fix 'fields'"
            )
    if spec.role == "stations" and "kind" in gdf.columns and "kind" not in cols:
        cols["kind"] = gdf["kind"].to_numpy()  # station or entrance (OpenStreetMap, GTFS)
    out = gpd.GeoDataFrame(cols, geometry=gdf.geometry.values, crs=gdf.crs)
    for canon in out.columns.intersection(list(_NUMERIC)):
        values = pd.to_numeric(out[canon], errors="coerce")
        if canon in required and values.isna().any():
            n = int(values.isna().sum())
            raise LayerError(
                f"{_where(spec)}: field {canon!r} has {n} non-numeric or empty "
                f"values ({first_rows(values.isna().to_numpy())}); fill them with numbers"
            )
        if canon != "layer" and (values < 0).any():
            raise LayerError(
                f"{_where(spec)}: field {canon!r} has negative values "
                f"({first_rows((values < 0).to_numpy())}); counts must be >= 0"
            )
        absurd = np.isinf(values) | (values.abs() > MAX_COUNT)
        if absurd.any():
            raise LayerError(
                f"{_where(spec)}: field {canon!r} has {int(absurd.sum())} values that are "
                f"infinite or above {MAX_COUNT:.0e} (first: {float(values[absurd].iloc[0]):g}); "
                "fix them in the source"
            )
        out[canon] = values.astype(float)
    return out


def _map_classes(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, warn: Callable[[str], None]
) -> gpd.GeoDataFrame:
    key = {"landuse": "class", "facilities": "category"}.get(spec.role)
    if key is None:
        return gdf
    if spec.role == "landuse":
        return _map_landuse(gdf, spec, warn)
    raw = gdf[key].astype(str).str.strip()
    lookup = {str(v).strip(): canon for canon, values in spec.classes.items() for v in values}
    if not lookup:
        gdf[key] = raw.to_numpy()
        return gdf
    mapped = raw.map(lookup)
    unmapped = mapped.isna()
    if unmapped.any():
        values = ", ".join(sorted(raw[unmapped].unique())[:6])
        warn(
            f"{_where(spec)}: {int(unmapped.sum())} facilities with unmapped category values "
            f"({values}) were left out; map them under 'classes' to use them"
        )
    gdf = gdf[~unmapped.to_numpy()].copy()
    gdf[key] = mapped[~unmapped].to_numpy()
    return gdf


def _map_landuse(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, warn: Callable[[str], None]
) -> gpd.GeoDataFrame:
    """Land-use codes -> canonical classes through the preset and ``classes``."""
    canonical = set(LANDUSE_CLASSES)
    bad = sorted(set(spec.classes) - canonical)
    if bad:
        raise LayerError(
            f"{_where(spec)}: unknown land-use class {bad[0]!r} in 'classes'; "
            f"use {', '.join(LANDUSE_CLASSES)}"
        )
    raw = gdf["class"].astype(str).str.strip()
    table = code_classes(raw, spec.preset, spec.classes)
    mapped = raw.map(
        lambda v: (
            table[v] if table[v] is not None else (v.lower() if v.lower() in canonical else None)
        )
    )
    unmapped = mapped.isna()
    if unmapped.any():
        values = ", ".join(sorted(raw[unmapped].unique())[:6])
        what = (
            f"codes unknown to preset {spec.preset!r}" if spec.preset else "unmapped class values"
        )
        warn(
            f"{_where(spec)}: {int(unmapped.sum())} features with {what} ({values}) count as "
            "'other'; map them under 'classes'"
        )
    gdf["class"] = mapped.fillna("other").to_numpy()
    return gdf


def _repair(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, warn: Callable[[str], None]
) -> gpd.GeoDataFrame:
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        warn(f"{_where(spec)}: {int(missing.sum())} features without geometry were dropped")
        gdf = gdf[~missing].copy()
        geoms = gdf.geometry.values
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        if spec.role in _POLYGONAL:
            fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
        geoms = np.array(geoms, dtype=object)
        geoms[invalid] = fixed
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
        warn(f"{_where(spec)}: {int(invalid.sum())} invalid geometries were repaired")
        gdf = gdf[~gdf.geometry.is_empty].copy()
    return gdf


def _polygonal(g: shapely.Geometry) -> shapely.Geometry:
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _check_geometry_type(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    types = set(gdf.geom_type.unique())
    polys, points, lines = (
        {"Polygon", "MultiPolygon"},
        {"Point", "MultiPoint"},
        {"LineString", "MultiLineString"},
    )
    role = spec.role
    expected = (
        "polygons"
        if role in _POLYGONAL
        else "points"
        if role in _POINTS
        else "lines"
        if role in _LINES
        else "points or polygons"
    )
    if role == "parks":  # point features of a parks layer are mapped park entrances
        polys = polys | points
    ok = (
        types <= polys
        if role in _POLYGONAL
        else types <= points | polys
        if role in _POINTS
        else types <= lines
        if role in _LINES
        else types <= points | polys
    )
    if not ok:
        found = ", ".join(sorted(types))
        raise LayerError(
            f"{_where(spec)}: role {role!r} needs {expected}, found {found}; "
            "check 'source' and 'layer'"
        )
    if role in _POINTS and types & polys:
        gdf = gdf.set_geometry(gdf.geometry.representative_point())
    if types & {"MultiPoint", "MultiLineString"}:
        gdf = gdf.explode(index_parts=False).reset_index(drop=True)
    return gdf


def harmonise_vector(
    raw: gpd.GeoDataFrame, spec: LayerSpec, crs: pyproj.CRS, warn: Callable[[str], None]
) -> gpd.GeoDataFrame:
    """One raw vector layer -> canonical fields, valid geometries, working CRS."""
    return _harmonise_placed(_placed(raw, spec), spec, crs, warn)


def _placed(raw: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """A non-empty raw layer with its CRS set (GCJ-02 moved to WGS 84)."""
    if len(raw) == 0:
        raise LayerError(f"{_where(spec)}: the layer is empty; check 'source' and 'layer'")
    gdf = _set_crs(raw, spec)
    geoms = gdf.geometry.values
    check_coordinates(geoms, gdf.crs, where=_where(spec))
    if shapely.has_z(geoms).any() or _has_m(geoms):  # heights and measures play no part
        gdf = gdf.set_geometry(gpd.GeoSeries(shapely.force_2d(geoms), index=gdf.index))
    return gdf


def _has_m(geoms: Any) -> bool:
    has_m = getattr(shapely, "has_m", None)  # shapely >= 2.1
    return bool(has_m is not None and has_m(geoms).any())


def _harmonise_placed(
    gdf: gpd.GeoDataFrame, spec: LayerSpec, crs: pyproj.CRS, warn: Callable[[str], None]
) -> gpd.GeoDataFrame:
    """A layer from :func:`_placed` -> canonical fields, valid geometries, working CRS."""
    gdf = _map_fields(gdf, spec)
    gdf = _map_classes(gdf, spec, warn)
    gdf = _repair(gdf, spec, warn)
    if len(gdf) == 0:
        raise LayerError(f"{_where(spec)}: no usable feature is left after checks")
    gdf = _check_geometry_type(gdf, spec)
    if spec.role == "streets":
        for flag in ("bridge", "tunnel"):
            if flag in gdf.columns:
                gdf[flag] = _truthy(gdf[flag])
    return gdf.to_crs(crs) if gdf.crs != crs else gdf


def _truthy(values: pd.Series) -> np.ndarray:
    s = values.astype(str).str.strip().str.lower()
    return (~s.isin(["", "0", "no", "false", "none", "nan", "0.0"])).to_numpy()


def _check_raster(raster: RasterLayer, spec: LayerSpec) -> RasterLayer:
    if spec.role not in _RASTER_ROLES:
        raise LayerError(
            f"{_where(spec)}: role {spec.role!r} cannot be a raster; use a vector file"
        )
    if raster.nodata is None:
        raise LayerError(f"{_where(spec)}: the raster has no nodata value; set one")
    t, (h, w) = raster.transform, raster.data.shape[-2:]
    corners = [(t.c + t.a * i + t.b * j, t.f + t.d * i + t.e * j) for i in (0, w) for j in (0, h)]
    outline = shapely.multipoints(np.array(corners, dtype=float))
    check_coordinates(np.array([outline], dtype=object), raster.crs, where=_where(spec))
    if spec.role == "landcover" and spec.preset:
        raster.classes = raster_classes(spec.preset, spec.classes)
    elif spec.role == "landcover" and spec.classes:
        raster.classes = dict(spec.classes)
    return raster


def _combine(role: str, frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    gdf = (
        frames[0]
        if len(frames) == 1
        else gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    )
    if role == "districts":
        gdf["name"] = gdf["name"].astype(str)
        if gdf["name"].duplicated().any():
            gdf = gdf.dissolve(by="name", as_index=False)
    return gdf.reset_index(drop=True)


def load_layers(
    specs: Iterable[LayerSpec],
    *,
    crs: str | None = None,
    progress: Progress | None = None,
    window: Window | None = None,
    whole_roles: Iterable[str] = (),
) -> Layers:
    """Read, check and harmonise every layer.

    Parameters
    ----------
    specs
        The layer specs of a workspace.
    crs
        The workspace's working CRS (``None``: the UTM zone of the data).
    progress
        Shows the stage ``reading layers``, one step per layer.
    window
        Read only what may touch this box (a tile and its halo) where a source allows it,
        except the layers of ``whole_roles``; the caller keeps what touches it. Land use
        and buildings are read in a box grown to hold every count polygon read (they
        place its counts).

    Returns
    -------
    Layers
        Vectors combined per role in the working CRS, rasters, warnings, provenance.
    """
    specs = list(specs)
    warnings: list[str] = []
    notes: list[str] = []
    raws: list[tuple[LayerSpec, gpd.GeoDataFrame | RasterLayer]] = []
    progress = progress or Progress()
    with progress.stage("reading layers", total=len(specs)) as step:
        read = _read_all(specs, window, set(whole_roles), step)
        for spec, raw in zip(specs, read, strict=True):
            noticed = (
                raw.attrs.pop("urbanform_read", {}) if isinstance(raw, gpd.GeoDataFrame) else {}
            )
            notes.extend(f"layer {spec.name!r}: {n}" for n in noticed.get("notes", []))
            warnings.extend(noticed.get("warnings", []))
            raws.append((spec, raw))
    with progress.stage("harmonising layers", total=len(raws)) as step:
        layers = _harmonise_all(raws, crs, warnings, notes, step)
    for w in warnings:
        log.warning(w)
    return layers


LAND_ROLES = ("landuse", "buildings")
"""The roles count polygons are placed on (:func:`urbanform.layers.dasymetric.place_counts`)."""


def _read_all(
    specs: list[LayerSpec], window: Window | None, whole: set[str], step: Stage
) -> list[gpd.GeoDataFrame | RasterLayer]:
    """Each spec's source, read whole or in ``window``.

    Count roles are read first, then the land their polygons are placed on, in a window
    grown to hold those polygons.
    """
    if window is None:
        out = []
        for spec in specs:
            out.append(read_source(spec))
            step.advance(note=spec.name)
        return out
    raws: dict[int, gpd.GeoDataFrame | RasterLayer] = {}
    land: Window | None = window
    for i in sorted(range(len(specs)), key=lambda i: specs[i].role not in COUNT_FIELDS):
        spec = specs[i]
        here = None if spec.role in whole else land if spec.role in LAND_ROLES else window
        raws[i] = raw = read_source(spec, here)
        if spec.role in COUNT_FIELDS and land is not None and isinstance(raw, gpd.GeoDataFrame):
            land = _holding(land, raw, spec)
        step.advance(note=spec.name)
    return [raws[i] for i in range(len(specs))]


def _holding(window: Window, raw: gpd.GeoDataFrame, spec: LayerSpec) -> Window | None:
    """``window`` grown to hold ``raw`` (in its source CRS); ``None``: read whole."""
    if not len(raw):
        return window
    crs = raw.crs if raw.crs is not None else spec.crs
    if crs is None or is_gcj02(spec.crs):  # read whole: the error or the shift comes later
        return None
    return window.holding(tuple(raw.total_bounds), crs)


def _harmonise_all(
    raws: list[tuple[LayerSpec, gpd.GeoDataFrame | RasterLayer]],
    crs: str | None,
    warnings: list[str],
    notes: list[str],
    step: Stage,
) -> Layers:
    """The read layers checked, in the working CRS, combined per role, counts placed."""
    # each vector layer gets its CRS once; the working CRS may be chosen from them
    placed = {i: _placed(r, s) for i, (s, r) in enumerate(raws) if isinstance(r, gpd.GeoDataFrame)}
    work = working_crs(crs, placed.values())
    layers = Layers(crs=work, warnings=warnings, notes=notes)
    per_role: dict[str, list[gpd.GeoDataFrame]] = {}
    for i, (spec, raw) in enumerate(raws):
        if isinstance(raw, RasterLayer):
            if spec.role in layers.rasters:
                raise LayerError(
                    f"{_where(spec)}: only one raster per role {spec.role!r} is allowed"
                )
            layers.rasters[spec.role] = _check_raster(raw, spec)
            n, crs_str = int(np.count_nonzero(raw.data != raw.nodata)), raw.crs.to_string()
        else:
            gdf = _harmonise_placed(placed[i], spec, work, warnings.append)
            per_role.setdefault(spec.role, []).append(gdf)
            n, crs_str = len(raw), raw.crs.to_string() if raw.crs else str(spec.crs)
            if spec.source.startswith("osm:"):
                layers.osm_roles.add(spec.role)
        layers.provenance.append(
            Provenance(spec.name, spec.role, spec.source, n, crs_str, checksum(spec, raw))
        )
        step.advance(note=spec.name)
    for role, frames in per_role.items():
        if role == "parks" and not any(
            f.geom_type.isin(["Polygon", "MultiPolygon"]).any() for f in frames
        ):
            found = ", ".join(sorted({t for f in frames for t in f.geom_type.unique()}))
            raise LayerError(
                f"role 'parks' needs polygons, found {found} only (points are "
                "park entrances); check 'source' and 'layer' of the parks layers"
            )
        if role in layers.rasters:
            raise LayerError(f"role {role!r} is given both as raster and vector; keep one")
        layers.vectors[role] = _combine(role, frames)
    place_counts(layers, warnings.append)
    warnings += _outside_study_area(layers.vectors)
    return layers


def _outside_study_area(vectors: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """Warnings for vector roles lying wholly outside the boundary or the districts.

    Such a layer is almost always in a wrong CRS or has its axes swapped; it is kept
    (it changes no district value) and reported.
    """
    area = vectors.get("boundary", vectors.get("districts"))
    if area is None or len(area) == 0:
        return []
    x0, y0, x1, y1 = area.total_bounds
    out = []
    for role, gdf in vectors.items():
        if role in ("boundary", "districts") or len(gdf) == 0:
            continue
        a0, b0, a1, b1 = gdf.total_bounds
        if a1 < x0 or a0 > x1 or b1 < y0 or b0 > y1:
            out.append(
                f"role {role!r}: every feature lies outside the study area (the "
                f"{'boundary' if 'boundary' in vectors else 'districts'}); check the "
                "layer's CRS and whether its x and y are swapped"
            )
    return out
