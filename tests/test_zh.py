"""Chinese all the way in the zh report (issue 13, item 10)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from conftest import write_tiny_workspace

from urbanform.analyses.living_circle import LEVELS
from urbanform.maps import i18n
from urbanform.pipeline import run_workspace
from urbanform.workspace import load_workspace

CATEGORIES = sorted({c for _, cats in LEVELS.values() for c in cats})


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_gb50180_category_has_a_chinese_name(category: str) -> None:
    name = i18n.category_label(category, "zh")
    assert name != category.replace("_", " ") and not any(c.isascii() and c.isalpha() for c in name)


def test_category_indicator_reads_in_chinese() -> None:
    label = i18n.indicator_label("pop_share_primary_school", language="zh", kind="living_circle")
    assert label == "小学服务覆盖率（步行可达的居民比例）"


@pytest.mark.parametrize(
    ("kind", "key", "expected"),
    [
        ("park_coverage", "area_share", "公园绿化活动场地服务半径覆盖率"),
        ("living_circle", "pop_share_all", "社区便民服务设施覆盖率"),
        ("tod", "pop_share", "轨道站点步行范围内居民比例"),
    ],
)
def test_health_check_names(kind: str, key: str, expected: str) -> None:
    assert i18n.indicator_label(key, language="zh", kind=kind) == expected


def test_english_labels_are_unchanged() -> None:
    assert i18n.indicator_label("pop_share", language="en", kind="tod") == (
        i18n.indicator_label("pop_share", language="en")
    )


@pytest.fixture(scope="module")
def zh_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_tiny_workspace(
        tmp_path_factory.mktemp("zh") / "tiny",
        analyses={
            "park500": (
                'kind: park_coverage\ntarget: {indicator: pop_share, op: ">=", value: 0.9, '
                'source: "Decision, art. 6", source_zh: "成都决定第六条"}\n'
            )
        },
    )
    cfg = root / "urbanform.yml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "report: {language: zh}\n", encoding="utf-8")
    run_workspace(load_workspace(root))
    return root / "out"


def test_zh_report_names_the_indicator_method_and_source_in_chinese(zh_run: Path) -> None:
    text = html.unescape((zh_run / "report.html").read_text(encoding="utf-8"))
    assert "公园绿化活动场地服务半径覆盖人口比例" in text
    assert "依据《城市绿地规划标准》GB/T 50563 的公园绿地服务半径" in text
    assert "成都决定第六条" in text and "Decision, art. 6" not in text


def test_summary_keeps_both_sources(zh_run: Path) -> None:
    summary = json.loads((zh_run / "summary.json").read_text(encoding="utf-8"))
    target = summary["analyses"]["park500"]["indicators"]["pop_share"]["target"]
    assert (target["source"], target["source_zh"]) == ("Decision, art. 6", "成都决定第六条")


@pytest.mark.parametrize(
    ("warning", "expected"),
    [
        (
            "layer 'landuse' (layers/landuse.yml): 6 invalid geometries were repaired",
            "图层 landuse（layers/landuse.yml）：6 个无效几何已修复",
        ),
        (
            "park: no park reaches 20,000 m²: nothing is covered",
            "park: 没有公园达到 20,000 平方米：无覆盖",
        ),
        (
            "1 station entrances (1 entrances) lie nearest to a small piece of street network cut "
            "off from the rest (under min_piece_share of its length) and were snapped to the main "
            "network instead",
            "1 个车站出入口（1 个出入口）最近的街道是与主路网断开的小片段（不足 min_piece_share），"
            "已改为连接到主路网",
        ),
        ("a warning nobody translated", "a warning nobody translated"),
    ],
)
def test_warnings_in_chinese(warning: str, expected: str) -> None:
    assert i18n.warning_text(warning, "zh") == expected


def test_zh_report_warnings_are_in_chinese(tmp_path: Path) -> None:
    root = write_tiny_workspace(
        tmp_path / "tiny",
        analyses={
            "park": "kind: park_coverage\nparams: {tiers: [{min_area_m2: 20000, radius_m: 500}]}\n"
        },
    )
    cfg = root / "urbanform.yml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "report: {language: zh}\n", encoding="utf-8")
    run_workspace(load_workspace(root))
    text = html.unescape((root / "out" / "report.html").read_text(encoding="utf-8"))
    assert "park: 没有公园达到 20,000 平方米：无覆盖" in text


@pytest.mark.parametrize(
    ("field", "expected"),
    [("radius_m", "服务半径（米）"), ("jobs_500", "500 米内就业岗位"), ("tier_x", "tier_x")],
)
def test_legend_fields_in_chinese(field: str, expected: str) -> None:
    assert i18n.field_label(field, None, "zh") == expected
