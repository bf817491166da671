"""The QGIS plugin: a Processing provider that runs the ``urbanform`` command.

``urbanform qgis-plugin DIR`` writes ``DIR/urbanform_qgis.zip``, a plugin for QGIS 3.22 LTR
and newer (Plugins > Manage and Install Plugins > Install from ZIP). The plugin's Python
files are package data (``qgis_plugin_src/*.py.txt``, plain PyQGIS that runs inside QGIS's
own Python and never imports urbanform); this module adds ``metadata.txt`` and
``kinds.json``, the parameters of every analysis kind taken from
:data:`urbanform.analyses.registry.KINDS` and the canonical fields of every role, so the
plugin's dialogs cannot drift from the package that runs them.

Examples
--------
>>> spec = plugin_spec()
>>> [p["name"] for p in spec["kinds"]["tod"]["params"]][:3]
['radius_m', 'distance', 'max_snap_m']
>>> [r["role"] for r in spec["kinds"]["jobs_housing"]["roles"]]
['districts', 'population', 'jobs']
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from urbanform import __version__
from urbanform.analyses import living_circle
from urbanform.analyses.registry import KINDS
from urbanform.errors import OutputError, UrbanformError
from urbanform.layers.types import ROLE_FIELDS

__all__ = ["KIND_ROLES", "PLUGIN_NAME", "ZIP_NAME", "plugin_spec", "write_plugin"]

PLUGIN_NAME = "urbanform_qgis"
ZIP_NAME = f"{PLUGIN_NAME}.zip"

#: Roles each kind reads from project layers, ``(role, required)``, in dialog order.
#: Districts are required everywhere: the algorithms return the district layer.
KIND_ROLES: Mapping[str, tuple[tuple[str, bool], ...]] = {
    "park_coverage": (
        ("districts", True), ("parks", True), ("population", False), ("landuse", False),
        ("streets", False),
    ),
    "living_circle": (
        ("districts", True), ("population", True), ("facilities", True), ("streets", True),
    ),
    "tod": (
        ("districts", True), ("stations", True), ("population", True), ("jobs", False),
        ("landuse", False), ("streets", False),
    ),
    "jobs_housing": (("districts", True), ("population", True), ("jobs", True)),
    "forest_cover": (("districts", True), ("landuse", True)),
}

#: Choices of the parameters that take one of a few values: (kind, parameter) -> values.
_CHOICES: Mapping[tuple[str, str], list[Any]] = {
    ("park_coverage", "distance"): ["euclidean", "network"],
    ("tod", "distance"): ["network", "euclidean"],
    ("living_circle", "level"): sorted(living_circle.LEVELS),
    ("forest_cover", "source"): ["auto", "landcover", "landuse"],
}

#: Type of the parameters whose default is ``None`` (left out of the YAML when empty).
_NONE_TYPES: Mapping[str, str] = {
    "distance_m": "number",
    "minutes": "number",
    "indicator_radius_m": "number",
    "categories": "json",
    "od": "string",
    "od_crs": "string",
}

_SOURCE_FILES = ("__init__.py", "provider.py", "algorithms.py")


def _param_type(kind: str, name: str, default: Any) -> str:
    if (kind, name) in _CHOICES:
        return "enum"
    if default is None:
        if name not in _NONE_TYPES:
            raise UrbanformError(
                f"qgis-plugin: parameter {name!r} of kind {kind!r} has no default and no "
                "dialog type; add it to urbanform.qgis_plugin._NONE_TYPES"
            )
        return _NONE_TYPES[name]
    if isinstance(default, bool):
        return "json"
    if isinstance(default, int | float):
        return "number"
    if isinstance(default, str):
        return "string"
    return "json"


def _kind_spec(kind: str) -> dict[str, Any]:
    entry = KINDS[kind]
    params = []
    for name, default in entry.defaults.items():
        kind_of = _param_type(kind, name, default)
        param: dict[str, Any] = {"name": name, "type": kind_of, "default": default}
        if kind_of == "enum":
            param["choices"] = list(_CHOICES[(kind, name)])
        params.append(param)
    roles = []
    for role, required in KIND_ROLES[kind]:
        needed, optional = ROLE_FIELDS[role]
        fields = [{"name": f, "required": True} for f in needed]
        fields += [{"name": f, "required": False} for f in optional]
        roles.append({"role": role, "required": required, "fields": fields})
    indicators = {key: {"unit": unit, "label": label}
                  for key, (unit, label) in entry.indicators.items()}
    return {"roles": roles, "params": params, "indicators": indicators}


def plugin_spec() -> dict[str, Any]:
    """What the plugin's per-kind algorithms offer: roles, fields, parameters, indicators."""
    return {
        "urbanform_version": __version__,
        "kinds": {kind: _kind_spec(kind) for kind in KINDS},
    }


def _metadata() -> str:
    return "\n".join([
        "[general]",
        "name=urbanform",
        "qgisMinimumVersion=3.22",
        "description=Run urbanform (park coverage, living circles, TOD, jobs-housing "
        "balance, forest cover) from the Processing Toolbox",
        "about=A Processing provider for urbanform. It runs the urbanform command of your "
        "Python environment (URBANFORM_EXE, the provider setting, or PATH) on a workspace "
        "folder or on project layers.",
        f"version={__version__}",
        "author=urbanform",
        "email=urbanform@example.invalid",
        "repository=https://github.com/urbanform/urbanform",
        "tracker=https://github.com/urbanform/urbanform/issues",
        "hasProcessingProvider=yes",
        "tags=processing,urban planning,park,transit,accessibility",
        "experimental=False",
        "",
    ])


def write_plugin(folder: Path, *, force: bool = False) -> Path:
    """Write ``folder/urbanform_qgis.zip``; returns its path.

    Raises
    ------
    OutputError
        When the zip exists and ``force`` is not set, or ``folder`` cannot be written.
    """
    folder = Path(folder)
    target = folder / ZIP_NAME
    if target.exists() and not force:
        raise OutputError(
            f"{target} exists; pass --force to replace it or choose another folder"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{ZIP_NAME}.tmp"
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            src = resources.files("urbanform") / "qgis_plugin_src"
            for name in _SOURCE_FILES:
                text = (src / f"{name}.txt").read_text(encoding="utf-8")
                zf.writestr(f"{PLUGIN_NAME}/{name}", text)
            zf.writestr(f"{PLUGIN_NAME}/metadata.txt", _metadata())
            zf.writestr(f"{PLUGIN_NAME}/kinds.json", json.dumps(plugin_spec(), indent=1))
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(
            f"cannot write the QGIS plugin to {folder}: {exc.strerror or exc}; "
            "choose another folder"
        ) from exc
    return target
