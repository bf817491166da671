"""Progress of long runs: a bar on a terminal, plain lines otherwise, nothing when quiet."""

from __future__ import annotations

import io
import json

import click
import pytest

from urbanform.cli.main import cli
from urbanform.cli.options import progress_for
from urbanform.progress import (
    JSON_PREFIX,
    BarProgress,
    JsonProgress,
    LineProgress,
    Progress,
    make_progress,
)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_lines_name_each_stage_with_its_count():
    out = io.StringIO()
    progress = LineProgress(out)
    with progress.stage("reading layers", total=3) as step:
        step.advance(3)
    with progress.stage("report"):
        pass
    assert out.getvalue().splitlines() == ["[1] reading layers (3)", "[2] report"]


def test_bar_counts_steps():
    out = _Tty()
    with BarProgress(out).stage("web maps", total=4) as step:
        step.advance(2)
        step.advance(2, note="tod")
    assert "[1] web maps: 100%" in out.getvalue() and "4/4" in out.getvalue()


@pytest.mark.parametrize(
    ("stream", "quiet", "kind"),
    [(_Tty(), False, BarProgress), (io.StringIO(), False, LineProgress), (_Tty(), True, Progress)],
)
def test_make_progress_picks_by_stream(stream, quiet, kind):
    assert type(make_progress(stream, quiet=quiet)) is kind


def test_stage_counts_even_when_its_block_fails():
    progress = Progress()
    with pytest.raises(ValueError, match="boom"), progress.stage("x", total=2) as step:
        step.advance()
        raise ValueError("boom")
    assert (progress.count, step.done) == (1, 1)


def test_json_lines_report_stage_steps_and_total():
    out = io.StringIO()
    progress = JsonProgress(out)
    with progress.stage("reading layers", total=2) as step:
        step.advance(2)
    with progress.stage("report"):
        pass
    lines = out.getvalue().splitlines()
    assert all(ln.startswith(JSON_PREFIX) for ln in lines)
    assert [json.loads(ln[len(JSON_PREFIX):]) for ln in lines] == [
        {"stage": 1, "name": "reading layers", "done": 0, "total": 2},
        {"stage": 1, "name": "reading layers", "done": 2, "total": 2},
        {"stage": 2, "name": "report", "done": 0, "total": None},
    ]


@pytest.mark.parametrize(("value", "kind"), [("json", JsonProgress), ("", LineProgress)])
def test_environment_asks_the_command_for_json_lines(monkeypatch, value, kind):
    monkeypatch.setenv("URBANFORM_PROGRESS", value)
    ctx = click.Context(cli, obj={"verbosity": 0})
    assert type(progress_for(ctx)) is kind
