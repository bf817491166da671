"""Hostile workspace YAML: one Error line and exit 2, or a normal run (issue 9, part 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _faults import invoke, one_error
from conftest import write_tiny_workspace

PARK = "kind: park_coverage\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return write_tiny_workspace(tmp_path / "ws", analyses={"park500": PARK})


def _alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # 9^9 = 387 million values from a 1 KB file ("billion laughs")
        (PARK + _alias_bomb(9), "more than 100,000 values once its aliases"),
        ("kind: park_coverage\nparams: {tiers: *x}\n", "invalid YAML"),
        ("kind: park_coverage\nparams:\n\tdistance: network\n", "indent with spaces, not tabs"),
        ("kind: park_coverage\nparams: " + "[" * 3000 + "]" * 3000 + "\n",
         "nested too deeply"),
        ("kind: park_coverage\ndescription: '" + "x" * (1 << 20) + "'\n", "too large"),
    ],
    ids=["alias-bomb", "undefined-alias", "tab", "deep-nesting", "huge"],
)
def test_hostile_analysis_file(ws: Path, text: str, message: str) -> None:
    (ws / "analyses" / "park500.yml").write_text(text, encoding="utf-8")
    assert message in one_error(invoke("run", ws))


def test_alias_bomb_in_a_valid_key_is_refused(ws: Path) -> None:
    text = "bomb: &bomb\n  " + _alias_bomb(9).replace("\n", "\n  ") + "\nname: *bomb\n"
    (ws / "urbanform.yml").write_text(text, encoding="utf-8")
    line = one_error(invoke("validate", ws))
    assert "more than 100,000 values once its aliases" in line


def test_byte_order_mark_is_read(ws: Path) -> None:
    (ws / "analyses" / "park500.yml").write_text("\ufeff" + PARK, encoding="utf-8")
    r = invoke("-q", "run", ws)
    assert r.exit_code == 0, r.output


def test_file_not_utf8(ws: Path) -> None:
    (ws / "analyses" / "park500.yml").write_bytes(b"kind: park_coverage\ntitle: \xb9\xab\xd4\xb0\n")
    assert "not UTF-8 text" in one_error(invoke("run", ws))


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e400", "1e20", "0", "-5", "true",
                                   "'500'", "[500]", "{a: 1}", "null"])
def test_non_finite_and_absurd_radius(ws: Path, value: str) -> None:
    (ws / "analyses" / "park500.yml").write_text(
        f"kind: park_coverage\nparams: {{tiers: [{{min_area_m2: 5000, radius_m: {value}}}]}}\n",
        encoding="utf-8",
    )
    assert "params.tiers[0].radius_m must be a" in one_error(invoke("validate", ws))


@pytest.mark.parametrize("value", [".inf", ".nan", "1e400", "'high'", "true"])
def test_non_finite_target_value(ws: Path, value: str) -> None:
    (ws / "analyses" / "park500.yml").write_text(
        f"kind: park_coverage\ntarget: {{indicator: pop_share, value: {value}}}\n",
        encoding="utf-8",
    )
    assert "target.value must be a" in one_error(invoke("validate", ws))


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        ("urbanform.yml", "out: 5\n", "'out' must be a folder path"),
        ("urbanform.yml", "out: [a, b]\n", "'out' must be a folder path"),
        ("urbanform.yml", "h3_resolutions: [.inf]\n", "h3_resolutions must be a list"),
        ("urbanform.yml", "h3_resolutions: 99\n", "h3_resolutions must be a list"),
        ("urbanform.yml", "report: {title: {a: 1}}\n", "'title' must be text"),
        ("urbanform.yml", "report: [en]\n", "'report' must be a mapping"),
        ("layers/parks.yml", "role: parks\nsource: data/parks.gpkg\ncrs: [4326]\n",
         "'crs' must be a CRS name"),
        ("layers/parks.yml", "role: parks\nsource: data/parks.gpkg\ncrs: nowhere\n",
         "crs 'nowhere' is not a known CRS"),
        ("layers/parks.yml", "role: parks\nsource: 5\n", "'source' must be a string"),
        ("layers/parks.yml", "role: [parks]\nsource: data/parks.gpkg\n", "'role' must be a"),
        ("layers/parks.yml", "role: parks\nsource: data/parks.gpkg\nlayer: {a: 1}\n",
         "'layer' must be text"),
        ("layers/parks.yml", "role: parks\nsource: data/parks.gpkg\nfields: [name]\n",
         "'fields' must map"),
        ("layers/parks.yml", "role: parks\nsource: data/parks.gpkg\nclasses: 5\n",
         "'classes' must map"),
        ("analyses/park500.yml", "kind: park_coverage\ntitle: [a]\n", "'title' must be text"),
        ("analyses/park500.yml", "kind: park_coverage\nparams: [1]\n", "'params' must be"),
        ("analyses/park500.yml", "kind: park_coverage\ntarget: 0.9\n", "'target' must be"),
        ("analyses/park500.yml", "kind: 5\n", "'kind' must be a string"),
        ("analyses/park500.yml", "kind: park_coverage\nparams: {distance: 5}\n",
         "params.distance must be one of"),
        ("analyses/park500.yml", "kind: park_coverage\nparams: {tiers: {a: 1}}\n",
         "params.tiers must be a non-empty list"),
        ("maps/m.yml", "analysis: park500\ntitle_zh: [a]\n", "'title_zh' must be text"),
        ("maps/m.yml", "analysis: park500\nlayers: park\n", "'layers' must be a list"),
    ],
)
def test_wrong_type_at_key(ws: Path, file: str, text: str, message: str) -> None:
    path = ws / file
    path.parent.mkdir(exist_ok=True)
    if file == "urbanform.yml":
        text = path.read_text(encoding="utf-8") + text
    path.write_text(text, encoding="utf-8")
    assert message in one_error(invoke("validate", ws))


def test_absurd_but_valid_radius_runs(ws: Path) -> None:
    # 100 km, the largest radius allowed: every resident is covered
    (ws / "analyses" / "park500.yml").write_text(
        "kind: park_coverage\nparams: {tiers: [{min_area_m2: 0, radius_m: 100000}]}\n",
        encoding="utf-8",
    )
    r = invoke("-q", "run", ws)
    assert r.exit_code == 0, r.output
    s = json.loads((ws / "out" / "summary.json").read_text(encoding="utf-8"))
    assert s["analyses"]["park500"]["indicators"]["pop_share"]["city"]["value"] == 1.0


@pytest.mark.parametrize("value", ["[5]", "{a: 1}", "true", "'5'", "7"])
def test_living_circle_level_of_wrong_type(ws: Path, value: str) -> None:
    (ws / "analyses" / "park500.yml").write_text(
        f"kind: living_circle\nparams: {{level: {value}}}\n", encoding="utf-8"
    )
    assert "params.level must be one of 5, 10, 15" in one_error(invoke("validate", ws))


@pytest.mark.parametrize("value", ["'no'", "'false'", "[]", "2"])
def test_map_h3_flag_must_be_true_or_false(ws: Path, value: str) -> None:
    (ws / "maps").mkdir()
    (ws / "maps" / "m.yml").write_text(f"analysis: park500\nh3: {value}\n", encoding="utf-8")
    assert "'h3' must be true or false" in one_error(invoke("validate", ws))
