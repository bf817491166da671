"""No snapping onto islands (issue 13, item 7b): small disconnected street pieces are skipped.

Streets (EPSG:32648, relative to X0, Y0): a main street (0, 0) - (1000, 0), 1,000 m, and
an island (400, 6) - (405, 6), 5 m (0.5% of the network's length; a passage that connects
to nothing). A station at (402, 8) is 2 m from the island and 8 m from the main street.
A resident (100 people) at (600, 5) walks 8 + 198 + 5 = 211 m from the station on the
main street, and cannot reach it at all when the station sits on the island.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from urbanform.analyses import tod
from urbanform.analyses.context import Context
from urbanform.errors import AnalysisError
from urbanform.layers.types import Layers
from urbanform.network import graph_from_lines, snap_points

CRS = pyproj.CRS(32648)
X0, Y0 = 400_000.0, 3_390_000.0


def line(*pts):
    return shapely.LineString([(X0 + x, Y0 + y) for x, y in pts])


STREETS = gpd.GeoDataFrame(geometry=[line((0, 0), (1000, 0)), line((400, 6), (405, 6))], crs=CRS)
STATION_XY = np.array([[X0 + 402, Y0 + 8]])


@pytest.mark.parametrize(("share", "snap_m"), [(0.01, 8.0), (0.0, 2.0)])
def test_points_snap_to_the_main_network_unless_told(share: float, snap_m: float) -> None:
    s = snap_points(graph_from_lines(STREETS), STATION_XY, max_snap_m=100, min_piece_share=share)
    assert s.snap_m.tolist() == pytest.approx([snap_m])


def test_the_skipped_catch_is_marked() -> None:
    s = snap_points(graph_from_lines(STREETS), STATION_XY, max_snap_m=100, min_piece_share=0.01)
    assert s.island.tolist() == [True] and s.n_island == 1


def test_a_piece_over_the_share_is_kept() -> None:
    # 5 m of 1,005 m is 0.5%: kept when the limit is 0.4%
    s = snap_points(graph_from_lines(STREETS), STATION_XY, max_snap_m=100, min_piece_share=0.004)
    assert s.snap_m.tolist() == pytest.approx([2.0]) and s.n_island == 0


def _tod(**params):
    stations = gpd.GeoDataFrame(
        {"name": ["S"], "line": ["1"]}, geometry=shapely.points(STATION_XY), crs=CRS
    )
    pop = gpd.GeoDataFrame(
        {"population": [100.0]}, geometry=[shapely.Point(X0 + 600, Y0 + 5)], crs=CRS
    )
    ctx = Context(
        Layers(crs=CRS, vectors={"stations": stations, "population": pop, "streets": STREETS})
    )
    p = tod.validate_params({"radius_m": 500, **params}, where="analyses/tod.yml")
    return tod.run(ctx, name="tod", params=p, target=None)


@pytest.mark.parametrize(("share", "expected"), [(0.01, 1.0), (0.0, 0.0)])
def test_station_near_an_island_reaches_its_residents(share: float, expected: float) -> None:
    res = _tod(min_piece_share=share)
    assert res.indicators["pop_share"].city.value == pytest.approx(expected)


def test_skipped_island_is_counted_in_a_warning() -> None:
    res = _tod()
    assert any(
        w.startswith("1 station entrances (1 entrances) lie nearest to a small piece")
        for w in res.warnings
    )


def test_bad_share_is_refused() -> None:
    with pytest.raises(AnalysisError, match=r"params\.min_piece_share must be a share from 0"):
        tod.validate_params({"min_piece_share": 5}, where="analyses/tod.yml")
