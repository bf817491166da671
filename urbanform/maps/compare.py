"""Side-by-side comparison of runs of the same analysis kind, for the report.

A workspace often runs one kind twice: park coverage by straight line and on the street
network, forest cover against the 2025 and the 2030 target, the 5-, 10- and 15-minute
living circles. :func:`comparisons` groups the results by kind and, for every indicator
the runs share, builds a district x run table (plus the city row) with each run's value
and its difference from the group's first run (percentage points for shares).

Each run is named by what sets it apart from the others of its group
(:func:`run_details`): the parameters whose values differ (``distance: euclidean`` reads
"straight line", ``network`` "walking"), else the target.

Examples
--------
>>> pp_difference(0.72, 0.82, unit="share")
'−10.0 pp'
>>> pp_difference(0.82, 0.82, unit="share", language="zh")
'0.0 个百分点'
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from urbanform.maps import i18n
from urbanform.results import AnalysisResult, Indicator

__all__ = [
    "MET_CSS",
    "Comparison",
    "ComparisonRun",
    "ComparisonTable",
    "comparisons",
    "param_text",
    "pp_difference",
    "run_details",
]

#: Parameters that name a run best, in order; at most two are shown.
_KEY_PARAMS = ("distance", "level", "radius_m", "distance_m", "minutes")
_MAX_DETAILS = 2
_MINUS = "−"


@dataclass(frozen=True)
class ComparisonRun:
    """One run of a comparison.

    ``detail`` is what sets it apart (``"straight line"``), ``note`` the same in
    brackets (``"(straight line)"``, full-width in Chinese; ``""`` when nothing does),
    ``header`` the name and note (``"park500 (straight line)"``), ``map_id`` the
    element id of its map in the report (``None`` without one).
    """

    name: str
    detail: str
    note: str
    header: str
    map_id: str | None


@dataclass(frozen=True)
class ComparisonTable:
    """District x run values of one shared indicator, with differences to the first run.

    ``rows`` hold ``{"name", "city", "cells", "diffs"}``: a cell is ``{"text", "css"}``
    (``css`` ``met`` / ``unmet`` / ``""``), a difference is its text; the city row last.
    """

    key: str
    label: str
    unit: str
    diff_headers: list[str]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Comparison:
    """Runs of one analysis kind, their shared indicators' tables and their maps."""

    kind: str
    kind_label: str
    runs: list[ComparisonRun]
    tables: list[ComparisonTable]


#: CSS class of a value by whether it meets its target (``""`` for no target / no value).
MET_CSS: dict[bool | None, str] = {True: "met", False: "unmet"}


def pp_difference(
    value: float | None, base: float | None, *, unit: str | None, language: str = "en"
) -> str:
    """Format ``value - base``: percentage points for shares, a signed number otherwise.

    A dash when either value is missing; no sign on a zero difference.
    """
    if value is None or base is None or not (math.isfinite(value) and math.isfinite(base)):
        return i18n.MISSING
    diff = float(value) - float(base)
    if unit == "share":
        text, suffix = f"{abs(diff) * 100:.1f}", f" {i18n.t('pp', language)}"
    else:
        text, suffix = f"{abs(diff):.2f}", ""
    if float(text) == 0.0:
        return f"{text}{suffix}"
    return f"{'+' if diff > 0 else _MINUS}{text}{suffix}"


def param_text(value: Any) -> str:
    """A parameter value as shown in the report: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _param_detail(key: str, value: Any, language: str) -> str:
    """Human text of one distinguishing parameter."""
    if key == "distance" and value in ("euclidean", "network"):
        return i18n.t(f"cmp_distance_{value}", language)
    if key == "level" and value is not None:
        return i18n.t("cmp_level", language).format(value=param_text(value))
    if key in ("radius_m", "distance_m") and isinstance(value, int | float):
        return i18n.t("cmp_metres", language).format(value=f"{value:,g}")
    return f"{key}{i18n.t('colon', language)}{param_text(value)}"


def _target_detail(result: AnalysisResult, language: str) -> str:
    targeted = [i for i in result.indicators.values() if i.target is not None]
    if not targeted:
        return i18n.t("no_target", language)
    ind = targeted[0]
    target = ind.target
    if target is None:  # for the type checker: targeted holds targets only
        return ""
    text = i18n.format_target(target.op, target.value, unit=ind.unit)
    if target.year is None:
        return i18n.t("cmp_target", language).format(target=text)
    return i18n.t("cmp_target_year", language).format(target=text, year=target.year)


def run_details(results: list[AnalysisResult], *, language: str = "en") -> list[str]:
    """What sets each run apart from the others (same order as ``results``).

    The parameters whose values differ between the runs, the best-known first
    (``distance``, ``level``, radii), at most two; when no parameter differs, the
    runs' targets; ``""`` when nothing differs.
    """
    differing = _differing(results)
    known = [k for k in differing if k in _KEY_PARAMS]
    chosen = (known or differing)[:_MAX_DETAILS]
    if chosen:
        sep = "，" if language == "zh" else ", "
        return [
            sep.join(_param_detail(k, r.params.get(k), language) for k in chosen) for r in results
        ]
    targets = [_target_detail(r, language) for r in results]
    return targets if len(set(targets)) > 1 else ["" for _ in results]


def _cell(ind: Indicator, district: str | None, language: str) -> tuple[dict[str, str], Any]:
    val = ind.city if district is None else ind.districts.get(district)
    value = None if val is None else val.value
    met = None if val is None else val.met
    text = i18n.format_value(value, unit=ind.unit, language=language)
    return {"text": text, "css": MET_CSS.get(met, "")}, value


def _table(key: str, group: list[AnalysisResult], *, language: str) -> ComparisonTable:
    inds = [r.indicators[key] for r in group]
    first = inds[0]
    names = sorted({d for ind in inds for d in ind.districts})
    rows = []
    for district in [*names, None]:
        cells, values = zip(*(_cell(ind, district, language) for ind in inds), strict=True)
        diffs = [
            pp_difference(v, values[0], unit=first.unit, language=language) for v in values[1:]
        ]
        rows.append(
            {
                "name": i18n.t("city", language) if district is None else district,
                "city": district is None,
                "cells": list(cells),
                "diffs": diffs,
            }
        )
    return ComparisonTable(
        key=key,
        label=i18n.indicator_label(key, first.label, language, kind=group[0].kind),
        unit=first.unit,
        diff_headers=[f"{r.name} {_MINUS} {group[0].name}" for r in group[1:]],
        rows=rows,
    )


def _differing(group: list[AnalysisResult]) -> list[str]:
    """Parameter keys whose values differ between the runs, best-known first."""
    keys = list(dict.fromkeys(k for r in group for k in r.params))
    differing = [k for k in keys if len({param_text(r.params.get(k)) for r in group}) > 1]
    known = [k for k in _KEY_PARAMS if k in differing]
    return known + [k for k in differing if k not in known]


def _ordered(group: list[AnalysisResult]) -> list[AnalysisResult]:
    """Runs by their first differing parameter when it is a number in every run.

    The 5-, 10- and 15-minute circles go by ``level``; other runs stay as given.
    """
    keys = _differing(group)
    if keys and all(_is_number(r.params.get(keys[0])) for r in group):
        return sorted(group, key=lambda r: float(r.params[keys[0]]))
    return list(group)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _run(name: str, detail: str, map_id: str | None, language: str) -> ComparisonRun:
    if not detail:
        return ComparisonRun(name, "", "", name, map_id)
    note = f"（{detail}）" if language == "zh" else f"({detail})"
    header = f"{name}{note}" if language == "zh" else f"{name} {note}"
    return ComparisonRun(name, detail, note, header, map_id)


def _shared_keys(group: list[AnalysisResult]) -> list[str]:
    """Indicator keys every run of ``group`` has, with the same unit.

    In the first run's order, those with a target first (the scorecard's indicators).
    """
    first = group[0].indicators
    keys = [
        k
        for k, ind in first.items()
        if all(k in r.indicators and r.indicators[k].unit == ind.unit for r in group[1:])
    ]
    return sorted(keys, key=lambda k: first[k].target is None)


def comparisons(
    results: list[AnalysisResult],
    *,
    map_ids: dict[str, str] | None = None,
    language: str = "en",
) -> list[Comparison]:
    """Comparisons of the runs that share an analysis kind, in the order of ``results``.

    Within a comparison the runs keep their order, unless the first parameter that sets
    them apart is a number (a living circle's ``level``): then they go by it, and the
    differences are taken from the smallest.

    Parameters
    ----------
    results
        The analysis results of the report.
    map_ids
        Analysis name -> element id of its map in the report (runs without one get
        no map in the comparison).
    language
        ``en`` or ``zh``.

    Returns
    -------
    list of Comparison
        One per kind with two or more runs sharing at least one indicator.
    """
    i18n.check_language(language)
    by_kind: dict[str, list[AnalysisResult]] = {}
    for result in results:
        by_kind.setdefault(result.kind, []).append(result)
    out = []
    for kind, runs_of_kind in by_kind.items():
        group = _ordered(runs_of_kind)
        keys = _shared_keys(group) if len(group) > 1 else []
        if not keys:
            continue
        details = run_details(group, language=language)
        ids = map_ids or {}
        runs = [
            _run(r.name, d, ids.get(r.name), language) for r, d in zip(group, details, strict=True)
        ]
        tables = [_table(k, group, language=language) for k in keys]
        out.append(Comparison(kind, i18n.kind_label(kind, language), runs, tables))
    return out
