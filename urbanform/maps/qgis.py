"""GeoPackages that open styled in QGIS, and a QGIS project over them.

:func:`write_layer_styles` stores each result layer's default style in the GeoPackage's
``layer_styles`` table, with the schema and conventions QGIS itself uses (its OGR provider
creates the table through GDAL as an ``attributes`` table with ``id`` as FID), so QGIS
applies the style whenever the layer is opened. :func:`write_qgis_project` writes a
``.qgz`` project with one group per analysis over the same GeoPackage, using relative
paths. Both are plain SQLite and XML: QGIS is not needed to write them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sqlite3
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyproj

from urbanform.errors import OutputError
from urbanform.maps.qml import QML_VERSION, layer_qml, style_title, symbol_kind, xml_safe
from urbanform.results import LayerStyle

__all__ = ["write_layer_styles", "read_default_styles", "write_qgis_project"]

logger = logging.getLogger(__name__)

STYLES_TABLE = "layer_styles"

# The table as QGIS creates it through GDAL's GeoPackage driver (FID "id", widths as
# in QgsOgrProviderMetadata::saveStyle), so QGIS and GDAL read it as their own.
_CREATE_STYLES = """
CREATE TABLE IF NOT EXISTS "layer_styles" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256),
  "f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT,
  "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30),
  "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))
"""
_COUNT_TRIGGERS = (
    'CREATE TRIGGER IF NOT EXISTS "trigger_insert_feature_count_layer_styles" AFTER INSERT '
    'ON "layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 '
    "WHERE lower(table_name) = lower('layer_styles'); END",
    'CREATE TRIGGER IF NOT EXISTS "trigger_delete_feature_count_layer_styles" AFTER DELETE '
    'ON "layer_styles" BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 '
    "WHERE lower(table_name) = lower('layer_styles'); END",
)
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


@contextlib.contextmanager
def _geopackage(gpkg_path: Path, *, write: bool = False) -> Iterator[sqlite3.Connection]:
    """An open GeoPackage, in one write transaction if ``write`` (rolled back on error)."""
    path = Path(gpkg_path)
    if not path.is_file():
        raise OutputError(f"GeoPackage {str(path)!r} does not exist; write the layers first")
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        found = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='gpkg_contents'"
        ).fetchone()[0]
        if not found:
            raise OutputError(
                f"{str(path)!r} is not a GeoPackage (no gpkg_contents table); write the "
                "layers with GDAL / pyogrio first"
            )
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    except sqlite3.DatabaseError as exc:
        raise OutputError(f"cannot update GeoPackage {str(path)!r}: {exc}") from exc
    finally:
        conn.close()


def _geometry_columns(conn: sqlite3.Connection) -> dict[str, tuple[str, str, int]]:
    """Layer name -> (geometry column, geometry type name, srs_id)."""
    rows = conn.execute(
        "SELECT table_name, column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns"
    )
    return {str(t): (str(c), str(g), int(s)) for t, c, g, s in rows}


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    sql = "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?"
    return bool(conn.execute(sql, (name,)).fetchone()[0])


def _ensure_styles_table(conn: sqlite3.Connection) -> None:
    """Create ``layer_styles`` and register it as an attributes table, as GDAL does."""
    conn.execute(_CREATE_STYLES)
    srs = conn.execute("SELECT count(*) FROM gpkg_spatial_ref_sys WHERE srs_id = 0").fetchone()
    conn.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description,"
        f" last_change, srs_id) VALUES (?, 'attributes', ?, '', {_NOW}, ?)",
        (STYLES_TABLE, STYLES_TABLE, 0 if srs[0] else None),
    )
    if _has_table(conn, "gpkg_ogr_contents"):
        conn.execute(
            "INSERT OR IGNORE INTO gpkg_ogr_contents (table_name, feature_count) "
            "VALUES (?, (SELECT count(*) FROM layer_styles))",
            (STYLES_TABLE,),
        )
        for sql in _COUNT_TRIGGERS:
            conn.execute(sql)


def _store_default_style(
    conn: sqlite3.Connection, *, table: str, geom_col: str, qml: str, description: str
) -> None:
    """Replace ``table``'s style named after it and make it the only default."""
    key = "f_table_schema = '' AND f_table_name = ? AND f_geometry_column = ?"
    conn.execute(
        f"UPDATE layer_styles SET useAsDefault = 0 WHERE useAsDefault AND {key}",
        (table, geom_col),
    )
    conn.execute(f"DELETE FROM layer_styles WHERE {key} AND styleName = ?",
                 (table, geom_col, table))
    conn.execute(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
        "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
        f"ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, {_NOW})",
        (table, geom_col, table, qml, description),
    )


def _kind_for(gdf: gpd.GeoDataFrame, geometry_type: str, *, layer: str) -> str | None:
    """Symbol kind from the GeoPackage type, else from the frame's geometries."""
    with contextlib.suppress(OutputError):
        return symbol_kind(geometry_type)
    kinds = {symbol_kind(t) for t in gdf.geometry.geom_type.dropna().unique()}
    if len(kinds) > 1:
        raise OutputError(
            f"layer {layer!r} mixes {', '.join(sorted(kinds))} geometries; QGIS styles one "
            "kind per layer: split it into one layer per geometry kind"
        )
    return kinds.pop() if kinds else None


def write_layer_styles(
    gpkg_path: Path,
    layers: dict[str, gpd.GeoDataFrame],
    styles: Mapping[str, LayerStyle] | None = None,
    *,
    language: str = "en",
) -> None:
    """Store each layer's default QGIS style in the GeoPackage's ``layer_styles`` table.

    Parameters
    ----------
    gpkg_path
        A GeoPackage that already holds every layer of ``layers``.
    layers
        GeoPackage layer name -> the GeoDataFrame written under that name.
    styles
        GeoPackage layer name -> its :class:`~urbanform.results.LayerStyle`
        (``value_field``, ``ramp``, ``color``, ``label_field``, ``labels``, ``title``,
        ``title_zh``); a layer without one gets the default style.
    language
        Language of the field aliases and style descriptions (``en`` or ``zh``).

    Raises
    ------
    OutputError
        When the file is not a GeoPackage, a layer is not in it, or a hint names a
        missing field; the GeoPackage is then left unchanged.

    Notes
    -----
    Idempotent: a style is stored under the layer's own name (as QGIS names a default
    style), replaced on every run, and any other default of the layer is unset. Layers
    with a ``value_field`` get a graduated renderer whose breaks and colours are those of
    the HTML maps; features without a value are not drawn by it.
    """
    with _geopackage(gpkg_path, write=True) as conn:
        geoms = _geometry_columns(conn)
        missing = [name for name in layers if name not in geoms]
        if missing:
            raise OutputError(
                f"layer(s) {', '.join(map(repr, missing))} not in {str(gpkg_path)!r} (it "
                f"holds {', '.join(sorted(geoms)) or 'no vector layer'}); write them first"
            )
        stored = []
        for name, gdf in layers.items():
            geom_col, geom_type, _ = geoms[name]
            kind = _kind_for(gdf, geom_type, layer=name)
            if kind is None:
                logger.info("layer %s is empty with no geometry type: no style stored", name)
                continue
            style = (styles or {}).get(name, LayerStyle())
            qml = layer_qml(gdf, style, kind=kind, language=language, layer=name)
            stored.append((name, geom_col, qml, style_title(style, language=language) or name))
        _ensure_styles_table(conn)
        for name, geom_col, qml, description in stored:
            _store_default_style(
                conn, table=name, geom_col=geom_col, qml=qml, description=description
            )
        conn.execute(
            f"UPDATE gpkg_contents SET last_change = {_NOW} WHERE table_name = ?",
            (STYLES_TABLE,),
        )
    logger.info("stored %d QGIS default styles in %s", len(stored), gpkg_path)


def read_default_styles(gpkg_path: Path) -> dict[str, tuple[str, str]]:
    """Layer name -> (QML, description) of each layer's default style in a GeoPackage.

    Layers without a default style, and GeoPackages without a ``layer_styles`` table,
    give no entry. The most recently updated default wins, as in QGIS.
    """
    with _geopackage(gpkg_path) as conn:
        if not _has_table(conn, STYLES_TABLE):
            return {}
        rows = conn.execute(
            "SELECT f_table_name, styleQML, description FROM layer_styles "
            "WHERE useAsDefault ORDER BY update_time, id"
        ).fetchall()
    return {str(t): (str(q), str(d or "")) for t, q, d in rows}


# --- the QGIS project -----------------------------------------------------------------


def _text(parent: ET.Element, tag: str, text: str, **attrib: str) -> ET.Element:
    elem = ET.SubElement(parent, tag, attrib)
    elem.text = text
    return elem


def _spatialrefsys(parent: ET.Element, crs: pyproj.CRS) -> None:
    """``<spatialrefsys>`` as QGIS writes it, without a QGIS-internal ``srsid``.

    Without ``srsid`` QGIS builds the CRS from the WKT, which is lossless.
    """
    srs = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "you will lose information"
        proj4 = crs.to_proj4() or ""
    auth = crs.to_authority()
    _text(srs, "wkt", crs.to_wkt())
    _text(srs, "proj4", proj4)
    _text(srs, "srid", auth[1] if auth and auth[0] == "EPSG" else "0")
    _text(srs, "authid", f"{auth[0]}:{auth[1]}" if auth else "")
    _text(srs, "description", crs.name or "")
    match = re.search(r"\+proj=(\S+)", proj4)
    _text(srs, "projectionacronym", match.group(1) if match else "")
    ell = crs.ellipsoid.to_json_dict().get("id", {}) if crs.ellipsoid else {}
    _text(srs, "ellipsoidacronym", f"{ell['authority']}:{ell['code']}" if ell else "")
    _text(srs, "geographicflag", "true" if crs.is_geographic else "false")


def _layer_id(name: str) -> str:
    """A stable QGIS layer id (the same project bytes for the same inputs)."""
    return f"{name}_{hashlib.sha1(name.encode()).hexdigest()[:12]}"


def _extent(parent: ET.Element, tag: str, box: tuple[float, ...]) -> ET.Element:
    elem = ET.SubElement(parent, tag)
    for key, value in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
        _text(elem, key, repr(float(value)))
    return elem


def _gpkg_layers(gpkg_path: Path) -> dict[str, dict[str, Any]]:
    """Layer name -> geometry type, CRS and extent, read from the GeoPackage tables."""
    with _geopackage(gpkg_path) as conn:
        rows = conn.execute(
            "SELECT g.table_name, g.geometry_type_name, s.organization, "
            "s.organization_coordsys_id, s.definition, c.min_x, c.min_y, c.max_x, c.max_y "
            "FROM gpkg_geometry_columns g JOIN gpkg_contents c USING (table_name) "
            "LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id"
        ).fetchall()
    out: dict[str, dict[str, Any]] = {}
    for name, gtype, org, code, definition, *box in rows:
        crs = None
        if org and str(org).upper() == "EPSG" and int(code) > 0:
            crs = pyproj.CRS.from_epsg(int(code))
        elif definition and definition != "undefined":
            crs = pyproj.CRS.from_wkt(definition)
        ok_box = all(v is not None for v in box)
        out[str(name)] = {"type": str(gtype), "crs": crs, "extent": box if ok_box else None}
    return out


def _relative_source(gpkg_path: Path, qgz_path: Path) -> str:
    try:
        rel = os.path.relpath(Path(gpkg_path).resolve(), Path(qgz_path).resolve().parent)
    except ValueError:  # another drive on Windows
        return Path(gpkg_path).resolve().as_posix()
    rel = Path(rel).as_posix()
    return rel if rel.startswith("../") else f"./{rel}"


def _maplayer(
    name: str, info: dict[str, Any], *, source: str, crs: pyproj.CRS, style: tuple[str, str] | None
) -> ET.Element:
    kind = "fill"
    with contextlib.suppress(OutputError):
        kind = symbol_kind(info["type"])
    geometry = {"fill": "Polygon", "line": "Line", "marker": "Point"}[kind]
    qml_root = ET.fromstring(style[0]) if style else ET.Element("qgis")
    layer = ET.Element(
        "maplayer",
        type="vector",
        geometry=geometry,
        styleCategories="AllStyleCategories",
        labelsEnabled=qml_root.get("labelsEnabled", "0"),
        hasScaleBasedVisibilityFlag="0",
        minScale="100000000",
        maxScale="0",
    )
    if info["extent"]:
        _extent(layer, "extent", info["extent"])
    _text(layer, "id", _layer_id(name))
    _text(layer, "datasource", f"{source}|layername={name}")
    _text(layer, "layername", name)
    if style and style[1]:
        _text(layer, "title", style[1])
    _spatialrefsys(ET.SubElement(layer, "srs"), info["crs"] or crs)
    _text(layer, "provider", "ogr", encoding="UTF-8")
    for child in qml_root:
        layer.append(child)
    return layer


def _drawing_order(names: list[str], infos: dict[str, dict[str, Any]]) -> list[str]:
    """Points over lines over polygons (QGIS draws the top of a group last), else as given."""
    rank = {"marker": 0, "line": 1, "fill": 2}

    def key(name: str) -> int:
        try:
            return rank[symbol_kind(infos[name]["type"])]
        except OutputError:
            return 3

    return sorted(names, key=key)


def _layer_tree(
    groups: dict[str, list[str]], infos: dict[str, dict[str, Any]], *, source: str
) -> ET.Element:
    root = ET.Element("layer-tree-group")
    ET.SubElement(root, "customproperties")
    for group, names in groups.items():
        node = ET.SubElement(root, "layer-tree-group", name=group, checked="Qt::Checked",
                             expanded="1")
        ET.SubElement(node, "customproperties")
        for name in _drawing_order(names, infos):
            # H3 grids cover the districts: off at start, as in the HTML maps
            shown = "Qt::Unchecked" if "__h3_r" in name else "Qt::Checked"
            leaf = ET.SubElement(
                node,
                "layer-tree-layer",
                id=_layer_id(name),
                name=name,
                source=f"{source}|layername={name}",
                providerKey="ogr",
                checked=shown,
                expanded="1",
                legend_exp="",
                patch_size="-1,-1",
                legend_split_behavior="0",
            )
            ET.SubElement(leaf, "customproperties")
    return root


def _union(boxes: list[tuple[float, ...]]) -> tuple[float, ...] | None:
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def project_xml(
    infos: dict[str, dict[str, Any]],
    styles: dict[str, tuple[str, str]],
    *,
    groups: dict[str, list[str]],
    source: str,
    crs: pyproj.CRS,
    title: str,
) -> ET.Element:
    """The ``<qgis>`` element of a project (see :func:`write_qgis_project`)."""
    root = ET.Element("qgis", projectname=title, version=QML_VERSION)
    ET.SubElement(root, "homePath", path="")
    _text(root, "title", title)
    _spatialrefsys(ET.SubElement(root, "projectCrs"), crs)
    root.append(_layer_tree(groups, infos, source=source))
    names = list(dict.fromkeys(
        n for members in groups.values() for n in _drawing_order(members, infos)
    ))
    same_crs = [infos[n]["extent"] for n in names
                if infos[n]["extent"] and (infos[n]["crs"] is None or infos[n]["crs"] == crs)]
    box = _union(same_crs)
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    _text(canvas, "units", "degrees" if crs.is_geographic else "meters")
    if box:
        _extent(canvas, "extent", box)
    _text(canvas, "rotation", "0")
    _spatialrefsys(ET.SubElement(canvas, "destinationsrs"), crs)
    layers = ET.SubElement(root, "projectlayers")
    for name in names:
        layers.append(_maplayer(name, infos[name], source=source, crs=crs,
                                style=styles.get(name)))
    order = ET.SubElement(root, "layerorder")
    for name in names:
        ET.SubElement(order, "layer", id=_layer_id(name))
    props = ET.SubElement(root, "properties")
    _text(ET.SubElement(props, "Paths"), "Absolute", "false", type="bool")
    # QGIS reads <projectCrs> only when projections are enabled
    _text(ET.SubElement(props, "SpatialRefSys"), "ProjectionsEnabled", "1", type="int")
    view = ET.SubElement(root, "ProjectViewSettings", UseProjectScales="0", rotation="0")
    ET.SubElement(view, "Scales")
    if box:
        default = ET.SubElement(view, "DefaultViewExtent", xmin=repr(box[0]),
                                ymin=repr(box[1]), xmax=repr(box[2]), ymax=repr(box[3]))
        _spatialrefsys(default, crs)
    meta = ET.SubElement(root, "projectMetadata")
    _text(meta, "title", title)
    return root


def write_qgis_project(
    qgz_path: Path,
    gpkg_path: Path,
    *,
    groups: dict[str, list[str]],
    crs: pyproj.CRS,
    title: str,
) -> None:
    """Write a QGIS project (``.qgz``) over the layers of a GeoPackage.

    Parameters
    ----------
    qgz_path
        The project to write: a zip holding one ``.qgs`` XML file.
    gpkg_path
        The GeoPackage; layers are referenced relative to the project
        (``./results.gpkg|layername=NAME`` when both sit in one folder).
    groups
        Layer-tree group (one per analysis) -> its GeoPackage layer names. Within a
        group points are put above lines above polygons, otherwise the order is kept
        (top first); H3 grid layers (``*__h3_r*``) start switched off.
    crs
        The project CRS (the working CRS).
    title
        Project title.

    Raises
    ------
    OutputError
        When a layer is not in the GeoPackage or the project cannot be written.

    Notes
    -----
    Each layer carries its default style from the GeoPackage's ``layer_styles`` table
    (see :func:`write_layer_styles`), so the project draws layers as they draw when
    opened on their own. The project is written to a temporary name and moved into place.
    """
    infos = _gpkg_layers(gpkg_path)
    missing = sorted({n for names in groups.values() for n in names} - set(infos))
    if missing:
        raise OutputError(
            f"project {str(qgz_path)!r}: layer(s) {', '.join(map(repr, missing))} not in "
            f"{str(gpkg_path)!r}; write them to the GeoPackage first"
        )
    styles = read_default_styles(gpkg_path)
    source = _relative_source(gpkg_path, qgz_path)
    root = project_xml(infos, styles, groups=groups, source=source, crs=pyproj.CRS(crs),
                       title=title)
    ET.indent(root)
    body = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
    body += xml_safe(ET.tostring(root, encoding="unicode")) + "\n"
    qgz = Path(qgz_path)
    tmp = qgz.with_name(f".{qgz.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"{qgz.stem}.qgs", body.encode("utf-8"))
        os.replace(tmp, qgz)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write QGIS project {str(qgz)!r}: {exc}") from exc
    logger.info("wrote QGIS project %s (%d groups)", qgz, len(groups))
