"""GCJ-02 ("Mars coordinates") to WGS 84.

Chinese web maps publish coordinates in GCJ-02, WGS 84 shifted by an obfuscation
function (offsets of about 300-500 m). The forward function is public; the inverse has
no closed form, so it is solved by fixed-point iteration to better than 1e-9 degrees
(about 0.1 mm). Vectorised with numpy. Outside China the two systems coincide.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import shapely
from numpy.typing import ArrayLike

__all__ = ["wgs84_to_gcj02", "gcj02_to_wgs84", "gcj02_geometries_to_wgs84", "is_gcj02"]

_A = 6378245.0
_EE = 0.00669342162296594323


def is_gcj02(crs: str | None) -> bool:
    """Whether a declared CRS string names GCJ-02."""
    return crs is not None and crs.replace("_", "-").strip().upper() in {"GCJ-02", "GCJ02"}


def _out_of_china(lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lng < 72.004) | (lng > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _delta(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lng - 105.0, lat - 35.0
    sq = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq + common
    dlng += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlng += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = _out_of_china(lng, lat)
    return np.where(outside, 0.0, dlng), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lng: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS 84 longitude/latitude (degrees) to GCJ-02.

    Examples
    --------
    >>> lng, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(float(lng), 6), round(float(lat), 6)
    (116.410244, 39.916404)
    """
    lng_a, lat_a = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    dlng, dlat = _delta(lng_a, lat_a)
    return lng_a + dlng, lat_a + dlat


def gcj02_to_wgs84(
    lng: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 longitude/latitude (degrees) to WGS 84, exact to ``tol_deg``.

    Examples
    --------
    >>> g = wgs84_to_gcj02(104.0665, 30.5728)
    >>> w = gcj02_to_wgs84(*g)
    >>> round(float(w[0]), 9), round(float(w[1]), 9)
    (104.0665, 30.5728)
    """
    glng, glat = np.asarray(lng, dtype=float), np.asarray(lat, dtype=float)
    wlng, wlat = glng.copy(), glat.copy()
    for _ in range(max_iter):
        flng, flat = wgs84_to_gcj02(wlng, wlat)
        elng, elat = flng - glng, flat - glat
        wlng, wlat = wlng - elng, wlat - elat
        if np.all(np.abs(elng) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return wlng, wlat


def gcj02_geometries_to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """Shapely geometries in GCJ-02 lon/lat moved to WGS 84, vertex by vertex."""

    def _tf(coords: np.ndarray) -> np.ndarray:
        x, y = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return cast(np.ndarray, shapely.transform(geoms, _tf))
