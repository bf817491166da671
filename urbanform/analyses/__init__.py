"""One module per analysis kind; pure functions from layers to results.

Each kind module exposes:

- ``DEFAULTS``: the default parameters (GB/T 50563, GB 50180-2018; docs/architecture.md);
- ``INDICATORS``: indicator key -> (unit, English label);
- ``validate_params(params, *, where)``: the effective parameters (defaults filled in),
  raising :class:`~urbanform.errors.AnalysisError` that names ``where`` and the key;
- ``run(ctx, *, name, params, target)``: an :class:`~urbanform.results.AnalysisResult`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from urbanform.errors import AnalysisError

__all__ = ["KINDS", "kind_module"]

KINDS: tuple[str, ...] = ("park_coverage", "living_circle", "tod", "jobs_housing", "forest_cover")


def kind_module(kind: str, *, where: str = "") -> ModuleType:
    """The module implementing analysis ``kind``.

    Raises
    ------
    AnalysisError
        For an unknown kind, naming ``where`` and the valid kinds.
    """
    if kind not in KINDS:
        at = f"{where}: " if where else ""
        raise AnalysisError(f"{at}unknown analysis kind {kind!r}; use one of {', '.join(KINDS)}")
    return importlib.import_module(f"urbanform.analyses.{kind}")
