"""Writing a new, commented workspace (``urbanform init``)."""

from __future__ import annotations

from pathlib import Path

from urbanform.errors import LayerError, OutputError

__all__ = ["write_workspace"]

_WORKSPACE = """\
# urbanform workspace: {name}
# Every number below is a default you may change. Docs: README.md of urbanform.
name: "{name}"
# A metric working CRS for all analyses. Leave it out to use the UTM zone of the data.
# crs: EPSG:32648
h3_resolutions: [8, 9]      # H3 grid summaries (resolution 8 ~ 0.7 km2, 9 ~ 0.1 km2)
out: out/                   # output folder
report:
  language: en              # en | zh
  # a tile server your readers can reach (none by default: the report works offline)
  # tiles: https://tiles.example.org/{{z}}/{{x}}/{{y}}.png
"""

_LAYERS: dict[str, str] = {
    "districts": """\
role: districts
# source: GeoPackage, Shapefile, GeoJSON, GeoParquet, FlatGeobuf, CSV/TXT table or GeoTIFF
source: data/districts.gpkg
# layer: districts               # the layer inside a multi-layer file
fields: {name: NAME}             # canonical field: column in your data
""",
    "landuse": """\
role: landuse
source: data/landuse.gpkg
fields: {class: LANDUSE}
# classes: ydyh2023              # or name a national code table: ydyh2023 | sandiao |
                                 # gb50137 | osm (see docs/classes.md)
classes:                         # canonical class: your codes
  residential: [R, R1, R2, R3]
  commercial: [B, B1, B2]
  industrial: [M, M1, M2]
  public: [A, A1, A2, A3, A4, A5]
  green: [G, G1]
  forest: [E3]
  water: [E1]
  agriculture: [E2]
  transport: [S]
""",
    "parks": """\
role: parks
source: data/parks.gpkg
fields: {name: NAME}
""",
    "population": """\
role: population                 # points, polygons or a raster of residents
source: data/population.gpkg
fields: {population: POP}        # optional: dwellings, workers, name
# census polygons are placed on the residential land inside them; an H3 grid table:
# source: data/pop_h3.csv, fields: {h3: ID, population: POP}
""",
    "stations": """\
role: stations
source: data/stations.csv        # or a GTFS feed: data/gtfs.zip (rail stops are read)
crs: EPSG:4326                   # a CSV has no CRS; GCJ-02 is accepted for Chinese web data
fields: {name: NAME, line: LINE, x: LON, y: LAT}   # lon/lat columns are found unmapped too
""",
    "jobs": """\
role: jobs
source: data/jobs.gpkg
fields: {jobs: JOBS}
""",
    "facilities": """\
role: facilities
source: data/facilities.gpkg
fields: {category: TYPE}
classes:                         # GB 50180-2018 categories: your values
  kindergarten: [kindergarten]
  primary_school: [primary]
  middle_school: [middle]
  health_centre: [clinic]
""",
    "streets": """\
role: streets                    # street centrelines; noded at true crossings
source: data/streets.gpkg
fields: {bridge: BRIDGE, tunnel: TUNNEL}   # bridges and tunnels do not connect where they cross
""",
    "landcover": """\
role: landcover                  # a land-cover GeoTIFF with a nodata value
source: data/worldcover.tif
classes: worldcover              # ESA WorldCover codes; or {forest: [10], water: [80]}
""",
}

_OSM_ROLES = ("streets", "parks", "stations", "facilities", "landuse")

_ANALYSES: dict[str, str] = {
    "park500": """\
kind: park_coverage              # GB/T 50563 park service radius
target: {indicator: pop_share, op: ">=", value: 0.90, year: 2025,
         source: "residents within 500 m of park green space"}
params:
  distance: euclidean            # euclidean | network
  tiers:
    - {min_area_m2: 5000, radius_m: 500}
    - {min_area_m2: 2000, radius_m: 300}
""",
    "forest": """\
kind: forest_cover
target: {indicator: share, op: ">=", value: 0.41, year: 2025}
""",
    "circle15": """\
kind: living_circle              # GB 50180-2018 15-minute living circle
target: {indicator: pop_share_all, op: ">=", value: 0.90}
params: {level: 15}
""",
    "tod": """\
kind: tod
params: {radius_m: [500, 800], distance: network}
""",
    "jobs_housing": """\
kind: jobs_housing
params: {band: [0.8, 1.2], commute_radius_m: 5000}
""",
}

_MAPS = """\
# One file per map: which analysis it shows and which of its layers.
analysis: park500
title: "Park coverage (500 m / 300 m)"
layers: [gaps, service_areas]
"""


def _layers_for(osm: Path | None) -> dict[str, str]:
    if osm is None:
        return dict(_LAYERS)
    out = {}
    for role, text in _LAYERS.items():
        if role in _OSM_ROLES and _osm_has(osm, role):
            out[role] = f"role: {role}\nsource: osm:{osm.resolve()}   # read from the extract\n"
        elif role in _OSM_ROLES:  # the extract holds none: the run would fail on it
            out[f"examples/{role}"] = (
                f"# {osm.name} holds no {role} features. Copy this file to layers/ and point it "
                "at your data.\n" + text
            )
        else:  # not in OpenStreetMap: an example to copy into layers/ with your own data
            out[f"examples/{role}"] = (
                "# Not in OpenStreetMap. Copy this file to layers/ and point it at your data.\n"
                + text
            )
    return out


def _osm_has(osm: Path, role: str) -> bool:
    """Whether the extract holds features of ``role`` (by the rules of osm_tags.yml)."""
    from urbanform.layers.osm import read_osm

    try:
        return len(read_osm(osm, role)) > 0
    except LayerError:
        return False


def _analyses_for(osm: Path | None) -> dict[str, str]:
    if osm is None:
        return dict(_ANALYSES)
    return {
        "park500": _ANALYSES["park500"].replace("indicator: pop_share", "indicator: area_share"),
    }


def write_workspace(
    directory: str | Path,
    *,
    osm: str | Path | None = None,
    name: str | None = None,
    force: bool = False,
) -> list[Path]:
    """Write ``urbanform.yml``, ``layers/``, ``analyses/`` and ``maps/`` into ``directory``.

    Parameters
    ----------
    directory
        Target folder (created if missing).
    osm
        An OpenStreetMap extract: streets, parks, stations, facilities and land use
        are then read from it.
    name
        City name (default: the folder name).
    force
        Write into a folder that already holds files (never replacing one of them).

    Returns
    -------
    list of Path
        The files written.
    """
    root = Path(directory)
    if root.exists() and any(root.iterdir()) and not force:
        raise OutputError(f"{root} is not empty; choose a new folder or pass --force")
    osm_path = Path(osm) if osm is not None else None
    if osm_path is not None and not osm_path.is_file():
        raise OutputError(f"OpenStreetMap extract {osm_path} does not exist")
    files: dict[str, str] = {"urbanform.yml": _WORKSPACE.format(name=name or root.resolve().name)}
    for role, text in _layers_for(osm_path).items():
        files[f"layers/{role}.yml"] = text
    for run, text in _analyses_for(osm_path).items():
        files[f"analyses/{run}.yml"] = text
    files["maps/park500.yml"] = _MAPS
    existing = [rel for rel in files if (root / rel).exists()]
    if existing:  # --force writes into a folder with files, but replaces none of them
        more = f" and {len(existing) - 5} more" if len(existing) > 5 else ""
        shown = ", ".join(existing[:5]) + more
        raise OutputError(
            f"{root} already has {shown}; urbanform init never replaces a file, even with "
            "--force: move them away or choose a new folder"
        )
    written = []
    try:
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise OutputError(
            f"cannot write the workspace into {root} ({exc.strerror or exc}); choose a folder "
            "you can write to"
        ) from None
    return written
