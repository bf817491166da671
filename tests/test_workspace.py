from __future__ import annotations

from pathlib import Path

import pytest

from urbanform.errors import WorkspaceError
from urbanform.workspace import load_workspace


def _ws(root: Path, cfg: str = "name: T\n", files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "urbanform.yml").write_text(cfg, encoding="utf-8")
    for rel, text in (files or {}).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


def test_defaults(tmp_path: Path) -> None:
    ws = load_workspace(_ws(tmp_path / "w"))
    assert ws.name == "T"
    assert ws.h3_resolutions == (8, 9)
    assert ws.out == (tmp_path / "w" / "out").resolve()
    assert ws.report.language == "en" and ws.report.tiles is None


def test_layer_source_is_resolved_against_workspace(tmp_path: Path) -> None:
    root = _ws(tmp_path / "w", files={"layers/parks.yml": "role: parks\nsource: data/p.gpkg\n"})
    (spec,) = load_workspace(root).layers
    assert spec.source == str((root / "data" / "p.gpkg").resolve())
    assert spec.role == "parks" and spec.name == "parks"


def test_demo_source_is_kept(tmp_path: Path) -> None:
    root = _ws(tmp_path / "w", files={"layers/parks.yml": "role: parks\nsource: demo:parks\n"})
    assert load_workspace(root).layers[0].source == "demo:parks"


def test_target_parsed(tmp_path: Path) -> None:
    root = _ws(
        tmp_path / "w",
        files={
            "analyses/p.yml": (
                "kind: park_coverage\n"
                'target: {indicator: pop_share, op: ">=", value: 0.9, year: 2025, '
                'source: "art. 6"}\n'
            )
        },
    )
    t = load_workspace(root).analyses[0].target
    assert (t.indicator, t.op, t.value, t.year, t.source) == (
        "pop_share",
        ">=",
        0.9,
        2025,
        "art. 6",
    )
    assert t.met(0.95) is True and t.met(0.85) is False


def test_missing_workspace_folder(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="does not exist"):
        load_workspace(tmp_path / "nope")


def test_missing_config(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    with pytest.raises(WorkspaceError, match="urbanform.yml is missing"):
        load_workspace(tmp_path / "w")


@pytest.mark.parametrize(
    ("files", "match"),
    [
        ({"layers/a.yml": "role: park\nsource: x.gpkg\n"}, r"a\.yml: unknown role 'park'"),
        ({"layers/a.yml": "source: x.gpkg\n"}, r"a\.yml: missing required key 'role'"),
        ({"layers/a.yml": "role: parks\n"}, r"a\.yml: missing required key 'source'"),
        ({"layers/a.yml": "role: parks\nsource: x\nfeilds: {}\n"}, r"a\.yml: unknown key 'feilds'"),
        ({"layers/a.yml": "role: [parks\n"}, r"a\.yml: invalid YAML at line"),
        (
            {"analyses/p.yml": "kind: park_coverage\ntarget: {indicator: x, op: '=>', value: 1}\n"},
            r"p\.yml: target\.op must be one of",
        ),
        (
            {"analyses/p.yml": "kind: park_coverage\ntarget: {indicator: x, value: high}\n"},
            r"p\.yml: target\.value must be a number",
        ),
        ({"analyses/p.yml": "kind: park_coverage\nparams: [1, 2]\n"}, r"p\.yml: 'params' must be"),
        ({"maps/m.yml": "analysis: nothere\n"}, r"m\.yml: analysis 'nothere' does not exist"),
    ],
)
def test_invalid_files_name_file_and_key(tmp_path: Path, files: dict[str, str], match: str) -> None:
    with pytest.raises(WorkspaceError, match=match):
        load_workspace(_ws(tmp_path / "w", files=files))


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        ("name: T\nh3_resolution: [8]\n", r"unknown key 'h3_resolution'"),
        ("name: T\nh3_resolutions: [16]\n", r"h3_resolutions must be a list of integers"),
        ("name: T\nreport: {language: fr}\n", r"report.language must be 'en' or 'zh'"),
    ],
)
def test_invalid_config(tmp_path: Path, cfg: str, match: str) -> None:
    with pytest.raises(WorkspaceError, match=match):
        load_workspace(_ws(tmp_path / "w", cfg=cfg))


def test_workspace_error_is_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_workspace(tmp_path / "nope")


@pytest.mark.parametrize(
    ("role", "fields", "expected"),
    [
        (
            "parks",
            "{nmae: NAME}",
            r"unknown key 'nmae' under 'fields' for role 'parks'; "
            r"valid keys: name, x, y$",
        ),
        (
            "population",
            "{pop: POP}",
            r"unknown key 'pop' .*valid keys: population, "
            r"dwellings, workers, name, x, y, h3$",
        ),
        ("districts", "{h3: ID}", r"unknown key 'h3' .*role 'districts'; valid keys: name$"),
    ],
)
def test_unknown_field_key_names_it_and_the_valid_keys(
    tmp_path: Path, role: str, fields: str, expected: str
) -> None:
    root = _ws(
        tmp_path / "w",
        files={"layers/a.yml": f"role: {role}\nsource: a.gpkg\nfields: {fields}\n"},
    )
    with pytest.raises(WorkspaceError, match=r"layers/a\.yml: " + expected):
        load_workspace(root)


def test_h3_field_is_accepted_for_a_count_role(tmp_path: Path) -> None:
    root = _ws(
        tmp_path / "w",
        files={"layers/a.yml": "role: jobs\nsource: a.csv\nfields: {h3: id, jobs: n}\n"},
    )
    assert load_workspace(root).layers[0].fields == {"h3": "id", "jobs": "n"}
