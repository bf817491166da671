"""Reading a workspace folder into typed, validated specs.

A workspace is a folder with ``urbanform.yml`` and the folders ``layers/``,
``analyses/`` and ``maps/``, one YAML file per layer, analysis run and map (see
docs/architecture.md, "Workspace and layers"). Every error names the file and the key.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyproj
import yaml

from urbanform.checks import short_path
from urbanform.errors import OutputError, UrbanformError, WorkspaceError
from urbanform.layers.gcj02 import is_gcj02
from urbanform.layers.presets import PRESETS
from urbanform.layers.types import ROLES, LayerSpec, unknown_field
from urbanform.results import Target

__all__ = [
    "AnalysisSpec",
    "MapSpec",
    "ReportConfig",
    "Workspace",
    "check_distinct_outs",
    "load_workspace",
    "parse_layer_entry",
    "read_yaml",
]

log = logging.getLogger(__name__)

_WORKSPACE_KEYS = {"name", "crs", "h3_resolutions", "out", "report"}
_REPORT_KEYS = {"language", "tiles", "attribution", "title"}
REMOTE_PREFIXES = ("/vsi", "s3://", "gs://")
"""Sources read through GDAL's virtual file systems (/vsizip/, /vsis3/, ...): not files here."""

_LAYER_KEYS = {"role", "source", "layer", "crs", "fields", "classes", "description", "route_types"}
_ANALYSIS_KEYS = {"kind", "target", "params", "title", "description"}
_TARGET_KEYS = {"indicator", "op", "value", "year", "source", "source_zh"}
_MAP_KEYS = {"analysis", "title", "title_zh", "indicators", "layers", "h3"}
_OPS = (">=", ">", "<=", "<", "==")


@dataclass(frozen=True)
class ReportConfig:
    """The ``report`` section of ``urbanform.yml``."""

    language: str = "en"
    tiles: str | None = None
    attribution: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class AnalysisSpec:
    """One ``analyses/NAME.yml``: the run's key, kind, target and raw parameters."""

    name: str
    kind: str
    target: Target | None
    params: dict[str, Any]
    file: str
    title: str | None = None


@dataclass(frozen=True)
class MapSpec:
    """One ``maps/NAME.yml``: which analysis a map shows and how."""

    name: str
    analysis: str
    file: str
    title: str | None = None
    title_zh: str | None = None
    indicators: tuple[str, ...] | None = None
    layers: tuple[str, ...] | None = None
    h3: bool = True


@dataclass(frozen=True)
class Workspace:
    """A validated workspace.

    Attributes
    ----------
    root
        The workspace folder.
    name
        The city or project name.
    crs
        The metric working CRS as given (``None``: the UTM zone of the data).
    h3_resolutions
        H3 resolutions of the grid summaries.
    out
        The output folder (absolute).
    report
        Report settings.
    layers, analyses, maps
        The specs, sorted by file name.
    """

    root: Path
    name: str
    crs: str | None
    h3_resolutions: tuple[int, ...]
    out: Path
    report: ReportConfig
    layers: tuple[LayerSpec, ...] = field(default_factory=tuple)
    analyses: tuple[AnalysisSpec, ...] = field(default_factory=tuple)
    maps: tuple[MapSpec, ...] = field(default_factory=tuple)

    def analysis(self, name: str) -> AnalysisSpec:
        """The analysis run called ``name``, or a :class:`WorkspaceError` listing the runs."""
        for a in self.analyses:
            if a.name == name:
                return a
        names = ", ".join(a.name for a in self.analyses) or "none"
        raise WorkspaceError(f"no analysis {name!r} in {self.root / 'analyses'}; runs: {names}")


MAX_YAML_BYTES = 1 << 20
"""The largest workspace YAML file read (1 MiB); real ones are a few hundred bytes."""
MAX_YAML_VALUES = 100_000
"""The most values a workspace YAML file may hold once its aliases are expanded."""


def _too_many_values(node: yaml.Node) -> bool:
    """Whether ``node`` expands (aliases followed) to more than :data:`MAX_YAML_VALUES`."""
    stack, seen = [node], 0
    while stack:
        n = stack.pop()
        seen += 1
        if seen > MAX_YAML_VALUES:
            return True
        if isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            stack.extend(v for pair in n.value for v in pair)
    return False


def _yaml_error(path: Path, exc: yaml.YAMLError) -> WorkspaceError:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    tab = "\\t" in str(exc) or "\t" in str(exc)  # PyYAML writes the tab escaped
    hint = "indent with spaces, not tabs" if tab else "check indentation and quotes"
    return WorkspaceError(f"{path}: invalid YAML{where}; {hint}")


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; an empty file gives ``{}``.

    Raises
    ------
    WorkspaceError
        For an unreadable, non-UTF-8, invalid, larger than 1 MiB or alias-bomb file, or
        one that is not a mapping.
    """
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise WorkspaceError(
                f"{path}: {size:,} bytes is too large for a workspace file (at most "
                f"{MAX_YAML_BYTES:,}); is it the right file?"
            )
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise WorkspaceError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _too_many_values(node):
            raise WorkspaceError(
                f"{path}: more than {MAX_YAML_VALUES:,} values once its aliases (*name) are "
                "expanded; write the values out instead of nesting aliases"
            )
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    except RecursionError:
        raise WorkspaceError(f"{path}: nested too deeply to be a workspace file") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise WorkspaceError(f"{path}: expected a mapping of keys, found {type(data).__name__}")
    return data


def _check_keys(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise WorkspaceError(
            f"{where}: unknown key {unknown[0]!r}; valid keys: {', '.join(sorted(allowed))}"
        )


def _require(
    data: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str
) -> Any:
    if key not in data or data[key] in (None, ""):
        raise WorkspaceError(f"{where}: missing required key {key!r}")
    if not isinstance(data[key], kind):
        raise WorkspaceError(f"{where}: {key!r} must be a {_typename(kind)}, got {data[key]!r}")
    return data[key]


def _typename(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {"str": "string", "dict": "mapping", "list": "list"}.get(k.__name__, k.__name__)
        for k in kinds
    )


def _parse_crs(value: Any, where: str, *, known: bool = True) -> str | None:
    """A CRS as given (``EPSG:4490``, ``4490``, ``GCJ-02``, WKT, PROJ); ``known``: checked."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"EPSG:{value}"
    if not isinstance(value, str) or not value.strip():
        raise WorkspaceError(f"{where}: 'crs' must be a CRS name like EPSG:4490, got {value!r}")
    if known and not is_gcj02(value):
        try:
            pyproj.CRS.from_user_input(value)
        except pyproj.exceptions.CRSError:
            raise WorkspaceError(
                f"{where}: crs {value!r} is not a known CRS; use for example EPSG:4490 "
                "(CGCS2000), EPSG:4326 (WGS 84) or GCJ-02"
            ) from None
    return value


def _opt_text(data: dict[str, Any], key: str, where: str) -> str | None:
    """An optional free-text key (title, description, ...): a string or a number."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise WorkspaceError(f"{where}: {key!r} must be text, got {value!r}")
    return str(value)


def _parse_report(data: Any, where: str) -> ReportConfig:
    if data is None:
        return ReportConfig()
    if not isinstance(data, dict):
        raise WorkspaceError(f"{where}: 'report' must be a mapping, got {data!r}")
    _check_keys(data, _REPORT_KEYS, f"{where}: report")
    lang = data.get("language", "en")
    if lang not in ("en", "zh"):
        raise WorkspaceError(f"{where}: report.language must be 'en' or 'zh', got {lang!r}")
    tiles = data.get("tiles")
    if tiles is not None and not isinstance(tiles, str):
        raise WorkspaceError(f"{where}: report.tiles must be a tile URL string or absent")
    return ReportConfig(
        lang, tiles or None, _opt_text(data, "attribution", where), _opt_text(data, "title", where)
    )


def _parse_resolutions(value: Any, where: str) -> tuple[int, ...]:
    if value is None:
        return (8, 9)
    values = value if isinstance(value, list) else [value]
    ok = all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 15 for v in values)
    if not ok or not values:
        raise WorkspaceError(
            f"{where}: h3_resolutions must be a list of integers from 0 to 15, got {value!r}"
        )
    return tuple(sorted(set(values)))


def _parse_layer(path: Path, root: Path) -> LayerSpec:
    return parse_layer_entry(read_yaml(path), name=path.stem, where=str(path), root=root)


def parse_layer_entry(
    data: dict[str, Any],
    *,
    name: str,
    where: str,
    root: Path,
    also: Path | None = None,
) -> LayerSpec:
    """A layer spec from the mapping of a ``layers/*.yml`` file (or a scenario's entry).

    Parameters
    ----------
    data
        The keys of ``layers/*.yml`` (``role``, ``source``, ``fields``, ``classes``, ...).
    name
        The layer's name in messages and provenance.
    where
        The file (and key) named by errors.
    root
        The workspace folder: a relative ``source`` is resolved against it.
    also
        A second folder for a relative ``source`` missing from ``root`` (a scenario's own
        folder).
    """
    _check_keys(data, _LAYER_KEYS, where)
    role = _require(data, "role", where)
    if role not in ROLES:
        raise WorkspaceError(f"{where}: unknown role {role!r}; use one of {', '.join(ROLES)}")
    source = str(_require(data, "source", where, (str,)))
    if not source.startswith(("demo:", *REMOTE_PREFIXES)):  # GDAL virtual paths: as given
        prefix = "osm:" if source.startswith("osm:") else ""
        p = Path(source[len(prefix) :]).expanduser()
        if not p.is_absolute():
            in_root = root / p
            beside = also / p if also is not None else in_root
            p = beside if not _is(in_root, Path.exists) and _is(beside, Path.exists) else in_root
        source = prefix + str(p.resolve())
    fields = data.get("fields") or {}
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise WorkspaceError(f"{where}: 'fields' must map canonical fields to column names")
    problem = unknown_field(role, fields)
    if problem:
        raise WorkspaceError(f"{where}: {problem}")
    classes, preset = _parse_classes(data.get("classes"), role, where)
    layer = _opt_text(data, "layer", where)
    crs = _parse_crs(data.get("crs"), where)
    return LayerSpec(
        name=name,
        role=role,
        source=source,
        layer=layer,
        crs=crs,
        fields={str(k): str(v) for k, v in fields.items()},
        classes=classes,
        file=where,
        preset=preset,
        route_types=_parse_route_types(data.get("route_types"), role, where),
    )


def _parse_route_types(value: Any, role: str, where: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    ok = values and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values)
    if not ok:
        raise WorkspaceError(
            f"{where}: 'route_types' must be a list of GTFS route types such as [1, 2], "
            f"got {value!r}"
        )
    if role != "stations":
        raise WorkspaceError(f"{where}: 'route_types' is for a GTFS stations layer, not {role!r}")
    return tuple(values)


def _parse_classes(value: Any, role: str, where: str) -> tuple[dict[str, list[Any]], str | None]:
    """``classes:`` as (class -> values, preset name): a mapping, a preset name, or both."""
    if value is None or value == {}:
        return {}, None
    preset = None
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, dict):
        raise WorkspaceError(
            f"{where}: 'classes' must map class names to lists of source values or name a "
            f"preset ({', '.join(PRESETS)})"
        )
    if "preset" in value:
        value = dict(value)
        preset = value.pop("preset")
        if preset not in PRESETS:
            raise WorkspaceError(
                f"{where}: unknown class preset {preset!r}; use one of {', '.join(PRESETS)} "
                "(see docs/classes.md)"
            )
        if role not in ("landuse", "landcover"):
            raise WorkspaceError(
                f"{where}: class preset {preset!r} is for landuse and landcover layers, not "
                f"role {role!r}; map values with 'classes: {{NAME: [VALUE, ...]}}'"
            )
    classes = {str(k): (v if isinstance(v, list) else [v]) for k, v in value.items()}
    return classes, preset


def _parse_target(data: Any, where: str) -> Target | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise WorkspaceError(f"{where}: 'target' must be a mapping with indicator, op and value")
    _check_keys(data, _TARGET_KEYS, f"{where}: target")
    indicator = _require(data, "indicator", f"{where}: target")
    op = data.get("op", ">=")
    if op not in _OPS:
        raise WorkspaceError(f"{where}: target.op must be one of {', '.join(_OPS)}, got {op!r}")
    value = data.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise WorkspaceError(f"{where}: target.value must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value) or abs(value) > 1e15:
        raise WorkspaceError(f"{where}: target.value must be a finite number, got {value!r}")
    year = data.get("year")
    if year is not None and not isinstance(year, int):
        raise WorkspaceError(f"{where}: target.year must be a year like 2025, got {year!r}")
    source, source_zh = data.get("source"), data.get("source_zh")
    return Target(
        str(indicator),
        op,
        float(value),
        year,
        None if source is None else str(source),
        None if source_zh is None else str(source_zh),
    )


def _parse_analysis(path: Path) -> AnalysisSpec:
    where = str(path)
    data = read_yaml(path)
    _check_keys(data, _ANALYSIS_KEYS, where)
    kind = _require(data, "kind", where)
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise WorkspaceError(f"{where}: 'params' must be a mapping of parameter: value")
    return AnalysisSpec(
        name=path.stem,
        kind=kind,
        target=_parse_target(data.get("target"), where),
        params=params,
        file=where,
        title=_opt_text(data, "title", where),
    )


def _str_tuple(value: Any, key: str, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WorkspaceError(f"{where}: {key!r} must be a list of names")
    return tuple(value)


def _flag(value: Any, key: str, where: str) -> bool:
    """A yes/no key: ``true``/``false`` (or 1/0); a string such as ``'no'`` is refused."""
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    raise WorkspaceError(f"{where}: {key!r} must be true or false, got {value!r}")


def _parse_map(path: Path) -> MapSpec:
    where = str(path)
    data = read_yaml(path)
    _check_keys(data, _MAP_KEYS, where)
    return MapSpec(
        name=path.stem,
        analysis=_require(data, "analysis", where),
        file=where,
        title=_opt_text(data, "title", where),
        title_zh=_opt_text(data, "title_zh", where),
        indicators=_str_tuple(data.get("indicators"), "indicators", where),
        layers=_str_tuple(data.get("layers"), "layers", where),
        h3=_flag(data.get("h3", True), "h3", where),
    )


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])


def _resolve(path: Path, what: str, error: type[UrbanformError]) -> Path:
    """``path`` absolute with symbolic links followed, or an error naming it."""
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "a symbolic link loop"
        raise error(f"{what} {short_path(path)}: {why}; choose another path") from None


def _is(path: Path, test: Any) -> bool:
    """``test(path)`` (``Path.is_dir``, ...), false when the path cannot be looked at."""
    try:
        return bool(test(path))
    except OSError:  # a name too long, a permission denied
        return False


def load_workspace(root: str | Path, *, out: str | Path | None = None) -> Workspace:
    """Read and validate the workspace in ``root``.

    Parameters
    ----------
    root
        The workspace folder (holding ``urbanform.yml``).
    out
        Output folder overriding the workspace's ``out``.

    Returns
    -------
    Workspace

    Raises
    ------
    WorkspaceError
        Naming the file and key for anything missing or invalid.
    """
    root = _resolve(Path(root), "workspace folder", WorkspaceError)
    if not _is(root, Path.is_dir):
        raise WorkspaceError(
            f"workspace folder {short_path(root)} does not exist; create one with "
            "'urbanform init DIR'"
        )
    cfg_path = root / "urbanform.yml"
    if not _is(cfg_path, Path.is_file):
        raise WorkspaceError(
            f"{root} is not a workspace: urbanform.yml is missing; create one "
            "with 'urbanform init DIR'"
        )
    where = str(cfg_path)
    cfg = read_yaml(cfg_path)
    _check_keys(cfg, _WORKSPACE_KEYS, where)
    name = str(cfg.get("name") or root.name)
    crs = _parse_crs(cfg.get("crs"), where, known=False)  # checked with the data
    cfg_out = cfg.get("out") or "out"
    if not isinstance(cfg_out, str):
        raise WorkspaceError(f"{where}: 'out' must be a folder path, got {cfg_out!r}")
    out_path = Path(out if out is not None else cfg_out).expanduser()
    if not out_path.is_absolute():
        out_path = (Path.cwd() if out is not None else root) / out_path
    analyses = tuple(_parse_analysis(p) for p in _yaml_files(root / "analyses"))
    maps = tuple(_parse_map(p) for p in _yaml_files(root / "maps"))
    names = {a.name for a in analyses}
    for m in maps:
        if m.analysis not in names:
            runs = ", ".join(sorted(names)) or "none"
            raise WorkspaceError(f"{m.file}: analysis {m.analysis!r} does not exist; runs: {runs}")
    return Workspace(
        root=root,
        name=name,
        crs=crs,
        h3_resolutions=_parse_resolutions(cfg.get("h3_resolutions"), where),
        out=_resolve(out_path, "output folder", OutputError),
        report=_parse_report(cfg.get("report"), where),
        layers=tuple(_parse_layer(p, root) for p in _yaml_files(root / "layers")),
        analyses=analyses,
        maps=maps,
    )


def check_distinct_outs(workspaces: list[Workspace]) -> None:
    """Refuse two workspaces writing to the same folder (the second would replace it).

    Raises
    ------
    WorkspaceError
        Naming both workspaces and the folder.
    """
    seen: dict[Path, Workspace] = {}
    for ws in workspaces:
        out = ws.out.resolve()
        if out in seen:
            raise WorkspaceError(
                f"workspaces {seen[out].root} and {ws.root} both write to {ws.out}; give "
                "each its own 'out' in urbanform.yml"
            )
        seen[out] = ws
