"""One module per analysis kind; pure functions from layers to results.

Each kind module exposes:

- ``DEFAULTS``: the default parameters (GB/T 50563, GB 50180-2018; docs/architecture.md);
- ``INDICATORS``: indicator key -> (unit, English label);
- ``validate_params(params, *, where)``: the effective parameters (defaults filled in),
  raising :class:`~urbanform.errors.AnalysisError` that names ``where`` and the key;
- ``run(ctx, *, name, params, target)``: an :class:`~urbanform.results.AnalysisResult`.

:mod:`urbanform.analyses.registry` lists the kinds (``KINDS``), each as a typed
:class:`~urbanform.analyses.registry.AnalysisKind` built from these pieces.
"""
