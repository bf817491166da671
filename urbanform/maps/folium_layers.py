"""Folium maps built from small pieces, rendered as offline HTML.

Each piece takes a GeoDataFrame (any CRS: it is brought to EPSG:4326 here, at the edge)
and returns the Folium elements to add to a map, in order: :func:`district_layers`
(one choropleth and legend per indicator), :func:`result_layer` (any other result
layer, styled from its :class:`~urbanform.results.LayerStyle`), :func:`h3_layer` (H3 cells).
:func:`base_map` makes the map (no tiles unless a tile URL is given) and
:func:`analysis_map` composes the pieces for one :class:`AnalysisResult`.

Every text taken from data (names, values, titles) is HTML-escaped before it reaches
the page, and the page references no external script, style sheet or icon: Leaflet is
inlined from the vendored ``assets/`` (see ``assets/README.md``). Rendering and writing
pages (:func:`render_map_html`, :func:`write_map`) live in :mod:`urbanform.maps.report`
and are re-exported here.
"""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any, cast
from urllib.parse import urlsplit

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from markupsafe import Markup

from urbanform.errors import CRSError, OutputError
from urbanform.maps import i18n, palette
from urbanform.maps.legend import Legend, graduated_legend, js_template, legend_html
from urbanform.maps.report import (
    ASSETS_TOKEN,
    CONTEXT_TOKEN,
    RawHtml,
    offline_assets_html,
    render_map_html,
    write_map,
    write_text_atomic,
)
from urbanform.results import AnalysisResult, LayerStyle

__all__ = [
    "FitToBounds",
    "CONTEXT_STYLES",
    "ContextLayer",
    "Legend",
    "PropertyStyle",
    "analysis_map",
    "base_map",
    "context_geojson",
    "district_layers",
    "h3_layer",
    "legend_html",
    "offline_assets_html",
    "render_map_html",
    "result_layer",
    "share_targets",
    "to_wgs84",
    "write_map",
    "write_text_atomic",
]

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
_RAMP_BY_UNIT = {"share": "good", "ratio": "diverging"}
_MAX_POPUP_FIELDS = 12
#: Beyond this many layers the layer control is collapsed to its icon (it would hide the map).
MAX_EXPANDED_OVERLAYS = 6
#: Decimals of degrees kept in web-map coordinates (1e-5 degree: about 1 m).
COORD_DECIMALS = 5
#: Maps with more features than this draw on a canvas (SVG slows down past ~10,000).
CANVAS_FEATURES = 10_000


# --------------------------------------------------------------------------- edges


def to_wgs84(gdf: gpd.GeoDataFrame, *, name: str = "layer") -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4326 (a copy; unchanged input), for the map edge.

    Raises
    ------
    CRSError
        When ``gdf`` has no CRS.
    """
    if gdf.crs is None:
        raise CRSError(
            f"result layer {name!r} has no CRS; results must be in the working CRS "
            "(set one with GeoDataFrame.set_crs before mapping)"
        )
    if gdf.crs.equals(WGS84):
        return gdf.copy()
    return gdf.to_crs(WGS84)


# --------------------------------------------------------------------------- base


def base_map(
    bounds: tuple[float, float, float, float],
    *,
    tiles: str | None = None,
    attribution: str | None = None,
    title: str = "",
    prefer_canvas: bool = False,
) -> folium.Map:
    """Make an empty map fitted to ``bounds`` (minx, miny, maxx, maxy in EPSG:4326).

    Parameters
    ----------
    bounds
        Longitude/latitude bounds to fit.
    tiles
        A tile URL template (``https://.../{z}/{x}/{y}.png``) of a server the readers
        can reach; without one the map has no basemap and requests nothing.
    attribution
        Attribution shown for ``tiles`` (default: the tile server's host name).
    title
        Page title of the standalone map.
    prefer_canvas
        Draw vectors on a canvas instead of SVG (much faster for many features).
    """
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    fmap = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=12,
        tiles=None,
        control_scale=True,
        prefer_canvas=prefer_canvas,
        zoom_snap=0.25,  # fit the data closely, not to the next whole zoom level
        zoom_delta=0.5,
    )
    fmap.default_js = []
    fmap.default_css = []
    root: Any = fmap.get_root()  # a branca Figure: header and title
    root.header.add_child(RawHtml(ASSETS_TOKEN), name="urbanform_assets")
    if title:
        root.title = html.escape(title)
    if tiles:
        host = urlsplit(tiles.replace("{s}", "a")).netloc or "tiles"
        folium.TileLayer(
            tiles=tiles,
            attr=html.escape(attribution or host),
            name=html.escape(host),
            overlay=False,
            control=True,
        ).add_to(fmap)
    fmap.add_child(FitToBounds([[miny, minx], [maxy, maxx]]))
    return fmap


class FitToBounds(MacroElement):
    """Fit the map to ``bounds`` once its container has a size.

    Unlike ``folium.FitBounds`` this also works when the map's page is laid out after
    its script runs (an ``<iframe srcdoc>`` in the report): Leaflet fitted to a
    0 x 0 container computes an invalid zoom.

    Parameters
    ----------
    bounds
        ``[[south, west], [north, east]]`` in degrees.
    padding_px
        Padding around the bounds, in pixels.
    """

    _template = js_template("fit_to_bounds.js.j2")

    def __init__(self, bounds: list[list[float]], *, padding_px: int = 12) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "FitToBounds"
        self.bounds = bounds
        self.padding_px = int(padding_px)


# --------------------------------------------------------------------------- context

#: Background style of each context kind (light grey, under every result layer).
CONTEXT_STYLES: dict[str, dict[str, Any]] = {
    "water": {"stroke": False, "fillColor": "#c9d6df", "fillOpacity": 0.9},
    "street": {"color": "#b8bcc2", "weight": 1.2, "opacity": 0.9, "fill": False},
    "district": {"color": "#8a9099", "weight": 1, "dashArray": "4 3", "fill": False},
    "boundary": {"color": "#5f6670", "weight": 2, "fill": False},
}


def context_geojson(frames: dict[str, gpd.GeoDataFrame]) -> str:
    """The background context as one GeoJSON text (EPSG:4326), features tagged ``k``.

    Parameters
    ----------
    frames
        Context kind (a key of :data:`CONTEXT_STYLES`) -> features in any CRS.
    """
    features: list[dict[str, Any]] = []
    for kind in CONTEXT_STYLES:
        gdf = frames.get(kind)
        if gdf is None or gdf.empty:
            continue
        wgs = to_wgs84(gdf[[gdf.geometry.name]], name=f"context {kind}")
        wgs["k"] = kind
        features += _feature_collection(wgs)["features"]
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))


class ContextLayer(MacroElement):
    """The map's offline background: study area, district outlines, main streets, water.

    Drawn on a canvas in a pane under the result layers, not clickable, not in the
    layer control. The page holds :data:`~urbanform.maps.report.CONTEXT_TOKEN` where
    the GeoJSON goes; :func:`render_map_html` fills it in for a standalone map, the
    report's script from its one copy shared by every map.

    Parameters
    ----------
    data_json
        The context GeoJSON (:func:`context_geojson`).
    """

    _template = js_template("context_layer.js.j2")

    def __init__(self, data_json: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "ContextLayer"
        self.data_json = data_json
        self.styles = CONTEXT_STYLES
        self.token = Markup(CONTEXT_TOKEN)


# --------------------------------------------------------------------------- pieces


def _display_frame(
    gdf: gpd.GeoDataFrame, fields: list[str], *, units: dict[str, str], language: str
) -> gpd.GeoDataFrame:
    """Make a popup-ready copy: fields ``f0..fn`` as escaped display strings."""
    data = {}
    for i, f in enumerate(fields):
        text = i18n.format_column(gdf[f], unit=units.get(f), language=language)
        data[f"f{i}"] = text if gdf[f].dtype.kind in "iuf" else [html.escape(t) for t in text]
    return gpd.GeoDataFrame(data, geometry=gdf.geometry.to_numpy(), crs=gdf.crs, index=gdf.index)


def _feature_collection(shown: gpd.GeoDataFrame) -> dict[str, Any]:
    """GeoJSON of ``shown`` (EPSG:4326), coordinates rounded to 1e-5 degree (~1 m).

    Built directly (GeoPandas' ``__geo_interface__`` is ~50 times slower on large
    layers); features without a geometry are left out.
    """
    geoms = shown.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms = shapely.transform(geoms[keep], lambda xy: np.round(xy, COORD_DECIMALS))
    names = [c for c in shown.columns if c != shown.geometry.name]
    columns = [shown[c].to_numpy(dtype=object)[keep].tolist() for c in names]
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    if not names:
        rows = [{} for _ in range(len(geoms))]
    if len(geoms) and (shapely.get_type_id(geoms) == 0).all():  # points: no JSON round trip
        xy = shapely.get_coordinates(geoms).tolist()
        shapes = [{"type": "Point", "coordinates": c} for c in xy]
    else:
        shapes = [json.loads(g) for g in shapely.to_geojson(geoms).tolist()]
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": str(i), "properties": p, "geometry": g}
            for i, (p, g) in enumerate(zip(rows, shapes, strict=True))
        ],
    }


class PropertyStyle(MacroElement):
    """Style every feature of the parent GeoJson layer in the browser.

    ``base`` (Leaflet path options) plus ``fillColor`` (and ``color`` when ``base``
    has none) from the feature's ``_fill`` property. Folium's ``style_function``
    writes one ``switch`` case per feature, which is quadratic in the browser and
    stalls a page of 40,000 points.

    Parameters
    ----------
    base
        Leaflet path options shared by every feature.
    """

    _template = js_template("property_style.js.j2")

    def __init__(self, base: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "PropertyStyle"
        self.base = base


def _radius_px(n_features: int) -> int:
    """Circle-marker radius: smaller as points get denser (no image markers are used)."""
    return 6 if n_features <= 1_000 else 4 if n_features <= CANVAS_FEATURES else 3


def _geojson(
    shown: gpd.GeoDataFrame, *, name: str, aliases: list[str], style: dict[str, Any], show: bool
) -> folium.GeoJson:
    """Build a GeoJson layer: per-feature ``_fill`` colours, popup table, tooltip on field 0."""
    fields = [c for c in shown.columns if re.fullmatch(r"f\d+", c)]
    has_points = bool(set(shown.geom_type.unique()) & {"Point", "MultiPoint"})
    escaped = [html.escape(a) for a in aliases]
    layer = folium.GeoJson(
        _feature_collection(shown),
        name=html.escape(name),
        show=show,
        marker=folium.CircleMarker(radius=_radius_px(len(shown))) if has_points else None,
        popup=folium.GeoJsonPopup(fields=fields, aliases=escaped) if fields else None,
        tooltip=folium.GeoJsonTooltip(fields=fields[:1], labels=False) if fields else None,
    )
    layer.add_child(PropertyStyle(style))
    return layer


def _ramp_for(unit: str | None) -> str:
    return _RAMP_BY_UNIT.get(unit or "", "seq")


def _colour_column(values: np.ndarray, breaks: list[float], ramp: str) -> list[str]:
    """Colour of each value, as :func:`palette.color_for` (vectorised)."""
    colours = np.array(palette.class_colors(breaks, ramp) + [palette.NODATA_COLOR])
    idx = np.searchsorted(np.asarray(breaks, dtype=float), values, side="right") - 1
    idx = np.clip(idx, 0, len(colours) - 2)
    idx[~np.isfinite(values)] = len(colours) - 1
    return cast("list[str]", colours[idx].tolist())


def district_layers(
    districts: gpd.GeoDataFrame,
    indicators: dict[str, tuple[str, str]],
    *,
    language: str = "en",
    targets: dict[str, float] | None = None,
) -> list[Element]:
    """Build one choropleth layer and its legend per indicator of the ``districts`` layer.

    Parameters
    ----------
    districts
        Polygons with ``name``, optional ``population``, and a value column per
        indicator key (docs/architecture.md, "Result layers and style hints").
    indicators
        Indicator key -> (label, unit), in display order; keys without a column in
        ``districts`` are skipped. Shares use the ``good`` ramp, ratios ``diverging``,
        others ``seq``.
    language
        ``en`` or ``zh``.
    targets
        Indicator key -> share to reach; a share indicator with one is classed by
        :func:`palette.class_breaks` with that ``target`` (the colour changes at it).

    Returns
    -------
    list of Element
        ``[layer, legend, layer, legend, ...]``; only the first layer is shown at start.
    """
    gdf = to_wgs84(districts, name="districts")
    keys = [k for k in indicators if k in gdf.columns]
    base = [f for f in ("name", "population") if f in gdf.columns]
    fields = base + keys
    units = {k: indicators[k][1] for k in keys}
    aliases = [i18n.field_label(f, None, language) for f in base] + [indicators[k][0] for k in keys]
    out: list[Element] = []
    for i, key in enumerate(keys):
        label, unit = indicators[key]
        ramp = _ramp_for(unit)
        values = gdf[key].to_numpy(dtype=float)
        breaks = palette.class_breaks(values, ramp=ramp, target=(targets or {}).get(key))
        shown = _display_frame(gdf, fields, units=units, language=language)
        shown["_fill"] = _colour_column(values, breaks, ramp)
        style = {"color": "#333333", "weight": 1.2, "fillOpacity": 0.72}
        layer = _geojson(shown, name=label, aliases=aliases, style=style, show=i == 0)
        legend = graduated_legend(
            label, values, breaks, ramp, unit=unit, language=language, point=False
        )
        out += [layer, Legend(legend, layer=layer)]
    return out


def _value_caption(field: str, style: LayerStyle, language: str) -> str:
    """The value field's label under the legend title, when the style labels it."""
    label = i18n.field_label(field, style.labels, language)
    return "" if label == field else label


def result_layer(
    gdf: gpd.GeoDataFrame,
    style: LayerStyle | None = None,
    *,
    name: str,
    language: str = "en",
    units: dict[str, str] | None = None,
    show: bool = True,
) -> list[Element]:
    """Build a result layer and its legend, styled from its :class:`LayerStyle`.

    Graduated colours when the style names a ``value_field`` (palette ``ramp``,
    default ``seq``; a ``target`` puts the share target on a class edge, as in
    the QGIS styles), else one ``color``. Points are drawn as circle markers. The
    popup shows ``popup_fields`` (default: every non-geometry field), labelled by the
    style's ``labels``.

    Parameters
    ----------
    gdf
        The layer, in any CRS.
    style
        How to draw it (default: the empty style: one colour, ``name`` as title).
    name
        The layer's key, used as title when the style gives none.
    language
        ``en`` or ``zh``.
    units
        Field -> unit (``share``, ``ratio``) for value formatting.
    show
        Whether the layer is on at start.

    Returns
    -------
    list of Element
        ``[layer, legend]``, or ``[]`` for an empty layer.
    """
    if gdf.empty:
        logger.info("result layer %r is empty: not mapped", name)
        return []
    look = style if style is not None else LayerStyle()
    wgs = to_wgs84(gdf, name=name)
    title = look.title_in(language) or name
    columns = [c for c in wgs.columns if c != wgs.geometry.name]
    fields = [f for f in look.popup_fields or columns if f in wgs.columns]
    fields = fields[:_MAX_POPUP_FIELDS]
    units = units or {}
    shown = _display_frame(wgs, fields, units=units, language=language)
    aliases = [i18n.field_label(f, look.labels, language) for f in fields]
    point = set(wgs.geom_type.unique()) <= {"Point", "MultiPoint"}
    line = set(wgs.geom_type.unique()) <= {"LineString", "MultiLineString"}
    value_field = look.value_field
    if value_field and value_field in wgs.columns:
        ramp = str(look.ramp or "seq")
        values = wgs[value_field].to_numpy(dtype=float)
        breaks = palette.class_breaks(values, ramp=ramp, target=look.target)
        shown["_fill"] = _colour_column(values, breaks, ramp)
        legend = graduated_legend(
            title, values, breaks, ramp, unit=units.get(value_field), language=language,
            point=point, caption=_value_caption(value_field, look, language),
        )
        colour = None
    else:
        colour = str(look.color or palette.DEFAULT_COLOR)
        shown["_fill"] = colour
        legend = legend_html("", colors=[colour], labels=[title], point=point)
    leaflet: dict[str, Any]
    if point:
        leaflet = {"color": "#ffffff", "weight": 1.5, "fill": True, "fillOpacity": 0.95}
    elif line:
        leaflet = {"color": colour, "weight": 2.5, "opacity": 0.9}
    else:
        leaflet = {"color": colour, "weight": 1, "fillOpacity": 0.55}
    layer = _geojson(shown, name=title, aliases=aliases, style=leaflet, show=show)
    return [layer, Legend(legend, layer=layer)]


def h3_layer(
    cells: gpd.GeoDataFrame,
    *,
    value_field: str | None = None,
    unit: str | None = None,
    label: str | None = None,
    language: str = "en",
    show: bool = False,
    target: float | None = None,
) -> list[Element]:
    """Draw H3 cells coloured by ``value_field``, with a popup of every value.

    Parameters
    ----------
    cells
        Cell polygons (EPSG:4326 or any CRS) with ``hex_id``, ``population`` and
        indicator columns.
    value_field
        Column to colour by (default: the first indicator column, else ``population``).
    unit
        Unit of ``value_field`` (``share`` uses the ``good`` ramp with fixed breaks).
    label
        Human name of ``value_field`` for the layer title (default: the column name).
    language
        ``en`` or ``zh``.
    show
        Whether the layer is on at start (off by default: cells cover the districts).
    target
        Share that ``value_field`` must reach: put on a class edge (see
        :func:`palette.class_breaks`).

    Raises
    ------
    OutputError
        When ``hex_id`` or ``value_field`` is missing.
    """
    columns = [c for c in cells.columns if c != cells.geometry.name]
    if "hex_id" not in columns:
        raise OutputError(
            f"H3 cells need a 'hex_id' column; found {columns}; build them with "
            "urbanform.grid"
        )
    others = [c for c in columns if c not in ("hex_id", "population")]
    field = value_field or (others[0] if others else "population")
    if field not in columns:
        raise OutputError(f"H3 cells have no column {field!r} to colour by; found {columns}")
    style = LayerStyle(
        title=f"{i18n.t('h3_cells', 'en')}: {label or field}",
        title_zh=f"{i18n.t('h3_cells', 'zh')}：{label or field}",
        value_field=field,
        ramp=_ramp_for(unit),
        # sums behind the shares stay in the H3 files: the popup shows the values
        popup_fields=[c for c in columns if not c.endswith(("__num", "__den"))
                      and c != "resolution"],
        target=target,
    )
    units = {field: unit} if unit else {}
    return result_layer(cells, style, name="h3", language=language, units=units, show=show)


# --------------------------------------------------------------------------- compose


def _bounds(frames: list[gpd.GeoDataFrame], *, name: str) -> tuple[float, float, float, float]:
    boxes = np.array([f.total_bounds for f in frames if not f.empty], dtype=float)
    boxes = boxes[np.isfinite(boxes).all(axis=1)] if len(boxes) else boxes
    if not len(boxes):
        raise OutputError(
            f"analysis {name!r} has nothing to map: its layers and units are empty; "
            "check its inputs"
        )
    return (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())


def _draw_order(gdf: gpd.GeoDataFrame) -> int:
    kinds = set(gdf.geom_type.unique())
    if kinds <= {"Point", "MultiPoint"}:
        return 2
    return 1 if kinds <= {"LineString", "MultiLineString"} else 0


def _main_first(result: AnalysisResult) -> list[str]:
    """Indicator keys, the main one (:attr:`AnalysisResult.main_indicator`) first."""
    keys = list(result.indicators)
    main = result.main_indicator
    return keys if main is None else [main] + [k for k in keys if k != main]


def share_targets(result: AnalysisResult) -> dict[str, float]:
    """Indicator key -> target value, for the targets to reach (``>=`` or ``>``).

    The districts layer's ``target`` hint (set by the pipeline for its value field,
    and used by the QGIS style) takes precedence, so both draw the same classes.
    """
    out = {
        key: float(ind.target.value)
        for key, ind in result.indicators.items()
        if ind.target is not None and ind.target.op in (">=", ">")
    }
    style = result.style("districts")
    if style.value_field and style.target is not None:
        out[style.value_field] = style.target
    return out


def analysis_map(
    result: AnalysisResult,
    *,
    h3_cells: gpd.GeoDataFrame | None = None,
    tiles: str | None = None,
    language: str = "en",
    title: str | None = None,
    context: str | None = None,
) -> folium.Map:
    """Build the map of one analysis: district choropleths, result layers, optional H3 cells.

    The main indicator's choropleth (the targeted one, as in the QGIS style) is shown
    at start; the others are in the layer control.

    Parameters
    ----------
    result
        The analysis result; its layers are in the working CRS.
    h3_cells
        Optional H3 cells (``hex_id``, ``population``, indicator columns).
    tiles
        Optional tile URL template; without one the map has no basemap.
    language
        ``en`` or ``zh`` (legends, popups, layer names).
    title
        Page title of the standalone map (default: the analysis name and kind).
    context
        Background GeoJSON from :func:`context_geojson` (default: none).

    Returns
    -------
    folium.Map
        Fitted to the mapped layers, with a layer control; render it with
        :func:`write_map` or :func:`render_map_html` (offline, no CDN).
    """
    i18n.check_language(language)
    layers = {k: to_wgs84(v, name=k) for k, v in result.layers.items() if not v.empty}
    frames = [layers["districts"]] if "districts" in layers else list(layers.values())
    if h3_cells is not None and not frames:
        frames = [to_wgs84(h3_cells, name="h3")]
    if not frames and not result.units.empty:
        frames = [to_wgs84(result.units, name="units")]
    title = title or f"{result.name} — {i18n.kind_label(result.kind, language)}"
    n_features = sum(len(f) for f in layers.values()) + (0 if h3_cells is None else len(h3_cells))
    fmap = base_map(
        _bounds(frames, name=result.name),
        tiles=tiles,
        title=title,
        prefer_canvas=n_features > CANVAS_FEATURES,
    )
    indicators = {
        k: (i18n.indicator_label(k, result.indicators[k].label, language, kind=result.kind),
            result.indicators[k].unit)
        for k in _main_first(result)
    }
    units = {k: u for k, (_, u) in indicators.items()}
    targets = share_targets(result)
    elements: list[Element] = [] if context is None else [ContextLayer(context)]
    if "districts" in layers:
        elements += district_layers(
            layers["districts"], indicators, language=language, targets=targets
        )
    others = sorted((k for k in layers if k != "districts"), key=lambda k: _draw_order(layers[k]))
    for key in others:
        elements += result_layer(
            layers[key], result.style(key), name=key, language=language, units=units
        )
    if h3_cells is not None and not h3_cells.empty:
        field = next((k for k in indicators if k in h3_cells.columns), None)
        unit = indicators[field][1] if field else None
        label = indicators[field][0] if field else None
        elements += h3_layer(
            h3_cells, value_field=field, unit=unit, label=label, language=language,
            target=targets.get(field or ""),
        )
    for element in elements:
        fmap.add_child(element)
    overlays = sum(isinstance(e, folium.GeoJson) for e in elements)
    folium.LayerControl(collapsed=overlays > MAX_EXPANDED_OVERLAYS).add_to(fmap)
    fmap.add_child(DrawnFlag())
    return fmap


class DrawnFlag(MacroElement):
    """Mark the page ``data-uf-drawn`` (on ``<html>``) once every layer is on screen.

    The value is the number of Leaflet layers on the map. Added last, so it runs after
    every layer's script; two animation frames later canvas layers have drawn too.
    """

    _template = js_template("drawn_flag.js.j2")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "DrawnFlag"
