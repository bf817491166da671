"""Transit-oriented development: walking catchments around rail stations.

Features of the ``stations`` layer that share a ``name`` are the entrances of one
station; its lines are joined ("Line 1; Line 2"). For each station and ring radius the
analysis counts the residents, dwellings and jobs whose walking distance to the nearest
entrance is within the radius, and describes the catchment: activity density, land-use
mix and walkable share. The city and district indicators ``pop_share`` and ``jobs_share``
count every resident and job within reach of *any* station once.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from urbanform.analyses.common import resident_units, value_units
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
from urbanform.analyses.stations import ENTRANCE_JOIN_M, station_entrances, unnamed_warning
from urbanform.analyses.tod_catchments import (
    BAND_QUAD_SEGS,
    Pieces,
    StationSources,
    catchment_polygons,
    piece_bands,
    snap_within_reach,
    station_walks,
    threaded_intersection,
)
from urbanform.errors import AnalysisError, LayerError
from urbanform.network import Snapped, WalkGraph, island_warning, nearest_distance, snap_points
from urbanform.results import (
    AnalysisResult,
    LayerStyle,
    Target,
    indicator_values,
    split_styled,
)

__all__ = [
    "DEFAULTS",
    "INDICATORS",
    "CATCHMENT_BUFFER_M",
    "validate_params",
    "run",
    "station_entrances",
    "landuse_mix",
    "ENTRANCE_JOIN_M",
]

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class TodParams(Params):
    """Parameters of ``kind: tod``."""

    kind: ClassVar[str] = "tod"
    radius_m: list[float] = param([500, 800], "a number or a list of rings")
    distance: str = param("network", "or `euclidean`")
    max_snap_m: float = param(100, "farther from a street counts as out of reach")
    indicator_radius_m: float | None = param(None, "default: the largest ring")
    min_piece_share: float = piece_share_param()

    @property
    def indicator_m(self) -> float:
        """The ring of the indicators: ``indicator_radius_m``, set by :func:`validate_params`."""
        if self.indicator_radius_m is None:
            raise AnalysisError("tod parameters used before validate_params")
        return float(self.indicator_radius_m)


DEFAULTS: dict[str, Any] = TodParams.defaults()
"""Default parameters: a 500 m core and an 800 m station area (the usual TOD rings and
the GB 50180 15-minute walking distance of 800-1,000 m); ``indicator_radius_m`` defaults
to the largest ring."""

INDICATORS: dict[str, tuple[str, str]] = {
    "pop_share": ("share", "Residents within walking distance of a rail station"),
    "jobs_share": ("share", "Jobs within walking distance of a rail station"),
}

CATCHMENT_BUFFER_M = 50.0
"""Half-width (m) of the band drawn around the walked street segments for catchment
polygons (the polygon is then clipped to the straight-line circle)."""

_DISTANCES = ("network", "euclidean")


def validate_params(params: dict[str, Any] | None, *, where: str) -> TodParams:
    """Effective parameters (defaults filled in), checked.

    ``radius_m`` becomes an ascending list of ring radii; ``indicator_radius_m`` the
    largest ring when not given.

    Raises
    ------
    AnalysisError
        Naming ``where`` and the parameter when a value is invalid.

    Examples
    --------
    >>> validate_params({"radius_m": 600}, where="tod.yml").radius_m
    [600.0]
    """
    p = merge_params(params, DEFAULTS, where=where)
    radii = p["radius_m"] if isinstance(p["radius_m"], list | tuple) else [p["radius_m"]]
    if not radii:
        raise AnalysisError(f"{where}: params.radius_m must be a number or a non-empty list")
    p["radius_m"] = sorted({positive_number(r, key="radius_m", where=where) for r in radii})
    p["distance"] = one_of(p["distance"], _DISTANCES, key="distance", where=where)
    p["max_snap_m"] = positive_number(
        p["max_snap_m"], key="max_snap_m", where=where, allow_zero=True
    )
    p["min_piece_share"] = share_param(p["min_piece_share"], where=where)
    if p["indicator_radius_m"] is None:
        p["indicator_radius_m"] = p["radius_m"][-1]
    p["indicator_radius_m"] = positive_number(
        p["indicator_radius_m"], key="indicator_radius_m", where=where
    )
    return TodParams(**p)


def _ring(r: float) -> str:
    return f"{r:g}"


@dataclass(frozen=True)
class _Units:
    """Population and job units of one run, in one frame (0 for the other kind)."""

    frame: gpd.GeoDataFrame  # population, dwellings, jobs, district, is_job, geometry
    has_jobs: bool
    has_dwellings: bool


def _units(ctx: Context, *, name: str) -> _Units:
    pop = resident_units(ctx, needed_by=name)
    has_dwellings = bool(pop["dwellings"].notna().any())
    pop = pop.assign(
        jobs=0.0,
        is_job=False,
        population=pop["population"].fillna(0.0),
        dwellings=pop["dwellings"].fillna(0.0),
    )
    parts = [pop[["population", "dwellings", "jobs", "is_job", "district", "geometry"]]]
    has_jobs = ctx.layers.has("jobs")
    if has_jobs:
        jobs = value_units(ctx, "jobs", fields=("jobs",), needed_by=name)
        jobs = jobs.assign(
            population=0.0, dwellings=0.0, is_job=True, jobs=jobs["jobs"].fillna(0.0)
        )
        parts.append(jobs[["population", "dwellings", "jobs", "is_job", "district", "geometry"]])
    frame = gpd.GeoDataFrame(
        pd.concat(parts, ignore_index=True), geometry="geometry", crs=ctx.layers.crs
    )
    log.info(
        "tod: %d population units, %d job units",
        int((~frame["is_job"]).sum()),
        int(frame["is_job"].sum()),
    )
    return _Units(frame, has_jobs, has_dwellings)


def _candidate_pairs(
    units: gpd.GeoDataFrame, ent: gpd.GeoDataFrame, r_max: float
) -> tuple[Any, ...]:
    """(station, unit) pairs within ``r_max`` straight line of an entrance.

    The distance returned is the straight line, a lower bound of the walking distance.
    """
    tree = shapely.STRtree(units.geometry.values)
    ei, ui = tree.query(ent.geometry.values, predicate="dwithin", distance=r_max)
    dist = shapely.distance(ent.geometry.values[ei], units.geometry.values[ui])
    pairs = pd.DataFrame({"st": ent["station"].to_numpy()[ei], "ui": ui, "d": dist})
    pairs = pairs.groupby(["st", "ui"], sort=True)["d"].min().reset_index()
    return pairs["st"].to_numpy(), pairs["ui"].to_numpy(), pairs["d"].to_numpy()


def _station_distances(
    graph: WalkGraph | None,
    units: gpd.GeoDataFrame,
    ent: gpd.GeoDataFrame,
    snaps: tuple[Any, ...],
    *,
    p: TodParams,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], dict[float, Pieces] | None]:
    """Per (station, unit) pair within reach: distance to that station's nearest entrance.

    With network distance the stations are searched in spatial batches
    (:mod:`urbanform.analyses.tod_catchments`), which also give the street pieces walked
    within each ring; ``None`` for euclidean distance.
    """
    r_max = p.radius_m[-1]
    st, ui, d = _candidate_pairs(units, ent, r_max)
    pieces = None
    if p.distance == "network":
        assert graph is not None, "network distance comes with its walk graph"
        unit_snap, ent_snap = snaps
        src = StationSources(
            station=ent["station"].to_numpy(),
            xy=shapely.get_coordinates(ent.geometry.values),
            snapped=ent_snap,
            n_stations=int(ent["station"].max()) + 1,
        )
        d, pieces = station_walks(graph, src, unit_snap, st, ui, radii_m=p.radius_m)
    keep = d <= r_max
    log.info("tod: %d station-unit pairs within %g m", int(keep.sum()), r_max)
    return (st[keep], ui[keep], d[keep]), pieces


def _nearest_station_m(
    graph: WalkGraph | None,
    units: gpd.GeoDataFrame,
    ent: gpd.GeoDataFrame,
    snaps: tuple[Any, ...],
    *,
    p: TodParams,
) -> np.ndarray:
    """Distance from each unit to the nearest entrance of any station, in one pass.

    ``inf`` beyond the indicator radius.
    """
    r = p.indicator_m
    if p.distance == "network":
        assert graph is not None, "network distance comes with its walk graph"
        return nearest_distance(graph, snaps[0], snaps[1], cutoff_m=r)
    out = np.full(len(units), np.inf)
    ui, ei = shapely.STRtree(ent.geometry.values).query_nearest(
        units.geometry.values, max_distance=r, all_matches=False
    )
    out[ui] = shapely.distance(units.geometry.values[ui], ent.geometry.values[ei])
    out[out > r] = np.inf
    return out


def _circles(ent: gpd.GeoDataFrame, n: int, r: float) -> np.ndarray:
    """Union of the straight-line circles of radius ``r`` around each station's entrances."""
    discs = np.asarray(shapely.buffer(ent.geometry.values, r, quad_segs=16), dtype=object)
    st = ent["station"].to_numpy()
    order = np.argsort(st, kind="stable")
    groups = np.split(discs[order], np.searchsorted(st[order], np.arange(1, n)))
    return np.array([shapely.union_all(g) for g in groups], dtype=object)


def _network_catchments(
    graph: WalkGraph,
    ent: gpd.GeoDataFrame,
    ent_snap: Snapped,
    pieces: Pieces,
    *,
    r: float,
    circles: np.ndarray,
    bands: np.ndarray | None = None,
) -> np.ndarray:
    """Walked street pieces (and entrance connectors) buffered, clipped to the circles.

    ``bands`` are the pieces already buffered (:func:`piece_bands`), computed when None.
    """
    st = ent["station"].to_numpy()
    ok = ent_snap.ok & (ent_snap.snap_m <= r)
    snap_pt = shapely.line_interpolate_point(
        graph.edge_geometry[ent_snap.edge[ok]], ent_snap.offset_m[ok]
    )
    connectors = shapely.shortest_line(ent.geometry.values[ok], snap_pt)
    if bands is None:
        bands = piece_bands(graph, {r: pieces}, buffer_m=CATCHMENT_BUFFER_M)[r]
    bands = np.concatenate(
        [bands, shapely.buffer(connectors, CATCHMENT_BUFFER_M, quad_segs=BAND_QUAD_SEGS)]
    )
    station = np.concatenate([pieces.station, st[ok]])
    # per station: its walked pieces (by edge), then its connectors (by entrance)
    order = np.argsort(station, kind="stable")
    return catchment_polygons(bands[order], station[order], circles)


def landuse_mix(polygons: np.ndarray, landuse: gpd.GeoDataFrame) -> np.ndarray:
    """Normalised Shannon entropy of land-use class areas within each polygon.

    ``H = -sum(p_i ln p_i) / ln k`` over the class shares ``p_i`` of the land-use area
    inside the polygon, where ``k`` is the number of classes present in the whole
    ``landuse`` layer. NaN for an empty polygon, no land use inside, or ``k < 2``.

    Examples
    --------
    >>> lu = gpd.GeoDataFrame({"class": ["residential", "commercial"]},
    ...     geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=32648)
    >>> landuse_mix(np.array([shapely.box(5, 0, 15, 10)]), lu).round(6).tolist()
    [1.0]
    """
    lu = landuse[~landuse.geometry.is_empty & landuse.geometry.notna()]
    lu = lu[lu.geometry.area > 0]
    classes = lu["class"].astype(str).to_numpy()
    k = len(np.unique(classes))
    out = np.full(len(polygons), np.nan)
    if k < 2 or len(polygons) == 0:
        return out
    lu_geom = np.asarray(lu.geometry.values, dtype=object)
    pi, li = shapely.STRtree(lu_geom).query(polygons, predicate="intersects")
    # a land-use polygon wholly inside the catchment counts whole; only the others are cut
    area = shapely.area(lu_geom[li])
    cut = ~shapely.contains_properly(polygons[pi], lu_geom[li])
    area[cut] = shapely.area(threaded_intersection(polygons[pi[cut]], lu_geom[li[cut]]))
    tab = pd.DataFrame({"p": pi, "c": classes[li], "a": area}).groupby(["p", "c"])["a"].sum()
    tab = tab[tab > 0]
    share = tab / tab.groupby(level="p").transform("sum")
    h = (-(share * np.log(share))).groupby(level="p").sum() / math.log(k)
    out[h.index.to_numpy(dtype=int)] = np.clip(h.to_numpy(), 0.0, 1.0)
    return out


def _ring_table(
    u: _Units,
    pairs: tuple[Any, ...],
    *,
    n: int,
    r: float,
    catchments: np.ndarray,
    circles: np.ndarray,
    mix: np.ndarray,
    network: bool,
) -> pd.DataFrame:
    """Residents, dwellings, jobs and catchment figures of every station for one ring."""
    st, ui, d = pairs
    m = d <= r
    f = u.frame

    def total(col: str) -> np.ndarray:
        return np.bincount(st[m], weights=f[col].to_numpy(float)[ui[m]], minlength=n)

    residents, jobs = total("population"), total("jobs")
    area_m2 = shapely.area(catchments)
    circle_m2 = shapely.area(circles)
    area_ha = area_m2 / 1e4
    activity = np.divide(residents + jobs, area_ha, out=np.full(n, np.nan), where=area_ha > 0)
    walkable = (
        np.divide(area_m2, circle_m2, out=np.full(n, np.nan), where=circle_m2 > 0)
        if network
        else np.full(n, np.nan)
    )
    return pd.DataFrame(
        {
            "residents": residents,
            "dwellings": total("dwellings") if u.has_dwellings else np.full(n, np.nan),
            "jobs": jobs if u.has_jobs else np.full(n, np.nan),
            "area_ha": area_ha,
            "activity_per_ha": activity,
            "landuse_mix": mix,
            "walkable_share": walkable,
        }
    )


def _rings(
    ctx: Context,
    net: tuple[WalkGraph, Snapped, dict[float, Pieces]] | None,
    u: _Units,
    stations: gpd.GeoDataFrame,
    ent: gpd.GeoDataFrame,
    pairs: tuple[Any, ...],
    *,
    p: TodParams,
) -> dict[float, tuple[np.ndarray, pd.DataFrame]]:
    """Catchment polygons and the ring table of every ring radius.

    ``net`` holds the walk graph, the snapped entrances and the walked pieces per ring
    (network distance), or is None (euclidean distance: the catchment is the circle).
    """
    n = len(stations)
    landuse = ctx.layers.vectors.get("landuse")
    network = p.distance == "network"
    out = {}
    # every walked edge buffered once for all stations and rings
    bands = None if net is None else piece_bands(net[0], net[2], buffer_m=CATCHMENT_BUFFER_M)
    for r in p.radius_m:
        circles = _circles(ent, n, r)
        polys = (
            circles
            if net is None or bands is None
            else _network_catchments(
                net[0], ent, net[1], net[2][r], r=r, circles=circles, bands=bands[r]
            )
        )
        mix = landuse_mix(polys, landuse) if landuse is not None else np.full(n, np.nan)
        out[r] = (
            polys,
            _ring_table(
                u, pairs, n=n, r=r, catchments=polys, circles=circles, mix=mix, network=network
            ),
        )
        log.info("tod: ring %g m, %d catchments", r, n)
    return out


_LABELS = {
    "en": {
        "residents": "Residents",
        "dwellings": "Dwellings",
        "jobs": "Jobs",
        "area_ha": "Catchment area (ha)",
        "activity_per_ha": "Residents + jobs per ha",
        "landuse_mix": "Land-use mix (0-1)",
        "walkable_share": "Walkable share of the circle",
        "radius_m": "Radius (m)",
    },
    "zh": {
        "residents": "居住人口",
        "dwellings": "住宅套数",
        "jobs": "就业岗位",
        "area_ha": "服务范围面积（公顷）",
        "activity_per_ha": "每公顷人口与岗位",
        "landuse_mix": "用地混合度",
        "walkable_share": "可步行比例",
        "radius_m": "半径（米）",
    },
}


def _catchment_layer(
    stations: gpd.GeoDataFrame, rings: dict[float, Any], crs: Any
) -> tuple[gpd.GeoDataFrame, LayerStyle]:
    parts = []
    for r, (polys, table) in sorted(rings.items(), reverse=True):
        t = table.assign(
            station=stations["name"].to_numpy(), line=stations["line"].to_numpy(), radius_m=r
        )
        parts.append(gpd.GeoDataFrame(t, geometry=list(polys), crs=crs))
    layer = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)
    cols = ["station", "line", "radius_m", *rings[next(iter(rings))][1].columns, "geometry"]
    layer = layer[cols]
    return layer, LayerStyle(
        title="Station walking catchments",
        title_zh="轨道站点步行服务范围",
        value_field="activity_per_ha",
        ramp="seq",
        label_field="station",
        popup_fields=[c for c in cols if c != "geometry"],
        labels=_LABELS,
    )


def _station_layer(
    stations: gpd.GeoDataFrame, rings: dict[float, Any]
) -> tuple[gpd.GeoDataFrame, LayerStyle]:
    layer = stations.copy()
    for r, (_, table) in sorted(rings.items()):
        for col in table.columns:
            layer[f"{col}_{_ring(r)}"] = table[col].to_numpy()
    big = _ring(max(rings))
    layer = layer[[c for c in layer.columns if c != "geometry"] + ["geometry"]]
    return layer, LayerStyle(
        title="Rail stations: residents and jobs within walking distance",
        title_zh="轨道站点周边居住人口与就业岗位",
        value_field=f"residents_{big}",
        ramp="seq",
        label_field="name",
        popup_fields=["name", "line", *[c for c in layer.columns if c.endswith(f"_{big}")]],
    )


def _snap(
    ctx: Context, u: _Units, ent: gpd.GeoDataFrame, *, name: str, p: TodParams
) -> tuple[Any, ...]:
    """The walk graph, the snapped units and entrances, and the units near a street.

    Only units within reach of an entrance in a straight line are snapped (the others
    stay unsnapped: no walk reaches them); for the warnings, every unit is checked for a
    street within ``max_snap_m`` (:func:`urbanform.network.near_street`). Network
    distance only; ``(None, (None, None), None)`` for euclidean distance.
    """
    if p.distance != "network":
        return None, (None, None), None
    graph = ctx.walk_graph(needed_by=name)
    share = p.min_piece_share
    ent_snap = snap_points(graph, ent.geometry, max_snap_m=p.max_snap_m, min_piece_share=share)
    units, on_street = snap_within_reach(
        graph,
        u.frame.geometry,
        shapely.get_coordinates(ent.geometry.values),
        reach_m=max(p.radius_m[-1], p.indicator_m),
        max_snap_m=p.max_snap_m,
        min_piece_share=share,
    )
    return graph, (units, ent_snap), on_street


def _snap_warnings(
    u: _Units,
    stations: gpd.GeoDataFrame,
    ent: gpd.GeoDataFrame,
    snaps: tuple[Any, ...],
    on_street: np.ndarray | None,
    *,
    max_snap_m: float,
) -> list[str]:
    out: list[str] = []
    if snaps[0] is None or on_street is None:
        return out
    f, lost = u.frame, ~on_street
    people = f["population"].to_numpy(dtype=float) * ~f["is_job"].to_numpy(dtype=bool)
    out += island_warning(snaps[0], people, "population and job units", "residents")
    out += island_warning(snaps[1], np.ones(len(ent)), "station entrances", "entrances")
    for is_job, what, col in ((False, "population", "residents"), (True, "job", "jobs")):
        sel = lost & (f["is_job"].to_numpy() == is_job)
        if sel.any():
            total = f["jobs" if is_job else "population"].to_numpy()[sel].sum()
            out.append(
                f"{int(sel.sum()):,} {what} units ({total:,.0f} {col}) lie farther than "
                f"{max_snap_m:g} m from any street and count as not within reach"
            )
    snapped = np.bincount(ent["station"].to_numpy()[snaps[1].ok], minlength=len(stations))
    none = stations["name"].to_numpy()[snapped == 0]
    if len(none):
        shown = ", ".join(map(str, none[:5])) + (", ..." if len(none) > 5 else "")
        out.append(
            f"{len(none):,} stations have no entrance within {max_snap_m:g} m of a street "
            f"and get empty catchments: {shown}"
        )
    return out


def _indicator_units(u: _Units, nearest_m: np.ndarray) -> gpd.GeoDataFrame:
    f = u.frame.copy()
    within = np.isfinite(nearest_m)
    f["station_m"] = np.where(within, nearest_m, np.nan)
    f["pop_share__num"] = np.where(within, f["population"], 0.0)
    f["pop_share__den"] = f["population"]
    f["jobs_share__num"] = np.where(within, f["jobs"], 0.0)
    f["jobs_share__den"] = f["jobs"]
    return f


def _method(p: TodParams, n_stations: int, *, has_landuse: bool) -> str:
    rings = ", ".join(f"{r:g}" for r in p.radius_m)
    if p.distance == "network":
        how = (
            f"walking distance on the street network (snap of at most {p.max_snap_m:g} m "
            "+ along the street + network + along the street + snap) from each resident or "
            "job unit to the nearest entrance of the station; a catchment polygon is the "
            f"street length walked within the radius, widened by {CATCHMENT_BUFFER_M:g} m on "
            "each side and clipped to the straight-line circle, and its walkable share is its "
            "area over the straight-line circle's (pi r^2, or the union of circles around "
            "all entrances)"
        )
    else:
        how = (
            "straight-line distance from each resident or job unit to the nearest entrance; "
            "the catchment is the straight-line circle (the union of circles around all "
            "entrances), so no walkable share is given"
        )
    mix = (
        "land-use mix is the Shannon entropy of land-use class areas in the catchment divided "
        "by ln k, k being the number of land-use classes present in the city; "
        if has_landuse
        else ""
    )
    return (
        f"Transit-oriented development catchments of {rings} m around {n_stations:,} rail "
        f"stations (features sharing a name are one station's entrances), by {how}. Per station "
        f"and ring: residents, dwellings and jobs within reach; activity density = (residents + "
        f"jobs) per hectare of catchment; {mix}pop_share and jobs_share count the residents and "
        f"jobs within {p.indicator_m:g} m of any station, once where catchments overlap."
    )


def _stations(ctx: Context, *, name: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    raw = ctx.layers.vector("stations", needed_by=name)
    if raw.empty:
        raise LayerError(
            f"analysis {name!r}: the stations layer has no feature; "
            "check its source and layers/*.yml"
        )
    stations, ent = station_entrances(raw)
    log.info("tod: %d stations from %d entrances", len(stations), len(ent))
    return stations, ent


def run(
    ctx: Context, *, name: str, params: TodParams, target: Target | None
) -> AnalysisResult:
    """Walking catchments around rail stations and the residents and jobs within them.

    Parameters
    ----------
    ctx
        The run's layers (``stations``, ``population`` and, for network distance,
        ``streets`` are required; ``jobs`` and ``landuse`` are used when present).
    name
        The run's key.
    params
        Validated parameters (:func:`validate_params`).
    target
        Target of ``pop_share`` or ``jobs_share``, if any.

    Returns
    -------
    AnalysisResult
        Indicators ``pop_share`` and ``jobs_share``; layers ``catchments`` (one polygon
        per station and ring) and ``stations`` (the station table, one point per station).
    """
    stations, ent = _stations(ctx, name=name)
    u = _units(ctx, name=name)
    graph, snaps, on_street = _snap(ctx, u, ent, name=name, p=params)
    pairs, pieces = _station_distances(graph, u.frame, ent, snaps, p=params)
    net = None if graph is None or pieces is None else (graph, snaps[1], pieces)
    rings = _rings(ctx, net, u, stations, ent, pairs, p=params)
    units = _indicator_units(u, _nearest_station_m(graph, u.frame, ent, snaps, p=params))
    warnings = _snap_warnings(u, stations, ent, snaps, on_street, max_snap_m=params.max_snap_m)
    warnings += unnamed_warning(stations)
    if not u.has_jobs:
        warnings.append(
            "no jobs layer: jobs and jobs_share are not computed and activity "
            "density counts residents only"
        )
    indicators = {}
    for key, (unit, label) in INDICATORS.items():
        indicators[key] = indicator_values(
            units, key, unit=unit, label=label, target=target, districts=ctx.district_names()
        )
    log.info(
        "tod: pop_share %s, jobs_share %s",
        indicators["pop_share"].city.value,
        indicators["jobs_share"].city.value,
    )
    json_params = {
        **params,
        "radius_m": [_num(r) for r in params.radius_m],
        "max_snap_m": _num(params.max_snap_m),
        "indicator_radius_m": _num(params.indicator_m),
    }
    layers, styles = split_styled({
        "catchments": _catchment_layer(stations, rings, ctx.layers.crs),
        "stations": _station_layer(stations, rings),
    })
    return AnalysisResult(
        name=name,
        kind="tod",
        params=json_params,
        indicators=indicators,
        units=units,
        layers=layers,
        styles=styles,
        method=_method(params, len(stations), has_landuse=ctx.layers.has("landuse")),
        warnings=warnings,
        extra={"stations": len(stations), "entrances": len(ent)},
    )


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else float(v)
