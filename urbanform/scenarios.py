"""What-if scenarios: ``scenarios/NAME.yml`` run beside the baseline.

A scenario changes the input layers of a workspace and nothing else::

    description: Two new parks and a station in East New Town
    add:                       # features added to a role, read like layers/*.yml
      parks: {source: data/proposed.gpkg, layer: parks, fields: {name: pname}}
    remove:                    # features taken out of a role, by their mapped name
      parks: {names: [Old Depot Park]}
    replace:                   # a role's layers swapped for another
      landuse: {source: data/plan2030.gpkg, fields: {class: YDDM}, classes: ydyh2023}

``add`` and ``replace`` entries take the keys of ``layers/*.yml`` except ``role`` (the
key above them is the role). A relative ``source`` is resolved against the workspace
folder, as in ``layers/*.yml``; when no such file exists there, a file of that name
beside the scenario file is used (``urbanform site`` writes ``scenario.yml`` next to
its ``sites.gpkg``). Removals apply to the harmonised layers (after fields are mapped
and counts placed), by the ``name`` field; ``replace`` drops every layer of the role.

:func:`run_scenario` runs the scenario world into ``<out>/scenario-NAME/`` (or
``--out``) and puts the baseline beside it: ``summary.json`` gains ``scenario`` and a
``baseline`` beside every ``value``; every analysis gains a ``changes`` layer (H3 cells
at the finest resolution whose covered residents or land changed). The baseline is the
workspace's own output folder (``out`` of ``urbanform.yml``) when its ``inputs``
fingerprints match the workspace now (:mod:`urbanform.fingerprint`); otherwise it is
computed, and written there when the whole workspace is run and that folder may be
replaced.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from urbanform.errors import OutputError, WorkspaceError
from urbanform.layers.types import ROLES, Layers, LayerSpec
from urbanform.outdir import check_output, is_output
from urbanform.pipeline import RunResult, run_fingerprint, run_workspace, validate_analyses
from urbanform.progress import Progress
from urbanform.results import NUM, LayerStyle
from urbanform.workspace import Workspace, parse_layer_entry, read_yaml

__all__ = [
    "Baseline",
    "Scenario",
    "check_scenario",
    "find_baseline",
    "format_baseline",
    "load_scenario",
    "remove_features",
    "run_scenario",
    "scenario_files",
    "scenario_out",
]

log = logging.getLogger(__name__)

_KEYS = {"description", "add", "remove", "replace"}
_REMOVE_KEYS = {"names"}
_EPS = 1e-9


@dataclass(frozen=True)
class Scenario:
    """One validated ``scenarios/NAME.yml``."""

    name: str
    description: str
    file: str
    add: tuple[LayerSpec, ...] = ()
    remove: dict[str, tuple[str, ...]] = field(default_factory=dict)
    replace: tuple[LayerSpec, ...] = ()

    def layer_specs(self, base: tuple[LayerSpec, ...]) -> tuple[LayerSpec, ...]:
        """The workspace's layers with replaced roles swapped and added layers appended."""
        swapped = {s.role for s in self.replace}
        kept = tuple(s for s in base if s.role not in swapped)
        return (*kept, *self.replace, *self.add)


def scenario_files(root: Path) -> list[Path]:
    """``scenarios/*.yml`` (and ``*.yaml``) of a workspace, sorted."""
    folder = Path(root) / "scenarios"
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])


def _scenario_path(ws: Workspace, name: str) -> Path:
    given = Path(name).expanduser()
    if given.suffix in (".yml", ".yaml") and given.is_file():
        return given.resolve()
    for path in scenario_files(ws.root):
        if path.stem == name:
            return path
    names = ", ".join(p.stem for p in scenario_files(ws.root)) or "none"
    raise WorkspaceError(
        f"no scenario {name!r} in {ws.root / 'scenarios'} (scenarios: {names}); write "
        f"scenarios/{name}.yml or give the path of a scenario file"
    )


def _entry(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WorkspaceError(f"{where}: must be a mapping like a layers/*.yml file, got {value!r}")
    if "role" in value:
        raise WorkspaceError(f"{where}: unknown key 'role'; the key above it names the role")
    return value


def _roles(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    section = data.get(key) or {}
    if not isinstance(section, dict):
        raise WorkspaceError(f"{where}: {key!r} must map roles to entries, got {section!r}")
    for role in section:
        if role not in ROLES:
            raise WorkspaceError(
                f"{where}: {key}: unknown role {role!r}; use one of {', '.join(ROLES)}"
            )
    return section


def load_scenario(ws: Workspace, name: str) -> Scenario:
    """Read and validate the scenario ``name`` (a ``scenarios/`` stem or a file path).

    Raises
    ------
    WorkspaceError
        Naming the scenario file and the key of anything unknown or invalid.
    """
    path = _scenario_path(ws, name)
    where = str(path)
    data = read_yaml(path)
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise WorkspaceError(
            f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(_KEYS))}"
        )
    if not any(data.get(k) for k in ("add", "remove", "replace")):
        raise WorkspaceError(f"{where}: the scenario changes nothing; give add, remove or replace")
    stem = path.stem

    def specs(key: str) -> tuple[LayerSpec, ...]:
        out = []
        for role, value in _roles(data, key, where).items():
            here = f"{where}: {key}.{role}"
            entry = {"role": role, **_entry(value, here)}
            out.append(
                parse_layer_entry(
                    entry, name=f"{stem}.{key}.{role}", where=here, root=ws.root, also=path.parent
                )
            )
        return tuple(out)

    remove: dict[str, tuple[str, ...]] = {}
    for role, value in _roles(data, "remove", where).items():
        here = f"{where}: remove.{role}"
        if not isinstance(value, dict):
            raise WorkspaceError(f"{here}: must be a mapping like {{names: [NAME, ...]}}")
        bad = sorted(set(value) - _REMOVE_KEYS)
        if bad:
            raise WorkspaceError(f"{here}: unknown key {bad[0]!r}; valid keys: names")
        names = value.get("names")
        if isinstance(names, str | int):
            names = [names]
        if not isinstance(names, list) or not names:
            raise WorkspaceError(f"{here}: 'names' must be a list of feature names")
        remove[role] = tuple(str(n) for n in names)
    description = data.get("description") or ""
    if not isinstance(description, str | int | float) or isinstance(description, bool):
        raise WorkspaceError(f"{where}: 'description' must be text, got {description!r}")
    return Scenario(
        name=stem,
        description=str(description),
        file=where,
        add=specs("add"),
        remove=remove,
        replace=specs("replace"),
    )


def remove_features(layers: Layers, scenario: Scenario) -> None:
    """Take the scenario's ``remove`` features out of the harmonised layers (in place).

    Raises
    ------
    WorkspaceError
        Naming the scenario file, the role and the first name no feature carries.
    """
    for role, names in scenario.remove.items():
        where = f"{scenario.file}: remove.{role}"
        gdf = layers.vectors.get(role)
        if gdf is None:
            raise WorkspaceError(f"{where}: the workspace has no vector layer of role {role!r}")
        if "name" not in gdf.columns:
            raise WorkspaceError(
                f"{where}: the {role} layers have no 'name' field; map one with "
                "'fields: {name: COLUMN}' in their layers/*.yml"
            )
        have = gdf["name"].astype(str)
        for n in names:
            if not (have == n).any():
                known = ", ".join(sorted(have.unique())[:8])
                raise WorkspaceError(
                    f"{where}: no feature named {n!r} in role {role!r}; names include: {known}"
                )
        keep = ~have.isin(names).to_numpy()
        if not keep.any():
            raise WorkspaceError(f"{where}: removes every feature of role {role!r}")
        layers.vectors[role] = gdf[keep].reset_index(drop=True)
        log.info("scenario %s: removed %d %s features", scenario.name, int((~keep).sum()), role)


def check_scenario(ws: Workspace, path: Path, layers: Layers) -> str:
    """Validate a scenario file against the workspace's loaded ``layers``; describe it.

    Its added and replacing layers are read and harmonised, and the names it removes
    looked up, so a scenario that passes runs.

    Raises
    ------
    WorkspaceError, LayerError
        As :func:`load_scenario`, :func:`remove_features` and reading a layer do.
    """
    from urbanform.layers.harmonise import load_layers

    sc = load_scenario(ws, str(path))
    new = [*sc.replace, *sc.add]
    if new:
        load_layers(new, crs=layers.crs.to_string())
    trial = Layers(crs=layers.crs, vectors=dict(layers.vectors))
    remove_features(trial, sc)
    parts = [f"add {s.role}" for s in sc.add]
    parts += [f"remove {len(n)} {role}" for role, n in sc.remove.items()]
    parts += [f"replace {s.role}" for s in sc.replace]
    return ", ".join(parts)


# --------------------------------------------------------------------------- baseline


@dataclass
class Baseline:
    """The baseline a scenario is compared with.

    Attributes
    ----------
    summary
        Its ``summary.json``.
    cells
        Analysis name -> its H3 cells at the finest resolution (``hex_id``,
        ``K__num``, ``K__den``); an analysis without units has none.
    reused
        Whether it was read from an earlier output (``False``: computed now).
    folder
        The folder it was read from or written to (``None``: computed, not written).
    """

    summary: dict[str, Any]
    cells: dict[str, pd.DataFrame]
    reused: bool
    folder: Path | None = None


def find_baseline(
    folder: Path, inputs: dict[str, Any], names: list[str], resolution: int
) -> Baseline | None:
    """The baseline output in ``folder`` when its inputs match ``inputs``, else ``None``.

    Matching: ``summary.json``'s ``inputs.fingerprint`` equals ``inputs["fingerprint"]``
    and, for every analysis in ``names``, ``inputs.analyses.NAME`` is equal too.
    """
    if not is_output(folder):
        log.info("baseline: %s is not a complete urbanform output", folder)
        return None
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    got = summary.get("inputs") if isinstance(summary, dict) else None
    if not isinstance(got, dict) or got.get("fingerprint") != inputs["fingerprint"]:
        log.info("baseline: the run in %s has other inputs (fingerprint differs)", folder)
        return None
    theirs = got.get("analyses") or {}
    for n in names:
        if theirs.get(n) != inputs["analyses"][n]:
            log.info("baseline: analysis %s in %s differs or is missing", n, folder)
            return None
    cells = {}
    for n in names:
        path = folder / "h3" / f"{n}_r{resolution}.parquet"
        if path.is_file():
            cells[n] = pd.DataFrame(gpd.read_parquet(path).drop(columns="geometry"))
    return Baseline(summary, cells, reused=True, folder=folder)


def _may_write(ws: Workspace) -> bool:
    try:
        check_output(ws.out, workspace=ws.root)
    except OutputError:
        return False
    return True


def _baseline(
    ws: Workspace, only: list[str] | None, progress: Progress
) -> tuple[Baseline, dict[str, Any]]:
    checked = validate_analyses(ws, only=only)
    inputs = run_fingerprint(ws, checked)
    names = [spec.name for spec, _ in checked]
    finest = max(ws.h3_resolutions)
    found = find_baseline(ws.out, inputs, names, finest)
    if found is not None:
        log.info("baseline: reusing the run in %s (its inputs match)", ws.out)
        return found, inputs
    write = only is None and _may_write(ws)
    log.info("baseline: computing it%s", f" into {ws.out}" if write else " (not written)")
    run = run_workspace(ws, only=only, write=write, progress=progress)
    cells = {
        n: pd.DataFrame(by_res[finest].drop(columns="geometry"))
        for n, by_res in run.h3.items()
        if finest in by_res
    }
    return Baseline(run.summary, cells, reused=False, folder=run.out), inputs


# --------------------------------------------------------------------------- scenario run


@dataclass
class _Hooks:
    """The scenario's changes to a plain run (:class:`urbanform.pipeline.RunHooks`)."""

    scenario: Scenario
    baseline: Baseline
    resolution: int

    def edit_layers(self, layers: Layers) -> None:
        remove_features(layers, self.scenario)

    def annotate(self, run: RunResult) -> None:
        base = self.baseline.summary.get("analyses", {})
        for r in run.results:
            mine = run.h3.get(r.name, {}).get(self.resolution)
            theirs = self.baseline.cells.get(r.name)
            gains = _cell_gains(mine, theirs, list(r.indicators))
            entry = run.summary["analyses"][r.name]
            _put_baseline(entry, base.get(r.name, {}), gains)
            layer = _changes_layer(gains, r, run.layers.crs)
            if layer is not None:
                r.layers["changes"], r.styles["changes"] = layer
        b = self.baseline
        run.summary["scenario"] = {
            "name": self.scenario.name,
            "description": self.scenario.description,
            "baseline": {
                "reused": b.reused,
                "folder": None if b.folder is None else b.folder.name,
                "fingerprint": (b.summary.get("inputs") or {}).get("fingerprint"),
            },
        }
        run.scenario = run.summary["scenario"]


def _cell_gains(
    mine: pd.DataFrame | None, theirs: pd.DataFrame | None, keys: list[str]
) -> pd.DataFrame:
    """Per H3 cell: ``K__gain`` = scenario ``K__num`` - baseline ``K__num`` (outer join)."""
    frames = []
    for frame, sign in ((mine, 1.0), (theirs, -1.0)):
        if frame is None or not len(frame):
            continue
        cols = [f"{k}{NUM}" for k in keys if f"{k}{NUM}" in frame.columns]
        part = pd.DataFrame(frame[cols].to_numpy(dtype=float) * sign, columns=cols)
        part["hex_id"] = frame["hex_id"].astype(str).to_numpy()
        frames.append(part)
    if not frames:
        return pd.DataFrame({"hex_id": []})
    summed = pd.concat(frames, ignore_index=True).fillna(0.0).groupby("hex_id", sort=True).sum()
    summed.columns = [c.removesuffix(NUM) + "__gain" for c in summed.columns]
    return summed.reset_index()


def _put_baseline(entry: dict[str, Any], base: dict[str, Any], gains: pd.DataFrame) -> None:
    """``baseline`` beside every ``value``; the city entry also gets ``gain``."""
    base_inds = base.get("indicators", {})
    for key, ind in entry["indicators"].items():
        b = base_inds.get(key, {})
        ind["city"]["baseline"] = (b.get("city") or {}).get("value")
        col = f"{key}__gain"
        ind["city"]["gain"] = float(gains[col].sum()) if col in gains.columns else None
        b_districts = b.get("districts") or {}
        for d, v in ind["districts"].items():
            v["baseline"] = (b_districts.get(d) or {}).get("value")


def _changes_layer(
    gains: pd.DataFrame, result: Any, crs: Any
) -> tuple[gpd.GeoDataFrame, LayerStyle] | None:
    """H3 cells whose covered amount changed, with ``K__gain`` columns, or ``None``."""
    cols = [c for c in gains.columns if c.endswith("__gain")]
    if not cols or not len(gains):
        return None
    changed = (gains[cols].abs() > _EPS).any(axis=1).to_numpy()
    if not changed.any():
        return None
    from urbanform.priorities import priority_cells

    rows = gains[changed].reset_index(drop=True)
    cells = priority_cells([{"hex_id": h} for h in rows["hex_id"]])
    out = gpd.GeoDataFrame(rows, geometry=cells.geometry.to_numpy(), crs=4326).to_crs(crs)
    main = result.main_indicator
    value = f"{main}__gain" if main and f"{main}__gain" in cols else cols[0]
    return out, LayerStyle(
        title=f"{result.name}: change with the scenario",
        title_zh=f"{result.name}：情景带来的变化",
        value_field=value,
        ramp="diverging" if (out[value] < -_EPS).any() else "good",
    )


def scenario_out(ws: Workspace, scenario: Scenario, out: Path | None) -> Path:
    """The scenario's output folder: ``out`` if given, else ``<ws.out>/scenario-NAME``."""
    if out is not None:
        return Path(out).expanduser().absolute()
    return ws.out / f"scenario-{scenario.name}"


def run_scenario(
    ws: Workspace,
    name: str,
    *,
    out: Path | None = None,
    only: list[str] | None = None,
    write: bool = True,
    force: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Run the scenario ``name`` of ``ws`` with its baseline beside it.

    Parameters
    ----------
    ws
        The workspace (its ``out`` is the baseline's folder).
    name
        A scenario of ``scenarios/`` or the path of a scenario file.
    out
        The scenario's output folder (default ``<ws.out>/scenario-NAME``).
    only, write, force, progress
        As for :func:`urbanform.pipeline.run_workspace`.

    Returns
    -------
    RunResult
        Of the scenario world; ``summary["scenario"]["baseline"]["reused"]`` says
        whether the baseline was read from ``ws.out`` or computed.
    """
    progress = progress or Progress()
    scenario = load_scenario(ws, name)
    target = scenario_out(ws, scenario, out)
    if write:  # refuse a bad output folder before any work
        check_output(target, force=force, workspace=ws.root)
    baseline, _ = _baseline(ws, only, progress)
    world = dataclasses.replace(ws, layers=scenario.layer_specs(ws.layers), out=target)
    hooks = _Hooks(scenario, baseline, max(ws.h3_resolutions))
    return run_workspace(
        world, only=only, write=write, force=force, progress=progress, hooks=hooks
    )



def format_baseline(summary: dict[str, Any]) -> str:
    """One line on where a scenario run's baseline came from."""
    sc = summary.get("scenario") or {}
    b = sc.get("baseline") or {}
    if b.get("reused"):
        return f"baseline: reused the run in {b.get('folder')}/ (its inputs match)"
    where = f"written to {b['folder']}/" if b.get("folder") else "not written"
    return f"baseline: computed ({where})"
