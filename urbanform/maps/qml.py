"""QGIS layer styles (QML) for result layers, built as plain XML.

A result layer's :class:`~urbanform.results.LayerStyle` (``AnalysisResult.styles``)
becomes the QML QGIS stores as a layer's default style: a graduated renderer on
``value_field`` with the class breaks and colours of the HTML maps
(:mod:`urbanform.maps.palette`), or a single symbol in ``color``; labels on
``label_field``; field aliases in the report language. Nothing here needs QGIS.

Graduated ranges are written from the highest class down. QGIS gives a value the first
range whose closed interval ``[lower, upper]`` holds it, so in this order a value equal
to a break falls in the class *above* it, as :func:`urbanform.maps.palette.class_index`
decides for the HTML maps (a share of exactly 0.9 is drawn in the 0.9-1.0 colour).
A layer with missing values gets a last "no data" class in the HTML maps' grey. A ``target``
hint (a share to reach) puts the target on a class edge exactly as the HTML maps do.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from urbanform.errors import OutputError
from urbanform.maps import i18n, palette
from urbanform.results import LayerStyle

__all__ = [
    "xml_safe",
    "NODATA_VALUE",
    "QML_VERSION",
    "symbol_kind",
    "layer_qml",
    "style_title",
    "value_unit",
]

logger = logging.getLogger(__name__)

#: QGIS version written into the QML and project files (the oldest one tested).
QML_VERSION = "3.22.0-Białowieża"

#: Stand-in value that puts features without a value into the "no data" class: QGIS's
#: graduated renderer draws no feature whose classified value is NULL.
NODATA_VALUE = -1e300

_OUTLINE = "51,51,51,255"
_GEOMETRY_TYPE = {"marker": "0", "line": "1", "fill": "2"}
_LAYER_TYPE = {"marker": "PointGeometry", "line": "LineGeometry", "fill": "PolygonGeometry"}
# QgsPalLayerSettings placement: 0 around point, 2 parallel to line, 1 over centroid
_PLACEMENT = {"marker": "0", "line": "2", "fill": "1"}
_SHARE_RAMPS = ("good", "bad")


def symbol_kind(geometry_type: str) -> str:
    """QGIS symbol type for a geometry type name.

    Parameters
    ----------
    geometry_type
        A GeoPackage / OGC name such as ``MULTIPOLYGON``, ``Point`` or ``LineString``.

    Returns
    -------
    str
        ``fill`` for polygons, ``line`` for lines, ``marker`` for points.

    Raises
    ------
    OutputError
        For a generic or unknown type (``GEOMETRY``, ``GEOMETRYCOLLECTION``).

    Examples
    --------
    >>> symbol_kind("MULTIPOLYGON"), symbol_kind("LineString"), symbol_kind("POINT")
    ('fill', 'line', 'marker')
    """
    name = geometry_type.upper().removeprefix("MULTI").rstrip("ZM ")
    kinds = {"POLYGON": "fill", "LINESTRING": "line", "POINT": "marker"}
    if name in kinds:
        return kinds[name]
    raise OutputError(
        f"cannot style geometry type {geometry_type!r}; write polygons, lines or points "
        "(one kind per layer)"
    )


def style_title(style: LayerStyle, *, language: str = "en") -> str:
    """Human title of a layer in ``language`` (``title_zh`` for ``zh``, else ``title``)."""
    return style.title_in(language)


def _rgba(hex_color: str, opacity: float = 1.0) -> str:
    """``#rrggbb`` -> ``r,g,b,a`` as QGIS writes colours (``a`` = opacity * 255)."""
    h = hex_color.lstrip("#")
    if len(h) != 6:
        raise OutputError(f"colour {hex_color!r} is not a '#rrggbb' hex colour")
    rgb = ",".join(str(int(h[i : i + 2], 16)) for i in (0, 2, 4))
    return f"{rgb},{round(opacity * 255)}"


def _options(parent: ET.Element, props: dict[str, str]) -> None:
    opt = ET.SubElement(parent, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(opt, "Option", name=key, type="QString", value=value)


# Opacities and outlines of the HTML maps: district choropleths 0.72 with a dark outline,
# other polygons 0.55 outlined in their own colour, points 0.95 with a white outline,
# lines 0.9 (widths: 1 CSS px ~ 0.26 mm).
def _symbol_props(hex_color: str, kind: str, *, districts: bool) -> tuple[str, dict[str, str]]:
    if kind == "fill":
        return "SimpleFill", {
            "color": _rgba(hex_color, 0.72 if districts else 0.55),
            "style": "solid",
            "outline_color": _OUTLINE if districts else _rgba(hex_color),
            "outline_style": "solid",
            "outline_width": "0.32" if districts else "0.26",
            "outline_width_unit": "MM",
            "joinstyle": "bevel",
        }
    if kind == "line":
        return "SimpleLine", {
            "line_color": _rgba(hex_color, 0.9),
            "line_style": "solid",
            "line_width": "0.66",
            "line_width_unit": "MM",
            "capstyle": "round",
            "joinstyle": "round",
        }
    return "SimpleMarker", {
        "name": "circle",
        "color": _rgba(hex_color, 0.95),
        "outline_color": "255,255,255,255",
        "outline_style": "solid",
        "outline_width": "0.4",
        "outline_width_unit": "MM",
        "size": "3.2",
        "size_unit": "MM",
    }


def _symbol(hex_color: str, *, kind: str, name: str, districts: bool = False) -> ET.Element:
    sym = ET.Element(
        "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0"
    )
    cls, props = _symbol_props(hex_color, kind, districts=districts)
    layer = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    _options(layer, props)
    return sym


def value_unit(values: pd.Series, breaks: list[float], *, ramp: str) -> str | None:
    """Display unit of a value field: ``share``, ``ratio`` or ``None`` (plain numbers).

    Fractional values in [0, 1] drawn with a share ramp (``good``, ``bad``) are shares;
    values drawn with ``diverging`` are ratios.
    """
    if ramp == "diverging":
        return "ratio"
    fractional = pd.api.types.is_float_dtype(values)
    if ramp in _SHARE_RAMPS and fractional and breaks[0] >= 0.0 and breaks[-1] <= 1.0:
        return "share"
    return None


def graduated_renderer(
    field: str,
    breaks: list[float],
    colors: list[str],
    *,
    kind: str,
    unit: str | None = None,
    language: str = "en",
    nodata: bool = False,
    districts: bool = False,
) -> ET.Element:
    """A ``graduatedSymbol`` renderer: one range per class, highest class first.

    Parameters
    ----------
    field
        The numeric field classified.
    breaks
        Ascending class breaks (``len(colors) + 1`` of them).
    colors
        Hex colour of each class, low -> high.
    kind
        ``fill``, ``line`` or ``marker``.
    unit
        Display unit of the values (``share``, ``ratio`` or ``None``) for the labels.
    language
        Language of the labels (``en`` or ``zh``).
    nodata
        Also draw features without a value, in the HTML maps' "no data" grey: the
        renderer then classifies ``coalesce("field", NODATA_VALUE)`` and ends with a
        "no data" range holding only :data:`NODATA_VALUE`.
    districts
        Draw as the district choropleths of the HTML maps (denser fill, dark outline).

    Returns
    -------
    xml.etree.ElementTree.Element
        The ``renderer-v2`` element.
    """
    quoted = field.replace('"', '""')
    rend = ET.Element(
        "renderer-v2",
        type="graduatedSymbol",
        attr=f'coalesce("{quoted}", {NODATA_VALUE!r})' if nodata else field,
        graduatedMethod="GraduatedColor",
        symbollevels="0",
        enableorderby="0",
        forceraster="0",
        referencescale="-1",
    )
    ranges = ET.SubElement(rend, "ranges")
    symbols = ET.SubElement(rend, "symbols")
    labels = i18n.class_labels(breaks, unit=unit, language=language)
    for i in reversed(range(len(colors))):
        ET.SubElement(
            ranges,
            "range",
            symbol=str(i),
            lower=repr(float(breaks[i])),
            upper=repr(float(breaks[i + 1])),
            label=labels[i],
            render="true",
        )
        symbols.append(_symbol(colors[i], kind=kind, name=str(i), districts=districts))
    if nodata:
        _nodata_range(ranges, symbols, name=str(len(colors)), kind=kind, language=language,
                      districts=districts)
    method = ET.SubElement(rend, "classificationMethod", id="Custom")
    ET.SubElement(method, "labelFormat", format="%1 - %2", labelprecision="4",
                  trimtrailingzeroes="1")
    ET.SubElement(rend, "rotation")
    ET.SubElement(rend, "sizescale")
    return rend


def _nodata_range(
    ranges: ET.Element,
    symbols: ET.Element,
    *,
    name: str,
    kind: str,
    language: str,
    districts: bool,
) -> None:
    """Append the "no data" range (only :data:`NODATA_VALUE`) in the HTML maps' grey."""
    value = repr(NODATA_VALUE)
    label = i18n.t("no_data", language)
    ET.SubElement(ranges, "range", symbol=name, lower=value, upper=value,
                  label=label, render="true")
    symbol = _symbol(palette.NODATA_COLOR, kind=kind, name=name, districts=districts)
    symbols.append(symbol)


def single_renderer(hex_color: str, *, kind: str, districts: bool = False) -> ET.Element:
    """A ``singleSymbol`` renderer drawing every feature in ``hex_color``."""
    rend = ET.Element(
        "renderer-v2",
        type="singleSymbol",
        symbollevels="0",
        enableorderby="0",
        forceraster="0",
        referencescale="-1",
    )
    symbol = _symbol(hex_color, kind=kind, name="0", districts=districts)
    ET.SubElement(rend, "symbols").append(symbol)
    ET.SubElement(rend, "rotation")
    ET.SubElement(rend, "sizescale")
    return rend


# Label settings (QgsPalLayerSettings / QgsTextFormat XML): dark 9 pt text with a
# white buffer, one label per feature, labels avoid each other.
_TEXT_STYLE = {
    "isExpression": "0", "fontSize": "9", "fontSizeUnit": "Point",
    "textColor": "50,50,50,255", "textOpacity": "1", "fontWeight": "50", "fontItalic": "0",
    "namedStyle": "Regular", "multilineHeight": "1", "blendMode": "0", "capitalization": "0",
}
_TEXT_BUFFER = {
    "bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM",
    "bufferColor": "255,255,255,255", "bufferOpacity": "1", "bufferNoFill": "1",
    "bufferJoinStyle": "128", "bufferBlendMode": "0",
}
_TEXT_FORMAT = {
    "wrapChar": "", "multilineAlign": "3", "formatNumbers": "0", "decimals": "3",
    "plussign": "0", "addDirectionSymbol": "0", "autoWrapLength": "0",
}
_PLACEMENT_SETTINGS = {
    "placementFlags": "10", "distUnits": "MM", "centroidInside": "1", "centroidWhole": "0",
    "priority": "5", "quadOffset": "4", "polygonPlacementFlags": "2",
}
_RENDERING = {
    "drawLabels": "1", "obstacle": "1", "obstacleFactor": "1", "obstacleType": "1",
    "scaleVisibility": "0", "displayAll": "0", "upsidedownLabels": "0", "labelPerPart": "0",
    "mergeLines": "0", "limitNumLabels": "0", "maxNumLabels": "2000", "minFeatureSize": "0",
    "zIndex": "0",
}


def labeling(field: str, *, kind: str) -> ET.Element:
    """Simple labeling on ``field``: dark text with a white buffer (pal settings)."""
    lab = ET.Element("labeling", type="simple")
    settings = ET.SubElement(lab, "settings", calloutType="simple")
    style = ET.SubElement(settings, "text-style", {"fieldName": field, **_TEXT_STYLE})
    ET.SubElement(style, "text-buffer", _TEXT_BUFFER)
    ET.SubElement(settings, "text-format", _TEXT_FORMAT)
    placement = {
        "placement": _PLACEMENT[kind],
        "layerType": _LAYER_TYPE[kind],
        "dist": "1" if kind == "marker" else "0",
        **_PLACEMENT_SETTINGS,
    }
    ET.SubElement(settings, "placement", placement)
    ET.SubElement(settings, "rendering", _RENDERING)
    return lab


def aliases(columns: list[str], labels: Mapping[str, str]) -> ET.Element:
    """The ``<aliases>`` element: one ``alias`` per column that has a label."""
    elem = ET.Element("aliases")
    for i, col in enumerate(columns):
        if col in labels:
            ET.SubElement(elem, "alias", field=col, index=str(i), name=str(labels[col]))
    return elem


def _check_field(gdf: gpd.GeoDataFrame, field: str, *, layer: str, hint: str) -> None:
    if field not in gdf.columns or field == gdf.geometry.name:
        raise OutputError(
            f"layer {layer!r}: attrs['urbanform'][{hint!r}] names field {field!r}, which "
            f"is not a column (columns: {', '.join(map(str, gdf.columns))}); fix the hint"
        )


def _renderer(
    gdf: gpd.GeoDataFrame, style: LayerStyle, *, kind: str, layer: str, language: str
) -> ET.Element:
    field = style.value_field
    districts = layer == "districts" or layer.endswith("__districts")
    if not field:
        colour = str(style.color or palette.DEFAULT_COLOR)
        return single_renderer(colour, kind=kind, districts=districts)
    _check_field(gdf, field, layer=layer, hint="value_field")
    if not pd.api.types.is_numeric_dtype(gdf[field]):  # bool counts as 0 / 1
        raise OutputError(
            f"layer {layer!r}: value_field {field!r} has dtype {gdf[field].dtype}, not a "
            "number; point value_field at a numeric column"
        )
    ramp = str(style.ramp or "seq")
    values = gdf[field].to_numpy(dtype=float, na_value=np.nan)
    breaks = palette.class_breaks(values, ramp=ramp, target=style.target)
    colors = palette.class_colors(breaks, ramp)
    nodata = bool(np.isnan(values).any())
    unit = value_unit(gdf[field], breaks, ramp=ramp)
    return graduated_renderer(
        field, breaks, colors, kind=kind, unit=unit, language=language, nodata=nodata,
        districts=districts,
    )


def layer_qml(
    gdf: gpd.GeoDataFrame,
    style: LayerStyle | None = None,
    *,
    kind: str,
    language: str = "en",
    layer: str = "",
) -> str:
    """The QML of a result layer's default QGIS style.

    Parameters
    ----------
    gdf
        The layer as written to the GeoPackage.
    style
        Its :class:`~urbanform.results.LayerStyle` (default: the empty style).
    kind
        Symbol type: ``fill``, ``line`` or ``marker`` (see :func:`symbol_kind`).
    language
        Report language (``en`` or ``zh``) of the field aliases.
    layer
        Layer name, for messages.

    Returns
    -------
    str
        A QML document (``<!DOCTYPE qgis ...><qgis ...>``).

    Raises
    ------
    OutputError
        When a hint names a missing or non-numeric field or an unknown ramp.
    """
    if kind not in _GEOMETRY_TYPE:
        raise OutputError(f"layer {layer!r}: unknown symbol kind {kind!r}")
    style = style if style is not None else LayerStyle()
    label_field = style.label_field
    root = ET.Element(
        "qgis",
        version=QML_VERSION,
        styleCategories="AllStyleCategories",
        labelsEnabled="1" if label_field else "0",
        hasScaleBasedVisibilityFlag="0",
        minScale="100000000",
        maxScale="0",
    )
    root.append(_renderer(gdf, style, kind=kind, layer=layer, language=language))
    if label_field:
        _check_field(gdf, label_field, layer=layer, hint="label_field")
        root.append(labeling(label_field, kind=kind))
    all_labels = style.labels or {}
    labels = all_labels.get(language) or all_labels.get("en") or {}
    columns = ["fid"] + [str(c) for c in gdf.columns if c != gdf.geometry.name]
    root.append(aliases(columns, labels))
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_TYPE[kind]
    ET.indent(root)
    body = xml_safe(ET.tostring(root, encoding="unicode"))
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    r"""``text`` without the control characters XML 1.0 forbids (from names in the data).

    Examples
    --------
    >>> xml_safe("West\x07 <b>")
    'West <b>'
    """
    return _XML_INVALID.sub("", text)

