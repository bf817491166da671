"""environment.yml (conda-forge) and pyproject.toml name the same packages and bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name where they differ
CONDA_NAMES = {"h3": "h3-py"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    assert m, req
    return m.group(1).lower(), m.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(data["dependencies"])
    for extra in ("osm", "test", "mutation"):
        reqs += data["optional-dependencies"][extra]
    return dict(_split(r) for r in reqs)


def _environment() -> dict[str, str]:
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    out: dict[str, str] = {}
    for d in deps:
        items = d["pip"] if isinstance(d, dict) else [d]
        out.update(_split(i) for i in items)
    return out


@pytest.mark.parametrize("name", sorted(_pyproject()))
def test_every_dependency_is_in_environment_yml(name: str) -> None:
    env = _environment()
    conda = CONDA_NAMES.get(name, name)
    assert conda in env, f"{conda} missing from environment.yml"
    assert env[conda] == _pyproject()[name], f"{conda}: bounds differ"


def test_environment_has_nothing_extra() -> None:
    known = {CONDA_NAMES.get(n, n) for n in _pyproject()} | {"python", "pip"}
    assert set(_environment()) - known == set()


def test_python_version_matches() -> None:
    req = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert _environment()["python"] == req
