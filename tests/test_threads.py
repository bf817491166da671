"""``URBANFORM_THREADS`` caps the threads of a run (``urbanform.threads.thread_count``)."""

from __future__ import annotations

import logging
import os

import pytest

from urbanform.analyses.context import Context
from urbanform.layers.types import Layers
from urbanform.threads import thread_count


def test_at_most_the_cores_and_the_asked_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("URBANFORM_THREADS", raising=False)
    cores = os.cpu_count() or 1
    assert thread_count(4) == min(4, cores)
    assert thread_count(1) == 1
    monkeypatch.setenv("URBANFORM_THREADS", "1")
    assert thread_count(4) == 1
    monkeypatch.setenv("URBANFORM_THREADS", "64")
    assert thread_count(3) == min(3, cores)


@pytest.mark.parametrize("text", ["two", "0", "-3", "1.5"])
def test_a_bad_value_is_ignored_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    monkeypatch.setenv("URBANFORM_THREADS", text)
    with caplog.at_level(logging.WARNING, logger="urbanform.threads"):
        assert thread_count(2) == min(2, os.cpu_count() or 1)
    assert "URBANFORM_THREADS" in caplog.text and "ignored" in caplog.text


def test_one_thread_leaves_the_walk_graph_to_the_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("URBANFORM_THREADS", "1")
    ctx = Context(Layers(crs="EPSG:32648", vectors={}))
    ctx.start_walk_graph(needed_by="park")
    assert ctx._pending == {}  # nothing started: no thread beside the analysis
