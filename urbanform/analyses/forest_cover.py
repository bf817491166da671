"""Forest cover: the share of land area (water left out) classed as forest.

Two sources:

``landcover`` (default when a land-cover raster exists)
    Per district (and over the study area), the area of forest pixels over the area of
    land pixels (valid pixels whose class is not excluded), every pixel weighted by the
    exact fraction of it inside the district (exactextract coverage fractions). Pixel
    areas are in square metres (computed on the ellipsoid for a geographic raster).
``landuse``
    The area of land-use polygons of the forest classes over the land area: the study
    area minus the polygons of the excluded classes (forest overlapping water counts as
    water).

The study area is the ``boundary`` layer (split at district edges) or, without it, the
union of the districts; the city value is over the study area, so land inside the
boundary but outside every district counts in the city value only.

Units: the raster pixels inside each district, grouped in blocks of about 100 m x 100 m
per district, each carrying forest area x coverage (``share__num``) and land area x
coverage (``share__den``) at its area-weighted centre, so that sums over units equal the
exact district figures; for polygons, the land pieces split by forest cover.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from urbanform.analyses import zonal
from urbanform.analyses.common import split_by_districts
from urbanform.analyses.context import Context
from urbanform.analyses.params import Params, merge_params, one_of, param
from urbanform.errors import AnalysisError, LayerError
from urbanform.layers.types import RasterLayer
from urbanform.results import AnalysisResult, LayerStyle, Target, indicator_values

__all__ = ["DEFAULTS", "INDICATORS", "validate_params", "run", "study_zones", "raster_share_units"]

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ForestCoverParams(Params):
    """Parameters of ``kind: forest_cover``."""

    kind: ClassVar[str] = "forest_cover"
    classes: list[Any] = param(["forest"], "class names or raw raster codes")
    exclude: list[Any] = param(["water"], "left out of the land area")
    source: str = param(
        "auto", "the land-cover raster if there is one, else `landuse` polygons"
    )


DEFAULTS: dict[str, Any] = ForestCoverParams.defaults()

INDICATORS: dict[str, tuple[str, str]] = {
    "share": ("share", "Forest cover (share of land area)"),
}

_UNIT_BLOCK_M = 100.0
"""Side of the pixel blocks that become units (H3 cells are larger)."""


def _class_list(value: Any, *, key: str, where: str, allow_empty: bool) -> list[Any]:
    if isinstance(value, str | int):
        value = [value]
    ok = isinstance(value, list) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    )
    if not ok or (not value and not allow_empty):
        raise AnalysisError(
            f"{where}: params.{key} must be a list of class names or raster codes, got {value!r}"
        )
    return list(value)


def validate_params(params: dict[str, Any] | None, *, where: str) -> ForestCoverParams:
    """Effective parameters: defaults overlaid with ``params``, each value checked.

    ``classes`` and ``exclude`` list canonical class names (``forest``, ``water``)
    or raw raster codes; ``source`` is ``auto``, ``landcover`` or ``landuse``.

    Raises
    ------
    AnalysisError
        Naming ``where`` and the parameter.

    Examples
    --------
    >>> dict(validate_params({"exclude": []}, where="a.yml"))
    {'classes': ['forest'], 'exclude': [], 'source': 'auto'}
    """
    p = merge_params(params, DEFAULTS, where=where)
    p["classes"] = _class_list(p["classes"], key="classes", where=where, allow_empty=False)
    p["exclude"] = _class_list(p["exclude"], key="exclude", where=where, allow_empty=True)
    p["source"] = one_of(p["source"], ("auto", "landcover", "landuse"), key="source", where=where)
    return ForestCoverParams(**p)


def study_zones(ctx: Context, *, needed_by: str) -> gpd.GeoDataFrame:
    """The study area split at district edges: ``district`` (None outside) and geometry.

    The ``boundary`` layer when given, else the districts.
    """
    boundary = ctx.layers.vectors.get("boundary")
    districts = ctx.districts()
    if boundary is not None:
        area = shapely.union_all(boundary.geometry.values)
        b = gpd.GeoDataFrame(geometry=[area], crs=boundary.crs)
        zones = split_by_districts(b, districts)
    elif districts is not None:
        zones = districts.rename(columns={"name": "district"})
    else:
        raise LayerError(
            f"analysis {needed_by!r} needs a 'boundary' or a 'districts' layer to know the "
            "land area; add layers/boundary.yml with 'role: boundary'"
        )
    zones = zones[["district", "geometry"]].reset_index(drop=True)
    zones["district"] = zones["district"].astype(object).where(zones["district"].notna(), None)
    return zones


def _codes(raster: RasterLayer, names: list[Any], *, key: str, where: str) -> list[Any]:
    codes: list[Any] = []
    for name in names:
        if not isinstance(name, str):
            codes.append(name)
            continue
        found = raster.codes_for(name)
        if not found:
            raise AnalysisError(
                f"{where}: params.{key} names class {name!r} but raster layer "
                f"{raster.name!r} maps no code to it; add 'classes: {{{name}: [CODE]}}' to its "
                "layers/*.yml or list raw codes"
            )
        codes.extend(found)
    return codes


def _cell_area_m2(raster: RasterLayer, ys: np.ndarray) -> np.ndarray:
    """Pixel area in m² at pixel-centre ``ys`` (ellipsoidal for a geographic raster)."""
    crs = pyproj.CRS(raster.crs)
    if not crs.is_geographic:
        return np.full(len(ys), raster.pixel_area_m2)
    geod = crs.get_geod() or pyproj.Geod(ellps="WGS84")
    dx, dy = abs(raster.transform.a), abs(raster.transform.e)
    uniq, inv = np.unique(ys, return_inverse=True)
    areas = np.array(
        [abs(geod.polygon_area_perimeter([0, dx, dx, 0], [y - dy / 2] * 2 + [y + dy / 2] * 2)[0])
         for y in uniq]
    )
    return areas[inv]


def _block(raster: RasterLayer) -> int:
    size = abs(raster.transform.a)
    if pyproj.CRS(raster.crs).is_geographic:
        size *= 111_000.0
    return max(1, int(_UNIT_BLOCK_M // size))


_BLOCK_SUMS = ["share__num", "share__den", "w", "wx", "wy"]
"""The sums per block of pixels: forest m², land m², pixel m² and the m²-weighted x, y."""


def _zone_blocks(
    raster: RasterLayer,
    zone: gpd.GeoSeries,
    row: int,
    k: int,
    n_blocks: tuple[int, int],
    forest_codes: list[Any],
    exclude_codes: list[Any],
) -> tuple[pd.DataFrame, int]:
    """One zone's sums per block of ``k`` x ``k`` pixels (index: the block key) and pixels."""
    px = zonal.raster_pixels(raster, zone)
    area = px["coverage"] * _cell_area_m2(raster, px["y"])
    land = ~np.isin(px["value"], exclude_codes)
    forest = land & np.isin(px["value"], forest_codes)
    ncols = raster.data.shape[1]
    cell = px["cell"]
    # one int key ordered as (zone, block row, block column): grouping by it sorts and
    # sums exactly as grouping by the three columns, without a frame three columns wider
    n_br, n_bc = n_blocks
    block = (row * n_br + cell // ncols // k) * n_bc + (cell % ncols // k)
    sums = np.empty((5, cell.size))  # one block of the frame below, filled in place
    np.multiply(area, forest, out=sums[0])
    np.multiply(area, land, out=sums[1])
    sums[2] = area
    np.multiply(area, px["x"], out=sums[3])
    np.multiply(area, px["y"], out=sums[4])
    g = pd.DataFrame(sums.T, columns=_BLOCK_SUMS, copy=False).groupby(block, sort=True).sum()
    return g, int(cell.size)


def raster_share_units(
    raster: RasterLayer,
    zones: gpd.GeoDataFrame,
    *,
    forest_codes: list[Any],
    exclude_codes: list[Any],
    crs: Any,
) -> gpd.GeoDataFrame:
    """Units of forest and land area from a land-cover raster, exact at zone edges.

    Parameters
    ----------
    raster
        The land-cover raster.
    zones
        Polygons with ``district`` in ``crs``.
    forest_codes, exclude_codes
        Raster codes counted as forest, and left out of the land area.
    crs
        The working CRS of the units.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with ``district``, ``share__num`` (forest m²) and ``share__den`` (land m²),
        one per block of pixels per zone.
    """
    k, (nrows, ncols) = _block(raster), raster.data.shape
    n_br, n_bc = -(-nrows // k), -(-ncols // k)
    # zone by zone: a zone's pixels are a fraction of the city's (less memory to touch),
    # and the blocks come out in the same order, with the same sums, as all zones at once
    parts = [_zone_blocks(raster, zones.geometry.iloc[[i]], i, k, (n_br, n_bc), forest_codes,
                          exclude_codes) for i in range(len(zones))]  # fmt: skip
    n_pixels = sum(n for _, n in parts)
    empty = pd.DataFrame(columns=_BLOCK_SUMS, dtype=float)
    g = pd.concat([p for p, _ in parts]) if parts else empty
    zone = g.index.to_numpy() // (n_br * n_bc)
    xs, ys = (g["wx"] / g["w"]).to_numpy(), (g["wy"] / g["w"]).to_numpy()
    if pyproj.CRS(raster.crs) != pyproj.CRS(crs):
        tr = pyproj.Transformer.from_crs(raster.crs, crs, always_xy=True)
        xs, ys = tr.transform(xs, ys)
    district = zones["district"].to_numpy(dtype=object)[zone]
    log.info("forest cover: %d pixels in %d unit blocks", n_pixels, len(g))
    return gpd.GeoDataFrame(
        {
            "district": district,
            "share__num": g["share__num"].to_numpy(),
            "share__den": g["share__den"].to_numpy(),
        },
        geometry=shapely.points(xs, ys),
        crs=crs,
    )


def _landuse_units(
    ctx: Context, zones: gpd.GeoDataFrame, params: ForestCoverParams, *, name: str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Units and forest pieces from land-use polygons."""
    lu = ctx.layers.vector("landuse", needed_by=name)
    bad = [c for c in params.classes + params.exclude if not isinstance(c, str)]
    if bad:
        raise AnalysisError(
            f"analysis {name!r}: params.classes/exclude hold raster codes {bad} but the source "
            "is the landuse layer; use land-use class names such as 'forest' and 'water'"
        )
    water = shapely.union_all(lu.geometry.values[lu["class"].isin(params.exclude).to_numpy()])
    forest = shapely.union_all(lu.geometry.values[lu["class"].isin(params.classes).to_numpy()])
    land = zonal.split_by_cover(zones, water)
    land = land.loc[~land["covered"], ["district", "geometry"]].reset_index(drop=True)
    parts = zonal.split_by_cover(land, forest)
    units = gpd.GeoDataFrame(
        {
            "district": parts["district"].to_numpy(dtype=object),
            "share__num": np.where(parts["covered"], parts["area_m2"], 0.0),
            "share__den": parts["area_m2"].to_numpy(),
        },
        geometry=parts.geometry.representative_point().values,
        crs=zones.crs,
    )
    pieces = parts.loc[parts["covered"], ["district", "area_m2", "geometry"]]
    return units, pieces.reset_index(drop=True)


def _source(ctx: Context, params: ForestCoverParams) -> str:
    if params.source != "auto":
        return str(params.source)
    return "landcover" if "landcover" in ctx.layers.rasters else "landuse"


def _method(
    source: str, params: ForestCoverParams, codes: tuple[list[Any], list[Any]] | None
) -> str:
    cls, exc = ", ".join(map(str, params.classes)), ", ".join(map(str, params.exclude))
    left_out = f"classes {exc} left out of the land area" if exc else "no class left out"
    if source == "landcover" and codes is not None:
        return (
            f"Forest cover = area of land-cover pixels of {cls} (codes "
            f"{', '.join(map(str, codes[0]))}) / land area ({left_out}; codes "
            f"{', '.join(map(str, codes[1])) or 'none'}; nodata ignored). Each pixel counts by "
            "the exact fraction of it inside the district (exactextract coverage), in m². "
            "The city value is over the boundary (or the union of the districts)."
        )
    return (
        f"Forest cover = area of land-use polygons of class {cls} / land area: the district "
        f"(or study area) minus the land-use polygons of class {exc or 'none'} (forest "
        "overlapping them counts as excluded), split exactly at district edges."
    )


def run(
    ctx: Context, *, name: str, params: ForestCoverParams, target: Target | None
) -> AnalysisResult:
    """Forest cover per district and over the study area.

    Parameters
    ----------
    ctx
        The run context (``landcover`` raster or ``landuse`` polygons; ``boundary``
        and/or ``districts``).
    name
        The run's key.
    params
        Validated parameters (see :func:`validate_params`).
    target
        Target for the ``share`` indicator (for example ``>= 0.41`` by 2025).

    Returns
    -------
    AnalysisResult
        Indicator ``share``; with polygons, a ``forest`` layer of forest pieces.
    """
    zonal.require_metric(ctx.layers.crs, needed_by=name)
    source = _source(ctx, params)
    zones = study_zones(ctx, needed_by=name)
    layers: dict[str, gpd.GeoDataFrame] = {}
    styles: dict[str, LayerStyle] = {}
    codes = None
    if source == "landcover":
        raster = ctx.layers.raster("landcover", needed_by=name)
        where = f"analysis {name!r}"
        codes = (
            _codes(raster, params.classes, key="classes", where=where),
            _codes(raster, params.exclude, key="exclude", where=where),
        )
        key = f"forest_cover:raster:{sorted(map(repr, codes[0]))}:{sorted(map(repr, codes[1]))}"
        if key not in ctx.cache:  # forest and forest2030 differ only in their target
            ctx.cache[key] = raster_share_units(
                raster, zones, forest_codes=codes[0], exclude_codes=codes[1], crs=ctx.layers.crs
            )
        units = ctx.cache[key]
    else:
        units, forest = _landuse_units(ctx, zones, params, name=name)
        layers["forest"] = forest
        styles["forest"] = LayerStyle(
            title="Forest land", title_zh="林地", color="#1b7837",
            popup_fields=["district", "area_m2"],
        )
    warnings = []
    if units["share__den"].sum() <= 0:
        warnings.append("no land area found in the study area: forest cover is undefined")
    unit, label = INDICATORS["share"]
    ind = indicator_values(
        units, "share", unit=unit, label=label, target=target, districts=ctx.district_names()
    )
    return AnalysisResult(
        name=name, kind="forest_cover", params={**params, "source": source},
        indicators={"share": ind}, units=units, layers=layers, styles=styles,
        method=_method(source, params, codes), warnings=warnings,
    )
