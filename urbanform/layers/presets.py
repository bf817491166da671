"""Class presets: national land-use code tables mapped onto urbanform's land-use classes.

A layer's ``classes:`` may name a preset instead of listing values: ``ydyh2023`` (the
2023 land- and sea-use classification), ``sandiao`` (the third national land survey's
DLBM codes), ``gb50137`` (GB 50137-2011), ``worldcover`` (ESA WorldCover raster values)
or ``osm`` (OpenStreetMap tag values). The tables are package data
(``urbanform/layers/classes/*.yml``) with their sources, documented in
``docs/classes.md``.

Hierarchical code schemes match at any level: a code that is not listed takes the class
of its longest listed prefix (``070101`` -> ``0701`` -> ``07``). Codes read from a numeric
column lose their leading zero (``0701`` becomes ``701``); it is put back.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from urbanform.errors import LayerError

__all__ = [
    "PRESETS",
    "ClassPreset",
    "load_preset",
    "normalise_code",
    "code_classes",
    "raster_classes",
    "describe_preset",
]

PRESETS: tuple[str, ...] = ("ydyh2023", "sandiao", "gb50137", "worldcover", "osm")
"""The preset names ``classes:`` accepts."""

# which codes take part in prefix matching: anything else must match exactly
_PATTERNS = {
    "ydyh2023": re.compile(r"^\d{2}(?:\d{2}){0,2}$"),
    "sandiao": re.compile(r"^\d{2}(?:(?:\d{2}|H\d)A?)?$"),
    "gb50137": re.compile(r"^[A-Z]\d{0,3}$"),
}
_DIGIT_SCHEMES = ("ydyh2023", "sandiao")


@dataclass(frozen=True)
class ClassPreset:
    """One code table.

    Attributes
    ----------
    name
        The preset name (``ydyh2023``, ...).
    title, title_zh
        What the table is, in English and Chinese.
    source
        The publication the codes come from.
    codes
        Code -> (canonical class, Chinese name, English name).
    """

    name: str
    title: str
    title_zh: str
    source: str
    codes: dict[str, tuple[str, str, str]]


@functools.cache
def load_preset(name: str) -> ClassPreset:
    """The preset ``name`` read from the package data.

    Raises
    ------
    LayerError
        For a name that is not one of :data:`PRESETS`.

    Examples
    --------
    >>> load_preset("ydyh2023").codes["1001"][:2]
    ('industrial', '工业用地')
    >>> load_preset("sandiao").codes["1001"][:2]
    ('transport', '铁路用地')
    """
    if name not in PRESETS:
        raise LayerError(f"unknown class preset {name!r}; use one of {', '.join(PRESETS)}")
    text = resources.files("urbanform.layers").joinpath(f"classes/{name}.yml").read_text("utf-8")
    data = yaml.safe_load(text)
    codes = {str(k): (str(v[0]), str(v[1]), str(v[2])) for k, v in data["codes"].items()}
    return ClassPreset(
        name, data["title"], data["title_zh"], " ".join(data["source"].split()), codes
    )


def normalise_code(value: Any, preset: str | None) -> str:
    """A source value as a code of ``preset``.

    Whitespace is stripped, ``701.0`` becomes ``701``, a digit code that lost its leading
    zero gets it back (``701`` -> ``0701``), GB 50137 codes are upper-cased and OSM
    values lower-cased.

    Examples
    --------
    >>> normalise_code(701, "ydyh2023"), normalise_code("70101.0", "sandiao")
    ('0701', '070101')
    >>> normalise_code(" r2 ", "gb50137"), normalise_code("Forest", "osm")
    ('R2', 'forest')
    """
    code = str(value).strip()
    if re.fullmatch(r"\d+\.0+", code):
        code = code.split(".")[0]
    if preset in _DIGIT_SCHEMES:
        digits = re.match(r"\d*", code).group(0)  # type: ignore[union-attr]
        code = code.upper()
        if len(digits) % 2 == 1:
            code = "0" + code
    elif preset == "gb50137":
        code = code.upper()
    elif preset == "osm":
        code = code.lower()
    return code


def _lookup(preset: str | None, overrides: Mapping[str, Iterable[Any]]) -> dict[str, str]:
    """Code -> class: the preset's codes, then the overrides (which win)."""
    table: dict[str, str] = {}
    if preset is not None:
        table = {code: row[0] for code, row in load_preset(preset).codes.items()}
    for cls, values in overrides.items():
        for v in values:
            table[normalise_code(v, preset)] = cls
    return table


def code_classes(
    values: Iterable[Any], preset: str | None, overrides: Mapping[str, Iterable[Any]]
) -> dict[Any, str | None]:
    """The class of each distinct value: exact code, else its longest listed prefix.

    Parameters
    ----------
    values
        Source values (codes as strings or numbers).
    preset
        A name of :data:`PRESETS`, or ``None`` for the overrides alone.
    overrides
        Class -> values, from the layer's ``classes:`` mapping; they win over the preset.

    Returns
    -------
    dict
        Each distinct value -> its class, ``None`` for a value the table does not know.

    Examples
    --------
    >>> code_classes(["070101", 1001, "9999"], "ydyh2023", {})
    {'070101': 'residential', 1001: 'industrial', '9999': None}
    >>> code_classes(["0810", "0810A"], "sandiao", {"public": ["0810A"]})
    {'0810': 'green', '0810A': 'public'}
    """
    table = _lookup(preset, overrides)
    pattern = _PATTERNS.get(preset or "")
    out: dict[Any, str | None] = {}
    for value in dict.fromkeys(values):
        code = normalise_code(value, preset)
        cls = table.get(code)
        if cls is None and pattern is not None and pattern.match(code):
            cls = next(
                (table[code[:k]] for k in range(len(code) - 1, 0, -1) if code[:k] in table), None
            )
        out[value] = cls
    return out


def raster_classes(preset: str, overrides: Mapping[str, Iterable[Any]]) -> dict[str, list[int]]:
    """Class -> integer raster codes of ``preset`` with ``overrides`` applied.

    Examples
    --------
    >>> classes = raster_classes("worldcover", {"forest": [20]})
    >>> classes["forest"], classes["water"]
    ([10, 20, 95], [80])
    """
    out: dict[str, list[int]] = {}
    for code, cls in sorted(_lookup(preset, overrides).items(), key=lambda kv: _int_or(kv[0])):
        if code.isdigit():
            out.setdefault(cls, []).append(int(code))
    return out


def _int_or(code: str) -> tuple[int, str]:
    return (int(code), "") if code.isdigit() else (1 << 30, code)


def describe_preset(preset: str, overrides: Mapping[str, Iterable[Any]]) -> list[str]:
    """Lines saying which codes of ``preset`` (with ``overrides``) go to which class.

    Examples
    --------
    >>> describe_preset("worldcover", {})[2]
    '    forest: 10, 95'
    """
    p = load_preset(preset)
    by_class: dict[str, list[str]] = {}
    for code, cls in _lookup(preset, overrides).items():
        by_class.setdefault(cls, []).append(code)
    head = f"preset {p.name}: {p.title} ({p.title_zh}); source: {p.source}"
    if overrides:
        head += f"; overridden: {', '.join(sorted(overrides))}"
    return [head] + [f"    {cls}: {', '.join(codes)}" for cls, codes in sorted(by_class.items())]
