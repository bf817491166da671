"""Errors raised by urbanform.

One root class, :class:`UrbanformError`; every subclass also inherits the matching
built-in exception so that ``except ValueError`` keeps working (the habit of rasterio
and h3-py). A message names the layer, file, field or row, what was found and how to
fix it, in one or two lines: the CLI prints it as is and exits with status 2.
"""

from __future__ import annotations

__all__ = [
    "UrbanformError",
    "WorkspaceError",
    "LayerError",
    "CRSError",
    "NetworkError",
    "AnalysisError",
    "OutputError",
    "ResourceError",
]


class UrbanformError(Exception):
    """Root of every error urbanform raises on purpose."""


class WorkspaceError(UrbanformError, ValueError):
    """A workspace file (``urbanform.yml``, ``layers/*.yml``, ...) is missing or invalid."""


class LayerError(UrbanformError, ValueError):
    """An input layer cannot be read or does not satisfy its role."""


class CRSError(LayerError):
    """A layer has no CRS, a geographic CRS where a metric one is needed, or a mismatch."""


class NetworkError(UrbanformError, ValueError):
    """The walk network cannot be built or used (no edges, nothing snapped, ...)."""


class AnalysisError(UrbanformError, ValueError):
    """An analysis is misconfigured or its inputs do not allow it to run."""


class OutputError(UrbanformError, OSError):
    """An output cannot be written (existing file without ``--force``, read-only folder, ...)."""


class ResourceError(UrbanformError, MemoryError):
    """A step would need more memory than the machine has; refused before it starts."""
