"""Rail stations from station features, their entrances and stop positions.

Features of the ``stations`` layer that share a ``name`` are one station; with a ``kind``
field (OpenStreetMap, GTFS) entrances and stop positions join their station, entrances
are its access points, and unnamed features that join nothing are left out.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["ENTRANCE_JOIN_M", "station_entrances", "unnamed_warning"]

ENTRANCE_JOIN_M = 300.0
"""An entrance feature (``kind == "entrance"``) whose name is no station's joins the
nearest station feature within this distance (m)."""


def _lines(values: pd.Series) -> str:
    parts = {s.strip() for v in values.dropna() for s in str(v).split(";")}
    return "; ".join(sorted(p for p in parts if p))


_LOOSE_KINDS = ("entrance", "stop")


def _attach_entrances(
    key: pd.Series, kind: pd.Series, geom: gpd.GeoSeries, blank: pd.Series
) -> tuple[pd.Series, np.ndarray]:
    """Name entrances and stop positions after the nearest named station within reach.

    OpenStreetMap entrances and stop positions carry their own names ("Metro
    Rautatientori A") or none; such a feature whose name is no station's, and a station
    feature without a name, joins the nearest named station feature within
    :data:`ENTRANCE_JOIN_M`, or the station that a same-named feature joined. Returns the
    keys and a mask of the unnamed features that joined nothing (to be left out).
    """
    kinds = kind.astype(str).to_numpy()
    anchor = (kinds == "station") & ~blank.to_numpy()
    loose_kind = np.isin(kinds, _LOOSE_KINDS) | ((kinds == "station") & blank.to_numpy())
    if not loose_kind.any() or not anchor.any():
        return key, loose_kind & blank.to_numpy()
    st_idx = np.flatnonzero(anchor)
    loose = np.flatnonzero(loose_kind & ~key.isin(set(key.iloc[st_idx])).to_numpy())
    tree = shapely.STRtree(geom.values[st_idx])
    ei, si = tree.query_nearest(geom.values[loose], max_distance=ENTRANCE_JOIN_M, all_matches=False)
    out = key.copy()
    out.iloc[loose[ei]] = key.iloc[st_idx[si]].to_numpy()
    # a feature farther away follows an attached feature of the same name
    joined = dict(zip(key.iloc[loose[ei]], out.iloc[loose[ei]], strict=True))
    rest = np.setdiff1d(loose, loose[ei])
    out.iloc[rest] = [joined.get(k, k) for k in key.iloc[rest]]
    lost = np.zeros(len(key), dtype=bool)
    lost[rest] = blank.to_numpy()[rest] & ~key.iloc[rest].isin(joined).to_numpy()
    return out, lost


def station_entrances(stations: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Group station features into stations and their entrances.

    Features sharing a ``name`` form one station; a feature without a name is a station
    of its own. Polygons and lines stand for their representative point. With a ``kind``
    field (as read from OpenStreetMap), features of kind ``entrance`` join the nearest
    station within :data:`ENTRANCE_JOIN_M` and, where a station has entrances, they
    replace the station point.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        Stations (``name``, ``line``, ``entrances``; the centroid of the entrances),
        sorted by name, and entrances (``station``: row of the station; point geometry).

    Examples
    --------
    >>> import shapely
    >>> s = gpd.GeoDataFrame({"name": ["A", "A", "B"], "line": ["L2", "L1", "L1"]},
    ...     geometry=shapely.points([[0, 0], [10, 0], [500, 0]]), crs=32648)
    >>> st, ent = station_entrances(s)
    >>> st[["name", "line", "entrances"]].values.tolist()
    [['A', 'L1; L2', 2], ['B', 'L1', 1]]
    """
    s = stations.explode(index_parts=False).reset_index(drop=True)
    s = s[~s.geometry.is_empty & s.geometry.notna()].reset_index(drop=True)
    names = s["name"] if "name" in s.columns else pd.Series(np.nan, index=s.index)
    lines = s["line"] if "line" in s.columns else pd.Series(np.nan, index=s.index)
    blank = names.isna() | (names.astype(str).str.strip() == "")
    key = names.astype(str).str.strip().where(~blank, [f"station {i + 1}" for i in s.index])
    geom = s.geometry.where(s.geom_type == "Point", s.geometry.representative_point())
    line_rows = np.ones(len(s), dtype=bool)
    lost = np.zeros(len(s), dtype=bool)
    if "kind" in s.columns:
        key, lost = _attach_entrances(key, s["kind"], geom, blank)
        kinds = s["kind"].astype(str).to_numpy()
        is_ent, is_stop = kinds == "entrance", kinds == "stop"
        # lines come from the station features, points from the entrances, where both exist;
        # stop positions give a line, and a point only to a station without another feature
        line_rows = ~lost & (~is_ent | ~key.isin(set(key[~is_ent])).to_numpy())
        keep = is_ent | ~key.isin(set(key[is_ent])).to_numpy()
        keep &= ~is_stop | ~key.isin(set(key[~is_stop])).to_numpy()
        keep &= ~lost
    else:
        keep = np.ones(len(s), dtype=bool)
    line_of = lines[line_rows].groupby(key[line_rows].to_numpy()).agg(_lines)
    frame = pd.DataFrame({"name": key[keep].to_numpy(), "geometry": geom[keep].to_numpy()})
    grouped = frame.groupby("name", sort=True)
    names_sorted = list(grouped.groups)
    table = pd.DataFrame(
        {
            "name": names_sorted,
            "line": line_of.reindex(names_sorted).fillna("").to_numpy(),
            "entrances": grouped.size().to_numpy(),
            "geometry": grouped["geometry"].agg(lambda g: shapely.MultiPoint(list(g)).centroid),
        }
    )
    st = gpd.GeoDataFrame(table.reset_index(drop=True), geometry="geometry", crs=stations.crs)
    st.attrs["unnamed_left_out"] = int(lost.sum())
    row = pd.Series(np.arange(len(st)), index=st["name"])
    ent = gpd.GeoDataFrame(
        {"station": row.loc[frame["name"]].to_numpy()},
        geometry=frame["geometry"].to_numpy(),
        crs=stations.crs,
    )
    return st, ent


def unnamed_warning(stations: gpd.GeoDataFrame) -> list[str]:
    """A warning counting the unnamed features :func:`station_entrances` left out."""
    n = int(stations.attrs.get("unnamed_left_out", 0))
    if not n:
        return []
    return [
        f"{n} unnamed station entrances, stop positions or station features lie farther than "
        f"{ENTRANCE_JOIN_M:g} m from every named station and are left out"
    ]
