"""urbanform: check a city's urban form against its spatial planning targets."""

from __future__ import annotations

__version__ = "0.1.0"

from urbanform.errors import (  # noqa: E402
    AnalysisError,
    CRSError,
    LayerError,
    NetworkError,
    OutputError,
    UrbanformError,
    WorkspaceError,
)

__all__ = [
    "__version__",
    "AnalysisError",
    "CRSError",
    "LayerError",
    "NetworkError",
    "OutputError",
    "UrbanformError",
    "WorkspaceError",
]
