"""Park service coverage after GB/T 50563: residential land and residents near a park.

A park serves the radius of the largest tier whose ``min_area_m2`` its area reaches
(defaults: 5,000 m² -> 500 m, 2,000 m² -> 300 m); smaller parks do not count. A park's
area is its polygon area after park polygons that touch or overlap *and* carry the same
``name`` are merged into one park (unnamed polygons are never merged). Park access is
taken along the whole park edge: straight-line from the edge (``distance: euclidean``) or
from access points every ``access_spacing_m`` along the outer edge (``distance:
network``), plus mapped entrances: point features of a ``parks`` layer (for example a
``layers/park_entrances.yml`` with ``role: parks``), each joined to the nearest counting
park within ``ENTRANCE_JOIN_M``.

Indicators
----------
``area_share``
    Residential land (land-use class ``residential``) inside any service area / all
    residential land. Euclidean: exact polygon overlay, units are the residential pieces
    split by district and by coverage. Network: residential pieces are sampled with a
    grid of points every ``sample_spacing_m``; each point weighs its piece's area divided
    by the piece's number of points, and is covered when it walks to a park in reach.
``pop_share``
    Residents covered / residents, when a ``population`` layer exists. Euclidean:
    polygons count by the share of their area inside, points and raster pixel centroids
    by location. Network: population points and polygon/pixel centroids walk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from urbanform.analyses import zonal
from urbanform.analyses.common import empty_pieces, residential_land, value_pieces
from urbanform.analyses.context import Context
from urbanform.analyses.params import (
    Params,
    merge_params,
    one_of,
    param,
    piece_share_param,
    positive_number,
    share_param,
)
from urbanform.errors import AnalysisError, LayerError
from urbanform.results import AnalysisResult, LayerStyle, Target, indicator_values

__all__ = [
    "DEFAULTS",
    "INDICATORS",
    "validate_params",
    "run",
    "classify_parks",
    "service_areas",
]

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ParkCoverageParams(Params):
    """Parameters of ``kind: park_coverage``."""

    kind: ClassVar[str] = "park_coverage"
    distance: str = param("euclidean", "or `network`")
    tiers: list[dict[str, float]] = param(
        [{"min_area_m2": 5000, "radius_m": 500}, {"min_area_m2": 2000, "radius_m": 300}],
        "park area from which each radius applies",
    )
    access_spacing_m: float = param(25, "access points along the park edge")
    max_snap_m: float = param(100, "farther from a street counts as not covered")
    sample_spacing_m: float = param(50, "grid sampling residential land on the network")
    min_piece_share: float = piece_share_param()


DEFAULTS: dict[str, Any] = ParkCoverageParams.defaults()

INDICATORS: dict[str, tuple[str, str]] = {
    "area_share": ("share", "Residential land within a park's service radius"),
    "pop_share": ("share", "Residents within a park's service radius"),
}

if TYPE_CHECKING:
    from urbanform.network import Snapped, WalkGraph

_QUAD_SEGS = 16
"""Segments per quarter circle of a buffer (chord error 0.5 m at 500 m)."""


def _check_tiers(tiers: Any, *, where: str) -> list[dict[str, float]]:
    if not isinstance(tiers, list) or not tiers:
        raise AnalysisError(
            f"{where}: params.tiers must be a non-empty list of {{min_area_m2, radius_m}}, "
            f"got {tiers!r}"
        )
    out = []
    for i, tier in enumerate(tiers):
        if not isinstance(tier, dict) or set(tier) != {"min_area_m2", "radius_m"}:
            raise AnalysisError(
                f"{where}: params.tiers[{i}] must have exactly the keys min_area_m2 and "
                f"radius_m, got {tier!r}"
            )
        key = f"tiers[{i}]"
        out.append(
            {
                "min_area_m2": positive_number(
                    tier["min_area_m2"], key=f"{key}.min_area_m2", where=where, allow_zero=True
                ),
                "radius_m": positive_number(tier["radius_m"], key=f"{key}.radius_m", where=where),
            }
        )
    areas = [t["min_area_m2"] for t in out]
    if len(set(areas)) != len(areas):
        raise AnalysisError(f"{where}: params.tiers repeat a min_area_m2 value: {areas}")
    return sorted(out, key=lambda t: -t["min_area_m2"])


def validate_params(params: dict[str, Any] | None, *, where: str) -> ParkCoverageParams:
    """Effective parameters: defaults overlaid with ``params``, each value checked.

    Tiers come back sorted by ``min_area_m2``, largest first.

    Raises
    ------
    AnalysisError
        Naming ``where`` and the parameter, for an unknown key or a bad value.

    Examples
    --------
    >>> validate_params({"distance": "network"}, where="a.yml").tiers[0]
    {'min_area_m2': 5000.0, 'radius_m': 500.0}
    """
    p = merge_params(params, DEFAULTS, where=where)
    p["distance"] = one_of(p["distance"], ("euclidean", "network"), key="distance", where=where)
    p["tiers"] = _check_tiers(p["tiers"], where=where)
    for key in ("access_spacing_m", "max_snap_m", "sample_spacing_m"):
        p[key] = positive_number(p[key], key=key, where=where)
    p["min_piece_share"] = share_param(p["min_piece_share"], where=where)
    return ParkCoverageParams(**p)


def classify_parks(parks: gpd.GeoDataFrame, *, tiers: list[dict[str, float]]) -> gpd.GeoDataFrame:
    """Merge same-name touching parks, then give each park its tier and radius.

    Parameters
    ----------
    parks
        Park polygons in a metric CRS, optionally with a ``name`` column.
    tiers
        ``{min_area_m2, radius_m}`` sorted by ``min_area_m2``, largest first.

    Returns
    -------
    geopandas.GeoDataFrame
        One polygon per park with ``name``, ``area_m2``, ``tier`` (1 = first tier, 0 =
        too small to count), ``radius_m`` (NaN when not counting) and ``counts``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"name": ["a", "a", None]}, geometry=[shapely.box(0, 0, 50, 50),
    ...     shapely.box(50, 0, 100, 50), shapely.box(500, 0, 530, 30)], crs=32648)
    >>> t = [{"min_area_m2": 5000, "radius_m": 500}, {"min_area_m2": 2000, "radius_m": 300}]
    >>> classify_parks(p, tiers=t)[["name", "area_m2", "tier", "counts"]].values.tolist()
    [['a', 5000.0, 1, True], [None, 900.0, 0, False]]
    """
    polys = parks[parks.geom_type.isin(["Polygon", "MultiPolygon"])]
    names = polys["name"] if "name" in polys.columns else pd.Series(None, index=polys.index)
    names = names.where(names.notna() & (names.astype(str).str.strip() != ""), None)
    g = gpd.GeoDataFrame({"name": names}, geometry=polys.geometry.values, crs=parks.crs)
    shared = g["name"].notna() & g["name"].duplicated(keep=False)
    named = g[shared].dissolve(by="name", as_index=False)
    merged = _concat([named, g[~shared]], crs=parks.crs)
    merged = merged.explode(index_parts=False).reset_index(drop=True)
    merged["name"] = merged["name"].astype(object).where(merged["name"].notna(), None)
    merged["area_m2"] = merged.geometry.area
    tier = np.zeros(len(merged), dtype=np.int64)
    radius = np.full(len(merged), np.nan)
    for rank in range(len(tiers), 0, -1):  # smallest tier first, larger ones overwrite
        hit = merged["area_m2"].to_numpy() >= tiers[rank - 1]["min_area_m2"]
        tier[hit], radius[hit] = rank, tiers[rank - 1]["radius_m"]
    merged["tier"], merged["radius_m"], merged["counts"] = tier, radius, tier > 0
    return merged[["name", "area_m2", "tier", "radius_m", "counts", "geometry"]]


def service_areas(parks: gpd.GeoDataFrame, *, tiers: list[dict[str, float]]) -> gpd.GeoDataFrame:
    """Straight-line service areas: park polygons buffered by their radius, one per tier.

    Parameters
    ----------
    parks
        The output of :func:`classify_parks`.
    tiers
        The same tiers.

    Returns
    -------
    geopandas.GeoDataFrame
        One (multi)polygon per tier with counting parks: ``tier``, ``min_area_m2``,
        ``radius_m``, ``parks`` (number of parks) and ``area_m2``.
    """
    rows = []
    for rank, t in enumerate(tiers, start=1):
        sel = parks[parks["tier"] == rank]
        if sel.empty:
            continue
        buffers = shapely.buffer(sel.geometry.values, t["radius_m"], quad_segs=_QUAD_SEGS)
        geom = shapely.union_all(buffers)
        rows.append((rank, t["min_area_m2"], t["radius_m"], len(sel), geom.area, geom))
    cols = ["tier", "min_area_m2", "radius_m", "parks", "area_m2"]
    frame = pd.DataFrame([r[:5] for r in rows], columns=cols)
    return gpd.GeoDataFrame(frame, geometry=[r[5] for r in rows], crs=parks.crs)


def _population(ctx: Context, name: str) -> gpd.GeoDataFrame | None:
    if not ctx.layers.has("population"):
        return None
    pop = value_pieces(ctx, "population", fields=("population",), needed_by=name)
    pop = pop[pop["population"].fillna(0) > 0].reset_index(drop=True)
    if pop.empty:
        raise LayerError(
            f"analysis {name!r}: the population layer holds no positive 'population' value; "
            "check its 'fields: {population: COLUMN}' mapping"
        )
    return pop[["population", "district", "geometry"]]


def _euclidean(
    land: gpd.GeoDataFrame, pop: gpd.GeoDataFrame | None, areas: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None, gpd.GeoDataFrame]:
    """Area units, population units and gaps by exact straight-line overlay."""
    cover = zonal.cover_tiles(shapely.union_all(areas.geometry.values) if len(areas) else None)
    parts = zonal.split_by_cover(land[["district", "geometry"]], cover)
    log.info("residential land split into %d pieces by service-area coverage", len(parts))
    area_units = parts[["district", "covered", "area_m2"]].copy()
    area_units["area_share__num"] = np.where(parts["covered"], parts["area_m2"], 0.0)
    area_units["area_share__den"] = parts["area_m2"].to_numpy()
    area_units = gpd.GeoDataFrame(
        area_units, geometry=parts.geometry.representative_point().values, crs=land.crs
    )
    gaps = parts.loc[~parts["covered"], ["district", "area_m2", "geometry"]]
    pop_units = None
    if pop is not None:
        is_pt = pop.geom_type.eq("Point").to_numpy()
        pts = pop[is_pt].copy()
        pts["covered"] = zonal.points_in_cover(pts.geometry, cover)
        polys = zonal.split_by_cover(pop[~is_pt], cover, prorate=("population",))
        polys = polys[pts.columns]
        uncovered = _concat([pts[~pts["covered"]], polys[~polys["covered"]]], crs=land.crs)
        gaps = gaps.assign(
            population=zonal.sum_into_polygons(uncovered, "population", gaps.geometry)
        )
        polys = polys.set_geometry(polys.geometry.representative_point())
        pop_units = _concat([pts, polys], crs=land.crs)
    return area_units, pop_units, gaps.reset_index(drop=True)


def _units_frame(
    area_units: gpd.GeoDataFrame, pop_units: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """One units frame: land units then population units, 0 for the other's num/den."""
    a = area_units.copy()
    a["unit"] = "residential_land"
    frames = [a] if len(a) or pop_units is None else []
    if pop_units is not None:
        p = pop_units.copy()
        p["unit"] = "population"
        p["pop_share__num"] = np.where(p["covered"], p["population"], 0.0)
        p["pop_share__den"] = p["population"].to_numpy(dtype=float)
        a["pop_share__num"] = a["pop_share__den"] = a["population"] = 0.0
        if not len(a):
            p["area_share__num"] = p["area_share__den"] = 0.0
        frames.append(p)
    units = pd.concat(frames, ignore_index=True)
    keys = ["area_share"] + (["pop_share"] if pop_units is not None else [])
    for key in keys:
        for col in (f"{key}__num", f"{key}__den"):
            units[col] = units[col].fillna(0.0).astype(float)
    units["district"] = units["district"].astype(object).where(units["district"].notna(), None)
    return gpd.GeoDataFrame(units, geometry="geometry", crs=area_units.crs)


def _tier_text(tiers: list[dict[str, float]]) -> str:
    parts = [
        f"parks of at least {t['min_area_m2']:,.0f} m² serve {t['radius_m']:,.0f} m" for t in tiers
    ]
    return "; ".join(parts) + f"; parks under {tiers[-1]['min_area_m2']:,.0f} m² do not count"


def _method(params: ParkCoverageParams, *, has_pop: bool) -> str:
    tiers = params.tiers
    head = (
        f"Park service areas after GB/T 50563: {_tier_text(tiers)} (a park's area is its "
        "polygon area, touching or overlapping polygons with the same name merged). "
    )
    if params.distance == "euclidean":
        how = (
            "Distance (euclidean) is the straight line from the park edge (each park "
            "polygon buffered by its radius). Residential land (land-use class residential) "
            "is split exactly at service-area and district edges. "
        )
    else:
        how = (
            f"Distance (network) is walked on the street network, one pass per tier, to access "
            f"points every {params.access_spacing_m:g} m along the outer edge of the parks of "
            f"that tier or a larger one and to mapped entrances, from points snapped to the "
            f"nearest street within {params.max_snap_m:g} m; farther points count as not "
            "covered, and the service areas shown are the walked streets. Residential land "
            f"is sampled with a {params.sample_spacing_m:g} m grid of points, each weighing "
            "its share of its piece's area. "
        )
    pop = (
        "Residents count where they live: population polygons by the share of their area "
        "covered, points and raster pixels by location."
        if params.distance == "euclidean"
        else "Residents walk from population points and polygon or pixel centroids."
    )
    return head + how + (pop if has_pop else "No population layer: only area_share.")


def _result_styles(
    areas: gpd.GeoDataFrame, gaps: gpd.GeoDataFrame
) -> dict[str, LayerStyle]:
    """The styles of the layers ``parks``, ``service_areas`` and ``gaps``."""
    parks = LayerStyle(
        title="Parks by service tier",
        title_zh="公园（按服务半径等级）",
        value_field="radius_m",
        ramp="seq",
        label_field="name",
        popup_fields=["name", "area_m2", "tier", "radius_m", "counts"],
    )
    service_areas = LayerStyle(
        title="Park service areas",
        title_zh="公园服务范围",
        color="#31a354",
        popup_fields=[c for c in areas.columns if c != "geometry"],
    )
    gap_style = LayerStyle(
        title="Residential land outside every park service area",
        title_zh="公园服务范围外的居住用地",
        ramp="bad",
        value_field="population" if "population" in gaps.columns else "area_m2",
    )
    return {"parks": parks, "service_areas": service_areas, "gaps": gap_style}


def run(
    ctx: Context, *, name: str, params: ParkCoverageParams, target: Target | None
) -> AnalysisResult:
    """Park coverage of residential land and residents (GB/T 50563).

    Parameters
    ----------
    ctx
        The run context (layers ``parks``, ``landuse``, optional ``population``,
        ``districts``; ``streets`` for ``distance: network``).
    name
        The run's key.
    params
        Validated parameters (see :func:`validate_params`).
    target
        Target for ``target.indicator`` (``area_share`` or ``pop_share``).

    Returns
    -------
    AnalysisResult
        Indicators ``area_share`` and (with population) ``pop_share``; layers
        ``parks``, ``service_areas`` and ``gaps``.
    """
    zonal.require_metric(ctx.layers.crs, needed_by=name)
    if params.distance == "network":  # built beside the residential land and the parks
        ctx.start_walk_graph(needed_by=name)
    tiers = params.tiers
    parks = classify_parks(ctx.layers.vector("parks", needed_by=name), tiers=tiers)
    log.info("%d parks, %d large enough to count", len(parks), int(parks["counts"].sum()))
    land, missing = residential_land(ctx, needed_by=name)
    pop = _population(ctx, name)
    if land is None and pop is None:
        raise LayerError(
            f"analysis {name!r} needs residential land (area_share) or a population layer "
            f"(pop_share), and has neither: {missing}; add layers/population.yml with "
            "'role: population'"
        )
    warnings = _park_warnings(parks, tiers)
    if land is None:
        warnings.append(
            f"area_share is not computed: {missing}; pop_share needs only parks and residents"
        )
        land = empty_pieces(ctx.layers.crs)
    if pop is None:
        warnings.append(
            "pop_share is not computed: no population layer; add layers/population.yml with "
            "'role: population'"
        )
    if params.distance == "euclidean":
        areas = service_areas(parks, tiers=tiers)
        area_units, pop_units, gaps = _euclidean(land, pop, areas)
    else:
        net = _network(ctx, parks, land, pop, params=params, needed_by=name)
        area_units, pop_units, gaps, areas = net.area_units, net.pop_units, net.gaps, net.areas
        parks = parks.assign(access_points=net.access_points)
        warnings += net.warnings
    units = _units_frame(area_units, pop_units)
    keys = (["area_share"] if missing is None else []) + (["pop_share"] if pop is not None else [])
    if missing is not None:
        units = units.drop(columns=["area_share__num", "area_share__den"])
    indicators = {}
    for key in keys:
        unit, label = INDICATORS[key]
        indicators[key] = indicator_values(
            units, key, unit=unit, label=label, target=target, districts=ctx.district_names()
        )
    out_params = {**params, "tiers": [dict(t) for t in tiers]}
    return AnalysisResult(
        name=name,
        kind="park_coverage",
        params=out_params,
        indicators=indicators,
        units=units,
        layers={"parks": parks, "service_areas": areas, "gaps": gaps},
        styles=_result_styles(areas, gaps),
        method=_method(params, has_pop=pop is not None),
        warnings=warnings,
    )


def _park_warnings(parks: gpd.GeoDataFrame, tiers: list[dict[str, float]]) -> list[str]:
    small = int((~parks["counts"]).sum())
    if not parks["counts"].any():
        return [f"no park reaches {tiers[-1]['min_area_m2']:,.0f} m²: nothing is covered"]
    if small:
        return [f"{small} parks under {tiers[-1]['min_area_m2']:,.0f} m² do not count"]
    return []


def _concat(frames: list[gpd.GeoDataFrame], *, crs: Any) -> gpd.GeoDataFrame:
    """Concatenate frames, skipping empty ones (pandas warns on empty entries)."""
    full = [f for f in frames if len(f)]
    if not full:
        return frames[0].iloc[:0].copy()
    out = pd.concat(full, ignore_index=True) if len(full) > 1 else full[0].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)


# -- network distance ------------------------------------------------------------------


@dataclass
class _Network:
    area_units: gpd.GeoDataFrame
    pop_units: gpd.GeoDataFrame | None
    gaps: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    access_points: np.ndarray
    warnings: list[str] = field(default_factory=list)


ENTRANCE_JOIN_M = 50.0
"""A mapped entrance farther than this from every counting park is not used."""


def _entrances(
    parks: gpd.GeoDataFrame, entrances: gpd.GeoSeries | None, counting: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Mapped entrances joined to the nearest counting park: points, park positions, warnings."""
    if entrances is None or len(entrances) == 0 or len(counting) == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64), []
    tree = shapely.STRtree(parks.geometry.values[counting])
    ei, pi = tree.query_nearest(entrances.values, max_distance=ENTRANCE_JOIN_M, all_matches=False)
    warnings = []
    if len(ei) < len(entrances):
        warnings.append(
            f"{len(entrances) - len(ei)} of {len(entrances)} mapped park entrances lie farther "
            f"than {ENTRANCE_JOIN_M:g} m from every counting park and are not used"
        )
    return np.asarray(entrances.values, dtype=object)[ei], pi.astype(np.int64), warnings


def _access_points(
    graph: WalkGraph,
    parks: gpd.GeoDataFrame,
    params: ParkCoverageParams,
    entrances: gpd.GeoSeries | None = None,
) -> tuple[Snapped, np.ndarray, np.ndarray, list[str]]:
    """Access points of counting parks (edge points and mapped entrances).

    Returns the snapped points, each point's tier, the count per park and warnings.
    """
    from urbanform.network import snap_points

    counting = np.flatnonzero(parks["counts"].to_numpy())
    pts, src = zonal.boundary_points(
        parks.geometry.iloc[counting], spacing_m=params.access_spacing_m
    )
    ent_pts, ent_src, ent_warn = _entrances(parks, entrances, counting)
    pts = np.r_[np.asarray(pts, dtype=object), ent_pts]
    src = np.r_[np.asarray(src, dtype=np.int64), ent_src]
    snapped = snap_points(
        graph,
        gpd.GeoSeries(pts, crs=parks.crs),
        max_snap_m=params.max_snap_m,
        min_piece_share=params.min_piece_share,
    )
    n_ok = np.bincount(counting[src][snapped.ok], minlength=len(parks))
    warnings = list(ent_warn)
    if snapped.n_unsnapped:
        warnings.append(
            f"{snapped.n_unsnapped} of {len(snapped)} park access points lie farther than "
            f"{params.max_snap_m:g} m from any street and are not used"
        )
    lost = int((parks["counts"].to_numpy() & (n_ok == 0)).sum())
    if lost:
        warnings.append(
            f"{lost} counting parks have no access point near a street: they serve nobody"
        )
    return snapped, parks["tier"].to_numpy()[counting][src], n_ok, warnings


def _walk(
    graph: WalkGraph,
    origins: Snapped,
    access: Snapped,
    tier: np.ndarray,
    tiers: list[dict[str, Any]],
) -> np.ndarray:
    """Walking distance to the nearest park in reach: one multi-source pass per tier."""
    from urbanform.network import nearest_distance

    walk = np.full(len(origins), np.inf)
    for rank, t in enumerate(tiers, start=1):
        sel = access.ok & (tier <= rank)  # parks of this tier or a larger one
        if sel.any():
            d = nearest_distance(graph, origins, access.subset(sel), cutoff_m=t["radius_m"])
            walk = np.minimum(walk, d)
            log.info("tier %d: %d origins in reach", rank, int(np.isfinite(d).sum()))
    return walk


def _unit_warnings(
    graph: WalkGraph, origins: Snapped, weight: np.ndarray, what: str, unit: str
) -> list[str]:
    from urbanform.network import island_warning

    out = island_warning(origins, weight, what, unit)
    bad = ~origins.ok
    if bad.any():
        out.append(
            f"{int(bad.sum())} {what} ({weight[bad].sum():,.0f} {unit}) lie farther than the "
            "snapping limit from any street and count as not covered"
        )
    comp = np.full(len(origins), -1)
    comp[origins.ok] = graph.component[graph.edge_u[origins.edge[origins.ok]]]
    cut = comp > 0
    if cut.any():
        out.append(
            f"{int(cut.sum())} {what} ({weight[cut].sum():,.0f} {unit}) snap to streets cut off "
            "from the main network"
        )
    return out


def _network_gaps(
    land: gpd.GeoDataFrame, samples: gpd.GeoDataFrame, spacing_m: float
) -> gpd.GeoDataFrame:
    """Cells of the uncovered samples, merged and clipped to their residential piece."""
    out = samples[~samples["covered"]]
    regions = zonal.sample_regions(land, out, spacing_m=spacing_m)
    weight = np.bincount(  # every sample of a piece weighs the same
        samples["piece"], weights=samples["weight_m2"], minlength=len(land)
    ) / np.maximum(np.bincount(samples["piece"], minlength=len(land)), 1)
    piece = regions["piece"].to_numpy()
    return gpd.GeoDataFrame(
        {
            "district": land["district"].to_numpy(dtype=object)[piece],
            "area_m2": regions["n_samples"].to_numpy() * weight[piece],
        },
        geometry=regions.geometry.values,
        crs=land.crs,
    )


def _network_areas(
    graph: WalkGraph, access: Snapped, tier: np.ndarray, tiers: list[dict[str, Any]], crs: Any
) -> gpd.GeoDataFrame:
    """The street lines walkable within each tier's radius of its parks' access points.

    Lines, not polygons: dissolving buffers of tens of thousands of street pieces takes
    minutes, and the walked streets are what the network method measures.
    """
    from urbanform.network import reached_edges

    rows = []
    for rank, t in enumerate(tiers, start=1):
        sel = access.ok & (tier == rank)
        if not sel.any():
            continue
        lines = reached_edges(graph, access.subset(sel), cutoff_m=t["radius_m"])
        geom = shapely.multilinestrings(lines.geometry.values)
        rows.append((rank, t["min_area_m2"], t["radius_m"], geom.length, geom))
    cols = ["tier", "min_area_m2", "radius_m", "length_m"]
    frame = pd.DataFrame([r[:4] for r in rows], columns=cols)
    return gpd.GeoDataFrame(frame, geometry=[r[4] for r in rows], crs=crs)


def _network(
    ctx: Context,
    parks: gpd.GeoDataFrame,
    land: gpd.GeoDataFrame,
    pop: gpd.GeoDataFrame | None,
    *,
    params: ParkCoverageParams,
    needed_by: str,
) -> _Network:
    """Area units, population units, gaps and service areas by walking distance."""
    from urbanform.network import Snapped, snap_points

    graph, tiers = ctx.walk_graph(needed_by=needed_by), params.tiers
    raw = ctx.layers.vector("parks", needed_by=needed_by)
    points = raw.geometry[raw.geom_type == "Point"]
    access, tier, n_access, warnings = _access_points(graph, parks, params, points)
    samples = zonal.grid_samples(land, spacing_m=params.sample_spacing_m)
    samples["district"] = land["district"].to_numpy(dtype=object)[samples["piece"].to_numpy()]
    max_snap_m, share = params.max_snap_m, params.min_piece_share

    def snap(xy: np.ndarray) -> Snapped:
        return snap_points(graph, xy, max_snap_m=max_snap_m, min_piece_share=share)

    parts = [snap(shapely.get_coordinates(samples.geometry.values))]
    if pop is not None:  # the population's snaps are shared with other walking analyses
        pop = pop.set_geometry(pop.geometry.representative_point().values)
        xy = shapely.get_coordinates(pop.geometry.values)
        parts.append(ctx.snapped(xy, snap, max_snap_m=max_snap_m, min_piece_share=share))
    origins = Snapped.concat(parts)
    log.info("walking from %d origins to %d park access points", len(origins), len(access))
    walk = _walk(graph, origins, access, tier, tiers)
    n = len(samples)
    samples["walk_m"], samples["covered"] = walk[:n], np.isfinite(walk[:n])
    weight = samples["weight_m2"].to_numpy()
    warnings += _unit_warnings(graph, origins.subset(np.arange(n)), weight, "land samples", "m²")
    area_units = samples[["district", "covered", "walk_m", "geometry"]].assign(
        area_share__num=np.where(samples["covered"], weight, 0.0), area_share__den=weight
    )
    gaps = _network_gaps(land, samples, params.sample_spacing_m)
    if pop is not None:
        pop = pop.assign(walk_m=walk[n:], covered=np.isfinite(walk[n:]))
        people = pop["population"].to_numpy(dtype=float)
        sub = origins.subset(np.arange(n, len(origins)))
        warnings += _unit_warnings(graph, sub, people, "population units", "residents")
        gaps["population"] = zonal.sum_into_polygons(
            pop[~pop["covered"]], "population", gaps.geometry
        )
    areas = _network_areas(graph, access, tier, tiers, land.crs)
    return _Network(area_units, pop, gaps, areas, n_access, warnings)
