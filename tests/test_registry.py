"""The analysis registry: every kind typed and listed once, and the README in step with it."""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import pytest
import yaml

from urbanform.analyses.registry import KINDS, AnalysisKind, get_kind, parameters_table
from urbanform.errors import AnalysisError

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_params() -> dict[str, str]:
    """Kind -> the params cell of its row in the README's parameter table."""
    text = README.read_text(encoding="utf-8")
    table = text.split("Parameters (`params:`", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines():
        m = re.match(r"\| `(\w+)` \| (.*) \|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def _documented(cell: str) -> dict[str, str | None]:
    """Parameter -> its documented default (``None`` when the cell gives none).

    Text in parentheses explains a parameter; the other backticked items name one each.
    """
    bare = re.sub(r"\([^()]*\)", "", cell)
    out: dict[str, str | None] = {}
    for item in re.findall(r"`([^`]+)`", bare):
        key, _, value = item.partition(":")
        out[key.strip()] = value.strip() or None
    return out


def test_kinds_are_listed_in_the_documented_order():
    assert list(KINDS) == ["park_coverage", "living_circle", "tod", "jobs_housing", "forest_cover"]


@pytest.mark.parametrize("name", list(KINDS))
def test_kind_is_the_module_of_its_name(name: str):
    kind = KINDS[name]
    module = importlib.import_module(f"urbanform.analyses.{name}")
    assert isinstance(kind, AnalysisKind)
    assert (kind.name, kind.run, kind.validate_params) == (name, module.run, module.validate_params)
    assert dict(kind.defaults) == module.DEFAULTS


@pytest.mark.parametrize("name", list(KINDS))
def test_default_indicator_keys_are_indicators(name: str):
    kind = KINDS[name]
    keys = kind.indicator_keys(kind.validate_params({}, where="a.yml"))
    assert keys and set(keys) <= set(kind.indicators)


def test_living_circle_indicator_keys_follow_the_parameters():
    kind = KINDS["living_circle"]
    params = kind.validate_params({"categories": ["library"]}, where="c.yml")
    assert kind.indicator_keys(params) == ["pop_share_all", "pop_share_library"]


@pytest.mark.parametrize("name", list(KINDS))
def test_validated_parameters_are_a_frozen_instance_of_the_kind_class(name: str):
    kind = KINDS[name]
    params = kind.validate_params({}, where="a.yml")
    assert type(params) is kind.params_type
    assert set(params) == set(kind.defaults) == set(kind.params_type.docs())
    first = next(iter(params))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(params, first, None)


@pytest.mark.parametrize("name", list(KINDS))
def test_every_parameter_has_a_description(name: str):
    docs = KINDS[name].params_type.docs()
    assert all(d.strip() for d in docs.values()), docs


def test_params_are_typed_attributes_and_a_mapping():
    params = KINDS["tod"].validate_params({"radius_m": 600}, where="tod.yml")
    # one ring: 600 m, also the indicator ring (validate_params fills it in)
    assert params.radius_m == [600.0] and params.indicator_radius_m == 600.0
    assert params["distance"] == params.distance == "network"
    assert dict(params)["max_snap_m"] == 100
    assert params.replace(distance="euclidean").distance == "euclidean"
    assert params.distance == "network"  # replace made a copy


def test_readme_parameter_table_is_the_printed_one():
    text = README.read_text(encoding="utf-8")
    assert parameters_table() in text


def test_defaults_are_read_only():
    with pytest.raises(TypeError, match="does not support item assignment"):
        KINDS["tod"].defaults["radius_m"] = 5  # type: ignore[index]


def test_unknown_kind_names_the_file_and_the_kinds():
    with pytest.raises(AnalysisError, match=r"^a\.yml: unknown analysis kind 'parks'; use one of "
                       r"park_coverage, living_circle, tod, jobs_housing, forest_cover$"):
        get_kind("parks", where="a.yml")


@pytest.mark.parametrize("name", list(KINDS))
def test_readme_table_lists_every_parameter(name: str):
    assert set(_documented(_readme_params()[name])) == set(KINDS[name].defaults)


@pytest.mark.parametrize("name", list(KINDS))
def test_readme_table_gives_the_defaults(name: str):
    documented = _documented(_readme_params()[name])
    given = {k: yaml.safe_load(v) for k, v in documented.items() if v is not None}
    assert given == {k: KINDS[name].defaults[k] for k in given}
