"""Living circles (GB 50180-2018): residents within walking reach of everyday facilities.

GB 50180-2018 defines 5-, 10- and 15-minute living circles by walking distance (about
300 m, 500 m and 800-1,000 m) and by the facilities each circle must hold. A population
unit is *covered* for a category when a facility of that category lies within the
walking distance along the street network (snap + along-edge + network + along-edge +
snap, see :mod:`urbanform.network`). One compiled multi-source shortest-path pass per
category answers every unit at once; everything after it is vectorised.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from urbanform import network
from urbanform.analyses.common import resident_units
from urbanform.analyses.context import Context
from urbanform.analyses.params import (
    Params,
    merge_params,
    param,
    piece_share_param,
    positive_number,
    share_param,
)
from urbanform.errors import AnalysisError, LayerError
from urbanform.results import (
    DEN,
    NUM,
    AnalysisResult,
    Indicator,
    LayerStyle,
    Target,
    indicator_values,
    split_styled,
)

__all__ = [
    "DEFAULTS",
    "INDICATORS",
    "LEVELS",
    "DEFAULT_SPEED_M_S",
    "validate_params",
    "indicator_keys",
    "category_distances",
    "missing_labels",
    "run",
]

log = logging.getLogger(__name__)

LEVELS: dict[int, tuple[float, tuple[str, ...]]] = {
    5: (300.0, ("kindergarten", "convenience_store", "community_service", "playground")),
    10: (500.0, ("primary_school", "fresh_market", "sports_ground")),
    15: (
        1000.0,
        ("middle_school", "health_centre", "market", "elderly_care", "sports", "culture"),
    ),
}
"""Level (minutes) -> (walking distance in metres, required facility categories)."""

DEFAULT_SPEED_M_S = 1.0
"""Walking speed used with ``minutes``: 1.0 m/s, the pace behind GB 50180-2018's
"5 minutes, 300 m" (children and elderly people are the main users of the circle)."""

@dataclass(frozen=True)
class LivingCircleParams(Params):
    """Parameters of ``kind: living_circle``."""

    kind: ClassVar[str] = "living_circle"
    level: int = param(15, "5, 10, 15")
    distance_m: float | None = param(None, "300 / 500 / 1,000 by level")
    minutes: float | None = param(None, "instead of `distance_m`, with `speed_m_s`")
    speed_m_s: float = param(DEFAULT_SPEED_M_S, "walking speed for `minutes`")
    categories: list[str] | None = param(None, "defaults by level, GB 50180 names")
    max_snap_m: float = param(100.0, "farther from a street counts as not covered")
    min_piece_share: float = piece_share_param()

    @property
    def cutoff_m(self) -> float:
        """The walking distance: ``distance_m``, set by :func:`validate_params`."""
        if self.distance_m is None:
            raise AnalysisError("living_circle parameters used before validate_params")
        return float(self.distance_m)

    @property
    def category_list(self) -> list[str]:
        """The required categories, set by :func:`validate_params`."""
        if self.categories is None:
            raise AnalysisError("living_circle parameters used before validate_params")
        return list(self.categories)


DEFAULTS: dict[str, Any] = LivingCircleParams.defaults()

INDICATORS: dict[str, tuple[str, str]] = {
    "pop_share_all": ("share", "Residents within reach of every required facility"),
    **{
        f"pop_share_{c}": ("share", f"Residents within reach of {c.replace('_', ' ')}")
        for _, cats in LEVELS.values()
        for c in cats
    },
}

_CATEGORY_RE = re.compile(r"\w+")
SNAP_CHUNK = 100_000
"""Points snapped per call: bounds the snapping memory peak on million-unit cities."""
MAX_PIECES_REPORTED = 20
"""How many disconnected street pieces (most residents first) ``extra`` lists."""


def validate_params(params: dict[str, Any] | None, *, where: str) -> LivingCircleParams:
    """The effective living-circle parameters, defaults by level filled in.

    Parameters
    ----------
    params
        ``params`` from ``analyses/NAME.yml``: ``level`` (5, 10, 15), ``distance_m`` or
        ``minutes`` (with ``speed_m_s``), ``categories``, ``max_snap_m``.
    where
        The file name, for messages.

    Returns
    -------
    dict
        JSON-ready parameters; ``distance_m`` is always set (from the level, or
        ``minutes * 60 * speed_m_s``) and ``categories`` is a list.

    Raises
    ------
    AnalysisError
        For an unknown key, a bad level, both ``distance_m`` and ``minutes``, a
        non-positive number or a bad category list.

    Examples
    --------
    >>> p = validate_params({"level": 5, "minutes": 5, "speed_m_s": 1.2}, where="c.yml")
    >>> p.distance_m, p.categories[0]
    (360.0, 'kindergarten')
    """
    given = dict(params or {})
    out = merge_params(given, DEFAULTS, where=where)
    level = out["level"]
    if isinstance(level, bool) or not isinstance(level, int | float) or level not in LEVELS:
        raise AnalysisError(f"{where}: params.level must be one of 5, 10, 15, got {level!r}")
    out["level"] = int(level)
    out["max_snap_m"] = positive_number(out["max_snap_m"], key="max_snap_m", where=where)
    out["min_piece_share"] = share_param(out["min_piece_share"], where=where)
    out["speed_m_s"] = positive_number(out["speed_m_s"], key="speed_m_s", where=where)
    out["distance_m"] = _distance_m(given, out, where=where)
    cats = out["categories"]
    out["categories"] = list(LEVELS[out["level"]][1]) if cats is None else _categories(
        cats, where=where
    )
    return LivingCircleParams(**out)


def indicator_keys(params: Mapping[str, Any]) -> list[str]:
    """The indicators a run with these (validated) parameters reports.

    Examples
    --------
    >>> indicator_keys({"categories": ["kindergarten", "playground"]})
    ['pop_share_all', 'pop_share_kindergarten', 'pop_share_playground']
    """
    return ["pop_share_all", *(f"pop_share_{c}" for c in params["categories"])]


def _distance_m(given: dict[str, Any], out: dict[str, Any], *, where: str) -> float:
    if given.get("distance_m") is not None and given.get("minutes") is not None:
        raise AnalysisError(
            f"{where}: params.distance_m and params.minutes exclude each other; give only one"
        )
    if given.get("speed_m_s") is not None and given.get("minutes") is None:
        raise AnalysisError(
            f"{where}: params.speed_m_s applies only with params.minutes; remove it or "
            "give minutes instead of distance_m"
        )
    if out["minutes"] is not None:
        minutes = positive_number(out["minutes"], key="minutes", where=where)
        out["minutes"] = minutes
        return cast(float, round(minutes * 60.0 * out["speed_m_s"], 6))
    if out["distance_m"] is not None:
        return positive_number(out["distance_m"], key="distance_m", where=where)
    return LEVELS[out["level"]][0]


def _categories(cats: Any, *, where: str) -> list[str]:
    if not isinstance(cats, list | tuple) or not cats:
        raise AnalysisError(
            f"{where}: params.categories must be a non-empty list of facility categories, "
            f"got {cats!r}"
        )
    bad = [c for c in cats if not isinstance(c, str) or not _CATEGORY_RE.fullmatch(c)]
    if bad:
        raise AnalysisError(
            f"{where}: params.categories holds {bad[0]!r}; use names of letters, digits "
            "and underscores (for example fresh_market)"
        )
    if len(set(cats)) != len(cats):
        dup = next(c for c in cats if cats.count(c) > 1)
        raise AnalysisError(f"{where}: params.categories lists {dup!r} twice")
    return list(cats)


@contextmanager
def _step(label: str) -> Iterator[None]:
    """Log how long one step took (benchmarks read ``urbanform_step``, ``elapsed_s``, ``cpu_s``)."""
    t0, c0 = time.perf_counter(), time.process_time()
    yield
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    log.info("living circle: %s took %.2f s (%.2f s CPU)", label, dt, cpu,
             extra={"urbanform_step": label, "elapsed_s": dt, "cpu_s": cpu})


def _snap(
    graph: network.WalkGraph,
    xy: np.ndarray,
    *,
    max_snap_m: float,
    chunk: int | None = None,
    min_piece_share: float = 0.0,  # pragma: no mutate - default unused: run passes the share
) -> network.Snapped:
    """:func:`urbanform.network.snap_points` in chunks of ``chunk`` points.

    Each point snaps on its own, so chunks give the same answer while the candidate
    arrays of one chunk, not of a million units, set the memory peak.
    """
    chunk = SNAP_CHUNK if chunk is None else chunk
    if len(xy) <= chunk:
        return network.snap_points(
            graph, xy, max_snap_m=max_snap_m, min_piece_share=min_piece_share
        )
    return network.Snapped.concat(
        [network.snap_points(graph, xy[i:i + chunk], max_snap_m=max_snap_m,
                             min_piece_share=min_piece_share)
         for i in range(0, len(xy), chunk)]
    )


def _points_xy(geoms: gpd.GeoSeries) -> np.ndarray:
    """(n, 2) coordinates of points; other geometries give their representative point."""
    values = geoms.values
    if not (shapely.get_type_id(values) == 0).all():
        values = shapely.point_on_surface(values)
    return cast(np.ndarray, shapely.get_coordinates(values).reshape(len(geoms), 2))


def category_distances(
    graph: network.WalkGraph,
    origins: network.Snapped,
    facilities: network.Snapped,
    facility_category: np.ndarray,
    *,
    categories: list[str],
    cutoff_m: float,
) -> dict[str, np.ndarray]:
    """Walking distance from every origin to the nearest facility of each category.

    Parameters
    ----------
    graph
        The walk network.
    origins
        Snapped population units.
    facilities
        Snapped facilities (unsnapped ones are ignored).
    facility_category
        Category of each facility, aligned with ``facilities``.
    categories
        The categories to answer.
    cutoff_m
        Walking distance beyond which nothing is searched.

    Returns
    -------
    dict
        Category -> ``(n_origins,)`` distances in metres, ``inf`` beyond ``cutoff_m``,
        where unreachable, or where the category has no usable facility.
    """
    usable = facilities.ok
    out: dict[str, np.ndarray] = {}
    for cat in categories:
        idx = np.flatnonzero(usable & (facility_category == cat))
        if idx.size == 0:
            out[cat] = np.full(len(origins.edge), np.inf)
            continue
        dist = network.nearest_distance(
            graph, origins, facilities.subset(idx), cutoff_m=cutoff_m
        )
        out[cat] = np.where(dist <= cutoff_m + 1e-6, dist, np.inf)
        log.info("living circle: %s reached from %d of %d units (%d facilities)",
                 cat, int(np.isfinite(out[cat]).sum()), len(dist), idx.size)
    return out


def missing_labels(missing: np.ndarray, categories: list[str]) -> np.ndarray:
    """Comma-separated names of the missing categories of each row of a boolean matrix.

    Vectorised: one label per distinct row pattern, then a gather.

    Examples
    --------
    >>> m = np.array([[True, False, True], [False, False, False], [True, False, True]])
    >>> missing_labels(m, ["a", "b", "c"]).tolist()
    ['a,c', '', 'a,c']
    """
    if len(missing) == 0:
        return np.array([], dtype=object)
    names = np.array(categories, dtype=object)
    if missing.shape[1] <= 62:  # one integer code per row pattern: a fast 1-D unique
        code = missing.astype(np.int64) @ (np.int64(1) << np.arange(missing.shape[1]))
        codes, inverse = np.unique(code, return_inverse=True)
        patterns = (codes[:, None] >> np.arange(missing.shape[1])) & 1 == 1
    else:
        patterns, inverse = np.unique(missing, axis=0, return_inverse=True)
    labels = np.array([",".join(names[p]) for p in patterns], dtype=object)
    return labels[inverse.reshape(-1)]


def _population(ctx: Context, name: str) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    units = resident_units(ctx, needed_by=name)
    pop = np.nan_to_num(units["population"].to_numpy(dtype=float), nan=0.0)
    units = units[["district", "geometry"]].copy()
    units["population"] = pop
    return units, pop


def _facilities(ctx: Context, name: str, categories: list[str]) -> gpd.GeoDataFrame:
    fac = ctx.layers.vector("facilities", needed_by=name)
    if "category" not in fac.columns:
        raise LayerError(
            f"analysis {name!r}: the facilities layer has no 'category' field; map it in "
            "layers/*.yml with 'fields: {category: YOUR_COLUMN}'"
        )
    fac = fac[fac.geometry.notna() & ~fac.geometry.is_empty]
    if (fac.geom_type == "MultiPoint").any():
        fac = fac.explode(index_parts=False)
    cat = fac["category"].astype(str)
    keep = [c for c in ("name",) if c in fac.columns]
    sel = fac.loc[cat.isin(categories).to_numpy(), [*keep, "geometry"]].copy()
    sel.insert(0, "category", cat[cat.isin(categories)].to_numpy())
    log.info("living circle: %d of %d facilities are of a required category",
             len(sel), len(fac))
    return sel.reset_index(drop=True)


def _coverage_units(
    units: gpd.GeoDataFrame,
    snapped: network.Snapped,
    dists: dict[str, np.ndarray],
    categories: list[str],
) -> gpd.GeoDataFrame:
    """Units with distances, ``n_missing`` and the ``K__num``/``K__den`` of every indicator."""
    pop = units["population"].to_numpy(dtype=float)
    covered = np.column_stack([np.isfinite(dists[c]) for c in categories])
    cols: dict[str, Any] = {
        "district": units["district"].reset_index(drop=True),
        "population": pop,
        "snap_m": np.where(snapped.ok, snapped.snap_m, np.nan),
    }
    for c in categories:
        cols[f"dist_{c}"] = np.where(np.isfinite(dists[c]), dists[c], np.nan)
    cols["n_missing"] = (~covered).sum(axis=1).astype(np.int64)
    cols[f"pop_share_all{NUM}"] = pop * covered.all(axis=1)
    cols[f"pop_share_all{DEN}"] = pop
    for i, c in enumerate(categories):
        cols[f"pop_share_{c}{NUM}"] = pop * covered[:, i]
        cols[f"pop_share_{c}{DEN}"] = pop
    return gpd.GeoDataFrame(cols, geometry=units.geometry.values, crs=units.crs)


def _deficits_layer(
    units: gpd.GeoDataFrame, categories: list[str]
) -> tuple[gpd.GeoDataFrame, LayerStyle]:
    """Residents' units that miss at least one category, with what they miss."""
    keep = (units["n_missing"].to_numpy() > 0) & (units["population"].to_numpy() > 0)
    dist_cols = [f"dist_{c}" for c in categories]
    out = units.loc[keep, ["district", "population", "n_missing", *dist_cols, "geometry"]]
    out = out.reset_index(drop=True)
    missing = ~np.isfinite(out[dist_cols].to_numpy(dtype=float))
    out.insert(2, "missing", missing_labels(missing, categories))
    labels_en = {"population": "Residents", "missing": "Missing facilities",
                 "n_missing": "Categories missing",
                 **{f"dist_{c}": f"Walk to {c.replace('_', ' ')} (m)" for c in categories}}
    labels_zh = {"population": "人口", "missing": "缺少的设施", "n_missing": "缺少类别数",
                 **{f"dist_{c}": f"至{c}步行距离(米)" for c in categories}}
    return out, LayerStyle(
        title="Residents missing a living-circle facility within walking distance",
        title_zh="生活圈设施步行可达不足的居住人口",
        value_field="n_missing",
        ramp="bad",
        popup_fields=["district", "population", "missing", "n_missing", *dist_cols],
        labels={"en": labels_en, "zh": labels_zh},
    )


def _facilities_layer(
    fac: gpd.GeoDataFrame, snapped: network.Snapped
) -> tuple[gpd.GeoDataFrame, LayerStyle]:
    """The facilities attached to the walk network, with their snap distance."""
    ok = snapped.ok
    out = fac.loc[ok].copy()
    out["snap_m"] = np.asarray(snapped.snap_m, dtype=float)[ok]
    out = out.reset_index(drop=True)
    return out, LayerStyle(
        title="Living-circle facilities on the walk network",
        title_zh="生活圈设施",
        color="#1f78b4",
        label_field="category",
        popup_fields=[c for c in ("name", "category", "snap_m") if c in out.columns],
        labels={"en": {"category": "Category", "snap_m": "Distance to street (m)"},
                   "zh": {"category": "类别", "snap_m": "至道路距离(米)"}},
    )


def _units_phrase(n: int, residents: float) -> str:
    unit = "population unit" if n == 1 else "population units"
    return f"{n:,} {unit} ({residents:,.0f} residents)"


def _facility_warnings(
    fac: gpd.GeoDataFrame, snapped: network.Snapped, categories: list[str], max_snap_m: float
) -> list[str]:
    """One line per category that has unattached facilities or no usable facility."""
    out: list[str] = []
    cat = fac["category"].to_numpy()
    ok = snapped.ok
    for c in categories:
        n_all = int((cat == c).sum())
        n_far = int(((cat == c) & ~ok).sum())
        if n_all == 0:
            out.append(f"no {c} facility in the facilities layer: pop_share_{c} is 0")
        elif n_far == n_all:
            out.append(f"all {n_far:,} {c} facilities lie farther than {max_snap_m:g} m "
                       f"from any street and are not used: pop_share_{c} is 0")
        elif n_far:
            out.append(f"{n_far:,} of {n_all:,} {c} facilities lie farther than "
                       f"{max_snap_m:g} m from any street and are not used")
    return out


def _network_warnings(
    graph: network.WalkGraph,
    units: network.Snapped,
    facilities: network.Snapped,
    pop: np.ndarray,
    max_snap_m: float,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Warnings about units off the network, and the disconnected pieces with residents."""
    out: list[str] = network.island_warning(units, pop, "population units", "residents")
    ok = units.ok
    if (~ok).any():
        out.append(f"{_units_phrase(int((~ok).sum()), float(pop[~ok].sum()))} lie farther "
                   f"than {max_snap_m:g} m from any street and count as not covered")
    comp = np.full(len(ok), -1, dtype=np.int64)
    comp[ok] = graph.component[graph.edge_u[units.edge[ok]]]
    fac_comp = np.unique(graph.component[graph.edge_u[facilities.edge[facilities.ok]]])
    lonely = ok & ~np.isin(comp, fac_comp)
    if lonely.any():
        out.append(f"{_units_phrase(int(lonely.sum()), float(pop[lonely].sum()))} lie on "
                   "street pieces without any facility and count as not covered")
    report = network.component_report(graph, units, pop)
    pieces = _component_records(report)
    if pieces:
        n = sum(p["n_origins"] for p in pieces)
        r = sum(p["population"] for p in pieces)
        out.append(f"{len(pieces):,} street pieces cut off from the main network hold "
                   f"{_units_phrase(int(n), float(r))}")
    return out, pieces


def _component_records(report: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows of the component report that hold population units."""
    if report is None or len(report) == 0 or "n_origins" not in report.columns:
        return []
    rep = report[report["n_origins"].to_numpy() > 0]
    # network.component_report's index is named "component"
    rep = rep.reset_index() if "component" not in rep.columns else rep
    return [
        {
            "component": int(row["component"]),
            "n_nodes": int(row.get("n_nodes", 0)),
            "n_origins": int(row["n_origins"]),
            "population": float(row.get("weight", 0.0)),
        }
        for row in rep.to_dict(orient="records")
    ]


def _method(params: LivingCircleParams, categories: list[str]) -> str:
    dist = f"{params.distance_m:,.0f} m"
    if params.get("minutes") is not None:
        dist += f" ({params.minutes:g} minutes at {params.speed_m_s:g} m/s)"
    return (
        f"Following GB 50180-2018's {params.level}-minute living circle, each population "
        f"unit is checked for a facility of every required category ({', '.join(categories)}) "
        f"within {dist} of walking along the street network. The walk counts the straight "
        "line from the home to the nearest street, the way along the streets, and the "
        "straight line from the street to the facility. Homes and facilities farther than "
        f"{params.max_snap_m:g} m from any street are not attached: such homes count as "
        "not covered and such facilities are not used. pop_share_all is the share of "
        "residents who reach every category; pop_share_<category> the share who reach that "
        "category."
    )


def _check_target(target: Target | None, categories: list[str], name: str) -> None:
    keys = indicator_keys({"categories": categories})
    if target is not None and target.indicator not in keys:
        raise AnalysisError(
            f"analysis {name!r}: target indicator {target.indicator!r} is not computed; "
            f"use one of {', '.join(keys)}"
        )


def _district_sums(units: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """One row per district (and one for units outside every district) with column sums.

    Sums of sums: :func:`~urbanform.results.indicator_values` on this frame gives the
    same city and district values as on the units, without re-grouping a million rows
    for every indicator.
    """
    codes, names = pd.factorize(units["district"], use_na_sentinel=True)
    n = len(names) + 1  # the last slot holds the units outside every district
    codes = np.where(codes < 0, len(names), codes)
    sums = {c: np.bincount(codes, weights=np.nan_to_num(units[c].to_numpy(dtype=float)),
                           minlength=n) for c in columns}
    district = np.array([*(str(x) for x in names), None], dtype=object)
    return pd.DataFrame({"district": district, **sums})


def _indicators(
    units: gpd.GeoDataFrame, categories: list[str], target: Target | None, districts: list[str]
) -> dict[str, Indicator]:
    keys = indicator_keys({"categories": categories})
    units = _district_sums(units, [f"{k}{x}" for k in keys for x in (NUM, DEN)])
    out: dict[str, Indicator] = {}
    for key in keys:
        default = ("share", f"Residents within reach of {key[10:].replace('_', ' ')}")
        unit, label = INDICATORS.get(key, default)
        out[key] = indicator_values(units, key, unit=unit, label=label, target=target,
                                    districts=districts)
    return out


def run(
    ctx: Context, *, name: str, params: LivingCircleParams, target: Target | None
) -> AnalysisResult:
    """Share of residents who reach each required facility category on foot.

    Parameters
    ----------
    ctx
        The run context (layers ``population``, ``facilities``, ``streets``; optional
        ``districts``).
    name
        The run's key.
    params
        Parameters from :func:`validate_params`.
    target
        Target of one indicator (``pop_share_all`` or ``pop_share_<category>``), if any.

    Returns
    -------
    AnalysisResult
        Indicators ``pop_share_all`` and ``pop_share_<category>``; layers ``deficits``
        (units missing a category) and ``facilities`` (facilities on the network).

    Raises
    ------
    AnalysisError
        Without residents, or for a target on an indicator that is not computed.
    LayerError
        For a missing layer or a facilities layer without ``category``.
    """
    cats = params.category_list
    cutoff_m, max_snap_m = params.cutoff_m, float(params.max_snap_m)
    _check_target(target, cats, name)
    units, pop = _population(ctx, name)
    fac = _facilities(ctx, name, cats)
    with _step("graph build"):
        graph = ctx.walk_graph(needed_by=name)
    with _step("snapping"):
        share = float(params.min_piece_share)
        usnap = ctx.snapped(
            _points_xy(units.geometry),
            lambda xy: _snap(graph, xy, max_snap_m=max_snap_m, min_piece_share=share),
            max_snap_m=max_snap_m,
            min_piece_share=share,
        )
        fsnap = _snap(graph, _points_xy(fac.geometry), max_snap_m=max_snap_m,
                      min_piece_share=share)
    log.info("living circle: %d of %d units and %d of %d facilities snapped",
             int(usnap.ok.sum()), len(units), int(fsnap.ok.sum()), len(fac))
    with _step("distances"):
        dists = category_distances(graph, usnap, fsnap, fac["category"].to_numpy(),
                                   categories=cats, cutoff_m=cutoff_m)
    with _step("aggregation"):
        cov = _coverage_units(units, usnap, dists, cats)
        indicators = _indicators(cov, cats, target, ctx.district_names())
        layers, styles = split_styled({"deficits": _deficits_layer(cov, cats),
                                       "facilities": _facilities_layer(fac, fsnap)})
        net_warn, pieces = _network_warnings(graph, usnap, fsnap, pop, max_snap_m)
    warnings = [*_facility_warnings(fac, fsnap, cats, max_snap_m), *net_warn]
    for w in warnings:
        log.warning("%s: %s", name, w)
    return AnalysisResult(
        name=name, kind="living_circle", params=dict(params), indicators=indicators,
        units=cov, layers=layers, styles=styles, method=_method(params, cats), warnings=warnings,
        extra={"disconnected_components": pieces[:MAX_PIECES_REPORTED]},
    )
