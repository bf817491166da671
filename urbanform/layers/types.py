"""Typed containers for harmonised input layers.

Every vector layer that leaves :mod:`urbanform.layers` is a GeoDataFrame in the
workspace's metric working CRS with the canonical field names of its role (see
:data:`ROLE_FIELDS` and docs/architecture.md); every raster is a :class:`RasterLayer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import geopandas as gpd
import numpy as np
import pyproj
from affine import Affine

from urbanform.errors import LayerError

Role = Literal[
    "boundary",
    "districts",
    "landuse",
    "parks",
    "stations",
    "population",
    "jobs",
    "facilities",
    "streets",
    "landcover",
    "buildings",
    "candidates",
]

ROLES: tuple[str, ...] = get_args(Role)

# role -> (required canonical fields, optional canonical fields)
ROLE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "boundary": ((), ("name",)),
    "districts": (("name",), ()),
    "landuse": (("class",), ()),
    "parks": ((), ("name",)),
    "stations": ((), ("name", "line")),
    "population": (("population",), ("dwellings", "workers", "name")),
    "jobs": (("jobs",), ("name",)),
    "facilities": (("category",), ("name",)),
    "streets": ((), ("name", "highway", "bridge", "tunnel", "layer")),
    "landcover": ((), ()),
    "buildings": ((), ("floors", "floor_area")),
    "candidates": ((), ("name", "cost")),
}

COUNT_ROLES: tuple[str, ...] = ("population", "jobs")
"""Roles holding counts: they may be points, polygons, rasters or H3 cells (``fields: {h3:}``)."""

_POINT_ROLES = ("parks", "stations", "population", "jobs", "facilities", "candidates")


def field_keys(role: str) -> tuple[str, ...]:
    """The keys ``fields:`` accepts for ``role``.

    The canonical fields of the role, ``x`` and ``y`` (coordinate columns of a
    table) for roles that may be points, and ``h3`` (a column of H3 cell ids) for
    count roles.

    Examples
    --------
    >>> field_keys("jobs")
    ('jobs', 'name', 'x', 'y', 'h3')
    >>> field_keys("districts")
    ('name',)
    """
    required, optional = ROLE_FIELDS[role]
    keys = (*required, *optional)
    if role in _POINT_ROLES:
        keys = (*keys, "x", "y")
    if role in COUNT_ROLES:
        keys = (*keys, "h3")
    return keys


def unknown_field(role: str, fields: dict[str, Any]) -> str | None:
    """A message naming the first key of ``fields`` that ``role`` does not accept, or ``None``.

    Examples
    --------
    >>> unknown_field("parks", {"nmae": "NAME"})
    "unknown key 'nmae' under 'fields' for role 'parks'; valid keys: name, x, y"
    >>> unknown_field("parks", {"name": "NAME"}) is None
    True
    """
    valid = field_keys(role)
    bad = [k for k in fields if k not in valid]
    if not bad:
        return None
    return (
        f"unknown key {bad[0]!r} under 'fields' for role {role!r}; valid keys: "
        f"{', '.join(valid) or 'none (this role has no fields)'}"
    )


LANDUSE_CLASSES: tuple[str, ...] = (
    "residential",
    "commercial",
    "industrial",
    "public",
    "green",
    "forest",
    "water",
    "agriculture",
    "transport",
    "other",
)


@dataclass(frozen=True)
class LayerSpec:
    """One ``layers/NAME.yml`` file, validated.

    Attributes
    ----------
    name
        The file stem, used in messages and provenance.
    role
        One of :data:`ROLES`.
    source
        A path (absolute, resolved against the workspace), ``demo:NAME`` or ``osm:PATH``.
    layer
        Layer name inside a multi-layer file, if any.
    crs
        CRS declared for a source that has none (``"GCJ-02"`` accepted).
    fields
        Canonical field -> source column.
    classes
        Canonical class -> list of source values (strings or numbers); with a
        ``preset`` these override the preset's codes.
    file
        The YAML file the spec came from (for messages).
    route_types
        GTFS route types read as stations (``None``: the rail types, see
        :data:`urbanform.layers.gtfs.RAIL_ROUTE_TYPES`).
    preset
        A class preset named by ``classes:`` (``ydyh2023``, ``sandiao``, ``gb50137``,
        ``worldcover``, ``osm``; see :mod:`urbanform.layers.presets`), or ``None``.
    """

    name: str
    role: str
    source: str
    layer: str | None = None
    crs: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    classes: dict[str, list[Any]] = field(default_factory=dict)
    file: str = ""
    preset: str | None = None
    route_types: tuple[int, ...] | None = None


@dataclass
class RasterLayer:
    """A single-band raster in memory.

    Attributes
    ----------
    name
        Layer name (for messages).
    role
        ``landcover`` or ``population`` / ``jobs``.
    data
        2-D array of values; cells equal to ``nodata`` are missing.
    transform
        Affine pixel -> CRS transform.
    crs
        The raster's CRS (a raster is not resampled when it enters; vectors are
        brought to it for zonal statistics).
    nodata
        The nodata value (required on input).
    classes
        Canonical class -> list of raster codes (for ``landcover``).
    """

    name: str
    role: str
    data: np.ndarray
    transform: Affine
    crs: pyproj.CRS
    nodata: float | int
    classes: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def pixel_area_m2(self) -> float:
        """Area of one pixel in square metres (the CRS must be metric)."""
        return abs(self.transform.a * self.transform.e - self.transform.b * self.transform.d)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the raster in its CRS."""
        h, w = self.data.shape
        t = self.transform
        xs = [t.c + t.a * c + t.b * r for c, r in ((0, 0), (w, 0), (0, h), (w, h))]
        ys = [t.f + t.d * c + t.e * r for c, r in ((0, 0), (w, 0), (0, h), (w, h))]
        return (min(xs), min(ys), max(xs), max(ys))

    def codes_for(self, cls: str) -> list[Any]:
        """Raster codes mapped to canonical class ``cls`` (empty list if none)."""
        return list(self.classes.get(cls, []))


@dataclass
class Provenance:
    """Where one input layer came from, for the report."""

    name: str
    role: str
    source: str
    features: int
    crs: str
    sha256: str


@dataclass
class Layers:
    """The harmonised inputs of one run.

    Attributes
    ----------
    crs
        The metric working CRS of every vector layer.
    vectors
        Role -> combined GeoDataFrame (canonical fields, working CRS, valid geometries).
    rasters
        Role -> raster layer.
    warnings
        Counted, human-readable warnings (repaired geometries, unmapped classes, ...).
    provenance
        One record per input layer.
    osm_roles
        Roles whose source was an OpenStreetMap extract.
    """

    crs: pyproj.CRS
    vectors: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    rasters: dict[str, RasterLayer] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    provenance: list[Provenance] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Choices made while reading (detected coordinate columns, H3 cells), for validate."""
    osm_roles: set[str] = field(default_factory=set)
    """Roles read from an OpenStreetMap extract (streets there connect only at shared nodes)."""

    def has(self, role: str) -> bool:
        """Whether a vector or raster layer of ``role`` was given."""
        return role in self.vectors or role in self.rasters

    def vector(self, role: str, *, needed_by: str = "") -> gpd.GeoDataFrame:
        """The vector layer of ``role``, or a :class:`LayerError` that says who needs it."""
        if role not in self.vectors:
            who = f"analysis {needed_by!r} needs" if needed_by else "this step needs"
            hint = " (it is a raster here)" if role in self.rasters else ""
            raise LayerError(
                f"{who} a vector layer with role {role!r}{hint}; add layers/{role}.yml "
                f"with 'role: {role}' and a 'source'"
            )
        return self.vectors[role]

    def raster(self, role: str, *, needed_by: str = "") -> RasterLayer:
        """The raster layer of ``role``, or a :class:`LayerError` that says who needs it."""
        if role not in self.rasters:
            who = f"analysis {needed_by!r} needs" if needed_by else "this step needs"
            raise LayerError(
                f"{who} a raster layer with role {role!r}; add layers/{role}.yml with "
                f"'role: {role}' and a GeoTIFF 'source'"
            )
        return self.rasters[role]
