"""pipeline._write_all with a GeoPackage written elsewhere (the cluster's writing task):
the QGIS styles wait for it, and a failure waits for it before the folder is removed."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from urbanform import pipeline
from urbanform.maps import deliverables
from urbanform.progress import Progress


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    log: list[str] = []
    monkeypatch.setattr(pipeline, "gpkg_layers", lambda *a: ({"a": "layer"}, {}))
    monkeypatch.setattr(pipeline, "write_h3", lambda *a, **k: log.append("h3"))
    monkeypatch.setattr(pipeline, "write_gpkg", lambda *a, **k: log.append("local gpkg"))
    monkeypatch.setattr(pipeline, "write_summary", lambda *a, **k: log.append("summary"))
    return log


def _run() -> SimpleNamespace:
    return SimpleNamespace(results=[], h3={"x": {9: "cells"}}, h3_styles={},
                           layers=SimpleNamespace(crs="EPSG:32648"), summary={})


def _writer(log: list[str]):
    def start(layers, path: Path, crs):
        log.append(f"start {path.name} {sorted(layers)} {crs}")
        return lambda: log.append("waited")
    return start


def test_the_styles_wait_for_the_geopackage_written_beside(events, monkeypatch, tmp_path):
    def write_all(run, folder, *, before_qgis, **kw):
        events.append("maps and report")
        before_qgis()
        events.append("qgis")

    monkeypatch.setattr(deliverables, "write_all", write_all)
    pipeline._write_all(_run(), tmp_path, started="", t0=0.0, progress=Progress(),
                        gpkg_writer=_writer(events))
    assert events == ["start results.gpkg ['a'] EPSG:32648", "h3", "maps and report", "waited",
                      "qgis", "summary"]


def test_without_a_writer_the_geopackage_is_written_here(events, monkeypatch, tmp_path):
    monkeypatch.setattr(deliverables, "write_all",
                        lambda run, folder, *, before_qgis, **kw: events.append(before_qgis))
    pipeline._write_all(_run(), tmp_path, started="", t0=0.0, progress=Progress())
    assert events == ["h3", "local gpkg", None, "summary"]


def test_a_failure_waits_for_the_geopackage_before_it_goes_up(events, monkeypatch, tmp_path):
    def write_all(run, folder, *, before_qgis, **kw):
        raise RuntimeError("maps failed")

    monkeypatch.setattr(deliverables, "write_all", write_all)
    with pytest.raises(RuntimeError, match="maps failed"):
        pipeline._write_all(_run(), tmp_path, started="", t0=0.0, progress=Progress(),
                            gpkg_writer=_writer(events))
    assert events[-1] == "waited" and "summary" not in events
