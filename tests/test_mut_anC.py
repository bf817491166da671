"""Mutation-testing pins (issue 14 item 6) for jobs_housing, commute, params, registry, context.

Tiny hand-made layers in EPSG:32648 (UTM 48N, around Chengdu). Every expected number is
worked out by hand in a comment or with an independent library (h3, pyproj, shapely,
numpy); every expected message is the one a user reads (docs/errors.md where listed).
"""

from __future__ import annotations

import dataclasses
import logging
import math

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from urbanform.analyses import commute, jobs_housing
from urbanform.analyses.context import Context
from urbanform.analyses.params import (
    Params,
    merge_params,
    one_of,
    param,
    piece_share_param,
    positive_number,
    share_param,
)
from urbanform.analyses.registry import KINDS, get_kind, parameters_table
from urbanform.errors import AnalysisError, LayerError, ResourceError
from urbanform.layers.types import Layers
from urbanform.results import LayerStyle

CRS = pyproj.CRS(32648)
X0, Y0 = 400_000.0, 3_390_000.0
WHERE = "analyses/jh.yml"
TO_UTM = pyproj.Transformer.from_crs(4326, CRS, always_xy=True)


def _points(rows: list[dict], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    pts = shapely.points([(X0 + x, Y0 + y) for x, y in xy])
    return gpd.GeoDataFrame(rows, geometry=pts, crs=CRS)


def _districts(names=("a", "b")) -> gpd.GeoDataFrame:
    # a: x 0-2 km, b: x 2-4 km, c: x 4-6 km (relative to X0, Y0), all y 0-2 km
    boxes = {n: shapely.box(X0 + 2000 * i, Y0, X0 + 2000 * (i + 1), Y0 + 2000)
             for i, n in enumerate(("a", "b", "c"))}
    return gpd.GeoDataFrame({"name": list(names)}, geometry=[boxes[n] for n in names], crs=CRS)


def _ctx(pop: gpd.GeoDataFrame, jobs: gpd.GeoDataFrame, *, districts=None) -> Context:
    vectors = {"population": pop, "jobs": jobs}
    if districts is not None:
        vectors["districts"] = districts
    return Context(Layers(crs=CRS, vectors=vectors))


def _run(ctx: Context, **params):
    p = jobs_housing.validate_params(params, where=WHERE)
    return jobs_housing.run(ctx, name="jh", params=p, target=None)


def _centre(cell: str) -> tuple[float, float]:
    """Centre of an H3 cell in UTM 48N, relative to X0, Y0."""
    lat, lng = h3.cell_to_latlng(cell)
    x, y = TO_UTM.transform(lng, lat)
    return x - X0, y - Y0


# --- jobs_housing: parameters -----------------------------------------------------------


def test_default_parameters():
    # README's parameter table: band [0.8, 1.2], employment_rate 0.55, commute_radius_m
    # 5000, h3_resolution 8, max_transport_cells 3000, od and od_crs none
    p = jobs_housing.validate_params(None, where=WHERE)
    assert dict(p) == {"band": [0.8, 1.2], "employment_rate": 0.55, "commute_radius_m": 5000,
                       "h3_resolution": 8, "max_transport_cells": 3000, "od": None,
                       "od_crs": None}


def test_validated_numbers_are_floats():
    # integers in the YAML become floats (band, rate, radius); resolution stays an int
    p = jobs_housing.validate_params({"band": [1, 2], "employment_rate": 1,
                                      "commute_radius_m": 3000}, where=WHERE)
    got = [type(v) for v in (*p.band, p.employment_rate, p.commute_radius_m)]
    assert got == [float, float, float, float]


@pytest.mark.parametrize("band", [0.8, [0.8], [0.8, 1.0, 1.2], "0.8-1.2"])
def test_band_that_is_not_a_pair_is_rejected(band):
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"band": band}, where=WHERE)
    assert str(e.value) == f"{WHERE}: params.band must be a list [low, high], got {band!r}"


def test_band_as_a_tuple_is_accepted():
    assert jobs_housing.validate_params({"band": (0.5, 2)}, where=WHERE).band == [0.5, 2.0]


def test_band_may_start_at_zero_and_be_a_single_value():
    # low 0 is allowed (allow_zero), low == high is allowed (low <= high)
    assert jobs_housing.validate_params({"band": [0, 1]}, where=WHERE).band == [0.0, 1.0]
    assert jobs_housing.validate_params({"band": [1, 1]}, where=WHERE).band == [1.0, 1.0]


def test_band_top_of_zero_is_rejected():
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"band": [0, 0]}, where=WHERE)
    assert str(e.value) == f"{WHERE}: params.band must be a positive number, got 0"


def test_negative_band_bottom_is_rejected():
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"band": [-0.5, 1]}, where=WHERE)
    assert str(e.value) == f"{WHERE}: params.band must be a positive number, got -0.5"


def test_reversed_band_message():
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"band": [1.2, 0.8]}, where=WHERE)
    assert str(e.value) == (
        f"{WHERE}: params.band must be [low, high] with low <= high, got [1.2, 0.8]"
    )


def test_employment_rate_message_as_in_docs_errors():
    # docs/errors.md: "/city/analyses/jh.yml: params.employment_rate must be a share in
    # (0, 1], got 1.5"
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"employment_rate": 1.5}, where="/city/analyses/jh.yml")
    assert str(e.value) == (
        "/city/analyses/jh.yml: params.employment_rate must be a share in (0, 1], got 1.5"
    )


def test_employment_rate_of_one_is_accepted_and_zero_is_not():
    assert jobs_housing.validate_params({"employment_rate": 1}, where=WHERE).employment_rate == 1
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"employment_rate": 0}, where=WHERE)
    assert str(e.value) == f"{WHERE}: params.employment_rate must be a positive number, got 0"


def test_commute_radius_above_100_km_is_rejected():
    # docs/errors.md: `_m` parameters are at most 100 km
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"commute_radius_m": 100_001}, where=WHERE)
    assert str(e.value) == (
        f"{WHERE}: params.commute_radius_m must be a finite number above 0 to 100,000, "
        "got 100001; fix it in the file"
    )


def test_commute_radius_of_zero_is_rejected():
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"commute_radius_m": 0}, where=WHERE)
    assert str(e.value) == f"{WHERE}: params.commute_radius_m must be a positive number, got 0"


@pytest.mark.parametrize("value", [0, 15])
def test_h3_resolution_bounds_are_accepted(value):
    # docs/errors.md: h3_resolution 0-15
    assert jobs_housing.validate_params({"h3_resolution": value}, where=WHERE).h3_resolution \
        == value


@pytest.mark.parametrize("value", [-1, 16, 8.0])
def test_h3_resolution_outside_0_15_is_rejected(value):
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"h3_resolution": value}, where=WHERE)
    assert str(e.value) == f"{WHERE}: params.h3_resolution must be an integer 0-15, got {value!r}"


@pytest.mark.parametrize("value", [2, 100_000])
def test_max_transport_cells_bounds_are_accepted(value):
    # docs/errors.md: max_transport_cells 2-100,000
    p = jobs_housing.validate_params({"max_transport_cells": value}, where=WHERE)
    assert p.max_transport_cells == value


@pytest.mark.parametrize("value", [1, 100_001])
def test_max_transport_cells_outside_bounds_is_rejected(value):
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"max_transport_cells": value}, where=WHERE)
    assert str(e.value) == (
        f"{WHERE}: params.max_transport_cells must be an integer 2-100000, got {value}"
    )


@pytest.mark.parametrize("key", ["od", "od_crs"])
def test_od_parameters_must_be_strings(key):
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({key: 5}, where=WHERE)
    assert str(e.value) == f"{WHERE}: params.{key} must be a string, got 5"


def test_od_parameters_as_strings_are_kept():
    p = jobs_housing.validate_params({"od": "od.csv", "od_crs": "EPSG:4326"}, where=WHERE)
    assert (p.od, p.od_crs) == ("od.csv", "EPSG:4326")


def test_unknown_parameter_message():
    # docs/errors.md: "unknown parameter 'radius' in 'params'; valid parameters: ..."
    with pytest.raises(AnalysisError) as e:
        jobs_housing.validate_params({"radius": 5}, where=WHERE)
    assert str(e.value) == (
        f"{WHERE}: unknown parameter 'radius' in 'params'; valid parameters: band, "
        "commute_radius_m, employment_rate, h3_resolution, max_transport_cells, od, od_crs"
    )


# --- jobs_housing: helpers --------------------------------------------------------------


def test_unit_workers_takes_the_field_else_residents_times_rate():
    # 70 given; NaN -> 100 x 0.5 = 50; inf is not a value either -> 10 x 0.5 = 5
    got = jobs_housing.unit_workers(np.array([100.0, 100.0, 10.0]),
                                    np.array([70.0, np.nan, np.inf]), employment_rate=0.5)
    assert got.tolist() == [70.0, 50.0, 5.0]


def _indicator(values: dict[str, float | None]):
    from urbanform.results import Indicator, IndicatorValue

    return Indicator(key="ratio", unit="ratio", label="", target=None,
                     city=IndicatorValue(value=None, met=None),
                     districts={d: IndicatorValue(value=v, met=None) for d, v in values.items()})


def test_district_balance_includes_both_bounds():
    ind = _indicator({"low": 0.8, "top": 1.2, "under": 0.79, "over": 1.21, "none": None})
    got = jobs_housing.district_balance(ind, band=[0.8, 1.2])
    assert got == {"low": True, "top": True, "under": False, "over": False, "none": False}


# --- jobs_housing: runs -----------------------------------------------------------------


@pytest.mark.parametrize("indicator", ["ratio", "balanced_share"])
def test_target_applies_to_its_indicator(indicator):
    # target >= 0.9: ratio a = 1,000 / 1,000 = 1.0 met, b = 500 / 1,000 = 0.5 not met;
    # balanced_share a = 1.0 met, b = 0 not met; the other indicator carries no target
    from urbanform.results import Target

    pop = _points([{"population": 1000.0, "workers": 1000.0}] * 2, [(500, 500), (2500, 500)])
    jobs = _points([{"jobs": 1000.0}, {"jobs": 500.0}], [(600, 600), (2600, 600)])
    target = Target(indicator, ">=", 0.9)
    p = jobs_housing.validate_params({}, where=WHERE)
    res = jobs_housing.run(_ctx(pop, jobs, districts=_districts()), name="jh", params=p,
                           target=target)
    ind = res.indicators[indicator]
    assert (ind.target, ind.districts["a"].met, ind.districts["b"].met) == (target, True, False)
    other = res.indicators[{"ratio": "balanced_share", "balanced_share": "ratio"}[indicator]]
    assert (other.target, other.districts["a"].met) == (None, None)


def test_indicator_units_and_labels():
    # INDICATORS: ratio is a ratio "Jobs per resident worker"; balanced_share a share
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1000.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs))
    got = {k: (i.key, i.unit, i.label) for k, i in res.indicators.items()}
    assert got == {
        "ratio": ("ratio", "ratio", "Jobs per resident worker"),
        "balanced_share": ("balanced_share", "share",
                           "Residents living in jobs-housing balanced districts"),
    }


def test_result_name_kind_and_params():
    # summary.json: band as floats, the `_m` radius as an integer when it is whole
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1000.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs), band=[1, 2], commute_radius_m=2500.0)
    assert (res.name, res.kind) == ("jh", "jobs_housing")
    assert res.params == {"band": [1.0, 2.0], "employment_rate": 0.55, "commute_radius_m": 2500,
                          "h3_resolution": 8, "max_transport_cells": 3000, "od": None,
                          "od_crs": None}
    assert [type(res.params[k]) for k in ("band", "commute_radius_m", "employment_rate")] \
        == [list, int, float]
    assert [type(b) for b in res.params["band"]] == [float, float]


def test_json_params_keep_a_fractional_radius_and_a_whole_rate():
    # 2500.5 m is not whole: stays a float; employment_rate 1.0 is whole but not `_m`
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1000.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs), commute_radius_m=2500.5, employment_rate=1.0)
    assert (res.params["commute_radius_m"], type(res.params["commute_radius_m"])) \
        == (2500.5, float)
    assert type(res.params["employment_rate"]) is float


def test_missing_population_counts_as_no_resident():
    # units: A 1,000 residents (no workers field -> 0.5 x 1,000 = 500 workers) and B with
    # no population value (NaN): B has 0 residents and 0 workers, not 0.5 x 1 or NaN.
    # 500 jobs -> ratio 500 / 500 = 1.0; balanced_share 1,000 / 1,000 = 1.0
    pop = _points([{"population": 1000.0}, {"population": float("nan")}], [(500, 500), (700, 700)])
    jobs = _points([{"jobs": 500.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs), employment_rate=0.5)
    ratio = res.indicators["ratio"].city
    assert (ratio.numerator, ratio.denominator) == (500.0, 500.0)
    share = res.indicators["balanced_share"].city
    assert (share.numerator, share.denominator) == (1000.0, 1000.0)
    # the units (H3 summaries, maps) carry 0, not NaN, for B
    assert res.units[["population", "workers"]].values.tolist() == [
        [1000.0, 500.0], [0.0, 0.0], [0.0, 0.0]]


def test_fallback_warning_counts_only_units_with_residents():
    # 4 units without a workers value: 2,000 and 1 residents (counted), 0 and NaN
    # residents (not counted: no one to estimate) -> "2 population units"; rate 0.5
    pop = _points([{"population": 2000.0}, {"population": 1.0}, {"population": 0.0},
                   {"population": float("nan")}], [(500, 500)] * 4)
    jobs = _points([{"jobs": 1000.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs), employment_rate=0.5)
    assert res.warnings == [
        "2 population units have no 'workers' value: their workers are residents x "
        "employment rate 0.5"
    ]


def test_fallback_warning_count_has_a_thousands_separator():
    # 1,200 units of 1 resident without workers
    pop = _points([{"population": 1.0}] * 1200, [(500, 500)] * 1200)
    jobs = _points([{"jobs": 660.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs))
    assert res.warnings == [
        "1,200 population units have no 'workers' value: their workers are residents x "
        "employment rate 0.55"
    ]


def test_no_warning_when_every_unit_has_workers():
    pop = _points([{"population": 1000.0, "workers": 400.0}], [(500, 500)])
    jobs = _points([{"jobs": 400.0}], [(600, 600)])
    assert _run(_ctx(pop, jobs)).warnings == []


def test_missing_job_value_counts_as_no_job():
    # jobs 600 and NaN (0, not 1) over 1,000 workers: 600 / 1,000 = 0.6
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 600.0}, {"jobs": float("nan")}], [(600, 600), (700, 700)])
    res = _run(_ctx(pop, jobs))
    ratio = res.indicators["ratio"].city
    assert (ratio.numerator, ratio.denominator) == (600.0, 1000.0)
    # the units carry 0 jobs, not NaN, for the unit without a value
    assert res.units["jobs"].tolist() == [0.0, 600.0, 0.0]


def test_half_a_job_is_enough_to_run():
    # 0.5 jobs in all (more than none) over 1,000 workers: 0.0005
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 0.5}], [(600, 600)])
    assert _run(_ctx(pop, jobs)).indicators["ratio"].city.value == pytest.approx(0.0005)


def test_population_layer_without_residents_message():
    pop = _points([{"population": 0.0}], [(500, 500)])
    jobs = _points([{"jobs": 10.0}], [(600, 600)])
    with pytest.raises(AnalysisError) as e:
        _run(_ctx(pop, jobs))
    assert str(e.value) == (
        "analysis 'jh': the population layer holds no residents (total 0); check its "
        "'population' field mapping in layers/*.yml"
    )


def test_missing_population_layer_names_the_analysis():
    jobs = _points([{"jobs": 10.0}], [(600, 600)])
    ctx = Context(Layers(crs=CRS, vectors={"jobs": jobs}))
    with pytest.raises(LayerError, match=r"^analysis 'jh' needs a vector layer with role "
                                         r"'population'"):
        _run(ctx)


def test_missing_jobs_layer_names_the_analysis():
    pop = _points([{"population": 10.0}], [(600, 600)])
    ctx = Context(Layers(crs=CRS, vectors={"population": pop}))
    with pytest.raises(LayerError, match=r"^analysis 'jh' needs a vector layer with role "
                                         r"'jobs'"):
        _run(ctx)


def test_jobs_layer_without_jobs_message():
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 0.0}, {"jobs": float("nan")}], [(600, 600), (700, 700)])
    with pytest.raises(LayerError) as e:
        _run(_ctx(pop, jobs))
    assert str(e.value) == ("analysis 'jh': the jobs layer holds no jobs (total 0); check its "
                            "'jobs' field mapping")


def test_units_carry_population_workers_and_jobs_apart():
    # population units carry no jobs, job units no residents or workers
    pop = _points([{"population": 1000.0, "workers": 400.0}], [(500, 500)])
    jobs = _points([{"jobs": 300.0}], [(3500, 500)])
    res = _run(_ctx(pop, jobs, districts=_districts()))
    u = res.units
    assert u[["population", "workers", "jobs", "district"]].values.tolist() == [
        [1000.0, 400.0, 0.0, "a"], [0.0, 0.0, 300.0, "b"]]
    assert u["ratio__num"].tolist() == [0.0, 300.0]
    assert u["ratio__den"].tolist() == [400.0, 0.0]
    assert u.crs == CRS
    assert u.index.tolist() == [0, 1]  # numbered through, population units first


def test_unit_flags_and_balanced_share_columns():
    # a: 1,000 workers, 1,000 jobs -> 1.0 balanced; b: 500 workers, no job -> 0 not
    # balanced; a unit outside every district (x 9 km) is not balanced and is left out
    pop = _points([{"population": 1000.0, "workers": 1000.0},
                   {"population": 800.0, "workers": 500.0},
                   {"population": 300.0, "workers": 100.0}], [(500, 500), (2500, 500), (9000, 500)])
    jobs = _points([{"jobs": 1000.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs, districts=_districts()))
    u = res.units
    assert u["balanced"].tolist() == [True, False, False, True]
    assert u["balanced"].dtype == bool
    assert u["balanced_share__num"].tolist() == [1000.0, 0.0, 0.0, 0.0]
    assert u["balanced_share__den"].tolist() == [1000.0, 800.0, 0.0, 0.0]
    # 1,000 of the 1,800 residents in districts live in balanced ones
    assert res.indicators["balanced_share"].city.value == pytest.approx(1000 / 1800)


def test_residents_outside_every_district_warning():
    # 3 units (300, 1,250 and 0.4 residents) outside every district; a job unit and an
    # empty population unit outside are not counted -> "3 population units (1,550
    # residents)" (1,550.4 printed without decimals)
    pop = _points([{"population": 1000.0, "workers": 1000.0},
                   {"population": 300.0, "workers": 100.0},
                   {"population": 1250.0, "workers": 100.0},
                   {"population": 0.4, "workers": 0.0},
                   {"population": 0.0, "workers": 0.0}],
                  [(500, 500), (9000, 500), (9000, 900), (9000, 800), (9000, 700)])
    jobs = _points([{"jobs": 1000.0}, {"jobs": 5.0}], [(600, 600), (9500, 500)])
    res = _run(_ctx(pop, jobs, districts=_districts()))
    assert res.warnings == [
        "3 population units (1,550 residents) lie outside every district and are left out "
        "of balanced_share"
    ]


def test_without_districts_every_unit_takes_the_city_balance():
    # city ratio 2,000 / 1,000 = 2.0 > 1.2: nobody lives in balance; every population unit
    # counts in the denominator
    pop = _points([{"population": 1000.0, "workers": 500.0},
                   {"population": 700.0, "workers": 500.0}], [(500, 500), (900, 900)])
    jobs = _points([{"jobs": 2000.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs))
    assert res.units["balanced"].tolist() == [False, False, False]
    assert res.units["balanced_share__den"].tolist() == [1000.0, 700.0, 0.0]
    assert res.indicators["balanced_share"].city.value == 0.0
    assert "balance" not in res.layers and "balance" not in res.styles


@pytest.mark.parametrize(("jobs", "share"), [(799.0, 0.0), (800.0, 1.0), (1200.0, 1.0),
                                             (1201.0, 0.0)])
def test_without_districts_the_city_band_includes_both_bounds(jobs, share):
    # 1,000 workers: 799 / 1,000 < 0.8, 0.8 and 1.2 inside, 1.201 > 1.2
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jb = _points([{"jobs": jobs}], [(600, 600)])
    assert _run(_ctx(pop, jb)).indicators["balanced_share"].city.value == share


def test_balance_layer_rows():
    # a: 1,200 jobs / 1,000 workers = 1.2 balanced; b: 300 jobs, no worker -> no ratio,
    # not balanced; c: no unit at all -> 0 jobs, 0 workers, no ratio, not balanced
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1200.0}, {"jobs": 300.0}], [(600, 600), (2500, 500)])
    res = _run(_ctx(pop, jobs, districts=_districts(("a", "b", "c"))))
    # c holds no unit: it is still reported, without a value
    assert res.indicators["ratio"].districts["c"].value is None
    assert res.indicators["balanced_share"].districts["c"].value is None
    layer = res.layers["balance"]
    assert list(layer.columns) == ["name", "jobs", "workers", "ratio", "balanced", "geometry"]
    assert layer["name"].tolist() == ["a", "b", "c"]
    assert layer["jobs"].tolist() == [1200.0, 300.0, 0.0]
    assert layer["workers"].tolist() == [1000.0, 0.0, 0.0]
    assert layer["ratio"].tolist()[0] == pytest.approx(1.2)
    assert np.isnan(layer["ratio"].tolist()[1:]).all()
    assert layer["balanced"].tolist() == [True, False, False]
    assert layer.crs == CRS
    assert layer.geometry.equals(_districts(("a", "b", "c")).geometry)


def test_balance_layer_style():
    # the map and QGIS style of the balance layer; the band in the title is 0.9-1.1
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1000.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs, districts=_districts(("a",))), band=[0.9, 1.1])
    assert res.style("balance") == LayerStyle(
        title="Jobs per resident worker by district (balanced: 0.9-1.1)",
        title_zh="各区职住比",
        value_field="ratio",
        ramp="diverging",
        popup_fields=["name", "jobs", "workers", "ratio", "balanced"],
        label_field="name",
        labels={
            "en": {"jobs": "Jobs", "workers": "Resident workers", "ratio": "Jobs per worker"},
            "zh": {"jobs": "就业岗位", "workers": "居住就业人口", "ratio": "职住比"},
        },
    )


def test_local_ratio_layer_style():
    # radius 2,500 m printed with a thousands separator; resolution 7
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1000.0}], [(600, 600)])
    res = _run(_ctx(pop, jobs), commute_radius_m=2500, h3_resolution=7)
    assert res.style("local_ratio") == LayerStyle(
        title="Jobs per resident worker within 2,500 m (H3 resolution 7)",
        title_zh="2,500 米范围内职住比",
        value_field="local_ratio",
        ramp="diverging",
        popup_fields=["hex_id", "jobs", "workers", "jobs_within_m", "workers_within_m",
                      "local_ratio"],
        labels={
            "en": {"jobs_within_m": "Jobs within 2,500 m",
                   "workers_within_m": "Workers within 2,500 m",
                   "local_ratio": "Local jobs per worker"},
            "zh": {"jobs_within_m": "范围内就业岗位", "workers_within_m": "范围内就业居民",
                   "local_ratio": "局部职住比"},
        },
    )


def test_method_text_with_a_workers_field():
    # one H3 cell holds the 1,000 workers and the 1,000 jobs: minimum commute 0.00 km on
    # 1 cell at resolution 8
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1000.0}], [(500, 500)])
    res = _run(_ctx(pop, jobs), band=[0.75, 1.25], employment_rate=0.6,
               commute_radius_m=12_345)
    assert res.method == (
        "Jobs-housing ratio = jobs / resident workers from the population layer's 'workers' "
        "field (residents x 0.6 where it is missing); a district is balanced when its ratio "
        "lies within [0.75, 1.25], both bounds included, and balanced_share is the share of "
        "residents living in balanced districts. The local ratio of each H3 cell (resolution "
        "8) counts jobs and workers in the cells whose centres lie within 12,345 m (straight "
        "line). The theoretical minimum mean commute (0.00 km) solves the transportation "
        "problem of excess-commuting studies exactly (network simplex) on 1 H3 cells at "
        "resolution 8: resident workers are the supply, jobs scaled to the same total the "
        "demand, straight-line distances between cell centres the cost."
    )


def test_method_text_without_a_workers_field():
    pop = _points([{"population": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1000.0}], [(500, 500)])
    res = _run(_ctx(pop, jobs))
    assert res.method.startswith(
        "Jobs-housing ratio = jobs / resident workers estimated as residents x a default "
        "employment rate of 0.55 (no 'workers' field was given); a district is balanced "
        "when its ratio lies within [0.8, 1.2], both bounds included"
    )


def test_run_logs_the_city_figures(caplog):
    # city ratio 1,000 / 1,000 = 1.0, balanced share 1.0, minimum commute 0 (one cell)
    pop = _points([{"population": 1000.0, "workers": 1000.0}], [(500, 500)])
    jobs = _points([{"jobs": 1000.0}], [(500, 500)])
    with caplog.at_level(logging.INFO, logger="urbanform.analyses"):
        _run(_ctx(pop, jobs))
    messages = [r.getMessage() for r in caplog.records]
    assert "jobs_housing: 1 population units, 1 job units" in messages
    assert "jobs_housing: city ratio 1.0, balanced share 1.0, min mean commute 0.00 km" \
        in messages


# --- commute ----------------------------------------------------------------------------


def test_cells_of_no_point_is_an_empty_array():
    got = commute.cells_of(np.zeros((0, 2)), crs=CRS, resolution=8)
    assert (got.shape, got.dtype) == ((0,), np.dtype(object))


def test_cells_of_projects_to_lon_lat_first():
    # a point at lat 30.63, lng 103.96 given in UTM: h3 of the geographic point
    x, y = TO_UTM.transform(103.96, 30.63)
    got = commute.cells_of(np.array([[x, y]]), crs=CRS, resolution=9)
    assert got.tolist() == [h3.latlng_to_cell(30.63, 103.96, 9)]
    assert got.dtype == np.dtype(object)  # Python strings, as for no point


def test_cell_centres_and_polygons_of_no_cell():
    assert commute.cell_centres(np.array([], dtype=object), crs=CRS).shape == (0, 2)
    got = commute.cell_polygons(np.array([], dtype=object), crs=CRS)
    assert (got.shape, got.dtype) == ((0,), np.dtype(object))


def test_cell_centre_is_the_h3_centre_in_the_crs():
    cell = h3.latlng_to_cell(30.63, 103.96, 8)
    lat, lng = h3.cell_to_latlng(cell)
    got = commute.cell_centres(np.array([cell], dtype=object), crs=CRS)
    assert got.tolist() == [list(TO_UTM.transform(lng, lat))]


def test_cell_polygon_is_the_closed_h3_hexagon():
    # 6 vertices and the closing one; the vertices are h3's boundary, projected
    cell = h3.latlng_to_cell(30.63, 103.96, 8)
    (poly,) = commute.cell_polygons(np.array([cell], dtype=object), crs=CRS)
    ring = np.array(poly.exterior.coords)
    expected = [TO_UTM.transform(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
    assert len(ring) == 7
    assert ring[:6] == pytest.approx(np.array(expected))
    assert ring[6].tolist() == ring[0].tolist()


def test_cell_polygons_of_two_cells_keep_their_own_vertices():
    a = h3.latlng_to_cell(30.63, 103.96, 8)
    b = h3.latlng_to_cell(30.63, 104.02, 8)
    polys = commute.cell_polygons(np.array([a, b], dtype=object), crs=CRS)
    centres = commute.cell_centres(np.array([a, b], dtype=object), crs=CRS)
    assert [p.contains(shapely.Point(c)) for p, c in zip(polys, centres, strict=True)] \
        == [True, True]
    assert polys[0].intersection(polys[1]).area == 0.0


def test_cell_table_sums_per_cell_and_drops_empty_cells():
    # three units in cell HI (jobs 5 + 0 + 1, workers 0 + 2 + 0), then one in cell LO with
    # only 0.5 workers (kept), one in cell MID with nothing (dropped); the table is sorted
    # by hex id (LO < HI), not in the order the cells come
    hi, mid, lo = sorted([h3.latlng_to_cell(30.63, lng, 8) for lng in (103.96, 104.0, 104.04)],
                         reverse=True)
    xy = [_centre(hi), _centre(hi), _centre(hi), _centre(lo), _centre(mid)]
    units = _points([{"jobs": 5.0, "workers": 0.0}, {"jobs": 0.0, "workers": 2.0},
                     {"jobs": 1.0, "workers": 0.0}, {"jobs": 0.0, "workers": 0.5},
                     {"jobs": 0.0, "workers": 0.0}], xy)
    table = commute.cell_table(units, resolution=8)
    assert [(i, r.jobs, r.workers) for i, r in table.iterrows()] == [
        (lo, 0.0, 0.5), (hi, 6.0, 2.0)]


def test_cell_table_keeps_a_cell_with_only_half_a_job():
    a = h3.latlng_to_cell(30.63, 103.96, 8)
    units = _points([{"jobs": 0.5, "workers": 0.0}], [_centre(a)])
    assert commute.cell_table(units, resolution=8).index.tolist() == [a]


def _table(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    t = pd.DataFrame({"jobs": [j for j, _ in rows.values()],
                      "workers": [w for _, w in rows.values()]},
                     index=pd.Index(list(rows), name="hex_id"))
    return t.sort_index()


def test_local_ratio_of_no_cell_is_an_empty_layer():
    empty = _table({})
    out, _ = commute.local_ratio(empty, crs=CRS, radius_m=1000, resolution=8)
    assert len(out) == 0


def test_local_ratio_columns_and_a_cell_without_workers():
    # A: 10 jobs, 5 workers; B (about 6 km away): 4 jobs, no worker. Radius 1 km: A sees
    # 10 / 5 = 2; B sees no worker -> NaN
    a = h3.latlng_to_cell(30.63, 103.96, 8)
    b = h3.latlng_to_cell(30.63, 104.022, 8)
    out, _ = commute.local_ratio(_table({a: (10.0, 5.0), b: (4.0, 0.0)}), crs=CRS,
                                 radius_m=1000, resolution=8)
    assert list(out.columns) == ["hex_id", "jobs", "workers", "jobs_within_m",
                                 "workers_within_m", "local_ratio", "geometry"]
    rows = out.set_index("hex_id")
    assert rows.loc[a, ["jobs", "workers", "jobs_within_m", "workers_within_m",
                        "local_ratio"]].tolist() == [10.0, 5.0, 10.0, 5.0, 2.0]
    assert rows.loc[b, ["jobs_within_m", "workers_within_m"]].tolist() == [4.0, 0.0]
    assert math.isnan(rows.loc[b, "local_ratio"])
    assert out.crs == CRS


def test_local_ratio_with_half_a_worker():
    # 1 job and 0.5 workers: 1 / 0.5 = 2
    a = h3.latlng_to_cell(30.63, 103.96, 8)
    out, _ = commute.local_ratio(_table({a: (1.0, 0.5)}), crs=CRS, radius_m=1000, resolution=8)
    assert out["local_ratio"].tolist() == [2.0]


def test_local_ratio_memory_refusal_message(monkeypatch):
    # docs/errors.md, ResourceError. One cell: 1 pair (a single point counts itself);
    # 64 bytes a pair = 64 B; no memory available
    monkeypatch.setattr("urbanform.checks.available_memory", lambda: 0)
    a = h3.latlng_to_cell(30.63, 103.96, 15)
    with pytest.raises(ResourceError) as e:
        commute.local_ratio(_table({a: (1.0, 1.0)}), crs=CRS, radius_m=5000, resolution=15)
    assert str(e.value) == (
        "about 1 pairs of H3 cells (resolution 15) within 5,000 m would need about 64.0 B "
        "of memory; this machine has 0.0 B available; use a lower params.h3_resolution or a "
        "smaller params.commute_radius_m"
    )


def _pairs_in_message(monkeypatch, cells: list[str], radius_m: float) -> str:
    monkeypatch.setattr("urbanform.checks.available_memory", lambda: 0)
    table = _table({c: (1.0, 1.0) for c in cells})
    with pytest.raises(ResourceError) as e:
        commute.local_ratio(table, crs=CRS, radius_m=radius_m, resolution=8)
    return str(e.value).split(" pairs")[0]


def test_pair_estimate_is_all_pairs_when_the_radius_covers_the_area(monkeypatch):
    # 3 cells within a few km, radius 100 km: n x n = 9 pairs
    cells = [h3.latlng_to_cell(30.63, lng, 8) for lng in (103.96, 103.99, 104.02)]
    cells[2] = h3.latlng_to_cell(30.66, 104.02, 8)
    assert _pairs_in_message(monkeypatch, cells, 100_000) == "about 9"


def test_pair_estimate_of_two_cells(monkeypatch):
    # 2 cells, radius 100 km covering both: n x n = 4 pairs
    cells = [h3.latlng_to_cell(30.63, 103.96, 8), h3.latlng_to_cell(30.66, 104.02, 8)]
    assert _pairs_in_message(monkeypatch, cells, 100_000) == "about 4"


def test_pair_estimate_with_a_small_radius(monkeypatch):
    # 3 cells spanning w x h m (their centres' extent, from h3 and pyproj here): n + n^2 x
    # pi r^2 / (w h) pairs for r = 100 m
    cells = [h3.latlng_to_cell(30.63, 103.96, 8), h3.latlng_to_cell(30.63, 103.99, 8),
             h3.latlng_to_cell(30.66, 104.02, 8)]
    xy = np.array([_centre(c) for c in cells])
    w, h = xy.max(axis=0) - xy.min(axis=0)
    expected = 3 + 9 * math.pi * 100**2 / (w * h)
    assert _pairs_in_message(monkeypatch, cells, 100) == f"about {expected:,.0f}"


def test_min_commute_rejects_empty_supply_or_demand():
    msg = "minimum commute: workers and jobs must both have a positive total"
    xy = np.array([[0.0, 0.0]])
    with pytest.raises(AnalysisError) as e:
        commute.min_mean_commute_km(xy, np.array([0.0]), xy, np.array([1.0]))
    assert str(e.value) == msg
    with pytest.raises(AnalysisError) as e:
        commute.min_mean_commute_km(xy, np.array([1.0]), xy, np.array([0.0]))
    assert str(e.value) == msg


def test_min_commute_is_rounded_to_nine_decimals():
    # one worker, one job 1,000 / 3 m away: 0.333333333... km, rounded to 9 decimals
    km = commute.min_mean_commute_km(np.array([[0.0, 0.0]]), np.array([1.0]),
                                     np.array([[1000.0 / 3, 0.0]]), np.array([1.0]))
    assert km == 0.333333333


def test_min_commute_weighs_unequal_supply():
    # 3 workers at A (0, 0), 1 at B (10 km, 0); 2 jobs 1 km north of each. Shares: A 0.75,
    # B 0.25; jobs 0.5 and 0.5. Best: A sends 0.5 north (1 km) and 0.25 to B's jobs
    # (hypot(10, 1) km), B sends 0.25 north (1 km):
    # 0.5 x 1 + 0.25 x 1 + 0.25 x hypot(10, 1) = 0.75 + 0.25 x 10.0498756 = 3.2624689 km
    km = commute.min_mean_commute_km(np.array([[0.0, 0.0], [10_000.0, 0.0]]),
                                     np.array([3.0, 1.0]),
                                     np.array([[0.0, 1000.0], [10_000.0, 1000.0]]),
                                     np.array([2.0, 2.0]))
    assert km == pytest.approx(0.75 + 0.25 * math.hypot(10, 1), rel=1e-9)


def test_min_commute_warns_when_the_solver_stops_early(monkeypatch, caplog):
    # an iteration cap of 1 stops the network simplex before the optimum: the log says so
    monkeypatch.setattr(commute, "_EMD_MAX_ITER", 1)
    xy = np.array([[0.0, 0.0], [1000.0, 0.0], [0.0, 3000.0]])
    with caplog.at_level(logging.WARNING, logger="urbanform.analyses.commute"), \
            pytest.warns(UserWarning, match="numItermax reached"):
        commute.min_mean_commute_km(xy, np.array([1.0, 2.0, 3.0]), xy[::-1] + 5,
                                    np.array([3.0, 1.0, 2.0]))
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("transport problem: numItermax reached")


def test_min_commute_logs_no_warning_when_solved(caplog):
    with caplog.at_level(logging.WARNING, logger="urbanform.analyses.commute"):
        commute.min_mean_commute_km(np.array([[0.0, 0.0]]), np.array([1.0]),
                                    np.array([[300.0, 400.0]]), np.array([2.0]))
    assert caplog.records == []


def _res8(lat: float, lng: float) -> str:
    return h3.latlng_to_cell(lat, lng, 8)


def test_commute_figures_on_cells_without_coarsening():
    # A: 1 worker, 0 jobs; B: 0 workers, 1 job -> everyone travels A to B: d(A, B) km
    a, b = _res8(30.63, 103.96), _res8(30.63, 104.022)
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    d_km = math.hypot(bx - ax, by - ay) / 1000
    out = commute.commute_figures(_table({a: (0.0, 1.0), b: (1.0, 0.0)}), crs=CRS,
                                  resolution=8)
    km = out.pop("min_mean_commute_km")
    assert km == pytest.approx(d_km, rel=1e-9)
    assert out == {"transport_h3_resolution": 8, "transport_cells": 2,
                   "transport_h3_resolution_requested": 8, "warnings": []}


def test_commute_figures_keep_a_cell_of_one_worker():
    # A: 1 worker, 1 job; B: 1 worker, 1 job -> each works at home: 0 km. A cell of
    # exactly one worker (one job) is supply (demand): were A's left out, B's worker would
    # fill both jobs (or A's worker go to B).
    a, b = _res8(30.63, 103.96), _res8(30.63, 104.022)
    out = commute.commute_figures(_table({a: (1.0, 1.0), b: (1.0, 1.0)}), crs=CRS,
                                  resolution=8)
    assert out["min_mean_commute_km"] == 0.0


def _parents(cells: list[str], res: int) -> set[str]:
    return {h3.cell_to_parent(c, res) for c in cells}


def _sibling_cells() -> list[str]:
    """Two resolution-8 children of one resolution-7 cell and a cell 8 km away."""
    a, b = sorted(h3.cell_to_children(h3.cell_to_parent(_res8(30.63, 103.96), 7), 8))[:2]
    return [a, b, _res8(30.63, 104.04)]


@pytest.mark.parametrize("cells", [
    [_res8(30.63, 103.96), _res8(30.63, 104.00), _res8(30.63, 104.04)], _sibling_cells()])
def test_commute_figures_coarsen_above_the_cell_limit(cells):
    # three cells at resolution 8; the resolution kept is the finest at which their
    # parents (h3.cell_to_parent) number at most 2 (6 for the first three cells, 7 for
    # the siblings)
    table = _table({cells[0]: (0.0, 1.0), cells[1]: (1.0, 0.0), cells[2]: (1.0, 1.0)})
    res = next(r for r in range(8, -1, -1) if len(_parents(cells, r)) <= 2)
    n = len(_parents(cells, res))
    out = commute.commute_figures(table, crs=CRS, resolution=8, max_cells=2)
    assert (out["transport_h3_resolution"], out["transport_cells"]) == (res, n)
    assert out["transport_h3_resolution_requested"] == 8
    assert out["warnings"] == [
        f"the transport problem has 3 non-empty H3 cells at resolution 8 (limit 2); it was "
        f"solved on {n} cells at resolution {res}"
    ]


def test_commute_figures_default_cell_limit_is_3000():
    # 3,001 cells (workers in each, jobs in the first): one more than the default limit
    # of 3,000, so the problem is solved on coarser cells
    centre = _res8(30.63, 103.96)
    cells = sorted(h3.grid_disk(centre, 32))[:3001]
    table = _table({c: (1.0 if c == cells[0] else 0.0, 1.0) for c in cells})
    out = commute.commute_figures(table, crs=CRS, resolution=8)
    assert out["transport_h3_resolution"] == 7
    assert out["warnings"][0].startswith(
        "the transport problem has 3,001 non-empty H3 cells at resolution 8 (limit 3,000)")


def test_commute_figures_coarsen_down_to_resolution_zero():
    # three resolution-1 cells in three resolution-0 cells, limit 2: aggregated once to
    # resolution 0, where they are still 3 cells
    merc = pyproj.CRS(3857)
    cells = sorted(h3.latlng_to_cell(lat, lng, 1) for lat, lng in ((30, 104), (30, 80), (55, 104)))
    assert len(_parents(cells, 0)) == 3
    table = _table({cells[0]: (1.0, 1.0), cells[1]: (1.0, 1.0), cells[2]: (1.0, 1.0)})
    out = commute.commute_figures(table, crs=merc, resolution=1, max_cells=2)
    assert (out["transport_h3_resolution"], out["transport_cells"]) == (0, 3)


def test_commute_figures_coarsening_stops_at_resolution_zero():
    # three resolution-0 cells cannot be aggregated further: solved on 3 cells at 0
    merc = pyproj.CRS(3857)
    cells = sorted({h3.latlng_to_cell(30, 104, 0), h3.latlng_to_cell(30, 80, 0),
                    h3.latlng_to_cell(55, 104, 0)})
    assert len(cells) == 3
    table = _table({cells[0]: (1.0, 1.0), cells[1]: (1.0, 1.0), cells[2]: (1.0, 1.0)})
    out = commute.commute_figures(table, crs=merc, resolution=0, max_cells=2)
    assert (out["transport_h3_resolution"], out["transport_cells"]) == (0, 3)
    assert out["warnings"] == []


def _od_setup(tmp_path, text: str):
    a, b = _res8(30.63, 103.96), _res8(30.63, 104.022)
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    table = _table({a: (0.0, 1.0), b: (1.0, 0.0)})
    od = tmp_path / "od.csv"
    od.write_text(text.format(ax=X0 + ax, ay=Y0 + ay, bx=X0 + bx, by=Y0 + by))
    return table, str(od), math.hypot(bx - ax, by - ay) / 1000


def test_od_without_count_weighs_each_trip_once(tmp_path):
    # trips A->B, A->A, B->B without counts: mean = d / 3; minimum = d (one worker in A,
    # one job in B): excess = 1 - d / (d / 3) = -2
    table, od, d = _od_setup(tmp_path, "origin_x,origin_y,dest_x,dest_y\n"
                             "{ax},{ay},{bx},{by}\n{ax},{ay},{ax},{ay}\n{bx},{by},{bx},{by}\n")
    out = commute.commute_figures(table, crs=CRS, resolution=8, od=od)
    assert out["actual_mean_commute_km"] == pytest.approx(d / 3, rel=1e-9)
    assert out["excess_commuting"] == pytest.approx(-2.0, rel=1e-9)


def test_od_with_counts_gives_excess_commuting(tmp_path):
    # 4 trips A->B, none local: mean d; minimum d (one worker in A, one job in B):
    # excess 1 - d / d = 0
    table, od, d = _od_setup(tmp_path, "origin_x,origin_y,dest_x,dest_y,count\n"
                             "{ax},{ay},{bx},{by},4\n")
    out = commute.commute_figures(table, crs=CRS, resolution=8, od=od)
    assert out["actual_mean_commute_km"] == pytest.approx(d, rel=1e-9)
    assert out["excess_commuting"] == pytest.approx(0.0, abs=1e-9)


def test_od_of_short_trips_has_an_excess_figure(tmp_path):
    # neighbouring cells under 1 km apart: 1 worker in A, 1 job in B, one trip A -> B:
    # minimum = mean = d < 1 km, excess 1 - d / d = 0
    a = _res8(30.63, 103.96)
    b = sorted(set(h3.grid_disk(a, 1)) - {a})[0]
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    assert math.hypot(bx - ax, by - ay) < 1000
    od = tmp_path / "od.csv"
    od.write_text(f"origin_x,origin_y,dest_x,dest_y\n{X0 + ax},{Y0 + ay},{X0 + bx},{Y0 + by}\n")
    out = commute.commute_figures(_table({a: (0.0, 1.0), b: (1.0, 0.0)}), crs=CRS,
                                  resolution=8, od=str(od))
    assert out["excess_commuting"] == pytest.approx(0.0, abs=1e-9)


def test_od_of_zero_length_trips_has_no_excess_figure(tmp_path):
    # every trip stays in its cell: mean 0 km, excess commuting undefined (None)
    table, od, _ = _od_setup(tmp_path, "origin_x,origin_y,dest_x,dest_y,count\n"
                             "{ax},{ay},{ax},{ay},2\n")
    out = commute.commute_figures(table, crs=CRS, resolution=8, od=od)
    assert (out["actual_mean_commute_km"], out["excess_commuting"]) == (0.0, None)


def test_od_in_another_crs_is_projected(tmp_path):
    # the same trips given in longitude and latitude: mean = d
    a, b = _res8(30.63, 103.96), _res8(30.63, 104.022)
    (alat, alng), (blat, blng) = h3.cell_to_latlng(a), h3.cell_to_latlng(b)
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    d = math.hypot(bx - ax, by - ay) / 1000
    od = tmp_path / "od.csv"
    od.write_text(f"origin_x,origin_y,dest_x,dest_y\n{alng},{alat},{blng},{blat}\n")
    out = commute.commute_figures(_table({a: (0.0, 1.0), b: (1.0, 0.0)}), crs=CRS,
                                  resolution=8, od=str(od), od_crs="EPSG:4326")
    assert out["actual_mean_commute_km"] == pytest.approx(d, rel=1e-9)


def test_od_file_not_found_message(tmp_path):
    missing = str(tmp_path / "nope.csv")
    with pytest.raises(AnalysisError) as e:
        commute.commute_figures(_table({_res8(30.63, 103.96): (1.0, 1.0)}), crs=CRS,
                                resolution=8, od=missing)
    assert str(e.value) == (
        f"params.od: origin-destination file {missing!r} not found; give a CSV path "
        "(relative to the working directory)"
    )


def test_od_missing_column_message(tmp_path):
    od = tmp_path / "od.csv"
    od.write_text("origin_x,origin_y,dest_x\n1,2,3\n")
    with pytest.raises(AnalysisError) as e:
        commute.commute_figures(_table({_res8(30.63, 103.96): (1.0, 1.0)}), crs=CRS,
                                resolution=8, od=str(od))
    assert str(e.value) == (
        f"params.od: {str(od)!r} has no column 'dest_y'; needed: origin_x, origin_y, dest_x, "
        "dest_y and optionally count"
    )


def _extra(**kw):
    base = {"min_mean_commute_km": 1.234, "transport_cells": 1234,
            "transport_h3_resolution": 7, "transport_h3_resolution_requested": 7}
    return {**base, **kw}


_METHOD = (
    "The theoretical minimum mean commute (1.23 km) solves the transportation problem of "
    "excess-commuting studies exactly (network simplex) on 1,234 H3 cells at resolution 7: "
    "resident workers are the supply, jobs scaled to the same total the demand, "
    "straight-line distances between cell centres the cost"
)


def test_method_text_plain():
    assert commute.method_text(_extra()) == _METHOD + "."


def test_method_text_coarsened():
    assert commute.method_text(_extra(transport_h3_resolution_requested=8)) == (
        _METHOD + " (cells were aggregated to a coarser resolution to keep the problem small)."
    )


def test_method_text_with_observed_commute():
    assert commute.method_text(_extra(actual_mean_commute_km=0.0)) == (
        _METHOD + "; the observed mean over the origin-destination data, measured the same "
        "way, is 0.00 km."
    )


def test_method_text_without_a_finite_observed_commute():
    assert commute.method_text(_extra(actual_mean_commute_km=float("nan"))) == _METHOD + "."
    assert commute.method_text(_extra(actual_mean_commute_km=None)) == _METHOD + "."


# --- params -----------------------------------------------------------------------------


def _demo() -> type[Params]:
    """A parameter class of every kind of default, built inside the test (not at import)."""

    @dataclasses.dataclass(frozen=True)
    class Demo(Params):
        radius_m: float = param(500, "walking distance")
        rings: list[float] = param([500, 800], "ring radii")
        weights: dict[str, float] = param({"a": 1.5}, "weights")
        name: str | None = param(None, "")
        share: float = param(0.25, "a share")
        tiers: list[dict[str, float]] = param([{"r": 1.0}], "nested, as park tiers")

    return Demo


def test_params_defaults_docs_and_mapping():
    Demo = _demo()
    assert Demo.defaults() == {"radius_m": 500, "rings": [500, 800], "weights": {"a": 1.5},
                               "name": None, "share": 0.25, "tiers": [{"r": 1.0}]}
    assert Demo.docs() == {"radius_m": "walking distance", "rings": "ring radii",
                           "weights": "weights", "name": "", "share": "a share",
                           "tiers": "nested, as park tiers"}
    p = Demo(radius_m=300.0)
    assert (p["radius_m"], p["rings"], len(p), list(p)) == (
        300.0, [500, 800], 6, ["radius_m", "rings", "weights", "name", "share", "tiers"])


def test_params_unknown_key_is_a_key_error():
    Demo = _demo()
    with pytest.raises(KeyError) as e:
        Demo()["kind"]
    assert e.value.args == ("kind",)


def test_list_and_dict_defaults_are_fresh_copies():
    Demo = _demo()
    a, b = Demo(), Demo()
    a.rings.append(1000)
    a.weights["b"] = 2.0
    a.tiers[0]["r"] = 5.0  # nested: a deep copy each
    assert b.tiers == [{"r": 1.0}] == Demo.defaults()["tiers"]
    assert (b.rings, b.weights, Demo.defaults()["rings"]) == ([500, 800], {"a": 1.5},
                                                               [500, 800])


def test_replace_makes_a_changed_copy():
    Demo = _demo()
    p = Demo()
    q = p.replace(share=0.5)
    assert (p.share, q.share, type(q)) == (0.25, 0.5, Demo)


def test_describe_skips_a_none_default_and_an_empty_doc():
    # README cell: `key: default` (doc); a None default gives the bare key, no doc no ()
    Demo = _demo()
    assert Demo.describe() == (
        "`radius_m: 500` (walking distance), `rings: [500, 800]` (ring radii), "
        "`weights: {a: 1.5}` (weights), `name`, `share: 0.25` (a share), "
        "`tiers: [{r: 1}]` (nested, as park tiers)"
    )


def test_listing_writes_values_as_yaml():
    # `urbanform validate`: None -> null, strings bare, whole floats as integers below
    # 1e15 (json's float text, "1000000000000000.0", from there), booleans as true/false
    Demo = _demo()
    p = Demo(radius_m=1e14, rings=[2.0, 1e15, True], weights={"x": -3.0}, name="n",
             share=2.5)
    assert p.listing() == (
        "radius_m=100000000000000, rings=[2, 1000000000000000.0, true], weights={x: -3}, "
        "name=n, share=2.5, tiers=[{r: 1}]"
    )
    assert Demo().listing() == (
        "radius_m=500, rings=[500, 800], weights={a: 1.5}, name=null, share=0.25, "
        "tiers=[{r: 1}]"
    )


def test_listing_of_tuples_and_a_big_whole_float():
    # tuples as lists; -1e15 is not below 1e15 in size: json's float text (repr: ".0")
    Demo = _demo()
    p = Demo(rings=(1, 2), radius_m=-1e15)
    assert p.listing().split(", name")[0] == (
        "radius_m=-1000000000000000.0, rings=[1, 2], weights={a: 1.5}"
    )


def test_a_plain_field_has_an_empty_doc():
    # a field not made with param(): no doc, so describe gives no parentheses
    @dataclasses.dataclass(frozen=True)
    class Plain(Params):
        x: int = 1

    assert (Plain.docs(), Plain.describe()) == ({"x": ""}, "`x: 1`")


def test_piece_share_param_default_and_doc():
    @dataclasses.dataclass(frozen=True)
    class P(Params):
        min_piece_share: float = piece_share_param()

    assert P.defaults() == {"min_piece_share": 0.01}
    assert P.docs() == {
        "min_piece_share": "street pieces under this share of the network's length are not "
        "snapped to"
    }


def test_merge_params_overlays_and_copies():
    defaults = {"radius_m": 500, "rings": [500, 800]}
    out = merge_params({"radius_m": 300}, defaults, where="a.yml")
    out["rings"].append(1)
    assert out["radius_m"] == 300 and defaults == {"radius_m": 500, "rings": [500, 800]}
    assert merge_params(None, defaults, where="a.yml") == defaults


def test_merge_params_names_the_first_unknown_key():
    with pytest.raises(AnalysisError) as e:
        merge_params({"zz": 1, "b": 2, "radius_m": 1}, {"radius_m": 5, "a": 1}, where="a.yml")
    assert str(e.value) == (
        "a.yml: unknown parameter 'b' in 'params'; valid parameters: a, radius_m"
    )


@pytest.mark.parametrize("value", [-1, True, "5", None])
def test_positive_number_rejects(value):
    with pytest.raises(AnalysisError) as e:
        positive_number(value, key="radius_m", where="a.yml")
    assert str(e.value) == f"a.yml: params.radius_m must be a positive number, got {value!r}"


def test_positive_number_zero_only_when_allowed():
    assert positive_number(0, key="x", where="a.yml", allow_zero=True) == 0.0
    with pytest.raises(AnalysisError, match=r"^a\.yml: params\.x must be a positive number"):
        positive_number(0, key="x", where="a.yml")


def test_positive_number_upper_bound():
    # high given: 10 is allowed, 10.5 is not (the finite_number message)
    assert positive_number(10, key="x", where="a.yml", high=10) == 10.0
    with pytest.raises(AnalysisError) as e:
        positive_number(10.5, key="x", where="a.yml", high=10)
    assert str(e.value) == (
        "a.yml: params.x must be a finite number above 0 to 10, got 10.5; fix it in the file"
    )


def test_positive_number_with_zero_allowed_has_a_from_bound():
    # allow_zero -> "from 0" (zero allowed) in the range message
    with pytest.raises(AnalysisError) as e:
        positive_number(11, key="x", where="a.yml", high=10, allow_zero=True)
    assert str(e.value) == (
        "a.yml: params.x must be a finite number from 0 to 10, got 11; fix it in the file"
    )


def test_share_param_bounds():
    assert share_param(0, where="a.yml") == 0.0
    assert share_param(0.999, where="a.yml") == 0.999
    assert type(share_param(0, where="a.yml")) is float


@pytest.mark.parametrize("value", [1, -0.01, True, "0.1"])
def test_share_param_rejects(value):
    with pytest.raises(AnalysisError) as e:
        share_param(value, where="a.yml")
    assert str(e.value) == (
        "a.yml: params.min_piece_share must be a share from 0 to below 1 (0.01 = 1% of the "
        f"network's length; 0 snaps to every piece), got {value!r}"
    )


def test_share_param_names_its_key():
    with pytest.raises(AnalysisError, match=r"^a\.yml: params\.other must be a share"):
        share_param(2, where="a.yml", key="other")


def test_one_of():
    assert one_of("network", ("network", "euclidean"), key="distance", where="a.yml") \
        == "network"
    with pytest.raises(AnalysisError) as e:
        one_of("walk", ("network", "euclidean"), key="distance", where="a.yml")
    assert str(e.value) == (
        "a.yml: params.distance must be one of network, euclidean, got 'walk'"
    )


# --- registry ---------------------------------------------------------------------------


def test_get_kind_without_where_has_no_prefix():
    with pytest.raises(AnalysisError) as e:
        get_kind("parks")
    assert str(e.value) == (
        "unknown analysis kind 'parks'; use one of park_coverage, living_circle, tod, "
        "jobs_housing, forest_cover"
    )


def test_jobs_housing_kind():
    kind = get_kind("jobs_housing", where="a.yml")
    assert kind is KINDS["jobs_housing"]
    assert (kind.params_type, kind.keys_for) == (jobs_housing.JobsHousingParams, None)
    assert dict(kind.indicators) == jobs_housing.INDICATORS
    assert kind.indicator_keys(kind.validate_params({}, where="a.yml")) \
        == ["ratio", "balanced_share"]


def test_a_kind_is_built_from_its_module():
    # registry._kind runs at import (before a test can see it); built again here from
    # the jobs_housing module, it equals the registered kind, with read-only mappings
    from types import MappingProxyType

    from urbanform.analyses.registry import _kind

    kind = _kind("jobs_housing", jobs_housing, jobs_housing.JobsHousingParams,
                 jobs_housing.validate_params, jobs_housing.run)
    assert kind == KINDS["jobs_housing"]
    assert (type(kind.defaults), type(kind.indicators)) == (MappingProxyType, MappingProxyType)
    assert dict(kind.defaults) == jobs_housing.JobsHousingParams.defaults()
    keys = kind.indicator_keys
    with_keys = _kind("x", jobs_housing, jobs_housing.JobsHousingParams,
                      jobs_housing.validate_params, jobs_housing.run, keys_for=lambda p: ["k"])
    assert (keys({}), with_keys.indicator_keys({}), with_keys.name) \
        == (["ratio", "balanced_share"], ["k"], "x")


def test_kind_indicators_are_read_only():
    with pytest.raises(TypeError):
        KINDS["jobs_housing"].indicators["x"] = ("share", "x")  # type: ignore[index]


def test_parameters_table_rows():
    # the README table: a header, a separator, then one row per kind in KINDS order
    lines = parameters_table().splitlines()
    assert lines[:2] == ["| kind | params |", "| --- | --- |"]
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| `park_coverage`", "| `living_circle`", "| `tod`", "| `jobs_housing`",
        "| `forest_cover`"]
    assert lines[5] == (
        f"| `jobs_housing` | {jobs_housing.JobsHousingParams.describe()} |"
    )


# --- context ----------------------------------------------------------------------------


def test_districts_are_name_and_geometry_only():
    d = _districts(("b", "a")).assign(extra=1)
    ctx = Context(Layers(crs=CRS, vectors={"districts": d}))
    assert list(ctx.districts().columns) == ["name", "geometry"]
    assert ctx.district_names() == ["a", "b"]


def test_no_districts():
    ctx = Context(Layers(crs=CRS))
    assert (ctx.districts(), ctx.district_names()) == (None, [])


def test_district_names_are_sorted_strings():
    d = gpd.GeoDataFrame({"name": [10, 9]}, geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=CRS)
    assert Context(Layers(crs=CRS, vectors={"districts": d})).district_names() == ["10", "9"]


def test_snapped_is_cached_by_points_distance_and_share():
    calls = []

    def snap(xy):
        calls.append(xy.copy())
        return len(calls)

    ctx = Context(Layers(crs=CRS))
    xy = np.array([[0, 0], [1, 2]])  # integers: the same points as floats
    first = ctx.snapped(xy, snap, max_snap_m=100)
    assert ctx.snapped(xy.astype(float), snap, max_snap_m=100.0, min_piece_share=0.0) == first
    assert calls[0].dtype == float and calls[0].flags["C_CONTIGUOUS"]
    assert ctx.snapped(xy, snap, max_snap_m=50) == 2
    assert ctx.snapped(xy, snap, max_snap_m=100, min_piece_share=0.01) == 3
    assert ctx.snapped(xy[:1], snap, max_snap_m=100) == 4
    assert ctx.snapped(np.array([[0, 0], [1, 3]]), snap, max_snap_m=100) == 5
    assert ctx.snapped(xy[:, ::-1].T.T[:, ::-1], snap, max_snap_m=100) == first


def _crossing_streets() -> gpd.GeoDataFrame:
    # two 200 m streets crossing at their middles without a shared vertex
    return gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 100), (200, 100)]),
                                      shapely.LineString([(100, 0), (100, 200)])], crs=CRS)


def test_walk_graph_nodes_crossings_of_gis_streets(caplog):
    # GIS centrelines are noded where they cross: 4 ends + 1 crossing, 4 edges
    ctx = Context(Layers(crs=CRS, vectors={"streets": _crossing_streets()}))
    with caplog.at_level(logging.INFO, logger="urbanform.analyses.context"):
        g = ctx.walk_graph(needed_by="x")
    assert (g.n_nodes, g.n_edges) == (5, 4)
    assert ctx.walk_graph() is g
    assert [r.getMessage() for r in caplog.records] == [
        "building the walk network from 2 street lines", "walk network: 5 nodes, 4 edges"]


def test_walk_graph_of_osm_streets_joins_only_at_shared_vertices():
    # OSM ways: no shared vertex, no junction: 4 ends, 2 edges
    layers = Layers(crs=CRS, vectors={"streets": _crossing_streets()}, osm_roles={"streets"})
    g = Context(layers).walk_graph()
    assert (g.n_nodes, g.n_edges) == (4, 2)


def test_walk_graph_without_streets_for_an_unnamed_step():
    with pytest.raises(LayerError, match=r"^this step needs a vector layer with role 'streets'"):
        Context(Layers(crs=CRS)).walk_graph()


def test_walk_graph_names_who_needs_the_streets():
    with pytest.raises(LayerError, match=r"^analysis 'tod' needs a vector layer with role "
                                         r"'streets'"):
        Context(Layers(crs=CRS)).walk_graph(needed_by="tod")


def test_commute_logs(caplog):
    # -v shows what was done: 2 cells at resolution 8; minimum commute = d(A, B) km
    a, b = _res8(30.63, 103.96), _res8(30.63, 104.022)
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    d_km = math.hypot(bx - ax, by - ay) / 1000
    table = _table({a: (0.0, 1.0), b: (1.0, 0.0)})
    with caplog.at_level(logging.INFO, logger="urbanform.analyses.commute"):
        commute.local_ratio(table, crs=CRS, radius_m=1000, resolution=8)
        commute.commute_figures(table, crs=CRS, resolution=8)
    assert [r.getMessage() for r in caplog.records] == [
        "local ratio on 2 H3 cells at resolution 8",
        f"minimum mean commute {d_km:.3f} km on 2 cells (resolution 8)",
    ]


def test_run_reports_the_coarsened_transport_problem():
    # three resolution-8 cells a few km apart, at most 2 for the transport problem: the
    # warning goes to the run's warnings, not into extra
    cells = [_res8(30.63, 103.96), _res8(30.63, 104.00), _res8(30.63, 104.04)]
    res_ = next(r for r in range(8, -1, -1) if len(_parents(cells, r)) <= 2)
    n = len(_parents(cells, res_))
    pop = _points([{"population": 10.0, "workers": 10.0}] * 3, [_centre(c) for c in cells])
    jobs = _points([{"jobs": 30.0}], [_centre(cells[0])])
    res = _run(_ctx(pop, jobs), max_transport_cells=2)
    assert res.warnings == [
        f"the transport problem has 3 non-empty H3 cells at resolution 8 (limit 2); it was "
        f"solved on {n} cells at resolution {res_}"
    ]
    assert sorted(res.extra) == ["min_mean_commute_km", "transport_cells",
                                 "transport_h3_resolution", "transport_h3_resolution_requested"]


def test_run_reads_od_in_its_own_crs(tmp_path):
    # one trip A -> B given in longitude and latitude (od_crs EPSG:4326): mean = d(A, B);
    # the minimum is d too (the worker lives in A, the job is in B): excess 0
    a, b = _res8(30.63, 103.96), _res8(30.63, 104.022)
    (alat, alng), (blat, blng) = h3.cell_to_latlng(a), h3.cell_to_latlng(b)
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    d = math.hypot(bx - ax, by - ay) / 1000
    od = tmp_path / "od.csv"
    od.write_text(f"origin_x,origin_y,dest_x,dest_y\n{alng},{alat},{blng},{blat}\n")
    pop = _points([{"population": 10.0, "workers": 10.0}], [(ax, ay)])
    jobs = _points([{"jobs": 10.0}], [(bx, by)])
    res = _run(_ctx(pop, jobs), od=str(od), od_crs="EPSG:4326")
    assert res.extra["actual_mean_commute_km"] == pytest.approx(d, rel=1e-9)
    assert res.extra["excess_commuting"] == pytest.approx(0.0, abs=1e-9)
