"""Jobs-housing balance: jobs per resident worker by district, locally and for the city.

The ratio of a district is its jobs over its resident workers; a district is *balanced*
when the ratio lies inside the band (bounds included). Workers come from the population
layer's ``workers`` field when it is given, otherwise from residents times an employment
rate. The local ratio of an H3 cell counts jobs and workers within a commute radius of
the cell, and the theoretical minimum mean commute comes from the transportation problem
of excess-commuting studies (:mod:`urbanform.analyses.commute`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd

from urbanform.analyses import commute
from urbanform.analyses.common import resident_units, value_units
from urbanform.analyses.context import Context
from urbanform.analyses.params import Params, merge_params, param, positive_number
from urbanform.checks import integer
from urbanform.errors import AnalysisError, LayerError
from urbanform.results import (
    AnalysisResult,
    Indicator,
    LayerStyle,
    Target,
    indicator_values,
    split_styled,
)

__all__ = ["DEFAULTS", "INDICATORS", "validate_params", "run", "unit_workers", "district_balance"]

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class JobsHousingParams(Params):
    """Parameters of ``kind: jobs_housing``."""

    kind: ClassVar[str] = "jobs_housing"
    band: list[float] = param([0.8, 1.2], "balanced inside, bounds included")
    employment_rate: float = param(0.55, "when the population has no `workers`")
    commute_radius_m: float = param(5000, "local ratio of each H3 cell")
    h3_resolution: int = param(8, "cells of the local ratio and the transport problem")
    max_transport_cells: int = param(3000, "coarser cells above this")
    od: str | None = param(
        None,
        "optional CSV of observed trips: origin_x, origin_y, dest_x, dest_y, count",
    )
    od_crs: str | None = param(None, "the CRS of `od` when not the working CRS")


DEFAULTS: dict[str, Any] = JobsHousingParams.defaults()
"""Default parameters. ``band`` is the usual jobs-housing balance band of 0.8-1.2 jobs
per resident worker; ``employment_rate`` (0.55) is a default assumption for the share of
residents who work, used only when the population has no ``workers`` field."""

INDICATORS: dict[str, tuple[str, str]] = {
    "ratio": ("ratio", "Jobs per resident worker"),
    "balanced_share": ("share", "Residents living in jobs-housing balanced districts"),
}


def validate_params(params: dict[str, Any] | None, *, where: str) -> JobsHousingParams:
    """Effective parameters (defaults filled in), checked.

    Raises
    ------
    AnalysisError
        Naming ``where`` and the parameter when a value is invalid.

    Examples
    --------
    >>> validate_params({"band": [0.9, 1.1]}, where="a.yml").band
    [0.9, 1.1]
    """
    p = merge_params(params, DEFAULTS, where=where)
    band = p["band"]
    if not (isinstance(band, list | tuple) and len(band) == 2):
        raise AnalysisError(f"{where}: params.band must be a list [low, high], got {band!r}")
    lo = positive_number(band[0], key="band", where=where, allow_zero=True)
    hi = positive_number(band[1], key="band", where=where)
    if lo > hi:
        raise AnalysisError(
            f"{where}: params.band must be [low, high] with low <= high, got {band!r}"
        )
    p["band"] = [lo, hi]
    rate = positive_number(p["employment_rate"], key="employment_rate", where=where)
    if rate > 1:
        raise AnalysisError(
            f"{where}: params.employment_rate must be a share in (0, 1], got {rate!r}"
        )
    p["employment_rate"] = rate
    p["commute_radius_m"] = positive_number(
        p["commute_radius_m"], key="commute_radius_m", where=where
    )
    p["h3_resolution"] = integer(p["h3_resolution"], key="h3_resolution", where=where, low=0,
                                 high=15)
    # the transport plan holds a cells x cells matrix: 100,000 cells would be 80 GB
    p["max_transport_cells"] = integer(
        p["max_transport_cells"], key="max_transport_cells", where=where, low=2, high=100_000
    )
    for key in ("od", "od_crs"):
        if p[key] is not None and not isinstance(p[key], str):
            raise AnalysisError(f"{where}: params.{key} must be a string, got {p[key]!r}")
    return JobsHousingParams(**p)


def unit_workers(
    population: np.ndarray, workers: np.ndarray, *, employment_rate: float
) -> np.ndarray:
    """Resident workers of each population unit.

    The ``workers`` value where it is finite, else ``population * employment_rate``.

    Examples
    --------
    >>> unit_workers(np.array([100.0, 100.0]), np.array([70.0, np.nan]),
    ...              employment_rate=0.5).tolist()
    [70.0, 50.0]
    """
    return np.where(np.isfinite(workers), workers, population * employment_rate)


def district_balance(indicator: Indicator, *, band: list[float]) -> dict[str, bool]:
    """Whether each district's ratio lies inside ``band`` (both bounds included).

    A district without resident workers has no ratio and is not balanced.
    """
    lo, hi = band
    return {
        d: v.value is not None and lo <= v.value <= hi for d, v in indicator.districts.items()
    }


def _population_units(ctx: Context, *, name: str, rate: float) -> tuple[gpd.GeoDataFrame, int]:
    pop = resident_units(ctx, needed_by=name)
    population = pop["population"].fillna(0.0).to_numpy()
    given = pop["workers"].to_numpy(dtype=float)
    pop["population"] = population
    pop["workers"] = unit_workers(population, given, employment_rate=rate)
    pop["jobs"] = 0.0
    n_fallback = int((~np.isfinite(given) & (population > 0)).sum())
    return pop[["population", "workers", "jobs", "district", "geometry"]], n_fallback


def _job_units(ctx: Context, *, name: str) -> gpd.GeoDataFrame:
    jobs = value_units(ctx, "jobs", fields=("jobs",), needed_by=name)
    jobs["jobs"] = jobs["jobs"].fillna(0.0)
    if jobs["jobs"].sum() <= 0:
        raise LayerError(
            f"analysis {name!r}: the jobs layer holds no jobs (total 0); "
            "check its 'jobs' field mapping"
        )
    jobs["population"] = 0.0
    jobs["workers"] = 0.0
    return jobs[["population", "workers", "jobs", "district", "geometry"]]


def _units(ctx: Context, *, name: str, rate: float) -> tuple[gpd.GeoDataFrame, list[str]]:
    pop, n_fallback = _population_units(ctx, name=name, rate=rate)
    jobs = _job_units(ctx, name=name)
    warnings: list[str] = []
    if n_fallback:
        warnings.append(
            f"{n_fallback:,} population units have no 'workers' value: their workers are "
            f"residents x employment rate {rate:g}"
        )
    units = pd.concat([pop, jobs], ignore_index=True)
    units = gpd.GeoDataFrame(units, geometry="geometry", crs=ctx.layers.crs)
    units["ratio__num"] = units["jobs"]
    units["ratio__den"] = units["workers"]
    log.info("jobs_housing: %d population units, %d job units", len(pop), len(jobs))
    return units, warnings


def _balanced_columns(
    units: gpd.GeoDataFrame, ratio: Indicator, *, band: list[float], has_districts: bool
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """``balanced_share`` num/den on population units (job units carry 0)."""
    pop = units["population"].to_numpy()
    if has_districts:
        balanced = district_balance(ratio, band=band)
        flag = units["district"].map(balanced).fillna(False).to_numpy(dtype=bool)
        inside = units["district"].notna().to_numpy()
    else:
        v = ratio.city.value
        flag = np.full(len(units), v is not None and band[0] <= v <= band[1])
        inside = np.ones(len(units), dtype=bool)
    units = units.copy()
    units["balanced"] = flag
    units["balanced_share__num"] = np.where(flag & inside, pop, 0.0)
    units["balanced_share__den"] = np.where(inside, pop, 0.0)
    warnings = []
    outside = (~inside) & (pop > 0)
    if outside.any():
        warnings.append(
            f"{int(outside.sum()):,} population units ({pop[outside].sum():,.0f} residents) "
            "lie outside every district and are left out of balanced_share"
        )
    return units, warnings


def _balance_layer(
    ctx: Context, ratio: Indicator, *, band: list[float]
) -> tuple[gpd.GeoDataFrame, LayerStyle] | None:
    districts = ctx.districts()
    if districts is None:
        return None
    names = districts["name"].astype(str)
    vals = [ratio.districts.get(n) for n in names]
    balanced = district_balance(ratio, band=band)
    out = gpd.GeoDataFrame(
        {
            "name": names.to_numpy(),
            "jobs": [v.numerator if v else 0.0 for v in vals],
            "workers": [v.denominator if v else 0.0 for v in vals],
            "ratio": [np.nan if v is None or v.value is None else v.value for v in vals],
            "balanced": [balanced.get(n, False) for n in names],
        },
        geometry=districts.geometry.to_numpy(),
        crs=ctx.layers.crs,
    )
    return out, LayerStyle(
        title=f"Jobs per resident worker by district (balanced: {band[0]:g}-{band[1]:g})",
        title_zh="各区职住比",
        value_field="ratio",
        ramp="diverging",
        popup_fields=["name", "jobs", "workers", "ratio", "balanced"],
        label_field="name",
        labels={
            "en": {"jobs": "Jobs", "workers": "Resident workers", "ratio": "Jobs per worker"},
            "zh": {"jobs": "就业岗位", "workers": "居住就业人口", "ratio": "职住比"},
        },
    )


def _method(p: JobsHousingParams, extra: dict[str, Any], *, workers_field: bool) -> str:
    lo, hi = p.band
    workers = (
        "resident workers from the population layer's 'workers' field (residents x "
        f"{p.employment_rate:g} where it is missing)"
        if workers_field
        else f"resident workers estimated as residents x a default employment rate of "
        f"{p.employment_rate:g} (no 'workers' field was given)"
    )
    text = (
        f"Jobs-housing ratio = jobs / {workers}; a district is balanced when its ratio lies "
        f"within [{lo:g}, {hi:g}], both bounds included, and balanced_share is the share of "
        "residents living in balanced districts. The local ratio of each H3 cell (resolution "
        f"{p.h3_resolution}) counts jobs and workers in the cells whose centres lie within "
        f"{p.commute_radius_m:,.0f} m (straight line)."
    )
    return f"{text} {commute.method_text(extra)}"


def run(
    ctx: Context, *, name: str, params: JobsHousingParams, target: Target | None
) -> AnalysisResult:
    """Jobs-housing balance by district, local ratios and the minimum commute.

    Parameters
    ----------
    ctx
        The run's layers (``population`` and ``jobs`` are required).
    name
        The run's key.
    params
        Validated parameters (:func:`validate_params`).
    target
        Target of ``ratio`` or ``balanced_share``, if any.

    Returns
    -------
    AnalysisResult
        Indicators ``ratio`` and ``balanced_share``; layers ``balance`` (with districts)
        and ``local_ratio``; ``extra["min_mean_commute_km"]``.
    """
    band = list(params.band)
    units, warnings = _units(ctx, name=name, rate=params.employment_rate)
    districts = ctx.district_names()

    unit, label = INDICATORS["ratio"]
    ratio = indicator_values(
        units, "ratio", unit=unit, label=label, target=target, districts=districts
    )
    units, w = _balanced_columns(units, ratio, band=band, has_districts=bool(districts))
    warnings += w
    unit, label = INDICATORS["balanced_share"]
    balanced = indicator_values(
        units, "balanced_share", unit=unit, label=label, target=target,
        districts=districts,
    )
    res, crs = params.h3_resolution, units.crs
    table = commute.cell_table(units, resolution=res)
    cells, cells_style = commute.local_ratio(
        table, crs=crs, radius_m=params.commute_radius_m, resolution=res
    )
    extra = commute.commute_figures(
        table, crs=crs, resolution=res, max_cells=params.max_transport_cells,
        od=params.od, od_crs=params.od_crs,
    )
    warnings += extra.pop("warnings", [])
    styled = {"local_ratio": (cells, cells_style)}
    balance = _balance_layer(ctx, ratio, band=band)
    if balance is not None:
        styled["balance"] = balance
    layers, styles = split_styled(styled)
    log.info(
        "jobs_housing: city ratio %s, balanced share %s, min mean commute %.2f km",
        ratio.city.value, balanced.city.value, extra["min_mean_commute_km"],
    )
    pop_layer = ctx.layers.vectors.get("population")
    workers_field = pop_layer is not None and "workers" in pop_layer.columns
    return AnalysisResult(
        name=name,
        kind="jobs_housing",
        params=_json_params(params),
        indicators={"ratio": ratio, "balanced_share": balanced},
        units=units,
        layers=layers,
        styles=styles,
        method=_method(params, extra, workers_field=workers_field),
        warnings=warnings,
        extra=extra,
    )


def _json_params(p: JobsHousingParams) -> dict[str, Any]:
    out = dict(p)
    out["band"] = [float(b) for b in p.band]
    for k, v in out.items():
        if isinstance(v, float) and math.isfinite(v) and v.is_integer() and k.endswith("_m"):
            out[k] = int(v)
    return out
