"""Rail stations from a GTFS feed (a ``.zip`` or a folder holding ``stops.txt``).

The feed is read with gtfs-kit. A stop counts when a trip of a rail route serves it
(route types 0, 1, 2, 12, 100-117 and 400-405 by default; ``route_types:`` in the
layer's YAML changes them). Served stops are grouped by ``parent_station`` where the
feed gives one: a group is one station, at the parent's position (else the centre of its
served stops), named by the parent's ``stop_name``; its ``line`` joins the short names of
the routes serving it ("1; 2"). Entrances (``location_type`` 2) of a served station are
kept as its entrances (``kind`` ``entrance``).
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from urbanform.errors import CRSError, LayerError
from urbanform.layers.gcj02 import is_gcj02
from urbanform.layers.types import LayerSpec

__all__ = ["RAIL_ROUTE_TYPES", "is_gtfs", "read_gtfs_stations", "stations_from_tables"]

log = logging.getLogger(__name__)

RAIL_ROUTE_TYPES: tuple[int, ...] = (0, 1, 2, 12, *range(100, 118), *range(400, 406))
"""GTFS route types read as rail: tram/light rail, metro, rail, monorail, and the
extended railway (100-117) and urban railway (400-405) types."""


def is_gtfs(path: Path) -> bool:
    """Whether ``path`` is a GTFS feed: a folder or a ``.zip`` holding ``stops.txt``."""
    if path.is_dir():
        return (path / "stops.txt").is_file()
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return "stops.txt" in z.namelist()
    return False


def _where(spec: LayerSpec) -> str:
    return f"layer {spec.name!r} ({spec.file or spec.source})"


def read_gtfs_stations(spec: LayerSpec, path: Path) -> gpd.GeoDataFrame:
    """Stations (``name``, ``line``, ``kind``) served by rail routes of the feed at ``path``.

    Raises
    ------
    LayerError
        For a role other than ``stations``, an unreadable feed, or a feed without any
        route of the chosen types.
    """
    if spec.role != "stations":
        raise LayerError(
            f"{_where(spec)}: a GTFS feed is read as role 'stations', not {spec.role!r}"
        )
    if spec.crs is not None and not is_gcj02(spec.crs) and spec.crs.upper() != "EPSG:4326":
        raise CRSError(f"{_where(spec)}: GTFS coordinates are WGS 84; remove 'crs: {spec.crs}'")
    import gtfs_kit

    try:
        feed = gtfs_kit.read_feed(path, dist_units="km")
    except Exception as exc:  # gtfs-kit raises ValueError, KeyError, ... for broken feeds
        raise LayerError(f"{_where(spec)}: cannot read GTFS feed {path.name} ({exc})") from None
    missing = [t for t in ("stops", "routes", "trips", "stop_times") if getattr(feed, t) is None]
    if missing:
        raise LayerError(
            f"{_where(spec)}: GTFS feed {path.name} lacks {', '.join(t + '.txt' for t in missing)}"
        )
    types = spec.route_types or RAIL_ROUTE_TYPES
    gdf = stations_from_tables(
        feed.stops, feed.routes, feed.trips, feed.stop_times, route_types=types, where=_where(spec)
    )
    gdf = gdf.set_crs(None if is_gcj02(spec.crs) else "EPSG:4326", allow_override=True)
    gdf.attrs["urbanform_read"] = {
        "notes": [
            f"GTFS feed {path.name}: {int((gdf['kind'] == 'station').sum())} stations served by "
            f"route types {_types_text(types)}"
        ],
        "warnings": [],
    }
    return gdf


def _types_text(types: tuple[int, ...]) -> str:
    return (
        ", ".join(map(str, types)) if types != RAIL_ROUTE_TYPES else "0, 1, 2, 12, 100-117, 400-405"
    )


def _route_labels(routes: pd.DataFrame) -> pd.Series:
    label = pd.Series(routes["route_id"].astype(str).to_numpy(), index=routes.index)
    for col in ("route_long_name", "route_short_name"):  # the short name wins
        if col in routes.columns:
            v = routes[col].astype("string").str.strip()
            label = v.where(v.notna() & (v != ""), label)
    return pd.Series(label.to_numpy(), index=routes["route_id"].astype(str).to_numpy())


def _root(stops: pd.DataFrame) -> pd.Series:
    """Each stop id -> its station: the top of its ``parent_station`` chain."""
    ids = stops["stop_id"].astype(str)
    parent = (
        stops["parent_station"].astype("string").str.strip()
        if "parent_station" in stops.columns
        else pd.Series(pd.NA, index=stops.index, dtype="string")
    )
    up = pd.Series(parent.to_numpy(), index=ids.to_numpy())
    up = up[up.notna() & (up != "") & up.isin(set(ids))]
    root = pd.Series(ids.to_numpy(), index=ids.to_numpy())
    for _ in range(3):  # boarding area -> platform -> station
        nxt = root.map(up)
        root = nxt.where(nxt.notna(), root)
    return root


def stations_from_tables(
    stops: pd.DataFrame,
    routes: pd.DataFrame,
    trips: pd.DataFrame,
    stop_times: pd.DataFrame,
    *,
    route_types: tuple[int, ...] = RAIL_ROUTE_TYPES,
    where: str = "GTFS feed",
) -> gpd.GeoDataFrame:
    """Rail stations and their entrances from the GTFS tables (WGS 84 coordinates).

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, ``line``, ``kind`` (``station`` or ``entrance``), ``stop_id``; no CRS set.
    """
    rtype = pd.to_numeric(routes["route_type"], errors="coerce")
    rail = routes[rtype.isin(route_types)]
    if rail.empty:
        found = ", ".join(str(int(t)) for t in sorted(rtype.dropna().unique())) or "none"
        raise LayerError(
            f"{where}: no route of types {_types_text(route_types)} (rail); the feed's route "
            f"types are {found}; list the ones to read with 'route_types: [...]'"
        )
    label = _route_labels(routes)
    served_trips = trips[trips["route_id"].astype(str).isin(set(rail["route_id"].astype(str)))]
    route_of_trip = pd.Series(
        served_trips["route_id"].astype(str).to_numpy(), index=served_trips["trip_id"].astype(str)
    )
    st = stop_times[stop_times["trip_id"].astype(str).isin(set(route_of_trip.index))]
    pairs = pd.DataFrame(
        {
            "stop": st["stop_id"].astype(str).to_numpy(),
            "route": st["trip_id"].astype(str).map(route_of_trip).to_numpy(),
        }
    ).drop_duplicates()
    root = _root(stops)
    pairs["station"] = pairs["stop"].map(root)
    s = stops.assign(stop_id=stops["stop_id"].astype(str)).set_index("stop_id")
    lon = pd.to_numeric(s["stop_lon"], errors="coerce")
    lat = pd.to_numeric(s["stop_lat"], errors="coerce")
    rows: list[tuple[Any, ...]] = []
    for station, group in pairs.groupby("station", sort=True):
        if np.isfinite(lon.get(station, np.nan)) and np.isfinite(lat.get(station, np.nan)):
            x, y = float(lon[station]), float(lat[station])
        else:
            x, y = float(lon[group["stop"]].mean()), float(lat[group["stop"]].mean())
        lines = "; ".join(sorted({str(label.get(r, r)) for r in group["route"]}))
        rows.append((str(s.at[station, "stop_name"]), lines, "station", station, x, y))
    rows += _entrances(s, root, {str(r[3]) for r in rows}, lon, lat)
    frame = pd.DataFrame(rows, columns=["name", "line", "kind", "stop_id", "x", "y"])
    n_st = int((frame["kind"] == "station").sum())
    log.info("GTFS: %d rail stations, %d entrances", n_st, len(frame) - n_st)
    return gpd.GeoDataFrame(
        frame.drop(columns=["x", "y"]), geometry=shapely.points(frame["x"], frame["y"])
    )


def _entrances(
    s: pd.DataFrame, root: pd.Series, stations: set[str], lon: pd.Series, lat: pd.Series
) -> list[tuple[Any, ...]]:
    if "location_type" not in s.columns:
        return []
    ltype = pd.to_numeric(s["location_type"], errors="coerce")
    ent = s.index[(ltype == 2).to_numpy()]
    out = []
    for stop in ent:
        station = root.get(stop)
        if station in stations and station != stop and np.isfinite(lon[stop]):
            name = str(s.at[station, "stop_name"])
            out.append((name, "", "entrance", stop, float(lon[stop]), float(lat[stop])))
    return out
