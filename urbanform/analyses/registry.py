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
from typing import Any, Generic, Protocol, TypeVar

from urbanform.analyses import forest_cover, jobs_housing, living_circle, park_coverage, tod
from urbanform.analyses.context import Context
from urbanform.analyses.params import Params
from urbanform.errors import AnalysisError
from urbanform.results import AnalysisResult, Target

__all__ = ["AnalysisKind", "KINDS", "get_kind", "parameters_table"]


P = TypeVar("P", bound=Params)
P_co = TypeVar("P_co", bound=Params, covariant=True)
P_contra = TypeVar("P_contra", bound=Params, contravariant=True)


class ValidateParams(Protocol[P_co]):
    """``validate_params(params, *, where)``: the kind's typed parameters, defaults filled in."""

    def __call__(self, params: dict[str, Any] | None, *, where: str) -> P_co: ...


class RunAnalysis(Protocol[P_contra]):
    """``run(ctx, *, name, params, target)``: one analysis run on the shared context."""

    def __call__(
        self, ctx: Context, *, name: str, params: P_contra, target: Target | None
    ) -> AnalysisResult: ...


@dataclass(frozen=True)
class AnalysisKind(Generic[P]):
    """One analysis kind.

    Attributes
    ----------
    name
        The ``kind:`` of ``analyses/NAME.yml``.
    params_type
        The kind's parameter class (:class:`~urbanform.analyses.params.Params`): every
        parameter with its type, default and description.
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
    params_type: type[P]
    defaults: Mapping[str, Any]
    indicators: Mapping[str, tuple[str, str]]
    validate_params: ValidateParams[P]
    run: RunAnalysis[P]
    keys_for: Callable[[Mapping[str, Any]], list[str]] | None = None

    def indicator_keys(self, params: Mapping[str, Any]) -> list[str]:
        """The indicators a run with these (validated) parameters reports."""
        return list(self.keys_for(params)) if self.keys_for else list(self.indicators)


def _kind(
    name: str,
    module: Any,
    params_type: type[P],
    validate_params: ValidateParams[P],
    run: RunAnalysis[P],
    keys_for: Callable[[Mapping[str, Any]], list[str]] | None = None,
) -> AnalysisKind[P]:
    return AnalysisKind(
        name=name,
        params_type=params_type,
        defaults=MappingProxyType(params_type.defaults()),
        indicators=MappingProxyType(module.INDICATORS),
        validate_params=validate_params,
        run=run,
        keys_for=keys_for,
    )


_ALL: tuple[AnalysisKind[Any], ...] = (
    _kind("park_coverage", park_coverage, park_coverage.ParkCoverageParams,
          park_coverage.validate_params, park_coverage.run),
    _kind("living_circle", living_circle, living_circle.LivingCircleParams,
          living_circle.validate_params, living_circle.run,
          keys_for=living_circle.indicator_keys),
    _kind("tod", tod, tod.TodParams, tod.validate_params, tod.run),
    _kind("jobs_housing", jobs_housing, jobs_housing.JobsHousingParams,
          jobs_housing.validate_params, jobs_housing.run),
    _kind("forest_cover", forest_cover, forest_cover.ForestCoverParams,
          forest_cover.validate_params, forest_cover.run),
)

KINDS: Mapping[str, AnalysisKind[Any]] = MappingProxyType({k.name: k for k in _ALL})
"""Kind name -> :class:`AnalysisKind`, in the order the docs list them."""


def get_kind(kind: str, *, where: str = "") -> AnalysisKind[Any]:
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


def parameters_table() -> str:
    """The README's parameter table, printed from each kind's parameter class.

    A test keeps the README's copy equal to this text; after changing a parameter,
    paste ``python -c "from urbanform.analyses.registry import parameters_table as t;
    print(t())"`` into the README.
    """
    rows = ["| kind | params |", "| --- | --- |"]
    rows += [f"| `{k.name}` | {k.params_type.describe()} |" for k in KINDS.values()]
    return "\n".join(rows)
