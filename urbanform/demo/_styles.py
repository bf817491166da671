"""Fixed tables that give each district of the demo city its character.

Every length is in metres at ``scale=1``; the city plan (ring radii, river meander)
grows with ``sqrt(scale)`` while block sizes, densities and park sizes stay fixed, so
feature counts grow linearly with ``scale``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: City centre (Chengdu, 104.07E 30.66N) in UTM 48N, snapped to the 20 m raster grid.
CENTRE_XY: tuple[float, float] = (410900.0, 3392280.0)
TARGET_AREA_M2: float = 400e6
RING_RADII_M: tuple[float, float, float] = (3200.0, 6500.0, 9200.0)
RIVER_WIDTH_M: float = 110.0
STATION_SPACING_M: float = 1300.0
PIXEL_M: float = 20.0

#: GB 50137-style land-use codes and the canonical class each maps onto.
LANDUSE_CODES: dict[str, tuple[str, ...]] = {
    "residential": ("R1", "R2", "R3"),
    "commercial": ("B1", "B2"),
    "industrial": ("M1", "M2"),
    "public": ("A1", "A2", "A3", "A5"),
    "green": ("G1",),
    "forest": ("G2", "E3"),
    "water": ("E1",),
    "agriculture": ("E2",),
    "transport": ("S1",),
    "other": ("U",),
}
CODES: tuple[str, ...] = tuple(c for codes in LANDUSE_CODES.values() for c in codes)
RESIDENTIAL_CODES: tuple[str, ...] = LANDUSE_CODES["residential"]

#: GB 50180-2018 living circles: level (minutes) -> (walking distance in metres, the
#: categories its community centres hold). Centres sit on a lattice whose spacing is
#: ``CENTRE_SPACING * distance / service_level``.
LIVING_CIRCLES: dict[int, tuple[float, tuple[str, ...]]] = {
    5: (300.0, ("kindergarten", "convenience_store", "community_service", "playground")),
    10: (500.0, ("primary_school", "fresh_market", "sports_ground")),
    15: (1000.0, ("middle_school", "health_centre", "market", "elderly_care", "sports",
                  "culture")),
}
CENTRE_SPACING: float = 1.3

#: ESA WorldCover code -> probability, per land-use code (rows sum to 1).
#: Codes: 10 tree, 20 shrub, 30 grass, 40 cropland, 50 built-up, 60 bare, 80 water.
COVER_CODES: tuple[int, ...] = (10, 20, 30, 40, 50, 60, 80)
COVER_PROBS: dict[str, tuple[float, ...]] = {
    "R1": (0.24, 0.02, 0.10, 0.00, 0.62, 0.02, 0.0),
    "R2": (0.16, 0.01, 0.07, 0.00, 0.74, 0.02, 0.0),
    "R3": (0.26, 0.03, 0.08, 0.10, 0.51, 0.02, 0.0),
    "B1": (0.07, 0.00, 0.05, 0.00, 0.86, 0.02, 0.0),
    "B2": (0.10, 0.00, 0.06, 0.00, 0.82, 0.02, 0.0),
    "M1": (0.08, 0.02, 0.08, 0.00, 0.72, 0.10, 0.0),
    "M2": (0.06, 0.02, 0.06, 0.00, 0.74, 0.12, 0.0),
    "A1": (0.18, 0.00, 0.14, 0.00, 0.66, 0.02, 0.0),
    "A2": (0.20, 0.00, 0.14, 0.00, 0.64, 0.02, 0.0),
    "A3": (0.20, 0.00, 0.18, 0.00, 0.60, 0.02, 0.0),
    "A5": (0.16, 0.00, 0.10, 0.00, 0.72, 0.02, 0.0),
    "G1": (0.64, 0.04, 0.24, 0.00, 0.06, 0.02, 0.0),
    "G2": (0.84, 0.05, 0.09, 0.00, 0.02, 0.00, 0.0),
    "E3": (0.90, 0.06, 0.03, 0.00, 0.00, 0.01, 0.0),
    "E1": (0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 1.0),
    "E2": (0.14, 0.02, 0.06, 0.74, 0.04, 0.00, 0.0),
    "S1": (0.10, 0.00, 0.04, 0.00, 0.86, 0.00, 0.0),
    "U": (0.05, 0.02, 0.10, 0.00, 0.63, 0.20, 0.0),
}


@dataclass(frozen=True)
class DistrictStyle:
    """How one district is drawn.

    Attributes
    ----------
    name, character
        Output fields of the districts layer.
    band
        0 inside the first ring, 1 between the first and second ring, 2 outside.
    angles_deg
        (start, end) sectors, counter-clockwise from east, that the district takes in
        its band.
    grid_angle_deg
        Orientation of the local street grid.
    street_spacing_m
        Distance between streets, i.e. the block size.
    fine_k
        Walkable lines per street interval (2 or 3 adds footways inside blocks).
    jitter
        Street wobble as a fraction of the line spacing.
    park_spacing_m
        Spacing of the lattice of large parks (smaller: better park coverage).
    pocket_km2, mid_km2
        Pocket parks (< 2,000 m2) and small parks (2,000-5,000 m2) per km2.
    bank_park_m
        Width of the riverside park strip on each bank (0: none).
    landuse
        Land-use code -> weight for ordinary blocks.
    people_ha, buildings_ha
        Residents and residential buildings per hectare of residential land.
    jobs_factor
        Multiplier on the job density of every block.
    service_level
        Density of living-circle centres and completeness of their facilities.
    tree_factor
        Multiplier on tree probability in built-up land (greening of compounds).
    """

    name: str
    character: str
    band: int
    angles_deg: tuple[tuple[float, float], ...]
    grid_angle_deg: float
    street_spacing_m: float
    fine_k: int
    jitter: float
    park_spacing_m: float
    pocket_km2: float
    mid_km2: float
    bank_park_m: float
    landuse: dict[str, float] = field(default_factory=dict)
    people_ha: float = 200.0
    buildings_ha: float = 3.0
    jobs_factor: float = 1.0
    service_level: float = 1.0
    tree_factor: float = 1.0


STYLES: tuple[DistrictStyle, ...] = (
    DistrictStyle(
        name="Old Core", character="dense old core", band=0, angles_deg=((0.0, 360.0),),
        grid_angle_deg=-12.0, street_spacing_m=170.0, fine_k=3, jitter=0.1,
        park_spacing_m=720.0, pocket_km2=9.0, mid_km2=1.2, bank_park_m=40.0,
        landuse={"R2": 45, "R3": 12, "B1": 18, "B2": 8, "A1": 4, "A2": 4, "A3": 4, "A5": 3,
            "U": 2},
        people_ha=520.0, buildings_ha=7.0, jobs_factor=2.4, service_level=1.7, tree_factor=0.6,
    ),
    DistrictStyle(
        name="Riverside", character="riverside mixed residential", band=1,
        angles_deg=((100.0, 250.0),), grid_angle_deg=8.0, street_spacing_m=210.0, fine_k=3,
        jitter=0.12, park_spacing_m=850.0, pocket_km2=5.0, mid_km2=1.0, bank_park_m=70.0,
        landuse={"R2": 50, "R1": 5, "R3": 5, "B1": 12, "B2": 4, "A2": 5, "A3": 5, "A5": 3,
            "G2": 4, "M1": 5, "U": 2},
        people_ha=380.0, buildings_ha=5.0, jobs_factor=1.2, service_level=1.2, tree_factor=1.25,
    ),
    DistrictStyle(
        name="High-Tech Zone", character="high-tech zone", band=1, angles_deg=((250.0, 330.0),),
        grid_angle_deg=0.0, street_spacing_m=300.0, fine_k=3, jitter=0.06, park_spacing_m=800.0,
        pocket_km2=2.0, mid_km2=0.8, bank_park_m=40.0,
        landuse={"R2": 35, "B2": 25, "M1": 15, "B1": 8, "A3": 5, "A5": 2, "G2": 8, "U": 3},
        people_ha=330.0, buildings_ha=3.5, jobs_factor=1.5, service_level=1.35,
        tree_factor=1.35,
    ),
    DistrictStyle(
        name="East New Town", character="new town", band=1, angles_deg=((330.0, 460.0),),
        grid_angle_deg=20.0, street_spacing_m=280.0, fine_k=2, jitter=0.08,
        park_spacing_m=1700.0, pocket_km2=1.5, mid_km2=0.4, bank_park_m=30.0,
        landuse={"R2": 35, "R1": 8, "B1": 8, "M1": 10, "M2": 7, "A3": 4, "A5": 2, "G2": 22,
            "E2": 8, "U": 4},
        people_ha=260.0, buildings_ha=3.5, jobs_factor=1.0, service_level=0.6, tree_factor=1.6,
    ),
    DistrictStyle(
        name="South New District", character="new district", band=2,
        angles_deg=((230.0, 290.0),), grid_angle_deg=-5.0, street_spacing_m=300.0, fine_k=2,
        jitter=0.06, park_spacing_m=1250.0, pocket_km2=2.0, mid_km2=0.6, bank_park_m=30.0,
        landuse={"R2": 38, "R1": 10, "B1": 8, "B2": 8, "A3": 5, "G2": 20, "E2": 12, "M1": 4,
            "U": 3},
        people_ha=240.0, buildings_ha=3.0, jobs_factor=0.9, service_level=0.8, tree_factor=1.55,
    ),
    DistrictStyle(
        name="North Suburbs", character="suburbs", band=2, angles_deg=((45.0, 140.0),),
        grid_angle_deg=30.0, street_spacing_m=400.0, fine_k=3, jitter=0.14,
        park_spacing_m=2600.0, pocket_km2=0.8, mid_km2=0.3, bank_park_m=0.0,
        landuse={"R1": 12, "R2": 12, "R3": 12, "M1": 7, "M2": 8, "B1": 4, "A3": 3, "G2": 18,
            "E3": 22, "E2": 24, "U": 3},
        people_ha=150.0, buildings_ha=2.5, jobs_factor=0.7, service_level=0.35, tree_factor=1.65,
    ),
    DistrictStyle(
        name="West Hills", character="hilly forested west", band=2,
        angles_deg=((140.0, 230.0),), grid_angle_deg=-25.0, street_spacing_m=600.0, fine_k=4,
        jitter=0.25, park_spacing_m=3200.0, pocket_km2=0.3, mid_km2=0.1, bank_park_m=0.0,
        landuse={"E3": 72, "E2": 12, "R3": 8, "R1": 3, "G2": 3, "A3": 1, "U": 1},
        people_ha=80.0, buildings_ha=2.0, jobs_factor=0.5, service_level=0.2, tree_factor=1.4,
    ),
)

#: Band 2 sectors that belong to districts whose main band is 1 (East New Town and the
#: High-Tech Zone reach out beyond the second ring).
EXTRA_SECTORS: tuple[tuple[str, int, float, float], ...] = (
    ("East New Town", 2, 330.0, 405.0),
    ("High-Tech Zone", 2, 290.0, 330.0),
)

#: Jobs per hectare of each land-use code (before district factors).
JOBS_HA: dict[str, float] = {
    "R1": 8.0, "R2": 15.0, "R3": 6.0, "B1": 320.0, "B2": 420.0, "M1": 110.0, "M2": 80.0,
    "A1": 150.0, "A2": 80.0, "A3": 60.0, "A5": 120.0, "U": 20.0,
}
