"""Vectorised overlay helpers for coverage analyses: cover splits, grid samples, raster cells.

Everything works on whole arrays (shapely 2 and STRtree), never feature by feature:

- :func:`cover_tiles` cuts a (large, dissolved) cover polygon into small disjoint tiles
  so that pairwise intersections stay cheap;
- :func:`split_by_cover` splits polygons into the parts inside and outside a cover;
- :func:`points_in_cover` tells which points lie in a cover;
- :func:`sum_into_polygons` adds point values (by location) and polygon values (by
  area share) into target polygons;
- :func:`grid_samples` samples polygons with a regular grid of weighted points;
- :func:`raster_pixels` (:func:`raster_cells` as a table) lists the pixels each polygon
  covers with exact coverage fractions (exactextract).
"""

from __future__ import annotations

import logging
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource

from urbanform.checks import check_memory
from urbanform.errors import CRSError, LayerError
from urbanform.layers.types import RasterLayer

__all__ = [
    "require_metric",
    "cover_tiles",
    "split_by_cover",
    "points_in_cover",
    "sum_into_polygons",
    "grid_samples",
    "sample_regions",
    "boundary_points",
    "raster_cells",
    "raster_pixels",
]

log = logging.getLogger(__name__)

POINT_BYTES = 256
"""Memory one sample or edge point takes through snapping and walking (an estimate)."""

_MIN_AREA_M2 = 1e-6
"""Slivers smaller than this (from floating-point overlay noise) are dropped."""


def require_metric(crs: pyproj.CRS | None, *, needed_by: str) -> None:
    """Raise :class:`~urbanform.errors.CRSError` unless ``crs`` is a projected (metric) CRS.

    Examples
    --------
    >>> require_metric(pyproj.CRS(32648), needed_by="park500")
    """
    if crs is None or not pyproj.CRS(crs).is_projected:
        name = pyproj.CRS(crs).name if crs is not None else "none"
        raise CRSError(
            f"analysis {needed_by!r} needs a metric working CRS, got {name}; set 'crs' in "
            "urbanform.yml to a projected CRS such as the data's UTM zone"
        )


def _geoms(values: gpd.GeoSeries | np.ndarray) -> np.ndarray:
    return np.asarray(getattr(values, "values", values), dtype=object)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal part of each geometry (overlay may add lines/points)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    mixed = shapely.get_type_id(geoms) == 7  # GeometryCollection
    if mixed.any():
        for i in np.flatnonzero(mixed):
            polys = [g for g in shapely.get_parts(geoms[i]) if g.geom_type.endswith("Polygon")]
            out[i] = shapely.union_all(polys) if polys else shapely.Polygon()
    lines = np.isin(shapely.get_type_id(out), [0, 1, 2, 4, 5])
    out[lines] = shapely.Polygon()
    return out


def cover_tiles(cover: shapely.Geometry | None, *, tile_m: float = 1000.0) -> np.ndarray:
    """Cut ``cover`` into disjoint polygon tiles on a square grid of ``tile_m``.

    Intersecting thousands of small polygons with one large dissolved polygon costs
    the large polygon's size every time; tiles keep each intersection local.

    Examples
    --------
    >>> import shapely
    >>> t = cover_tiles(shapely.box(0, 0, 2500, 100), tile_m=1000)
    >>> len(t), round(float(shapely.area(t).sum()))
    (3, 250000)
    """
    if cover is None or cover.is_empty:
        return np.array([], dtype=object)
    parts = shapely.get_parts(cover)
    x0, y0, x1, y1 = cover.bounds
    xs = np.arange(np.floor(x0 / tile_m) * tile_m, x1, tile_m)
    ys = np.arange(np.floor(y0 / tile_m) * tile_m, y1, tile_m)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    boxes = shapely.box(gx, gy, gx + tile_m, gy + tile_m)
    bi, pi = shapely.STRtree(parts).query(boxes, predicate="intersects")
    tiles = _polygonal(shapely.intersection(parts[pi], boxes[bi]))
    return cast(np.ndarray, tiles[shapely.area(tiles) > _MIN_AREA_M2])


def _as_tiles(cover: shapely.Geometry | np.ndarray | None, tile_m: float) -> np.ndarray:
    """Tiles of ``cover``; an array is taken as tiles already cut by :func:`cover_tiles`."""
    if isinstance(cover, np.ndarray):
        return cover
    return cover_tiles(cover, tile_m=tile_m)


def _subtract_hits(
    geoms: np.ndarray, tiles: np.ndarray, gi: np.ndarray, ti: np.ndarray
) -> np.ndarray:
    """``geoms`` minus their intersecting tiles, one vectorised pass per hit rank."""
    rest = geoms.copy()
    if len(gi) == 0:
        return rest
    order = np.lexsort((ti, gi))
    gi, ti = gi[order], ti[order]
    start = np.r_[0, np.flatnonzero(np.diff(gi)) + 1]
    rank = np.arange(len(gi)) - np.repeat(start, np.diff(np.r_[start, len(gi)]))
    for k in range(int(rank.max()) + 1):
        sel = rank == k
        rest[gi[sel]] = shapely.difference(rest[gi[sel]], tiles[ti[sel]])
    return _polygonal(rest)


def split_by_cover(
    pieces: gpd.GeoDataFrame,
    cover: shapely.Geometry | np.ndarray | None,
    *,
    prorate: tuple[str, ...] = (),
    tile_m: float = 1000.0,
) -> gpd.GeoDataFrame:
    """Split polygons into the parts inside and outside ``cover``.

    Parameters
    ----------
    pieces
        Polygons in a metric CRS; their columns are carried to every part.
    cover
        The covering area (for example dissolved service areas), its tiles from
        :func:`cover_tiles` (to reuse them across calls), or ``None``.
    prorate
        Additive columns (population, ...) shared out in proportion to area.
    tile_m
        Tile size used to cut ``cover`` (see :func:`cover_tiles`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per part with the input columns, ``covered`` (bool), ``area_m2``
        (area of the part) and ``piece`` (row position of its source in ``pieces``).
        The areas of the parts of a piece add up to the piece's area.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"population": [10.0]}, geometry=[shapely.box(0, 0, 10, 10)])
    >>> s = split_by_cover(g, shapely.box(0, 0, 4, 10), prorate=("population",))
    >>> s[["covered", "area_m2", "population"]].values.tolist()
    [[True, 40.0, 4.0], [False, 60.0, 6.0]]
    """
    geoms = _geoms(pieces.geometry)
    tiles = _as_tiles(cover, tile_m)
    if len(tiles) and len(geoms):
        gi, ti = shapely.STRtree(tiles).query(geoms, predicate="intersects")
    else:
        gi = ti = np.array([], dtype=np.int64)
    inside = _polygonal(shapely.intersection(geoms[gi], tiles[ti])) if len(gi) else geoms[:0]
    outside = _subtract_hits(geoms, tiles, gi, ti)
    src = np.r_[gi, np.arange(len(geoms))].astype(np.int64)
    parts = np.r_[inside, outside]
    covered = np.r_[np.ones(len(gi), bool), np.zeros(len(geoms), bool)]
    area = shapely.area(parts)
    keep = area > _MIN_AREA_M2
    src, parts, covered, area = src[keep], parts[keep], covered[keep], area[keep]
    out = pieces.iloc[src].drop(columns=pieces.geometry.name).reset_index(drop=True)
    src_area = shapely.area(geoms)[src]
    frac = np.divide(area, src_area, out=np.zeros(len(area)), where=src_area > 0)
    for col in prorate:
        if col in out.columns:
            out[col] = out[col].astype(float).to_numpy() * frac
    out["covered"] = covered
    out["area_m2"] = area
    out["piece"] = src
    gdf = gpd.GeoDataFrame(out, geometry=parts, crs=pieces.crs)
    gdf = gdf.sort_values(["piece", "covered"], ascending=[True, False], kind="stable")
    return gdf.reset_index(drop=True)


def points_in_cover(
    points: gpd.GeoSeries, cover: shapely.Geometry | np.ndarray | None
) -> np.ndarray:
    """Whether each point lies in ``cover`` or its tiles (edge points count as inside).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = gpd.GeoSeries(shapely.points([[1, 1], [5, 5]]))
    >>> points_in_cover(pts, shapely.box(0, 0, 2, 2)).tolist()
    [True, False]
    """
    out = np.zeros(len(points), dtype=bool)
    tiles = _as_tiles(cover, 1000.0)
    if len(tiles) and len(points):
        pi, _ = shapely.STRtree(tiles).query(_geoms(points), predicate="intersects")
        out[pi] = True
    return out


def sum_into_polygons(
    values: gpd.GeoDataFrame, field: str, polygons: gpd.GeoSeries
) -> np.ndarray:
    """Add ``values[field]`` into each of ``polygons``.

    Points count in the first polygon containing them; polygons count by the share of
    their area inside each target polygon (targets are assumed not to overlap).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> v = gpd.GeoDataFrame({"p": [10.0, 3.0]},
    ...     geometry=[shapely.box(0, 0, 10, 10), shapely.Point(50, 50)])
    >>> t = gpd.GeoSeries([shapely.box(0, 0, 5, 10), shapely.box(40, 40, 60, 60)])
    >>> sum_into_polygons(v, "p", t).tolist()
    [5.0, 3.0]
    """
    out = np.zeros(len(polygons))
    if values.empty or len(polygons) == 0:
        return out
    geoms = _geoms(values.geometry)
    vals = values[field].to_numpy(dtype=float)
    targets = _geoms(polygons)
    is_pt = shapely.get_type_id(geoms) == 0
    tree = shapely.STRtree(targets)
    if is_pt.any():
        vi, ti = tree.query(geoms[is_pt], predicate="intersects")
        first = np.unique(vi, return_index=True)[1]
        np.add.at(out, ti[first], vals[is_pt][vi[first]])
    poly = np.flatnonzero(~is_pt)
    if len(poly):
        vi, ti = tree.query(geoms[poly], predicate="intersects")
        inter = shapely.area(shapely.intersection(geoms[poly][vi], targets[ti]))
        src_area = shapely.area(geoms[poly])[vi]
        share = np.divide(inter, src_area, out=np.zeros(len(vi)), where=src_area > 0)
        np.add.at(out, ti, np.nan_to_num(vals[poly][vi]) * share)
    return out


def grid_samples(pieces: gpd.GeoDataFrame, *, spacing_m: float) -> gpd.GeoDataFrame:
    """Sample polygons with a regular grid of points, weighted so each piece adds up.

    Grid points sit at the centres of a ``spacing_m`` square grid aligned on the CRS
    origin; each piece gets the grid points inside it (at least its representative
    point), each weighing the piece's area divided by its number of points.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with ``piece`` (row position in ``pieces``) and ``weight_m2``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 100, 50), shapely.box(200, 0, 201, 1)])
    >>> s = grid_samples(g, spacing_m=25)
    >>> s.groupby("piece")["weight_m2"].agg(["count", "sum"]).values.tolist()
    [[8.0, 5000.0], [1.0, 1.0]]
    """
    geoms = _geoms(pieces.geometry)
    b = shapely.bounds(geoms)
    estimate = float(np.sum((np.ptp(b[:, [0, 2]], axis=1) / spacing_m + 2)
                            * (np.ptp(b[:, [1, 3]], axis=1) / spacing_m + 2)))
    check_memory(
        estimate, bytes_each=POINT_BYTES,
        what=f"about {estimate:,.0f} sample points {spacing_m:g} m apart",
        hint="use a larger params.sample_spacing_m (default 50)",
    )
    shapely.prepare(geoms)  # caches a prepared index on each polygon; values unchanged
    c0 = np.floor(b[:, 0] / spacing_m - 0.5).astype(np.int64)
    r0 = np.floor(b[:, 1] / spacing_m - 0.5).astype(np.int64)
    nc = np.ceil(b[:, 2] / spacing_m - 0.5).astype(np.int64) - c0 + 1
    nr = np.ceil(b[:, 3] / spacing_m - 0.5).astype(np.int64) - r0 + 1
    n = nc * nr
    piece = np.repeat(np.arange(len(geoms)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    xs = (np.repeat(c0, n) + k % np.repeat(nc, n) + 0.5) * spacing_m
    ys = (np.repeat(r0, n) + k // np.repeat(nc, n) + 0.5) * spacing_m
    pts = shapely.points(xs, ys)
    inside = shapely.contains_xy(geoms[piece], xs, ys)
    piece, pts = piece[inside], pts[inside]
    missing = np.setdiff1d(np.arange(len(geoms)), piece)
    piece = np.r_[piece, missing]
    pts = np.r_[pts, shapely.point_on_surface(geoms[missing])]
    count = np.bincount(piece, minlength=len(geoms))
    weight = shapely.area(geoms)[piece] / count[piece]
    order = np.argsort(piece, kind="stable")
    return gpd.GeoDataFrame(
        {"piece": piece[order], "weight_m2": weight[order]}, geometry=pts[order], crs=pieces.crs
    )


def sample_regions(
    pieces: gpd.GeoDataFrame, samples: gpd.GeoDataFrame, *, spacing_m: float
) -> gpd.GeoDataFrame:
    """The area of selected grid samples as polygons: their cells, clipped to their piece.

    The samples' cells (squares of ``spacing_m`` centred on them, as made by
    :func:`grid_samples`) are rasterised with their piece number and polygonised
    (rasterio), so adjacent cells merge in compiled code; each region is then clipped to
    its piece. A piece sampled by its representative point only (too small for the grid)
    comes out whole.

    Returns
    -------
    geopandas.GeoDataFrame
        ``piece`` (row position in ``pieces``), ``n_samples`` and the region geometry.
    """
    from rasterio import features
    from rasterio.transform import from_origin

    piece = samples["piece"].to_numpy(dtype=np.int64)
    geoms = _geoms(pieces.geometry)
    if len(piece) == 0:
        empty = np.array([], dtype=np.int64)
        return gpd.GeoDataFrame({"piece": empty, "n_samples": empty}, geometry=[], crs=pieces.crs)
    xy = shapely.get_coordinates(_geoms(samples.geometry))
    col = np.floor(xy[:, 0] / spacing_m).astype(np.int64)
    row = np.floor(xy[:, 1] / spacing_m).astype(np.int64)
    on_grid = np.isclose((col + 0.5) * spacing_m, xy[:, 0]) & np.isclose(
        (row + 0.5) * spacing_m, xy[:, 1]
    )
    grid = np.zeros((row.max() - row.min() + 1, col.max() - col.min() + 1), dtype=np.int32)
    grid[row.max() - row[on_grid], col[on_grid] - col.min()] = piece[on_grid] + 1
    top = (row.max() + 1) * spacing_m
    transform = from_origin(col.min() * spacing_m, top, spacing_m, spacing_m)
    shapes = [(shapely.geometry.shape(g), int(v) - 1)
              for g, v in features.shapes(grid, mask=grid > 0, transform=transform)]
    reg_piece = np.array([v for _, v in shapes] + list(piece[~on_grid]), dtype=np.int64)
    cells = np.array([g for g, _ in shapes] + list(geoms[piece[~on_grid]]), dtype=object)
    n = np.r_[np.rint(shapely.area(cells[: len(shapes)]) / spacing_m**2), np.ones((~on_grid).sum())]
    regions = _polygonal(shapely.intersection(cells, geoms[reg_piece]))
    keep = shapely.area(regions) > _MIN_AREA_M2
    return gpd.GeoDataFrame(
        {"piece": reg_piece[keep], "n_samples": n[keep].astype(np.int64)},
        geometry=regions[keep], crs=pieces.crs,
    )


def boundary_points(
    polygons: gpd.GeoSeries, *, spacing_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Points every ~``spacing_m`` along the outer edge of each polygon.

    Each ring of length L gets ``ceil(L / spacing_m)`` evenly spaced points (at least
    one), starting at its first vertex.

    Returns
    -------
    tuple of numpy.ndarray
        Point geometries and, for each, the row position of its polygon.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts, src = boundary_points(gpd.GeoSeries([shapely.box(0, 0, 100, 100)]), spacing_m=25)
    >>> len(pts), shapely.get_coordinates(pts[:2]).tolist()
    (16, [[100.0, 0.0], [100.0, 25.0]])
    """
    parts = shapely.get_parts(_geoms(polygons), return_index=True)
    rings, src = shapely.get_exterior_ring(parts[0]), parts[1]
    length = shapely.length(rings)
    estimate = float(np.sum(length / spacing_m + 1))
    check_memory(
        estimate, bytes_each=POINT_BYTES,
        what=f"about {estimate:,.0f} edge points {spacing_m:g} m apart",
        hint="use a larger params.access_spacing_m (default 25)",
    )
    n = np.maximum(1, np.ceil(length / spacing_m)).astype(np.int64)
    ring = np.repeat(np.arange(len(rings)), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    pts = shapely.line_interpolate_point(rings[ring], k * (length / n)[ring])
    return pts, src[ring]


def _numpy_source(raster: RasterLayer) -> NumPyRasterSource:
    t = raster.transform
    if t.b != 0 or t.d != 0:
        raise LayerError(
            f"raster layer {raster.name!r} is rotated (transform {tuple(t)[:6]}); "
            "warp it to a north-up grid (gdalwarp) before use"
        )
    data = np.asarray(raster.data)
    if t.e > 0:  # south-up: flip to north-up
        data = data[::-1]
    h, w = data.shape  # RasterLayer.bounds uses affine's deprecated `*`: computed here
    xs, ys = (t.c, t.c + w * t.a), (t.f, t.f + h * t.e)
    xmin, xmax, ymin, ymax = min(xs), max(xs), min(ys), max(ys)
    return NumPyRasterSource(
        data, xmin, ymin, xmax, ymax, nodata=raster.nodata, srs_wkt=raster.crs.to_wkt()
    )


def raster_pixels(raster: RasterLayer, polygons: gpd.GeoSeries) -> dict[str, np.ndarray]:
    """The pixels each polygon covers, with exact coverage fractions (exactextract), as arrays.

    ``polygons`` are brought to the raster's CRS. Nodata pixels are left out. Only the
    coverage and the pixel index come from exactextract, which halves its output on a
    large raster; the value and the centre follow from the index. The centres are those
    of exactextract's ``center_x`` and ``center_y`` but for the last bit (exactextract
    crops its grid around each polygon; here every centre is taken from the whole grid).

    Returns
    -------
    dict
        Equal-length arrays: ``zone`` (row position in ``polygons``), ``value`` (pixel
        value), ``coverage`` (fraction of the pixel inside the polygon, in (0, 1]),
        ``x``, ``y`` (pixel centre in the raster CRS) and ``cell`` (row-major pixel
        index of the north-up grid).
    """
    empty = {c: np.zeros(0, np.int64 if c in ("zone", "cell") else np.float64)
             for c in ("zone", "value", "coverage", "x", "y", "cell")}  # fmt: skip
    if len(polygons) == 0:
        return empty
    zones = gpd.GeoDataFrame(
        {"zone": np.arange(len(polygons))},
        geometry=polygons.to_crs(pyproj.CRS(raster.crs)).values,
        crs=raster.crs,
    )
    source = _numpy_source(raster)
    res = exact_extract(source, zones, ["coverage", "cell_id"], include_cols=["zone"],
                        output="pandas")  # fmt: skip
    n = res["coverage"].map(len).to_numpy()
    if not n.sum():
        return empty
    coverage = np.concatenate(res["coverage"].to_list())
    cell = np.concatenate(res["cell_id"].to_list()).astype(np.int64)
    zone = np.repeat(res["zone"].to_numpy(dtype=np.int64), n)
    keep = coverage > 0
    if not keep.all():
        coverage, cell, zone = coverage[keep], cell[keep], zone[keep]
    xmin, _, _, ymax = source.extent()
    dx, dy = source.res()
    row, col = np.divmod(cell, source.mat.shape[1])
    log.info("%d polygons cover %d pixels of raster %r", len(polygons), cell.size, raster.name)
    return {
        "zone": zone,
        "value": source.mat.ravel()[cell],
        "coverage": coverage,
        "x": xmin + (col + 0.5) * dx,
        "y": ymax - (row + 0.5) * dy,
        "cell": cell,
    }


def raster_cells(raster: RasterLayer, polygons: gpd.GeoSeries) -> pd.DataFrame:
    """:func:`raster_pixels` as a table.

    Returns
    -------
    pandas.DataFrame
        Columns ``zone``, ``value``, ``coverage``, ``x``, ``y`` and ``cell``.
    """
    return pd.DataFrame(raster_pixels(raster, polygons))
