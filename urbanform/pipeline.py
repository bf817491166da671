"""Running a workspace: validate, load layers, run analyses, summarise, write outputs."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np

from urbanform.analyses.context import Context
from urbanform.analyses.params import Params
from urbanform.analyses.registry import get_kind
from urbanform.errors import AnalysisError, ResourceError, WorkspaceError
from urbanform.fingerprint import inputs_fingerprint
from urbanform.grid import H3Memo, h3_summaries
from urbanform.layers.harmonise import load_layers
from urbanform.layers.types import Layers, LayerSpec
from urbanform.outdir import check_output
from urbanform.outputs import (
    build_summary,
    gpkg_layers,
    staged_output,
    write_gpkg,
    write_h3,
    write_summary,
)
from urbanform.priorities import priorities
from urbanform.progress import Progress
from urbanform.results import AnalysisResult, LayerStyle
from urbanform.workspace import AnalysisSpec, Workspace

__all__ = [
    "RunHooks",
    "RunResult",
    "validate_analyses",
    "run_analyses",
    "run_workspace",
    "districts_layer",
    "run_fingerprint",
    "summarise",
    "run_layers",
    "h3_of",
]

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What :func:`run_workspace` produced."""

    workspace: Workspace
    layers: Layers
    results: list[AnalysisResult]
    summary: dict[str, Any]
    h3: dict[str, dict[int, gpd.GeoDataFrame]] = field(default_factory=dict)
    h3_styles: dict[str, LayerStyle] = field(default_factory=dict)
    out: Path | None = None
    seconds: float = 0.0
    scenario: Any = None
    """What a scenario run adds for the report (:class:`urbanform.scenarios.Comparison`)."""


class RunHooks(Protocol):
    """How a scenario run changes a plain run (:mod:`urbanform.scenarios`)."""

    def edit_layers(self, layers: Layers) -> None:
        """Change the harmonised layers before the analyses run (remove features)."""

    def annotate(self, run: RunResult) -> None:
        """Add to the results and the summary before anything is written."""


def run_fingerprint(
    ws: Workspace,
    checked: list[tuple[AnalysisSpec, Params]],
    digests: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``summary.json``'s ``inputs`` for these analyses (:mod:`urbanform.fingerprint`)."""
    return inputs_fingerprint(
        crs=ws.crs,
        h3_resolutions=ws.h3_resolutions,
        layers=run_layers(ws),
        analyses=[
            (spec.name, spec.kind, dict(params), spec.target.to_dict() if spec.target else None)
            for spec, params in checked
        ],
        digests=digests,
    )


SITE_ONLY_ROLES = ("candidates",)
"""Roles only ``urbanform site`` reads; a run leaves them unread."""


def run_layers(ws: Workspace) -> list[LayerSpec]:
    """The layers a run reads: every layer of ``ws`` but :data:`SITE_ONLY_ROLES`."""
    return [s for s in ws.layers if s.role not in SITE_ONLY_ROLES]


def validate_analyses(
    ws: Workspace, *, only: list[str] | None = None
) -> list[tuple[AnalysisSpec, Params]]:
    """Each selected analysis with its effective parameters (defaults filled in).

    Raises
    ------
    WorkspaceError, AnalysisError
        Naming the file and key of an unknown kind, parameter or target indicator.
    """
    specs = [ws.analysis(n) for n in only] if only else list(ws.analyses)
    if not specs:
        raise WorkspaceError(f"{ws.root / 'analyses'}: no analysis to run; add analyses/NAME.yml")
    checked = []
    for spec in specs:
        kind = get_kind(spec.kind, where=spec.file)
        params = _resolve_paths(kind.validate_params(spec.params, where=spec.file), ws.root)
        if spec.target is not None and spec.target.indicator not in kind.indicator_keys(params):
            keys = ", ".join(kind.indicator_keys(params))
            raise AnalysisError(
                f"{spec.file}: target.indicator {spec.target.indicator!r} is not an "
                f"indicator of {spec.kind}; use one of {keys}"
            )
        checked.append((spec, params))
    return checked


_PATH_PARAMS = ("od",)


def _resolve_paths(params: Params, root: Path) -> Params:
    """File parameters (``od``) made absolute against the workspace folder."""
    changes = {}
    for key in _PATH_PARAMS:
        value = params.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            changes[key] = str((root / value).resolve())
    return params.replace(**changes) if changes else params


def districts_layer(
    ctx: Context, result: AnalysisResult
) -> tuple[gpd.GeoDataFrame, LayerStyle] | None:
    """District polygons with each indicator's value and whether it meets its target.

    The layer's style colours the main indicator (:attr:`AnalysisResult.main_indicator`).
    """
    d = ctx.districts()
    if d is None:
        return None
    out = d[["name", "geometry"]].copy()
    names = out["name"].astype(str)
    units = result.units
    if "population" in units.columns and "district" in units.columns:
        pop = units.groupby("district")["population"].sum()
        out["population"] = names.map(pop).fillna(0.0).to_numpy()
    for key, ind in result.indicators.items():
        out[key] = names.map(lambda n, i=ind: _value(i, n)).astype(float).to_numpy()
        out[f"{key}_met"] = names.map(
            lambda n, i=ind: i.districts[n].met if n in i.districts else None
        ).to_numpy()
    main = result.indicators.get(result.main_indicator or "", None)
    return out, LayerStyle(
        title=f"{result.name}: district values",
        value_field=main.key if main else None,
        ramp="good" if main and main.unit == "share" else "diverging",
        label_field="name",
        target=_reach_target(main),
    )


def _reach_target(ind: Any) -> float | None:
    """The value an indicator must reach (a ``>=`` or ``>`` target), for colour classes."""
    t = getattr(ind, "target", None)
    return float(t.value) if t is not None and t.op in (">=", ">") else None


def _value(ind: Any, name: str) -> float:
    v = ind.districts[name].value if name in ind.districts else None
    return np.nan if v is None else float(v)


def run_analyses(
    ctx: Context,
    checked: list[tuple[AnalysisSpec, Params]],
    *,
    progress: Progress | None = None,
) -> list[AnalysisResult]:
    """Run each analysis on the shared context; add its ``districts`` layer."""
    results = []
    progress = progress or Progress()
    for spec, params in checked:
        t0 = time.perf_counter()
        with progress.stage(f"analysis {spec.name} ({spec.kind})"):
            kind = get_kind(spec.kind, where=spec.file)
            try:
                result = kind.run(ctx, name=spec.name, params=params, target=spec.target)
            except ResourceError as exc:  # name the file whose parameters set the size
                raise ResourceError(f"{spec.file}: {exc}") from None
            layer = districts_layer(ctx, result)
        if layer is not None:
            result.layers = {"districts": layer[0], **result.layers}
            result.styles = {"districts": layer[1], **result.styles}
        log.info("analysis %s done in %.1f s", spec.name, time.perf_counter() - t0)
        results.append(result)
    return results


def h3_of(
    r: AnalysisResult, resolutions: tuple[int, ...], memo: H3Memo | None = None
) -> tuple[dict[int, gpd.GeoDataFrame], LayerStyle] | None:
    """One analysis's H3 cells by resolution and their style; None without units."""
    if r.units is None or not len(r.units):
        return None
    key = r.main_indicator
    style = LayerStyle(
        title=f"{r.name}: H3 cells",
        value_field=key,
        ramp="good" if key and r.indicators[key].unit == "share" else "diverging",
        target=_reach_target(r.indicators[key]) if key else None,
    )
    return h3_summaries(r.units, resolutions, memo=memo), style


def _h3(
    results: list[AnalysisResult],
    resolutions: tuple[int, ...],
    progress: Progress,
    *,
    memo: H3Memo | None = None,
) -> tuple[dict[str, dict[int, gpd.GeoDataFrame]], dict[str, LayerStyle]]:
    """Each analysis's H3 cells by resolution, and their style (one per analysis)."""
    out: dict[str, dict[int, gpd.GeoDataFrame]] = {}
    styles: dict[str, LayerStyle] = {}
    todo = [r for r in results if r.units is not None and len(r.units)]
    memo = {} if memo is None else memo  # units at the same points: indexed once
    with progress.stage("H3 summaries", total=len(todo) * len(resolutions)) as step:
        for r in todo:
            one = h3_of(r, resolutions, memo)
            if one is not None:
                out[r.name], styles[r.name] = one
            step.advance(len(resolutions), note=r.name)
    return out, styles


def run_workspace(
    ws: Workspace,
    *,
    only: list[str] | None = None,
    write: bool = True,
    force: bool = False,
    progress: Progress | None = None,
    hooks: RunHooks | None = None,
) -> RunResult:
    """Run a workspace end to end.

    Parameters
    ----------
    ws
        The loaded workspace.
    only
        Names of the analyses to run (default: all).
    write
        Write the outputs to ``ws.out``.
    force
        Replace an output folder that is not an earlier urbanform output.
    progress
        Shows each stage of the run (default: nothing shown).
    hooks
        A scenario's changes (:func:`urbanform.scenarios.run_scenario`).

    Returns
    -------
    RunResult
    """
    t0 = time.perf_counter()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    progress = progress or Progress()
    checked = validate_analyses(ws, only=only)
    if write:  # refuse a bad output folder before the work, not after it
        check_output(ws.out, force=force, workspace=ws.root)
    layers = load_layers(run_layers(ws), crs=ws.crs, progress=progress)
    if hooks is not None:
        hooks.edit_layers(layers)
    ctx = Context(layers)
    results = run_analyses(ctx, checked, progress=progress)
    memo: H3Memo = {}  # each set of units indexed on the H3 grid once
    h3, h3_styles = _h3(results, ws.h3_resolutions, progress, memo=memo)
    summary = summarise(ws, checked, layers, results, memo=memo)
    run = RunResult(ws, layers, results, summary, h3, h3_styles)
    if hooks is not None:
        hooks.annotate(run)
    if write:
        with staged_output(ws.out, force=force, workspace=ws.root) as tmp:
            _write_all(run, tmp, started=started, t0=t0, progress=progress)
        run.out = ws.out
    run.seconds = time.perf_counter() - t0
    return run


def summarise(
    ws: Workspace,
    checked: list[tuple[AnalysisSpec, Params]],
    layers: Layers,
    results: list[AnalysisResult],
    *,
    memo: H3Memo | None = None,
    ready: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """``summary.json`` of a run: the scorecard, the inputs' fingerprints, where to act.

    The in-process run and the cluster run (:mod:`urbanform.cluster`) both build it here.
    ``memo`` is the run's H3 memo; ``ready`` holds "where to act" lists already made (by
    the cluster's analysis tasks), by analysis name.
    """
    crs = layers.crs.to_string()
    summary = build_summary(workspace=ws.name, crs=crs, results=results, warnings=layers.warnings)
    summary["inputs"] = run_fingerprint(
        ws, checked, {p.name: p.sha256 for p in layers.provenance}
    )
    finest = max(ws.h3_resolutions)
    for r in results:
        summary["analyses"][r.name]["priorities"] = (
            ready[r.name]
            if ready is not None and r.name in ready
            else priorities(r, layers, resolution=finest, memo=memo)
        )
    return summary


GpkgWriter = Callable[[dict[str, gpd.GeoDataFrame], Path, Any], Callable[[], None]]
"""Starts writing a GeoPackage (layers, path, CRS) elsewhere; returns the wait for it."""


def _write_all(
    run: RunResult,
    tmp: Path,
    *,
    started: str,
    t0: float,
    progress: Progress,
    gpkg_writer: GpkgWriter | None = None,
) -> None:
    """Every output of ``run`` into ``tmp``.

    ``gpkg_writer`` (the cluster's writing task passes one) writes ``results.gpkg`` on
    another worker while this one writes the H3 files, web maps and report; the QGIS
    styles, which go into the GeoPackage, wait for it.
    """
    gl, gs = gpkg_layers(run.results, run.h3, run.h3_styles)
    wait = None if gpkg_writer is None else gpkg_writer(gl, tmp / "results.gpkg", run.layers.crs)
    try:
        files = [(n, res, cells) for n, by_res in run.h3.items() for res, cells in by_res.items()]
        with progress.stage("H3 files", total=len(files)) as step:
            for name, res, cells in files:
                write_h3(cells, tmp / "h3", f"{name}_r{res}", style=run.h3_styles.get(name))
                step.advance()
        if wait is None:
            with progress.stage("GeoPackage", total=len(gl)) as step:
                write_gpkg(gl, tmp / "results.gpkg", crs=run.layers.crs, step=step)
        from urbanform.maps import deliverables

        deliverables.write_all(
            run, tmp, gpkg_layers=gl, gpkg_styles=gs, started=started,
            seconds=time.perf_counter() - t0,
            progress=progress, before_qgis=wait,
        )
    except BaseException:
        if wait is not None:  # the staged folder goes away only after the GeoPackage is done
            with contextlib.suppress(Exception):
                wait()
        raise
    write_summary(run.summary, tmp / "summary.json")  # last: a folder with it is complete

