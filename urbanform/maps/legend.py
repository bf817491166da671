"""Map legends: one box per map, one part per layer, plain HTML and CSS.

Branca's colormap legend pulls d3 from a CDN; these legends need nothing. The class
labels are :func:`urbanform.maps.i18n.class_labels`, as in the QGIS styles' ranges.
"""

from __future__ import annotations

import html
from importlib.resources import files
from typing import cast

import folium
import numpy as np
from branca.element import MacroElement
from folium.template import Template

from urbanform.maps import i18n, palette
from urbanform.maps.i18n import class_labels

__all__ = ["Legend", "class_labels", "graduated_legend", "legend_html"]


def js_template(name: str) -> Template:
    """Load a Folium element template (a ``script`` macro) from ``templates/``."""
    text = (files("urbanform.maps") / "templates" / name).read_text(encoding="utf-8")
    return cast(Template, Template(text))


class Legend(MacroElement):
    """A layer's part of the map's legend box, shown while ``layer`` is on the map.

    Built as plain HTML/CSS (branca's colormap legend pulls d3 from a CDN). Every
    legend of a map goes into one box in the bottom-right corner.

    Parameters
    ----------
    html_text
        The legend's inner HTML, already escaped (see :func:`legend_html`).
    layer
        The layer the legend describes.
    """

    _template = js_template("legend.js.j2")

    def __init__(self, html_text: str, *, layer: folium.map.Layer) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca is untyped
        self._name = "Legend"
        self.html_text = html_text
        self.layer = layer


def legend_html(
    title: str, *, colors: list[str], labels: list[str], point: bool = False, caption: str = ""
) -> str:
    """Build the escaped inner HTML of a legend.

    A title (if any), a caption naming the classified value (if any), one row per class.
    """
    shape = "uf-swatch uf-point" if point else "uf-swatch"
    rows = [f'<div class="uf-legend-title">{html.escape(title)}</div>'] if title else []
    if caption:
        rows.append(f'<div class="uf-legend-caption">{html.escape(caption)}</div>')
    for colour, label in zip(colors, labels, strict=True):
        rows.append(
            f'<div class="uf-legend-row"><span class="{shape}" '
            f'style="background:{html.escape(colour)}"></span>{html.escape(label)}</div>'
        )
    return "".join(rows)


def graduated_legend(
    title: str, values: np.ndarray, breaks: list[float], ramp: str, *, unit: str | None,
    language: str, point: bool, caption: str = ""
) -> str:
    """Legend rows for each class, and for missing values when ``values`` has some.

    ``caption`` names the classified value under the title (``"Categories missing"``).
    """
    colours = palette.class_colors(breaks, ramp)
    labels = class_labels(breaks, unit=unit, language=language)
    if not np.isfinite(values).all():
        colours, labels = colours + [palette.NODATA_COLOR], labels + [i18n.t("no_data", language)]
    return legend_html(title, colors=colours, labels=labels, point=point, caption=caption)
