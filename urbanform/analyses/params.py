"""Checking analysis parameters from YAML: unknown keys, types and ranges."""

from __future__ import annotations

import copy
from typing import Any

from urbanform.checks import finite_number
from urbanform.errors import AnalysisError

__all__ = ["merge_params", "positive_number", "one_of", "share_param"]


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
