"""The analysis kinds: one typed entry per kind, in an explicit registry.

Each kind is an :class:`AnalysisKind`: its name, default parameters, indicators, how its
parameters are checked and how it runs. :data:`KINDS` maps a kind's name (the ``kind:``
of ``analyses/NAME.yml``) onto it; the pipeline and the command line find kinds here and
nowhere else. A new kind is a module with the same four pieces and one line below.

Examples
--------
>>> list(KINDS)
['park_coverage', 'living_circle', 'tod', 'jobs_housing', 'forest_cover']
>>> KINDS["tod"].indicator_keys(KINDS["tod"].validate_params({}, where="tod.yml"))
['pop_share', 'jobs_share']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from urbanform.analyses import forest_cover, jobs_housing, living_circle, park_coverage, tod
from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError
from urbanform.results import AnalysisResult, Target

__all__ = ["AnalysisKind", "KINDS", "get_kind"]


class ValidateParams(Protocol):
    """``validate_params(params, *, where)``: the effective parameters, defaults filled in."""

    def __call__(self, params: dict[str, Any] | None, *, where: str) -> dict[str, Any]: ...


class RunAnalysis(Protocol):
    """``run(ctx, *, name, params, target)``: one analysis run on the shared context."""

    def __call__(
        self, ctx: Context, *, name: str, params: dict[str, Any], target: Target | None
    ) -> AnalysisResult: ...


@dataclass(frozen=True)
class AnalysisKind:
    """One analysis kind.

    Attributes
    ----------
    name
        The ``kind:`` of ``analyses/NAME.yml``.
    defaults
        Every parameter the kind accepts, with its default (read-only).
    indicators
        Indicator key -> (unit, English label), every indicator the kind can report.
    validate_params
        The effective parameters of a run (defaults filled in); raises
        :class:`~urbanform.errors.AnalysisError` naming ``where`` and the key.
    run
        Runs the analysis; returns an :class:`~urbanform.results.AnalysisResult`.
    keys_for
        The indicators a run with given (validated) parameters reports, when they depend
        on the parameters (living circles: one per category); else all of ``indicators``.
    """

    name: str
    defaults: Mapping[str, Any]
    indicators: Mapping[str, tuple[str, str]]
    validate_params: ValidateParams
    run: RunAnalysis
    keys_for: Callable[[dict[str, Any]], list[str]] | None = None

    def indicator_keys(self, params: dict[str, Any]) -> list[str]:
        """The indicators a run with these (validated) parameters reports."""
        return list(self.keys_for(params)) if self.keys_for else list(self.indicators)


def _kind(
    name: str,
    module: Any,
    validate_params: ValidateParams,
    run: RunAnalysis,
    keys_for: Callable[[dict[str, Any]], list[str]] | None = None,
) -> AnalysisKind:
    return AnalysisKind(
        name=name,
        defaults=MappingProxyType(module.DEFAULTS),
        indicators=MappingProxyType(module.INDICATORS),
        validate_params=validate_params,
        run=run,
        keys_for=keys_for,
    )


KINDS: Mapping[str, AnalysisKind] = MappingProxyType({
    k.name: k
    for k in (
        _kind("park_coverage", park_coverage, park_coverage.validate_params, park_coverage.run),
        _kind(
            "living_circle", living_circle, living_circle.validate_params, living_circle.run,
            keys_for=living_circle.indicator_keys,
        ),
        _kind("tod", tod, tod.validate_params, tod.run),
        _kind("jobs_housing", jobs_housing, jobs_housing.validate_params, jobs_housing.run),
        _kind("forest_cover", forest_cover, forest_cover.validate_params, forest_cover.run),
    )
})
"""Kind name -> :class:`AnalysisKind`, in the order the docs list them."""


def get_kind(kind: str, *, where: str = "") -> AnalysisKind:
    """The analysis kind named ``kind``.

    Raises
    ------
    AnalysisError
        For an unknown kind, naming ``where`` and the valid kinds.

    Examples
    --------
    >>> get_kind("tod").name
    'tod'
    """
    if kind not in KINDS:
        at = f"{where}: " if where else ""
        raise AnalysisError(f"{at}unknown analysis kind {kind!r}; use one of {', '.join(KINDS)}")
    return KINDS[kind]
