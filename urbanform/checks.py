"""One place for checking numbers, coordinates and memory needs.

Every parameter from YAML goes through :func:`finite_number` or :func:`integer`
(finite, in range, not a bool), every vector layer through :func:`check_coordinates`
(finite coordinates inside its CRS's area of use), and every step whose size a
parameter sets through :func:`check_memory` before it allocates.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any

import numpy as np
import pyproj
import shapely

from urbanform.errors import AnalysisError, LayerError, ResourceError, UrbanformError

__all__ = [
    "finite_number",
    "integer",
    "check_coordinates",
    "check_memory",
    "available_memory",
    "short_path",
]

log = logging.getLogger(__name__)

MAX_DISTANCE_M = 100_000.0
"""The largest distance a parameter may have (100 km): walking and service radii of a city
are far smaller, and a larger one only makes a run slow."""

_UPPER = {"_m": MAX_DISTANCE_M, "_m2": 1e12, "_m_s": 100.0, "minutes": 24 * 60.0}


def short_path(path: object) -> str:
    """A path for a message: at most about 150 characters.

    Examples
    --------
    >>> short_path("/a" * 100)[:8], len(short_path("/a" * 100))
    ('/a/a/a/a', 143)
    """
    text = str(path)
    return text if len(text) <= 150 else f"{text[:70]}...{text[-70:]}"


def _upper(key: str) -> float:
    """The default upper bound of a parameter, from the unit its name ends with."""
    for suffix in ("_m_s", "_m2", "_m", "minutes"):
        if key.endswith(suffix):
            return _UPPER[suffix]
    return 1e15


def finite_number(
    value: Any,
    *,
    key: str,
    where: str,
    low: float = 0.0,
    high: float | None = None,
    allow_low: bool = True,
    error: type[UrbanformError] = AnalysisError,
) -> float:
    """``value`` as a float, or an error naming ``where`` and ``key``.

    ``value`` must be an int or float (not a bool), finite, at least ``low`` (more than
    ``low`` when ``allow_low`` is false) and at most ``high`` (default: by the unit in
    the name: 100 km for ``_m``, 10^12 m² for ``_m2``, 100 m/s for ``_m_s``, a day
    for ``minutes``).

    Examples
    --------
    >>> finite_number(500, key="radius_m", where="a.yml")
    500.0
    >>> finite_number(float("inf"), key="radius_m", where="a.yml")
    Traceback (most recent call last):
    ...
    urbanform.errors.AnalysisError: a.yml: params.radius_m must be a finite number ...
    """
    high = _upper(key) if high is None else high
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok:
        v = float(value) if not isinstance(value, int) or abs(value) < 1e300 else math.inf
        ok = math.isfinite(v) and (v >= low if allow_low else v > low) and v <= high
    if not ok:
        lo = f"{'from' if allow_low else 'above'} {low:g}"
        raise error(
            f"{where}: params.{key} must be a finite number {lo} to {high:,.10g}, "
            f"got {value!r}; fix it in the file"
        )
    return v


def integer(
    value: Any, *, key: str, where: str, low: int, high: int, error: type = AnalysisError
) -> int:
    """``value`` if it is an integer from ``low`` to ``high`` (not a bool), else an error.

    Examples
    --------
    >>> integer(9, key="h3_resolution", where="a.yml", low=0, high=15)
    9
    """
    if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
        raise error(f"{where}: params.{key} must be an integer {low}-{high}, got {value!r}")
    return value


def available_memory() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable`` on Linux)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 << 30


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PB"  # pragma: no cover


def check_memory(count: float, *, bytes_each: int, what: str, hint: str) -> None:
    """Refuse a step that would need more than half of the available memory.

    Raises
    ------
    ResourceError
        With the estimate, what the machine has and how to make the step smaller.

    Examples
    --------
    >>> check_memory(10, bytes_each=8, what="10 points", hint="none")
    """
    need = float(count) * bytes_each
    have = available_memory()
    if need > have / 2:
        raise ResourceError(
            f"{what} would need about {_size(need)} of memory; this machine has "
            f"{_size(have)} available; {hint}"
        )


def _lonlat_bounds(geoms: np.ndarray, crs: pyproj.CRS) -> np.ndarray:
    """Longitude and latitude bounds of the corners and edge midpoints of the bounds.

    Any of them that does not map back to the Earth makes the result non-finite.
    """
    x0, y0, x1, y1 = np.asarray(shapely.total_bounds(geoms), dtype=float)
    if crs.is_geographic:
        return np.array([x0, y0, x1, y1])
    xs = np.array([x0, x1, x0, x1, (x0 + x1) / 2, (x0 + x1) / 2, x0, x1])
    ys = np.array([y0, y0, y1, y1, y0, y1, (y0 + y1) / 2, (y0 + y1) / 2])
    tf = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    with np.errstate(all="ignore"):
        lon, lat = (np.asarray(v, dtype=float) for v in tf.transform(xs, ys, errcheck=False))
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        return np.full(4, np.nan)
    return np.array([lon.min(), lat.min(), lon.max(), lat.max()])


def check_coordinates(geoms: np.ndarray, crs: pyproj.CRS | None, *, where: str) -> None:
    """Coordinates finite and inside the area of use of ``crs`` (with a margin).

    A geographic CRS must hold longitudes in [-180, 180] and latitudes in [-90, 90];
    a projected CRS must map back to such values within 30 degrees of its area of use.

    Raises
    ------
    LayerError
        Naming ``where``, what was found and the likely cause (swapped axes, a wrong CRS).
    """
    geoms = np.asarray(geoms, dtype=object)
    xy = shapely.get_coordinates(geoms)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise LayerError(
            f"{where}: {int(bad.sum())} coordinates are not finite numbers (NaN or infinite); "
            "remove or fix those features"
        )
    if crs is None or len(xy) == 0:
        return
    lon0, lat0, lon1, lat1 = _lonlat_bounds(geoms, crs)
    name = crs.to_string()
    if crs.is_geographic and (min(lat0, -lat1) < -90 or min(lon0, -lon1) < -180):
        swapped = abs(lat0) > 90 or abs(lat1) > 90
        swap = " (longitude and latitude may be swapped)" if swapped else ""
        raise LayerError(
            f"{where}: coordinates span x {lon0:g} to {lon1:g}, y {lat0:g} to {lat1:g}, "
            f"outside the range of {name}{swap}; fix the coordinates or declare the right "
            "'crs:'"
        )
    area = crs.area_of_use
    if not np.isfinite([lon0, lat0, lon1, lat1]).all():
        raise LayerError(
            f"{where}: coordinates cannot be placed on the Earth in {name}; check 'crs:' "
            "and the source's coordinates"
        )
    if area is None:
        return
    m = 30.0
    inside = (
        lon0 >= area.west - m and lon1 <= area.east + m and lat0 >= area.south - m
        and lat1 <= area.north + m
    ) or area.west > area.east  # an area across the antimeridian: not checked
    if not inside:
        where_used = area.name.split(". ")[0]
        raise LayerError(
            f"{where}: the layer lies at longitude {lon0:.4g} to {lon1:.4g}, latitude "
            f"{lat0:.4g} to {lat1:.4g}, far outside where {name} is used ({where_used}); "
            "the source's CRS is probably wrong: fix it or set the right 'crs:'"
        )
