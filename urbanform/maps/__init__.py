"""Folium maps, the offline HTML report and (in :mod:`urbanform.maps.qgis`) QGIS styles.

``maps`` takes :class:`urbanform.results.AnalysisResult` objects and never imports
:mod:`urbanform.analyses`.
"""

from __future__ import annotations
