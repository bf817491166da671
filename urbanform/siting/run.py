"""``urbanform site``: choose candidate sites that lift an analysis to its target.

Steps: run the analysis as it is (the baseline), build the candidate-by-unit coverage
matrix with the analysis's own distance code (:mod:`urbanform.siting.coverage`), choose
sites (:mod:`urbanform.siting.solve`), then run the analysis again with the chosen sites
added to its parks or facilities: the value reported is the one that run computes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from urbanform.analyses.context import Context
from urbanform.analyses.params import Params
from urbanform.analyses.registry import get_kind
from urbanform.errors import AnalysisError, LayerError, WorkspaceError
from urbanform.layers.harmonise import load_layers
from urbanform.layers.types import Layers, LayerSpec
from urbanform.pipeline import run_layers, validate_analyses
from urbanform.progress import Progress
from urbanform.results import AnalysisResult
from urbanform.siting.coverage import Coverage, coverage_matrix
from urbanform.siting.solve import Plan, choose
from urbanform.workspace import AnalysisSpec, Workspace

__all__ = ["EXACT_MAX", "SiteResult", "SiteRequest", "site_workspace", "with_sites"]

log = logging.getLogger(__name__)

EXACT_MAX = 2_000_000
"""Default limit of the exact mode: candidates x unit groups (units covered by the same
set of candidates count once) of the integer program."""

KINDS = {"park_coverage": "parks", "living_circle": "facilities"}
"""Kinds siting handles -> the role the chosen sites are added to."""


@dataclass(frozen=True)
class SiteRequest:
    """The question ``urbanform site`` answers.

    Attributes
    ----------
    analysis
        The analysis run (``analyses/NAME.yml`` stem).
    candidates
        The candidates layer (``layers/NAME.yml`` stem, ``role: candidates``).
    target
        The value to reach (``None``: the analysis's target value).
    max_sites
        At most this many sites; alone (no target anywhere, or with ``target`` out of
        reach within it): the best ``max_sites`` sites.
    indicator
        The indicator to raise (``None``: the analysis's target indicator, else
        ``pop_share``); living circles take ``pop_share_<category>``.
    exact_max
        Largest exact integer program (candidates x unit groups); 0 turns it off.
    """

    analysis: str
    candidates: str
    target: float | None = None
    max_sites: int | None = None
    indicator: str | None = None
    exact_max: int = EXACT_MAX


@dataclass
class SiteResult:
    """What :func:`site_workspace` found.

    ``sites`` holds the chosen candidates in rank order with ``rank``, ``gain`` (the
    indicator's increase from that site, in share points) and ``value_after`` (the
    indicator with this site and those ranked before it); the last ``value_after`` is
    the value of the analysis re-run with every chosen site added.
    """

    analysis: str
    kind: str
    indicator: str
    role: str
    layer: str
    value_before: float
    value_after: float
    target: float | None
    met: bool | None
    plan: Plan | None
    sites: gpd.GeoDataFrame
    category: str | None = None
    n_candidates: int = 0
    matrix_value_after: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``sites.json`` mapping."""
        rows = [
            {"name": str(n), "rank": int(r), "gain": float(g), "value_after": float(v)}
            for n, r, g, v in zip(self.sites["name"], self.sites["rank"], self.sites["gain"],
                                  self.sites["value_after"], strict=True)
        ]
        return {
            "analysis": self.analysis,
            "kind": self.kind,
            "indicator": self.indicator,
            "category": self.category,
            "candidates_layer": self.layer,
            "candidates": self.n_candidates,
            "value_before": self.value_before,
            "value_after": self.value_after,
            "target": self.target,
            "met": self.met,
            "method": self.plan.method if self.plan else "none",
            "mode": self.plan.mode if self.plan else None,
            "gap": self.plan.gap.to_dict() if self.plan else None,
            "value_after_matrix": self.matrix_value_after,
            "sites": rows,
            "notes": list(self.notes),
        }


def _candidate_spec(ws: Workspace, name: str) -> LayerSpec:
    specs = {s.name: s for s in ws.layers}
    if name not in specs:
        have = ", ".join(s.name for s in ws.layers if s.role == "candidates") or "none"
        raise WorkspaceError(
            f"no layer {name!r} in {ws.root / 'layers'} (candidate layers: {have}); add "
            f"layers/{name}.yml with 'role: candidates', a 'source' and 'fields: {{name: ...}}'"
        )
    spec = specs[name]
    if spec.role != "candidates":
        raise WorkspaceError(
            f"{spec.file}: layer {name!r} has role {spec.role!r}; --candidates needs a layer "
            "with 'role: candidates'"
        )
    return spec


def _indicator(spec: AnalysisSpec, kind: str, params: Params, asked: str | None) -> str:
    keys = get_kind(kind).indicator_keys(params)
    key = asked or (spec.target.indicator if spec.target else "pop_share")
    if key not in keys:
        raise AnalysisError(
            f"analysis {spec.name!r} has no indicator {key!r}; use one of {', '.join(keys)}"
        )
    if kind == "living_circle" and key == "pop_share_all":
        cats = ", ".join(f"pop_share_{c}" for c in params["categories"])
        raise AnalysisError(
            f"analysis {spec.name!r}: living circles are sited one facility category at a "
            f"time; pass --indicator with one of {cats}"
        )
    return key


def _target(
    spec: AnalysisSpec, key: str, asked: float | None, max_sites: int | None
) -> float | None:
    if asked is not None:
        if not (0.0 < asked <= 1.0):
            raise AnalysisError(f"--target must be a share in (0, 1], got {asked!r}")
        return float(asked)
    t = spec.target
    if t is not None and t.indicator == key:
        if t.op not in (">=", ">"):
            raise AnalysisError(
                f"{spec.file}: target op {t.op!r}: siting raises an indicator, so it needs a "
                "'>=' target; pass --target V"
            )
        return float(t.value)
    if max_sites is None:
        raise AnalysisError(
            f"analysis {spec.name!r} has no target for {key!r}; pass --target V or --max-sites N"
        )
    return None


def _candidates(layers: Layers, spec: LayerSpec, kind: str) -> gpd.GeoDataFrame:
    cands = layers.vector("candidates").reset_index(drop=True)
    where = f"{spec.file} (layer {spec.name!r})"
    if kind == "park_coverage" and not cands.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        raise LayerError(
            f"{where}: park sites must be polygons, found "
            f"{', '.join(sorted(set(cands.geom_type)))}; check 'source' and 'layer'"
        )
    if "name" not in cands.columns:
        cands["name"] = [f"{spec.name} {i + 1}" for i in range(len(cands))]
    names = cands["name"].astype(str)
    if names.duplicated().any():
        raise LayerError(
            f"{where}: the 'name' field repeats {names[names.duplicated()].iloc[0]!r}; give "
            "each candidate its own name"
        )
    cands["name"] = names
    if "cost" in cands.columns:
        cost = pd.to_numeric(cands["cost"], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(cost) & (cost > 0))
        if bad.any():
            raise LayerError(
                f"{where}: field 'cost' must be a positive number, got "
                f"{cands['cost'].iloc[int(np.flatnonzero(bad)[0])]!r} for "
                f"{names.iloc[int(np.flatnonzero(bad)[0])]!r}; fix the value or drop the mapping"
            )
        cands["cost"] = cost
    return cands


def with_sites(
    layers: Layers, role: str, sites: gpd.GeoDataFrame, *, category: str | None = None
) -> Layers:
    """``layers`` with ``sites`` added to ``role`` (facilities get ``category``).

    Park sites keep their polygons; facility sites become their representative points.
    """
    add = gpd.GeoDataFrame({"name": sites["name"].astype(str).to_numpy()},
                           geometry=sites.geometry.values, crs=layers.crs)
    if role == "facilities":
        add = add.set_geometry(add.geometry.representative_point())
        add.insert(0, "category", category)
    old = layers.vectors.get(role)
    frames = [f for f in (old, add) if f is not None and len(f)]
    combined = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=layers.crs)
    return dataclasses.replace(layers, vectors={**layers.vectors, role: combined})


def _rerun(
    ctx: Context, spec: AnalysisSpec, params: Params, layers: Layers
) -> AnalysisResult:
    shared = {k: v for k, v in ctx.cache.items() if k == "walk_graph" or k.startswith("snap:")}
    kind = get_kind(spec.kind, where=spec.file)
    return kind.run(Context(layers, cache=shared), name=spec.name, params=params,
                    target=spec.target)


def _need(cov: Coverage, target: float | None) -> float | None:
    return None if target is None else target * cov.total - cov.base


def _unreachable(best: float, target: float, key: str, name: str, layer: str) -> AnalysisError:
    return AnalysisError(
        f"analysis {name!r}: even every candidate of layer {layer!r} lifts {key} only to "
        f"{best:.4f} (target {target:g}); add candidate sites or pass a lower --target"
    )


def _sites_frame(
    cands: gpd.GeoDataFrame, plan: Plan, cov: Coverage, category: str | None
) -> gpd.GeoDataFrame:
    order = plan.choice.order
    out = cands.iloc[order].reset_index(drop=True)
    gains = np.asarray(plan.choice.gains, dtype=float) / cov.total
    out["rank"] = np.arange(1, len(order) + 1, dtype=np.int64)
    out["gain"] = gains
    out["value_after"] = cov.base / cov.total + np.cumsum(gains)
    if category is not None:
        out = out.set_geometry(out.geometry.representative_point())
        out.insert(0, "category", category)
    return out


def _met(value: float, target: float | None, op: str) -> bool | None:
    if target is None:
        return None
    return value > target if op == ">" else value >= target - 1e-12


def site_workspace(
    ws: Workspace, request: SiteRequest, *, progress: Progress | None = None
) -> SiteResult:
    """Choose candidate sites for one analysis of ``ws`` (see :class:`SiteRequest`).

    Raises
    ------
    WorkspaceError
        For an unknown analysis or candidates layer.
    AnalysisError
        For a kind siting does not handle, a missing target or a target out of reach
        (the message gives the best value the candidates reach).
    LayerError
        For candidates of the wrong geometry, repeated names or a bad ``cost``.
    """
    progress = progress or Progress()
    spec, params = validate_analyses(ws, only=[request.analysis])[0]
    if spec.kind not in KINDS:
        raise AnalysisError(
            f"{spec.file}: kind {spec.kind!r} cannot be sited; urbanform site handles "
            f"{' and '.join(KINDS)}"
        )
    cspec = _candidate_spec(ws, request.candidates)
    key = _indicator(spec, spec.kind, params, request.indicator)
    target = _target(spec, key, request.target, request.max_sites)
    op = spec.target.op if spec.target is not None and request.target is None else ">="
    category = key.removeprefix("pop_share_") if spec.kind == "living_circle" else None
    layers = load_layers(run_layers(ws), crs=ws.crs,
                         progress=progress)
    cands = _candidates(load_layers([cspec], crs=layers.crs.to_string()), cspec, spec.kind)
    ctx = Context(layers)
    with progress.stage(f"baseline {spec.name} ({spec.kind})"):
        base = get_kind(spec.kind).run(ctx, name=spec.name, params=params, target=spec.target)
    before = base.indicators[key].city.value
    with progress.stage("coverage matrix", total=None if spec.kind == "park_coverage"
                        and params["distance"] == "euclidean" else len(cands)) as step:
        cov = coverage_matrix(ctx, base, cands, key=key, step=step)
    need = _need(cov, target)
    best = cov.value(float(cov.weight[np.asarray(cov.matrix.sum(axis=0)).ravel() > 0].sum()))
    notes = []
    if target is not None and best < target - 1e-12:
        if request.max_sites is None:
            raise _unreachable(best, target, key, spec.name, cspec.name)
        notes.append(f"even every candidate lifts {key} only to {best:.4f}")
    plan = None
    if need is not None and need <= 0:
        notes.append(f"{key} is {before:.4f}, already at the target {target:g}: no site needed")
    else:
        cost = cands["cost"].to_numpy(dtype=float) if "cost" in cands.columns else None
        with progress.stage("choosing sites"):
            plan = choose(cov.matrix, cov.weight, cost, need=need, max_sites=request.max_sites,
                          exact_max=request.exact_max, total=cov.total)
        notes += plan.notes
    sites = (_sites_frame(cands, plan, cov, category) if plan is not None
             else cands.iloc[:0].assign(rank=0, gain=0.0, value_after=0.0))
    after, matrix_after = float(before or 0.0), None
    if plan is not None and len(sites):
        with progress.stage("re-running the analysis with the sites"):
            again = _rerun(ctx, spec, params, with_sites(layers, KINDS[spec.kind], sites,
                                                         category=category))
        after = float(again.indicators[key].city.value or 0.0)
        matrix_after = float(sites["value_after"].iloc[-1])
        if not math.isclose(after, matrix_after, abs_tol=1e-9):
            notes.append(f"the coverage matrix promised {matrix_after:.6f}; the re-run "
                         f"analysis gives {after:.6f}, the value reported")
        sites.loc[sites.index[-1], "value_after"] = after
    return SiteResult(
        analysis=spec.name, kind=spec.kind, indicator=key, role=KINDS[spec.kind],
        layer=cspec.name, value_before=float(before or 0.0), value_after=after,
        target=target, met=_met(after, target, op), plan=plan, sites=sites,
        category=category, n_candidates=len(cands), matrix_value_after=matrix_after,
        notes=notes,
    )
