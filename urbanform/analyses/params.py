"""Analysis parameters: the typed parameter classes and the checks of YAML values.

Each analysis kind declares its parameters once, as a frozen dataclass deriving from
:class:`Params` whose fields carry their default and a one-line description
(:func:`param`). ``validate_params`` checks the YAML values and returns an instance: the
analysis reads typed attributes (``params.radius_m``), the registry takes the defaults
from the class, and the README's parameter table and ``urbanform validate``'s listing
are printed from it (:meth:`Params.describe`, :meth:`Params.listing`), so none of them
can drift. An instance is also a read-only mapping of its fields (``dict(params)`` is
what ``summary.json`` records).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, TypeVar

from urbanform.checks import finite_number
from urbanform.errors import AnalysisError

__all__ = [
    "Params",
    "param",
    "piece_share_param",
    "merge_params",
    "positive_number",
    "one_of",
    "share_param",
]

P = TypeVar("P", bound="Params")


def param(default: Any, doc: str) -> Any:
    """A parameter field: its default (lists and dicts copied per instance) and its doc."""
    meta = {"doc": doc}
    if isinstance(default, list | dict):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def piece_share_param() -> Any:
    """The ``min_piece_share`` field of the kinds that walk (default 0.01)."""
    return param(
        0.01, "street pieces under this share of the network's length are not snapped to"
    )


@dataclasses.dataclass(frozen=True)
class Params(Mapping[str, Any]):
    """Base of the parameter classes: a frozen dataclass that reads like a mapping.

    Examples
    --------
    >>> @dataclasses.dataclass(frozen=True)
    ... class Demo(Params):
    ...     radius_m: float = param(500, "walking distance")
    ...     rings: list[float] = param([500, 800], "ring radii")
    >>> Demo.defaults()
    {'radius_m': 500, 'rings': [500, 800]}
    >>> p = Demo(radius_m=300.0)
    >>> p.radius_m, p["rings"], dict(p)
    (300.0, [500, 800], {'radius_m': 300.0, 'rings': [500, 800]})
    >>> Demo.describe()
    '`radius_m: 500` (walking distance), `rings: [500, 800]` (ring radii)'
    """

    kind: ClassVar[str] = ""

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def replace(self: P, **changes: Any) -> P:
        """A copy with some fields changed (the instance itself never changes)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every parameter with its default (fresh copies)."""
        return {f.name: _default(f) for f in dataclasses.fields(cls)}

    @classmethod
    def docs(cls) -> dict[str, str]:
        """Every parameter's one-line description."""
        return {f.name: str(f.metadata.get("doc", "")) for f in dataclasses.fields(cls)}

    @classmethod
    def describe(cls) -> str:
        """The README's parameter cell: ```key: default` (doc)`` for each parameter."""
        out = []
        for name, doc in cls.docs().items():
            value = cls.defaults()[name]
            text = f"`{name}`" if value is None else f"`{name}: {_yaml(value)}`"
            out.append(f"{text} ({doc})" if doc else text)
        return ", ".join(out)

    def listing(self) -> str:
        """The effective parameters as ``key=value`` pairs (``urbanform validate``)."""
        return ", ".join(f"{k}={_yaml(v)}" for k, v in self.items())


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _yaml(value: Any) -> str:
    """A value as it is written in YAML flow style (``[500, 800]``, ``{a: 1}``)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return json.dumps(int(value)) if abs(value) < 1e15 else json.dumps(value)
    return json.dumps(value)


def merge_params(
    given: dict[str, Any] | None, defaults: dict[str, Any], *, where: str
) -> dict[str, Any]:
    """Defaults overlaid with ``given``; an unknown key raises naming ``where``.

    Examples
    --------
    >>> merge_params({"radius_m": 300}, {"radius_m": 500, "max_snap_m": 100}, where="a.yml")
    {'radius_m': 300, 'max_snap_m': 100}
    """
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise AnalysisError(
            f"{where}: unknown parameter {unknown[0]!r} in 'params'; "
            f"valid parameters: {', '.join(sorted(defaults))}"
        )
    out = copy.deepcopy(defaults)
    out.update(given)
    return out


def positive_number(
    value: Any, *, key: str, where: str, allow_zero: bool = False, high: float | None = None
) -> float:
    """``value`` as a float, or an error naming the parameter when it is not positive.

    Finite and at most ``high`` (default: by the unit in ``key``; see
    :func:`urbanform.checks.finite_number`).
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise AnalysisError(f"{where}: params.{key} must be a positive number, got {value!r}")
    return finite_number(value, key=key, where=where, high=high, allow_low=allow_zero)


def share_param(value: Any, *, where: str, key: str = "min_piece_share") -> float:
    """``value`` as a share in [0, 1), or an error naming the parameter.

    Examples
    --------
    >>> share_param(0.01, where="a.yml")
    0.01
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1
    if not ok:
        raise AnalysisError(
            f"{where}: params.{key} must be a share from 0 to below 1 (0.01 = 1% of the "
            f"network's length; 0 snaps to every piece), got {value!r}"
        )
    return float(value)


def one_of(value: Any, choices: tuple[str, ...], *, key: str, where: str) -> str:
    """``value`` if it is one of ``choices``, else an error naming the parameter."""
    if value not in choices:
        raise AnalysisError(
            f"{where}: params.{key} must be one of {', '.join(choices)}, got {value!r}"
        )
    return str(value)
