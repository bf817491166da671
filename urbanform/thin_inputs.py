"""Thin inputs, flagged before a run: what would make a result weak without making it fail.

:func:`thin_inputs` looks at the harmonised layers and the validated analyses and returns
warnings (strings) for ``urbanform validate``: a required facility category with no
feature, fewer than :data:`MIN_PARKS_PER_TIER` parks in a park tier, stations or residents
outside the street network's extent, and more than :data:`MAX_FAR_SHARE` of the residents
farther than ``max_snap_m`` from every street.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import shapely

from urbanform.layers.types import Layers

__all__ = ["MAX_FAR_SHARE", "MIN_PARKS_PER_TIER", "thin_inputs"]

log = logging.getLogger(__name__)

MIN_PARKS_PER_TIER = 5
"""A park tier with fewer parks than this is flagged."""

MAX_FAR_SHARE = 0.05
"""More than this share of residents beyond ``max_snap_m`` of every street is flagged."""


def thin_inputs(layers: Layers, checked: Sequence[tuple[Any, Mapping[str, Any]]]) -> list[str]:
    """Warnings about thin inputs for the analyses in ``checked``.

    Parameters
    ----------
    layers
        The harmonised layers of the workspace.
    checked
        ``(AnalysisSpec, effective params)`` pairs, as from
        :func:`urbanform.pipeline.validate_analyses`.

    Returns
    -------
    list of str
        One message per finding; empty when nothing is thin.
    """
    out: list[str] = []
    for spec, params in checked:
        if spec.kind == "living_circle":
            out += _empty_categories(layers, spec.name, params)
        elif spec.kind == "park_coverage":
            out += _thin_tiers(layers, spec.name, params)
    out += _outside_streets(layers)
    snaps = sorted({float(p["max_snap_m"]) for s, p in checked if _walks(s.kind, p)})
    for max_snap_m in snaps:
        out += _far_from_streets(layers, max_snap_m)
    return out


def _walks(kind: str, params: Mapping[str, Any]) -> bool:
    if "max_snap_m" not in params:
        return False
    return kind == "living_circle" or params.get("distance") == "network"


def _empty_categories(layers: Layers, name: str, params: Mapping[str, Any]) -> list[str]:
    fac = layers.vectors.get("facilities")
    if fac is None:
        return []
    present = set(fac["category"].astype(str))
    return [
        f"analysis {name!r}: facility category {c!r} has no feature, so nobody reaches it; "
        "map source values onto it under the facilities layer's 'classes'"
        for c in params.get("categories", [])
        if c not in present
    ]


def _thin_tiers(layers: Layers, name: str, params: Mapping[str, Any]) -> list[str]:
    parks = layers.vectors.get("parks")
    if parks is None:
        return []
    from urbanform.analyses.park_coverage import classify_parks

    tiers = params["tiers"]
    classified = classify_parks(parks, tiers=tiers)
    out = []
    for rank, tier in enumerate(tiers, start=1):
        n = int((classified["tier"] == rank).sum())
        if n < MIN_PARKS_PER_TIER:
            out.append(
                f"analysis {name!r}: only {n} parks in the {tier['radius_m']:g} m tier (at "
                f"least {tier['min_area_m2']:,.0f} m²); fewer than {MIN_PARKS_PER_TIER} parks "
                "make a thin basis: check the parks layer"
            )
    return out


def _points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    geoms = gdf.geometry.values
    is_pt = shapely.get_type_id(geoms) == 0
    return cast(np.ndarray, np.where(is_pt, geoms, shapely.point_on_surface(geoms)))


def _outside_streets(layers: Layers) -> list[str]:
    streets = layers.vectors.get("streets")
    if streets is None or not len(streets):
        return []
    extent = shapely.box(*streets.total_bounds)
    out = []
    stations = layers.vectors.get("stations")
    if stations is not None and len(stations):
        outside = ~shapely.contains_xy(extent, *shapely.get_coordinates(_points(stations)).T)
        if outside.any():
            out.append(
                f"{int(outside.sum())} of {len(stations)} station features lie outside the "
                "street network's extent; they cannot be walked to (check the streets layer "
                "covers the study area)"
            )
    pop = layers.vectors.get("population")
    if pop is not None and len(pop):
        xy = shapely.get_coordinates(_points(pop))
        outside = ~shapely.contains_xy(extent, xy[:, 0], xy[:, 1])
        people = pop["population"].to_numpy(dtype=float)
        if outside.any():
            n, total = float(people[outside].sum()), float(people.sum())
            out.append(
                f"{n:,.0f} residents ({n / total:.1%}) live outside the street network's "
                "extent; walking analyses cannot reach them (check the streets layer covers "
                "the study area)"
            )
    return out


def _far_from_streets(layers: Layers, max_snap_m: float) -> list[str]:
    streets, pop = layers.vectors.get("streets"), layers.vectors.get("population")
    if streets is None or pop is None or not len(streets) or not len(pop):
        return []
    tree = shapely.STRtree(streets.geometry.values)
    points = _points(pop)
    idx, _ = tree.query_nearest(points, max_distance=max_snap_m, all_matches=False)
    near = np.zeros(len(points), dtype=bool)
    near[idx] = True
    people = pop["population"].to_numpy(dtype=float)
    total = float(people.sum())
    far = float(people[~near].sum())
    if total <= 0 or far / total <= MAX_FAR_SHARE:
        return []
    return [
        f"{far:,.0f} residents ({far / total:.1%}) live farther than max_snap_m = "
        f"{max_snap_m:g} m from every street and count as not reached by walking analyses; "
        "check the streets layer, or raise max_snap_m"
    ]
