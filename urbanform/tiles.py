"""Tiled runs on a Dask cluster (``urbanform run --cluster SPEC --tile-km K``).

The study area (the bounds of every input layer) is cut into K x K km tiles. Each tile
task reads the features that touch its tile grown by a *halo* (a GDAL spatial filter on
each vector file, :class:`urbanform.layers.read.Window`; boundary, districts and
stations are read whole, and so are sources GDAL cannot filter: ``demo:``, ``osm:``,
tables, GeoParquet, rasters), runs the analysis there and returns the units that lie
inside its tile (each unit belongs to exactly one tile). The client puts the units of
every tile together and aggregates them once: city, district and H3 figures are sums
over units (:mod:`urbanform.results`), so they equal those of the untiled run.

The halo of an analysis is its walking cut-off (the largest radius) plus twice
``max_snap_m`` (the unit's and the destination's way onto the street): every street,
facility and station a unit of the tile can reach lies in the halo. Street lines
touching the halo are kept whole, so every street edge a walk within reach uses is
whole too, and a long edge (a bridge, an expressway) needs no wider halo: a walk
within the cut-off never leaves the halo, whatever the length of the edges it uses.
``min_piece_share`` (small cut-off pieces of street network that points are not snapped
to) is a share of the *whole* network: one task builds the whole walk graph once and
names the street lines on small pieces; the tiles leave those lines out and snap with
``min_piece_share: 0``, which snaps to the same streets.

Kinds that tile: :data:`TILED_KINDS` (``living_circle``, ``tod``). The others run as one
task each on the whole workspace: ``jobs_housing`` (the minimum-commute transport
problem is global), ``park_coverage`` (parks and residential land are dissolved over the
whole city before they are split) and ``forest_cover`` (a zonal sum over rasters).

Warnings and ``extra`` of a tiled analysis are those of its tiles (warnings listed once);
they can differ from an untiled run's, whose counts cover the whole network at once.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from urbanform.analyses.context import Context
from urbanform.analyses.params import Params
from urbanform.analyses.registry import get_kind
from urbanform.errors import UrbanformError
from urbanform.heap import keep_freed_memory
from urbanform.layers.harmonise import LAND_ROLES, load_layers
from urbanform.layers.read import Window
from urbanform.layers.types import Layers
from urbanform.pipeline import districts_layer, run_analyses, run_layers
from urbanform.results import AnalysisResult, Indicator, indicator_values
from urbanform.workspace import AnalysisSpec, Workspace

__all__ = ["TILED_KINDS", "halo_m", "tile_of", "TiledRun"]

Checked = list[tuple[AnalysisSpec, Params]]
Box = tuple[float, float, float, float]

TILED_KINDS: dict[str, Callable[[Mapping[str, Any]], float]] = {
    "living_circle": lambda p: float(p["distance_m"]) + 2 * float(p["max_snap_m"]),
    "tod": lambda p: float(max(p["radius_m"])) + 2 * float(p["max_snap_m"]),
}
"""Kind -> its reach in metres (cut-off plus two snaps), for the kinds that tile."""

UNIT_ROLES = ("population", "jobs")
"""The layers units are made of: whole features, never cut at a tile edge."""

WHOLE_ROLES = ("boundary", "districts")
"""Layers every tile keeps whole (few, large features)."""

FEW_ROLES = ("stations",)
"""Layers a tile keeps whole when none of their features is near (those out of reach
change nothing, but an analysis refuses an empty layer)."""

WHOLE_READS = (*WHOLE_ROLES, *FEW_ROLES)
"""Layers a tile task reads whole; it reads the others in its tile and halo."""


def worker_setup() -> None:
    """A worker task's first step, as a plain run's.

    urbanform's log records stay on the worker (the client reports the warnings), and
    freed memory is kept for reuse (:func:`urbanform.heap.keep_freed_memory`).
    """
    keep_freed_memory(worker=True)
    logger = logging.getLogger("urbanform")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def halo_m(kind: str, params: Mapping[str, Any]) -> float:
    """The halo of a tile: the analysis's reach (cut-off plus two snaps).

    Examples
    --------
    >>> halo_m("living_circle", {"distance_m": 500, "max_snap_m": 100})
    700.0
    """
    return TILED_KINDS[kind](params)


def tile_of(xy: np.ndarray, origin: tuple[float, float], size_m: float,
            shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of the tile holding each point.

    Points on the far edge go to the last tile, ``nan`` points to the first.

    Examples
    --------
    >>> ix, iy = tile_of(np.array([[0.0, 0.0], [999.9, 1000.0], [2000.0, 5.0]]), (0.0, 0.0),
    ...                  1000.0, (2, 2))
    >>> ix.tolist(), iy.tolist()
    ([0, 0, 1], [0, 1, 0])
    """
    xy = np.nan_to_num(xy, nan=-np.inf)  # no geometry: the first tile
    ix = np.floor(np.clip((xy[:, 0] - origin[0]) / size_m, -1, shape[0]))
    iy = np.floor(np.clip((xy[:, 1] - origin[1]) / size_m, -1, shape[1]))
    return (np.clip(ix.astype(np.int64), 0, shape[0] - 1),
            np.clip(iy.astype(np.int64), 0, shape[1] - 1))


def _xy(geoms: gpd.GeoSeries) -> np.ndarray:
    """A point of each feature; ``nan`` for a missing or empty geometry."""
    values = np.asarray(geoms.values, dtype=object)
    xy = np.full((len(values), 2), np.nan)
    ok = ~(shapely.is_missing(values) | shapely.is_empty(values))
    if ok.any():
        pts = shapely.point_on_surface(values[ok])
        xy[ok] = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)])
    return xy


@dataclasses.dataclass(frozen=True)
class Grid:
    """The tiles of a study area: origin, tile size and number of columns and rows."""

    origin: tuple[float, float]
    size_m: float
    shape: tuple[int, int]

    def tiles(self) -> list[tuple[int, int]]:
        """Every tile as (column, row)."""
        return [(i, j) for j in range(self.shape[1]) for i in range(self.shape[0])]

    def box(self, tile: tuple[int, int], grow_m: float = 0.0) -> Box:
        """The tile's box, grown by ``grow_m`` on every side."""
        x0 = self.origin[0] + tile[0] * self.size_m
        y0 = self.origin[1] + tile[1] * self.size_m
        return (x0 - grow_m, y0 - grow_m, x0 + self.size_m + grow_m, y0 + self.size_m + grow_m)

    def inside(self, geoms: gpd.GeoSeries, tile: tuple[int, int]) -> np.ndarray:
        """Whether each feature's representative point lies in ``tile``."""
        ix, iy = tile_of(_xy(geoms), self.origin, self.size_m, self.shape)
        return np.asarray((ix == tile[0]) & (iy == tile[1]), dtype=bool)


def _grid(bounds: Box, size_m: float) -> Grid:
    nx = max(1, math.ceil((bounds[2] - bounds[0]) / size_m))
    ny = max(1, math.ceil((bounds[3] - bounds[1]) / size_m))
    return Grid((bounds[0], bounds[1]), size_m, (nx, ny))


def prepare_task(ws: Workspace, shares: list[float]) -> tuple[str, Any]:
    """Worker side: the study area, the working CRS, the small street pieces.

    Returns ``("ok", (bounds, crs, drops))`` with ``drops`` mapping each
    ``min_piece_share`` onto the keys (:func:`street_keys`) of the street lines on small
    pieces, or ``("error", exc)``.
    """
    worker_setup()
    try:
        layers = worker_layers(ws)
        frames = [g.total_bounds for g in layers.vectors.values() if len(g)]
        for r in layers.rasters.values():
            h, w = np.asarray(r.data).shape[-2:]
            xs, ys = zip(r.transform * (0, 0), r.transform * (w, h), strict=True)
            frames.append(np.array([min(xs), min(ys), max(xs), max(ys)]))
        b = np.vstack(frames)
        bounds = (float(b[:, 0].min()), float(b[:, 1].min()),
                  float(b[:, 2].max()), float(b[:, 3].max()))
        ctx = Context(layers)
        drops = {s: _small_piece_keys(ctx, s) for s in shares if s > 0}
    except UrbanformError as exc:
        return "error", exc
    return "ok", (bounds, layers.crs, drops)


def street_keys(streets: gpd.GeoDataFrame) -> np.ndarray:
    """A key of each street line that a tile's read gives alike: its middle point and length.

    A tile reads its own part of the streets layer, so row positions differ from the
    whole layer's; the same feature read and harmonised alike has the same coordinates.
    """
    geoms = streets.geometry.values
    mid = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    return np.column_stack([shapely.get_x(mid), shapely.get_y(mid), shapely.length(geoms)])


def _small_piece_keys(ctx: Context, share: float) -> np.ndarray:
    """The keys of the street lines on pieces under ``share`` of the network length."""
    from urbanform.network.snapping import main_edges

    graph = ctx.walk_graph()
    keep = main_edges(graph, share)
    streets = ctx.layers.vectors["streets"]
    if keep is None or not len(streets):
        return np.empty((0, 3))
    big_edge = np.zeros(graph.n_edges, dtype=bool)
    big_edge[keep] = True
    mid = shapely.line_interpolate_point(streets.geometry.values, 0.5, normalized=True)
    tree = shapely.STRtree(graph.edge_geometry)
    pi, ei = tree.query_nearest(mid, all_matches=False)
    small = np.zeros(len(streets), dtype=bool)
    small[pi] = ~big_edge[ei]
    return street_keys(streets)[small]


def _subset(
    layers: Layers,
    box: Box,
    drop_streets: np.ndarray | None,
    population: Callable[[], gpd.GeoDataFrame],
) -> Layers:
    """The layers cut down to the features that touch ``box`` (whole features).

    ``population`` gives the whole population layer, for a box without residents.
    """
    area = shapely.box(*box)
    vectors = {}
    for role, gdf in layers.vectors.items():
        if role == "streets" and drop_streets is not None and len(drop_streets) and len(gdf):
            gone = {tuple(k) for k in drop_streets.tolist()}
            keep = [tuple(k) not in gone for k in street_keys(gdf).tolist()]
            gdf = gdf.iloc[np.flatnonzero(keep)]
        if role in WHOLE_ROLES:
            vectors[role] = gdf
            continue
        rows = np.sort(gdf.sindex.query(area, predicate="intersects"))
        vectors[role] = gdf.iloc[rows]
    if not _has_residents(vectors):  # the kinds need residents: give them all
        vectors["population"] = population()
    for role in FEW_ROLES:  # tod needs a station even where none is near: give them all
        if role in vectors and not len(vectors[role]):
            vectors[role] = layers.vectors[role]
    return dataclasses.replace(layers, vectors=vectors)


def _has_residents(vectors: dict[str, gpd.GeoDataFrame]) -> bool:
    pop = vectors.get("population")
    if pop is None or "population" not in pop.columns:
        return True  # nothing to add: the analysis reports what it misses
    return bool(np.nansum(pd.to_numeric(pop["population"], errors="coerce")) > 0)


def tile_task(  # noqa: PLR0913 - what one tile needs
    ws: Workspace,
    group: Checked,
    grid: Grid,
    tile: tuple[int, int],
    halo: float,
    drop_streets: np.ndarray | None,
    crs: pyproj.CRS,
) -> tuple[str, Any]:
    """Worker side: the analyses of ``group`` on one tile, sharing its walk graph.

    The task reads the layers in the tile grown by ``halo`` (:class:`Window`), in the
    working CRS ``crs`` of the whole run.

    Returns ``("ok", (n, results))``: the number of vector features read and per
    analysis its units (and layer rows) inside the tile; ``None`` when no unit can lie
    in the tile.
    """
    worker_setup()
    try:
        window = Window(grid.box(tile, halo), crs)
        specs = run_layers(ws)
        layers = load_layers(specs, crs=crs.to_wkt(), window=window, whole_roles=WHOLE_READS)
        if not _units_may_lie_in(layers, shapely.box(*grid.box(tile))):
            return "ok", None

        def population() -> gpd.GeoDataFrame:
            roles = ("population", *LAND_ROLES)
            return load_layers([s for s in specs if s.role in roles],
                               crs=crs.to_wkt()).vectors["population"]

        ctx = Context(_subset(layers, window.box, drop_streets, population))
        results = []
        for spec, params in group:
            run_params = (
                params.replace(min_piece_share=0.0) if drop_streets is not None else params
            )
            kind = get_kind(spec.kind, where=spec.file)
            results.append(kind.run(ctx, name=spec.name, params=run_params, target=spec.target))
    except UrbanformError as exc:
        return "error", exc
    out = []
    for result in results:
        units = result.units[grid.inside(result.units.geometry, tile)]
        layers_out = {
            name: gdf[grid.inside(gdf.geometry, tile)] for name, gdf in result.layers.items()
        }
        out.append(dataclasses.replace(result, units=units, layers=layers_out))
    return "ok", (_features(layers), out)


def _features(layers: Layers) -> int:
    return sum(len(gdf) for gdf in layers.vectors.values())


_LOADED: dict[str, Layers] = {}


def worker_layers(ws: Workspace) -> Layers:
    """The layers of ``ws``, read once per worker process (the last workspace is kept)."""
    key = repr((str(ws.root), ws.crs, ws.layers))
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = load_layers(run_layers(ws), crs=ws.crs)
    return _LOADED[key]


def _units_may_lie_in(layers: Layers, core: shapely.Polygon) -> bool:
    """Whether a population or jobs feature (so a unit) may lie in the tile ``core``."""
    for role in UNIT_ROLES:
        if role in layers.rasters:
            return True
        gdf = layers.vectors.get(role)
        if gdf is not None and len(gdf.sindex.query(core, predicate="intersects")):
            return True
    return False


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    out.attrs = dict(frames[0].attrs)
    return out


def merge_tiles(
    spec: AnalysisSpec, params: Mapping[str, Any], parts: list[AnalysisResult], layers: Layers
) -> AnalysisResult:
    """One analysis result from its tiles: units put together, indicators aggregated once."""
    first = parts[0]
    units = _concat([p.units for p in parts])
    ctx = Context(layers)
    names = ctx.district_names()
    indicators: dict[str, Indicator] = {}
    for key, ind in first.indicators.items():
        indicators[key] = indicator_values(
            units, key, unit=ind.unit, label=ind.label, target=spec.target, districts=names
        )
    merged = {name: _concat([p.layers[name] for p in parts if name in p.layers])
              for name in first.layers}
    warnings = list(dict.fromkeys(w for p in parts for w in p.warnings))
    # the tiles ran with min_piece_share 0 on streets already cleared of small pieces:
    # the run's parameters are the workspace's
    run_params = {**first.params, "min_piece_share": params["min_piece_share"]}
    result = AnalysisResult(
        name=first.name, kind=first.kind, params=run_params, indicators=indicators,
        units=units, layers=merged, styles=dict(first.styles), method=first.method,
        warnings=warnings, extra={"tiles": len(parts)},
    )
    layer = districts_layer(ctx, result)
    if layer is not None:
        result.layers = {"districts": layer[0], **result.layers}
        result.styles = {"districts": layer[1], **result.styles}
    return result


def whole_task(ws: Workspace, checked: Checked) -> tuple[str, Any]:
    """Worker side: the layers and the analyses that do not tile, on the whole workspace."""
    worker_setup()
    try:
        layers = worker_layers(ws)
        results = run_analyses(Context(layers), checked) if checked else []
    except UrbanformError as exc:
        return "error", exc
    return "ok", (layers, results)


class TiledRun:
    """The tasks of one tiled workspace: :meth:`start` submits the tiles, calling gathers.

    Made, it submits the workspace's first tasks: the analyses that do not tile run in
    one task with the layers, and a preparing task gives the study area and the small
    street pieces; :meth:`start` then submits one task per tile and group of analyses.
    ``home``: ``submit`` options sending the two tasks that read whole layers to one
    worker (:func:`urbanform.cluster.home_workers`), which reads them once.
    """

    def __init__(  # noqa: PLR0913 - what a tiled workspace needs
        self,
        client: Any,
        ws: Workspace,
        checked: Checked,
        *,
        tile_km: float,
        retries: int,
        home: Mapping[str, Any] | None = None,
    ) -> None:
        self.client, self.ws, self.tile_km, self.retries = client, ws, tile_km, retries
        self.checked = checked
        self.tiled = [(s, p) for s, p in checked if s.kind in TILED_KINDS]
        by_share: dict[float, Checked] = {}
        for s, p in self.tiled:
            by_share.setdefault(float(p["min_piece_share"]), []).append((s, p))
        self.groups = list(by_share.values())
        whole = [(s, p) for s, p in checked if s.kind not in TILED_KINDS]
        shares = sorted({float(p["min_piece_share"]) for _, p in self.tiled})
        home = dict(home or {})  # the tiles wait for the preparing task: it goes first
        self.f_prep = client.submit(prepare_task, ws, shares, pure=False, retries=retries,
                                    priority=1, **home)
        self.f_whole = client.submit(whole_task, ws, whole, pure=False, retries=retries,
                                     **home)
        self.futures: list[list[Any]] | None = None

    def start(self) -> None:
        """Submit the tile tasks (waits for the preparing task)."""
        from urbanform.cluster import fetch

        if self.futures is not None:
            return
        self.futures = []
        if not self.tiled:
            return
        bounds, crs, drops = fetch(self.ws, self.f_prep)
        grid = _grid(bounds, self.tile_km * 1000.0)
        for group in self.groups:  # analyses snapping alike share a task per tile
            halo = max(halo_m(s.kind, p) for s, p in group)
            share = float(group[0][1]["min_piece_share"])
            drop = drops.get(share) if share > 0 else None
            self.futures.append([
                self.client.submit(tile_task, self.ws, group, grid, t, halo, drop, crs,
                                   pure=False, retries=self.retries)
                for t in grid.tiles()
            ])

    def __call__(self) -> tuple[Layers, list[AnalysisResult], None]:
        """The layers and every analysis result, tiled ones merged (H3: by the client)."""
        from urbanform.cluster import fetch

        self.start()
        assert self.futures is not None
        layers, results = fetch(self.ws, self.f_whole)
        by_name = {r.name: r for r in results}
        for group, fs in zip(self.groups, self.futures, strict=True):
            tiles = [p for p in (fetch(self.ws, f) for f in fs) if p is not None]
            read = [n for n, _ in tiles]
            for i, (spec, params) in enumerate(group):
                parts = [t[i] for _, t in tiles]
                if not parts:
                    raise UrbanformError(
                        f"workspace {self.ws.root}: analysis {spec.name!r}: no tile holds a unit"
                    )
                merged = merge_tiles(spec, params, parts, layers)
                merged.extra.update(  # vector features read: by tiles, and in all
                    smallest_tile_features=min(read), largest_tile_features=max(read),
                    features=_features(layers),
                )
                by_name[spec.name] = merged
        return layers, [by_name[s.name] for s, _ in self.checked], None
