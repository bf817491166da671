"""Fingerprints of a run's inputs, recorded in ``summary.json`` (``inputs``).

A scenario run reuses the baseline output of its workspace only when that output was
computed from the same inputs (see :mod:`urbanform.scenarios`). "The same" is checked
by fingerprints: SHA-256 digests of canonical JSON, written by every run as

``"inputs": {"fingerprint": LAYERS, "analyses": {NAME: ANALYSIS}}``

- ``LAYERS`` covers the urbanform version, the working CRS and H3 resolutions of
  ``urbanform.yml``, and every layer: its name, role, ``layer``, ``crs``, ``fields``,
  ``classes`` (and preset), GTFS route types and the SHA-256 of its source file (for a
  ``demo:`` source, the source name: the demo is generated deterministically by a
  given urbanform version);
- ``ANALYSIS`` covers ``LAYERS`` and one analysis's kind, effective parameters and target.

A baseline matches when ``LAYERS`` is equal and every analysis of the scenario run has
an equal ``ANALYSIS``; an edited parameter of another analysis does not matter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from urbanform import __version__
from urbanform.layers.read import source_checksum
from urbanform.layers.types import LayerSpec

__all__ = ["layer_digest", "inputs_fingerprint"]


def _sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def layer_digest(spec: LayerSpec, known: Mapping[str, str] | None = None) -> str:
    """The digest of a layer's data: ``known[spec.name]`` if given, else its file's SHA-256.

    A ``demo:`` source is fingerprinted by its name (the demo data depend only on the
    urbanform version, which the fingerprint holds).
    """
    if spec.source.startswith("demo:"):
        return spec.source
    if known is not None and spec.name in known:
        return known[spec.name]
    return source_checksum(spec)


def inputs_fingerprint(
    *,
    crs: str | None,
    h3_resolutions: Iterable[int],
    layers: Iterable[LayerSpec],
    analyses: Iterable[tuple[str, str, dict[str, Any], dict[str, Any] | None]],
    digests: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``{"fingerprint": ..., "analyses": {NAME: ...}}`` for ``summary.json``'s ``inputs``.

    Parameters
    ----------
    crs, h3_resolutions
        The settings of ``urbanform.yml`` that change results.
    layers
        The layer specs read.
    analyses
        ``(name, kind, effective params, target as a mapping or None)`` per analysis.
    digests
        Layer name -> SHA-256 of its source when already known (the run's provenance);
        other files are hashed here.
    """
    layer_part = [
        {
            "name": s.name,
            "role": s.role,
            "layer": s.layer,
            "crs": s.crs,
            "fields": dict(sorted(s.fields.items())),
            "classes": {k: [str(v) for v in vs] for k, vs in sorted(s.classes.items())},
            "preset": s.preset,
            "route_types": list(s.route_types) if s.route_types else None,
            "data": layer_digest(s, digests),
        }
        for s in sorted(layers, key=lambda s: (s.role, s.name))
    ]
    base = _sha(
        {
            "version": __version__,
            "crs": crs,
            "h3_resolutions": sorted(h3_resolutions),
            "layers": layer_part,
        }
    )
    per = {
        name: _sha({"inputs": base, "kind": kind, "params": params, "target": target})
        for name, kind, params, target in analyses
    }
    return {"fingerprint": base, "analyses": per}
