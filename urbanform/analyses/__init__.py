"""One module per analysis kind; pure functions from layers to results.

Each kind module exposes:

- a parameter class (``ParkCoverageParams``, ...): a frozen dataclass deriving from
  :class:`~urbanform.analyses.params.Params`, one typed field per parameter with its
  default and description (GB/T 50563, GB 50180-2018; docs/architecture.md);
- ``DEFAULTS``: the default parameters, taken from that class;
- ``INDICATORS``: indicator key -> (unit, English label);
- ``validate_params(params, *, where)``: an instance of the parameter class (defaults
  filled in), raising :class:`~urbanform.errors.AnalysisError` that names ``where`` and
  the key;
- ``run(ctx, *, name, params, target)``: an :class:`~urbanform.results.AnalysisResult`.

:mod:`urbanform.analyses.registry` lists the kinds (``KINDS``), each as a typed
:class:`~urbanform.analyses.registry.AnalysisKind` built from these pieces.
"""
