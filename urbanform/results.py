"""What an analysis returns, shared by analyses, grid, maps and outputs.

An analysis reports its indicators through *units*: points in the working CRS, each
carrying, for every indicator ``K``, a numerator ``K__num`` and a denominator
``K__den`` (for example covered population and population). The city value of ``K`` is
``sum(num) / sum(den)``, a district value the same sum over the units of that district,
and an H3 cell value the same sum over the units in the cell, so cell, district and city
figures always add up.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = [
    "Target",
    "IndicatorValue",
    "Indicator",
    "AnalysisResult",
    "LayerStyle",
    "indicator_values",
    "split_styled",
    "NUM",
    "DEN",
]

NUM = "__num"
DEN = "__den"

_OPS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    """A planning target: ``indicator op value`` (for example ``pop_share >= 0.9``)."""

    indicator: str
    op: str
    value: float
    year: int | None = None
    source: str | None = None
    source_zh: str | None = None

    def met(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the target (``None`` when the value is missing)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return bool(_OPS[self.op](value, self.value))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping, as in ``summary.json``."""
        return {
            "indicator": self.indicator,
            "op": self.op,
            "value": self.value,
            "year": self.year,
            "source": self.source,
            "source_zh": self.source_zh,
        }


@dataclass
class IndicatorValue:
    """One value of an indicator (city or district) with whether it meets the target."""

    value: float | None
    met: bool | None
    numerator: float = 0.0
    denominator: float = 0.0


@dataclass
class Indicator:
    """An indicator of one analysis: its unit, target, city and district values."""

    key: str
    unit: str
    label: str
    target: Target | None
    city: IndicatorValue
    districts: dict[str, IndicatorValue] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerStyle:
    """How a result layer is drawn in the HTML maps and styled in QGIS.

    Every field is optional (``None``: not given); the maps and the QGIS styles fall back
    to a single colour and the layer's key as title.

    Attributes
    ----------
    title, title_zh
        The layer's title in English and Chinese (legend, layer control, QGIS).
    value_field
        Numeric column drawn in graduated colours; without it the layer has one ``color``.
    ramp
        Palette of the graduated colours (:mod:`urbanform.maps.palette`: ``good``,
        ``bad``, ``seq``, ``diverging``; default ``seq``).
    target
        A share ``value_field`` must reach: put on a class edge.
    color
        ``#rrggbb`` of a layer without ``value_field``.
    label_field
        Column labelling the features in QGIS.
    popup_fields
        Columns shown in the map popup (default: every column).
    labels
        Language -> column -> alias (popups, legends, QGIS field aliases).
    aggregated
        For a layer too large for a web map, drawn as H3 cells: ``features``, ``cells``
        and ``resolution``.

    Examples
    --------
    >>> s = LayerStyle(title="Parks", value_field="area_m2", ramp="seq")
    >>> s.hints()
    {'title': 'Parks', 'value_field': 'area_m2', 'ramp': 'seq'}
    >>> LayerStyle.from_hints(s.hints()) == s
    True
    """

    title: str | None = None
    title_zh: str | None = None
    value_field: str | None = None
    ramp: str | None = None
    target: float | None = None
    color: str | None = None
    label_field: str | None = None
    popup_fields: Sequence[str] | None = None
    labels: Mapping[str, Mapping[str, str]] | None = None
    aggregated: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        if self.popup_fields is not None:  # a tuple: equal styles compare equal
            object.__setattr__(self, "popup_fields", tuple(self.popup_fields))

    @classmethod
    def from_hints(cls, hints: Any) -> LayerStyle:
        """The style of display hints as a mapping (as :meth:`hints` writes them).

        Unknown keys are ignored, and so is a ``target`` that is not a number; anything
        that is not a mapping gives the empty style.
        """
        if not isinstance(hints, Mapping):
            return cls()
        known = {f.name for f in fields(cls)}
        given = {k: v for k, v in hints.items() if k in known}
        target = given.get("target")
        if not isinstance(target, int | float) or isinstance(target, bool):
            given["target"] = None
        else:
            given["target"] = float(target)
        return cls(**given)

    def hints(self, *, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The given fields as a JSON-ready mapping.

        The H3 GeoParquet files store their style this way (under ``urbanform`` in the
        frame's ``attrs``, which GeoParquet keeps), for readers of the files; in a run,
        styles travel as :class:`LayerStyle` objects beside the frames.
        ``keys`` names exactly the fields to write, in that order, ``None`` ones too.

        Examples
        --------
        >>> LayerStyle(title="t").hints(keys=("title", "target"))
        {'title': 't', 'target': None}
        """
        names = keys if keys is not None else tuple(f.name for f in fields(self))
        out: dict[str, Any] = {}
        for name in names:
            value = getattr(self, name)
            if value is not None or keys is not None:
                out[name] = list(value) if name == "popup_fields" and value else value
        return out

    def title_in(self, language: str) -> str:
        """The title in ``language`` (``title_zh`` for ``zh`` when given), else ``""``."""
        if language == "zh" and self.title_zh:
            return self.title_zh
        return self.title or ""


@dataclass
class AnalysisResult:
    """Everything one analysis run produced.

    Attributes
    ----------
    name
        The run's key (the ``analyses/NAME.yml`` stem).
    kind
        ``park_coverage``, ``living_circle``, ``tod``, ``jobs_housing`` or ``forest_cover``.
    params
        The effective parameters (defaults filled in), JSON-ready.
    indicators
        Key -> :class:`Indicator`.
    units
        Points in the working CRS with a ``district`` column (``None`` outside every
        district) and ``K__num`` / ``K__den`` columns for every indicator ``K``; the
        H3 summaries are built from them.
    layers
        Result layers for the GeoPackage and maps, name -> GeoDataFrame in the working
        CRS (for example ``gaps``, ``service_areas``, ``districts``).
    styles
        Layer name -> its :class:`LayerStyle`, beside :attr:`layers` (a layer without
        one is drawn with the defaults: see :meth:`style`). Maps, QGIS styles and the
        report read styles here; a GeoDataFrame's ``attrs`` carry none.
    method
        The method in plain words, for the report.
    warnings
        Counted warnings from the run (unsnapped units, ...), for the report.
    extra
        Other JSON-ready figures (for example the minimum commute distance).
    """

    name: str
    kind: str
    params: dict[str, Any]
    indicators: dict[str, Indicator]
    units: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    styles: dict[str, LayerStyle] = field(default_factory=dict)
    method: str = ""
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def main_indicator(self) -> str | None:
        """The indicator maps and QGIS styles draw first: the targeted one, else the first.

        Decided here only: the districts layer's ``value_field``, the H3 cells' colours
        and the order of the map's choropleths all follow it.
        """
        for key, ind in self.indicators.items():
            if ind.target is not None:
                return key
        return next(iter(self.indicators), None)

    def style(self, layer: str) -> LayerStyle:
        """The style of result layer ``layer`` (the empty style when it has none)."""
        return self.styles.get(layer, LayerStyle())


def split_styled(
    styled: Mapping[str, tuple[gpd.GeoDataFrame, LayerStyle]],
) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, LayerStyle]]:
    """``{name: (frame, style)}`` as the two dicts :class:`AnalysisResult` holds.

    Examples
    --------
    >>> import geopandas as gpd
    >>> layers, styles = split_styled({"gaps": (gpd.GeoDataFrame(), LayerStyle(title="G"))})
    >>> list(layers), styles["gaps"].title
    (['gaps'], 'G')
    """
    return ({k: v[0] for k, v in styled.items()}, {k: v[1] for k, v in styled.items()})


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def indicator_values(
    units: pd.DataFrame,
    key: str,
    *,
    unit: str = "share",
    label: str = "",
    target: Target | None = None,
    districts: list[str] | None = None,
) -> Indicator:
    """Aggregate the ``key__num`` / ``key__den`` columns of ``units`` into an indicator.

    Parameters
    ----------
    units
        Frame with ``district``, ``{key}__num`` and ``{key}__den`` columns.
    key
        Indicator key, for example ``pop_share``.
    unit
        Unit of the value (``share`` for fractions in [0, 1], ``ratio``, ...).
    label
        Human-readable label.
    target
        The run's target, if any; it applies to city and district values when its
        ``indicator`` is ``key`` and is ignored otherwise.
    districts
        District names to report even when they hold no unit (value ``None``).

    Returns
    -------
    Indicator
        City value = sum of numerators / sum of denominators; the same per district.

    Examples
    --------
    >>> import pandas as pd
    >>> u = pd.DataFrame({"district": ["a", "a", "b"],
    ...                   "x__num": [1.0, 0.0, 2.0], "x__den": [1.0, 1.0, 2.0]})
    >>> ind = indicator_values(u, "x", target=Target("x", ">=", 0.9))
    >>> ind.city.value, ind.districts["a"].value, ind.districts["b"].met
    (0.75, 0.5, True)
    >>> indicator_values(u, "x", target=Target("y", ">=", 0.9)).target is None
    True
    """
    if target is not None and target.indicator != key:
        target = None
    num_col, den_col = f"{key}{NUM}", f"{key}{DEN}"
    num = units[num_col].to_numpy(dtype=float)
    den = units[den_col].to_numpy(dtype=float)
    cn, cd = float(np.nansum(num)), float(np.nansum(den))
    cv = _ratio(cn, cd)
    city = IndicatorValue(cv, target.met(cv) if target else None, cn, cd)
    out: dict[str, IndicatorValue] = {}
    if "district" in units.columns:
        grouped = (
            pd.DataFrame({"d": units["district"].to_numpy(), "n": num, "q": den})
            .dropna(subset=["d"])
            .groupby("d", sort=True)[["n", "q"]]
            .sum()
        )
        for d, row in grouped.iterrows():
            v = _ratio(float(row["n"]), float(row["q"]))
            out[str(d)] = IndicatorValue(
                v, target.met(v) if target else None, float(row["n"]), float(row["q"])
            )
    for d in districts or []:
        out.setdefault(d, IndicatorValue(None, None))
    return Indicator(key, unit, label or key, target, city, dict(sorted(out.items())))
