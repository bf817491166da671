"""Result-layer styles (LayerStyle) and the main indicator, decided once."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import geopandas as gpd
import pytest

import urbanform
from urbanform.results import (
    AnalysisResult,
    Indicator,
    IndicatorValue,
    LayerStyle,
    Target,
    split_styled,
)


def _indicator(key: str, target: Target | None = None) -> Indicator:
    return Indicator(key, "share", key, target, IndicatorValue(0.5, None))


def _result(*indicators: Indicator) -> AnalysisResult:
    return AnalysisResult(
        name="run", kind="park_coverage", params={},
        indicators={i.key: i for i in indicators}, units=gpd.GeoDataFrame(),
    )


def test_style_round_trips_through_its_hints():
    style = LayerStyle(title="Parks", value_field="x", ramp="seq", popup_fields=["x"])
    assert LayerStyle.from_hints(style.hints()) == style


def test_result_layers_carry_their_style_beside_them():
    gdf = gpd.GeoDataFrame({"x": [1.0]})
    style = LayerStyle(title="Parks", value_field="x")
    layers, styles = split_styled({"parks": (gdf, style)})
    r = dataclasses.replace(_result(), layers=layers, styles=styles)
    assert r.style("parks") == style and r.layers["parks"] is gdf
    assert gdf.attrs == {}  # the frame itself carries nothing


def test_style_hints_leave_out_what_is_not_given():
    assert LayerStyle(color="#31a354").hints() == {"color": "#31a354"}


def test_style_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'title'"):
        LayerStyle().title = "x"  # type: ignore[misc]


def test_a_target_that_is_not_a_number_is_no_target():
    assert LayerStyle.from_hints({"value_field": "share", "target": True}).target is None


def test_a_layer_without_style_has_the_empty_style():
    assert _result().style("gaps") == LayerStyle()


def test_zh_title_falls_back_to_the_english_one():
    assert LayerStyle(title="Parks").title_in("zh") == "Parks"


def test_main_indicator_is_the_targeted_one():
    r = _result(_indicator("area_share"), _indicator("pop_share", Target("pop_share", ">=", 0.9)))
    assert r.main_indicator == "pop_share"


def test_main_indicator_without_target_is_the_first():
    assert _result(_indicator("area_share"), _indicator("pop_share")).main_indicator == "area_share"


def test_main_indicator_of_no_indicator_is_none():
    assert _result().main_indicator is None


def test_named_keys_are_written_even_when_not_given():
    hints = LayerStyle(title="t", ramp="good").hints(keys=("title", "value_field", "ramp"))
    assert hints == {"title": "t", "value_field": None, "ramp": "good"}


def test_styles_travel_beside_frames_not_in_their_attrs():
    # the one place a style goes into a frame's attrs: the H3 GeoParquet file's metadata
    package = Path(urbanform.__file__).parent
    channel = re.compile(
        r"""\.attrs\s*=\s*\{\s*["']urbanform["']|\.attrs(\[|\.get\()["']urbanform["']"""
    )
    users = sorted(
        str(p.relative_to(package)) for p in package.rglob("*.py")
        if channel.search(p.read_text(encoding="utf-8"))
    )
    assert users == ["outputs.py"]
