"""Siting: where new parks or facilities lift an analysis to its target.

:func:`site_workspace` answers ``urbanform site``: it runs the analysis, builds a
candidate-by-unit coverage matrix with the analysis's own distance code
(:mod:`urbanform.siting.coverage`), chooses sites by lazy greedy maximum coverage and,
for small instances, an exact integer program with HiGHS (:mod:`urbanform.siting.solve`),
and re-runs the analysis with the sites added. See docs/siting.md.
"""

from __future__ import annotations

from urbanform.siting.outputs import default_out, write_site_outputs
from urbanform.siting.run import EXACT_MAX, SiteRequest, SiteResult, site_workspace, with_sites

__all__ = [
    "EXACT_MAX",
    "SiteRequest",
    "SiteResult",
    "default_out",
    "site_workspace",
    "with_sites",
    "write_site_outputs",
]
