"""Offline HTML pages: inlined assets, rendered maps, atomic writes, and the report.

The report is one file: the target scorecard, a sortable district table, the comparison of
runs of the same kind (:mod:`urbanform.maps.compare`), one section per analysis
(map, method, parameters, warnings), the data warnings and the provenance of every
input. Maps are embedded as ``<iframe srcdoc>`` pages with Leaflet inlined; scripts and
styles come from the packaged ``assets/``, so opening the report requests nothing
(unless a map was built with a tile URL). Every text from data is HTML-escaped by the
template (Jinja2 autoescape).
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import folium
import jinja2
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from markupsafe import Markup

from urbanform.errors import OutputError
from urbanform.layers.types import Provenance
from urbanform.maps import i18n
from urbanform.maps.compare import MET_CSS, comparisons, param_text
from urbanform.priorities import RESIDENT_SHARES
from urbanform.results import AnalysisResult, Indicator

__all__ = [
    "RawHtml",
    "before_after_rows",
    "priority_rows",
    "ScorecardRow",
    "district_table",
    "offline_assets_html",
    "population_short",
    "render_map_html",
    "render_report",
    "scorecard_rows",
    "write_map",
    "write_report",
    "write_text_atomic",
]

_EPS = 1e-9
_HTML_LANG = {"en": "en", "zh": "zh-CN"}


# --------------------------------------------------------------------------- offline pages


def _asset(name: str) -> bytes:
    return (files("urbanform.maps") / "assets" / name).read_bytes()


@cache
def offline_assets_html() -> str:
    """Return ``<style>`` and ``<script>`` elements inlining Leaflet and the map styles.

    Leaflet's CSS refers to its images by relative URL; they are replaced by
    ``data:`` URIs so the page requests nothing.
    """

    def data_uri(match: re.Match[str]) -> str:
        png = base64.b64encode(_asset(f"images/{match.group(1)}")).decode("ascii")
        return f"url(data:image/png;base64,{png})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, _asset("leaflet.css").decode())
    return (
        f"<style>{css}</style>\n<style>{_asset('map.css').decode()}</style>\n"
        f"<script>{_asset('leaflet.js').decode()}</script>"
    )


class RawHtml(Element):
    """Text put in the page as is (not a Jinja template: Leaflet is 150 kB of JavaScript)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._text


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


ASSETS_TOKEN = "<!--urbanform:assets-->"
"""Where a map page's inlined Leaflet goes (:func:`offline_assets_html`)."""

CONTEXT_TOKEN = '"urbanform:context"'
"""Where a map page's background context GeoJSON goes (see ``folium_layers.ContextLayer``)."""


class _Literal(Element):
    """Rendered text put in a page section as is.

    Branca's ``MacroElement.render`` wraps each rendered macro in ``Element(text)``,
    which compiles the text as a Jinja template: slow for large GeoJSON (1,200 compiles
    per demo run) and wrong for text holding ``{{`` or ``{%`` (a feature name).
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self._text


def _render_macro(self: MacroElement, **kwargs: Any) -> None:
    """``MacroElement.render`` with :class:`_Literal` sections (same order, same names)."""
    figure: Any = self.get_root()
    module = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = module.get(part)
        if macro is not None:
            getattr(figure, part).add_child(_Literal(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


_RENDER_LOCK = threading.Lock()


def render_map_html(fmap: folium.Map, *, shared: bool = False) -> str:
    """Render ``fmap`` as one standalone offline HTML page.

    Every element's CDN links (Folium's jQuery, Bootstrap, Font Awesome, ...) are
    dropped; Leaflet comes inlined from :func:`offline_assets_html` (added by
    :func:`base_map`), and the background context from the map's context layer.

    Parameters
    ----------
    fmap
        The map.
    shared
        Leave :data:`ASSETS_TOKEN` and :data:`CONTEXT_TOKEN` in the page for the report
        to fill from its single copy of each.
    """
    root: Any = fmap.get_root()  # a branca Figure: header, html and script sections
    elements = [e for part in (root, root.header, root.html, root.script) for e in _walk(part)]
    for element in elements:
        if isinstance(element, JSCSSMixin):
            element.default_js = []
            element.default_css = []
    # Folium adds children while rendering (one more ``addTo`` per render): keep the
    # tree as it was so the map renders the same again (maps/NAME.html and the report)
    before = [(element, element._children.copy()) for element in elements]
    policies = folium.GeoJson._template.environment.policies
    with _RENDER_LOCK:
        original, dumps = MacroElement.render, policies["json.dumps_kwargs"]
        MacroElement.render = _render_macro  # type: ignore[method-assign]
        policies["json.dumps_kwargs"] = {**dumps, "separators": (",", ":")}  # compact data
        try:
            page = str(root.render())
        finally:
            MacroElement.render = original  # type: ignore[method-assign]
            policies["json.dumps_kwargs"] = dumps
            for element, children in before:
                element._children = children
    if shared:
        return page
    context = next((e.data_json for e in elements if hasattr(e, "data_json")), "null")
    return page.replace(ASSETS_TOKEN, offline_assets_html(), 1).replace(
        CONTEXT_TOKEN, context, 1
    )


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary name beside ``path``, then move it in place.

    Raises
    ------
    OutputError
        When the folder is missing or not writable.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}; check the folder exists and "
            "is writable"
        ) from exc


def write_map(fmap: folium.Map, path: Path) -> None:
    """Write ``fmap`` as a standalone offline HTML file (``maps/NAME.html``)."""
    write_text_atomic(Path(path), render_map_html(fmap))


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ScorecardRow:
    """One target of the scorecard, formatted for display."""

    analysis: str
    kind: str
    indicator: str
    city: str
    target: str
    year: str
    source: str
    status: str
    status_class: str
    short: str


def population_short(indicator: Indicator) -> int | None:
    """Residents who must be covered in addition for the city to meet a share target.

    Defined for population shares (keys ``pop_share*``, unit ``share``, whose
    denominator is population) with a ``>=`` or ``>`` target: ``ceil(target * den -
    num)`` for ``>=`` (one more resident for ``>`` at equality), 0 when met.

    Returns
    -------
    int or None
        ``None`` when the indicator has no such target.

    Examples
    --------
    >>> from urbanform.results import IndicatorValue, Target
    >>> ind = Indicator("pop_share", "share", "", Target("pop_share", ">=", 0.9),
    ...                 IndicatorValue(0.82, False, 2050.0, 2500.0))
    >>> population_short(ind)
    200
    """
    target = indicator.target
    if (
        target is None
        or not indicator.key.startswith("pop_share")
        or indicator.unit != "share"
        or target.op not in (">=", ">")
    ):
        return None
    need = target.value * indicator.city.denominator - indicator.city.numerator
    if target.op == ">=":
        return max(0, math.ceil(need - _EPS))
    return max(0, math.floor(need + _EPS) + 1)


def _status(met: bool | None, language: str) -> tuple[str, str]:
    if met is None:  # a target but no value (no population, ...)
        return i18n.format_value(None), "none"
    return (i18n.t("met", language), "met") if met else (i18n.t("not_met", language), "unmet")


def scorecard_rows(results: list[AnalysisResult], *, language: str = "en") -> list[ScorecardRow]:
    """One row per indicator that has a target, in the order of ``results``."""
    rows = []
    for result in results:
        for key, ind in result.indicators.items():
            if ind.target is None:
                continue
            status, css = _status(ind.city.met, language)
            short = population_short(ind)
            rows.append(
                ScorecardRow(
                    analysis=result.name,
                    kind=i18n.kind_label(result.kind, language),
                    indicator=i18n.indicator_label(key, ind.label, language, kind=result.kind),
                    city=i18n.format_value(ind.city.value, unit=ind.unit, language=language),
                    target=i18n.format_target(ind.target.op, ind.target.value, unit=ind.unit),
                    year=str(ind.target.year) if ind.target.year is not None else i18n.MISSING,
                    source=_source(ind.target, language),
                    status=status,
                    status_class=css,
                    short=i18n.MISSING if short is None else f"{short:,}",
                )
            )
    return rows


def district_table(
    results: list[AnalysisResult], *, language: str = "en"
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """District x indicator table over every analysis.

    Returns
    -------
    columns
        One ``{"analysis", "label"}`` per indicator with district values.
    rows
        One ``{"name", "cells"}`` per district (sorted by name); a cell is
        ``{"text", "sort", "css"}``: the formatted value, the raw value for sorting
        (``""`` when missing) and ``met`` / ``unmet`` / ``""``.
    """
    columns: list[dict[str, str]] = []
    indicators: list[Indicator] = []
    for result in results:
        for key, ind in result.indicators.items():
            if ind.districts:
                columns.append(
                    {
                        "analysis": result.name,
                        "label": i18n.indicator_label(key, ind.label, language, kind=result.kind),
                    }
                )
                indicators.append(ind)
    names = sorted({d for ind in indicators for d in ind.districts})
    rows = []
    for name in names:
        cells = []
        for ind in indicators:
            val = ind.districts.get(name)
            value = None if val is None else val.value
            met = None if val is None else val.met
            cells.append(
                {
                    "text": i18n.format_value(value, unit=ind.unit, language=language),
                    "sort": "" if value is None or math.isnan(value) else repr(float(value)),
                    "css": MET_CSS.get(met, ""),
                }
            )
        rows.append({"name": name, "cells": cells})
    return columns, rows


def before_after_rows(
    summary: dict[str, Any] | None, results: list[AnalysisResult], *, language: str = "en"
) -> list[dict[str, str]]:
    """The scenario's before/after table: one row per indicator of every analysis.

    Each row: ``analysis``, ``indicator``, ``baseline``, ``scenario``, ``change``
    (percentage points for shares), ``newly`` (residents newly covered, for population
    shares: the change of the covered count) and ``map_id`` (the analysis's map).
    Empty unless ``summary`` is a scenario run's.
    """
    if not summary or "scenario" not in summary:
        return []
    ids = {r.name: f"map-{i}" for i, r in enumerate(results, start=1)}
    rows = []
    for r in results:
        entry = summary["analyses"].get(r.name, {})
        for key, ind in r.indicators.items():
            city = entry.get("indicators", {}).get(key, {}).get("city", {})
            base, value, gain = city.get("baseline"), city.get("value"), city.get("gain")
            change = i18n.MISSING
            if base is not None and value is not None:
                d = float(value) - float(base)
                change = f"{100 * d:+.1f}" if ind.unit == "share" else f"{d:+.2f}"
            newly = i18n.MISSING
            if key.startswith("pop_share") and ind.unit == "share" and gain is not None:
                newly = f"{gain:+,.0f}"
            rows.append(
                {
                    "analysis": r.name,
                    "indicator": i18n.indicator_label(key, ind.label, language, kind=r.kind),
                    "baseline": i18n.format_value(base, unit=ind.unit, language=language),
                    "scenario": i18n.format_value(value, unit=ind.unit, language=language),
                    "change": change,
                    "newly": newly,
                    "map_id": ids[r.name],
                }
            )
    return rows


def _baseline_note(summary: dict[str, Any] | None, language: str) -> str:
    b = ((summary or {}).get("scenario") or {}).get("baseline") or {}
    if b.get("reused"):
        return i18n.t("baseline_reused", language).format(folder=b.get("folder") or "")
    return i18n.t("baseline_computed", language)


def priority_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of an analysis's "where to act" table, each with the cell's outline.

    ``ring`` is the cell's outline as ``[[lat, lng], ...]`` (JSON), for the map zoom.
    """
    from urbanform.priorities import priority_cells

    cells = priority_cells(items)
    rows = []
    for rank, (item, geom) in enumerate(zip(items, cells.geometry, strict=True), start=1):
        ring = [[round(y, 6), round(x, 6)] for x, y in geom.exterior.coords]
        rows.append(
            {
                "rank": rank,
                "hex_id": item["hex_id"],
                "district": item.get("district") or i18n.MISSING,
                "not_covered": f"{item['not_covered']:,.0f}",
                "population": f"{item['population']:,.0f}",
                "nearest": i18n.MISSING
                if item.get("nearest_m") is None
                else f"{item['nearest_m']:,.0f}",
                "ring": json.dumps(ring, separators=(",", ":")),
            }
        )
    return rows


def _priorities(
    summary: dict[str, Any] | None, name: str, language: str
) -> dict[str, Any] | None:
    """An analysis's "where to act" block, or ``None`` for an analysis without one."""
    entry = ((summary or {}).get("analyses") or {}).get(name) or {}
    if "priorities" not in entry or not any(
        (ind.get("target") or {}).get("indicator") == key
        and key.startswith(RESIDENT_SHARES)
        for key, ind in entry.get("indicators", {}).items()
    ):
        return None
    items = entry["priorities"]
    what = items[0].get("nearest") if items else None
    res = _finest(items)
    intro = (
        i18n.t("priorities_intro", language).format(res=res, what=i18n.t(f"dest_{what}", language))
        if what
        else i18n.t("priorities_intro_unplaced", language).format(res=res)
    )
    return {
        "intro": intro,
        "rows": priority_rows(items),
    }


def _finest(items: list[dict[str, Any]]) -> str:
    """The H3 resolution of the listed cells (read from the first cell id)."""
    if not items:
        return i18n.MISSING
    return str(int(items[0]["hex_id"][1], 16))


def _param_rows(params: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), param_text(v)) for k, v in params.items()]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("urbanform.maps", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _asset_markup(name: str) -> Markup:
    # trusted, packaged files: not escaped (they never hold "</" sequences)
    return Markup(_asset(name).decode("utf-8"))


def _script_json(value: Any) -> Markup:
    r"""``value`` as JSON safe inside a ``<script type="application/json">`` element.

    Every ``<`` is written ``\\u003c``, so no ``</script>`` or ``<!--`` can end or
    confuse the element; ``JSON.parse`` gives the value back unchanged.
    """
    return Markup(json.dumps(value, ensure_ascii=False).replace("<", "\\u003c"))


def _context_json(maps: dict[str, folium.Map]) -> str:
    """The background context GeoJSON the maps share (``"null"`` when none has one)."""
    for fmap in maps.values():
        for element in _walk(fmap):
            if hasattr(element, "data_json"):
                return str(element.data_json).replace("<", "\\u003c")
    return "null"


def _map_ids(results: list[AnalysisResult], maps: dict[str, folium.Map]) -> dict[str, str]:
    """Analysis name -> element id of its map's ``iframe`` in the report."""
    return {r.name: f"map-{i}" for i, r in enumerate(results, start=1) if r.name in maps}


def _analysis_sections(
    results: list[AnalysisResult],
    maps: dict[str, folium.Map],
    *,
    language: str,
    summary: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    ids = _map_ids(results, maps)
    return [
        {
            "name": r.name,
            "priorities": _priorities(summary, r.name, language),
            "map_id": ids.get(r.name, ""),
            "kind": i18n.kind_label(r.kind, language),
            "map_page": _script_json(render_map_html(maps[r.name], shared=True))
            if r.name in maps
            else "",
            "method": i18n.method_text(r.kind, r.method, r.params, language),
            "params": _param_rows(r.params),
            "warnings": [i18n.warning_text(w, language) for w in r.warnings],
        }
        for r in results
    ]


def render_report(  # noqa: PLR0913 - the report's facts, all keyword-only
    *,
    workspace_name: str,
    crs: str,
    results: list[AnalysisResult],
    maps: dict[str, folium.Map],
    provenance: list[Provenance],
    warnings: list[str],
    language: str = "en",
    version: str,
    run_seconds: float,
    started_at: str,
    summary: dict[str, Any] | None = None,
) -> str:
    """Render the report as one HTML string (see :func:`write_report`)."""
    i18n.check_language(language)
    columns, rows = district_table(results, language=language)
    return _environment().get_template("report.html.j2").render(
        s=i18n.STRINGS[language],
        html_lang=_HTML_LANG[language],
        workspace_name=workspace_name,
        crs=crs,
        version=version,
        started_at=started_at,
        run_time=f"{run_seconds:.1f} {i18n.t('seconds', language)}",
        scorecard=scorecard_rows(results, language=language),
        district_columns=columns,
        district_rows=rows,
        analyses=_analysis_sections(results, maps, language=language, summary=summary),
        scenario=(summary or {}).get("scenario"),
        baseline_note=_baseline_note(summary, language),
        before_after=before_after_rows(summary, results, language=language),
        comparisons=comparisons(results, map_ids=_map_ids(results, maps), language=language),
        warnings=[i18n.warning_text(w, language) for w in warnings],
        provenance=provenance,
        css=_asset_markup("report.css"),
        js=_asset_markup("report.js"),
        map_assets=_script_json(offline_assets_html()) if maps else "",
        map_context=Markup(_context_json(maps)) if maps else "",
    )


def write_report(  # noqa: PLR0913 - the report's facts, all keyword-only
    path: Path,
    *,
    workspace_name: str,
    crs: str,
    results: list[AnalysisResult],
    maps: dict[str, folium.Map],
    provenance: list[Provenance],
    warnings: list[str],
    language: str = "en",
    version: str,
    run_seconds: float,
    started_at: str,
    summary: dict[str, Any] | None = None,
) -> None:
    """Write the self-contained offline report (``report.html``).

    Parameters
    ----------
    path
        Output file; written to a temporary name, then moved into place.
    workspace_name
        The workspace's ``name``.
    crs
        The working CRS, as text (for example ``EPSG:32648``).
    results
        The analysis results, in report order.
    maps
        Analysis name -> map (from :func:`urbanform.maps.analysis_map`); an analysis
        without a map gets no map in its section.
    provenance
        One record per input layer (source, feature count, CRS, SHA-256).
    warnings
        Data warnings of the layers (repaired geometries, unmapped classes, ...).
    language
        ``en`` or ``zh``.
    version
        The urbanform version.
    run_seconds
        Run time in seconds.
    started_at
        When the run started (ISO 8601 text).
    summary
        The run's ``summary.json`` mapping: its ``priorities`` give each analysis a
        "where to act" table and, in a scenario run, its ``scenario`` and ``baseline``
        values the before/after table.

    Raises
    ------
    OutputError
        When the language is unsupported or the file cannot be written.
    """
    page = render_report(
        workspace_name=workspace_name,
        crs=crs,
        results=results,
        maps=maps,
        provenance=provenance,
        warnings=warnings,
        language=language,
        version=version,
        run_seconds=run_seconds,
        started_at=started_at,
        summary=summary,
    )
    write_text_atomic(Path(path), page)


def _source(target: Any, language: str) -> str:
    """A target's source in the report's language (``source_zh`` in Chinese, if given)."""
    zh = getattr(target, "source_zh", None)
    return str(zh if language == "zh" and zh else target.source or i18n.MISSING)
