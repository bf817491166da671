"""``urbanform run``: run one or more workspaces and print their scorecards."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from urbanform.cli.options import handle_errors, progress_for, verbosity
from urbanform.errors import UrbanformError, WorkspaceError
from urbanform.heap import keep_freed_memory
from urbanform.outputs import format_warnings
from urbanform.pipeline import RunResult, run_workspace
from urbanform.scenarios import format_baseline, run_scenario
from urbanform.scorecard import format_scorecard
from urbanform.workspace import check_distinct_outs, load_workspace

T = TypeVar("T")


@click.command()
@click.argument(
    "workspaces", nargs=-1, metavar="[WORKSPACE]...",
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option("--only", multiple=True, metavar="NAME", help="Run only this analysis (repeatable).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (one workspace only).",
)
@click.option("--force", is_flag=True, help="Replace an output folder urbanform did not write.")
@click.option(
    "--scenario",
    metavar="NAME",
    help="Run scenarios/NAME.yml (or a scenario file) beside the baseline; default "
    "output: <out>/scenario-NAME/.",
)
@click.option(
    "--cluster",
    metavar="SPEC",
    help="Run on Dask: 'local' (one worker per core), 'local:N' or a scheduler "
    "address tcp://HOST:PORT (needs the 'dask' extra).",
)
@click.option(
    "--tile-km",
    type=float,
    metavar="K",
    help="With --cluster: cut each study area into K x K km tiles run as separate tasks.",
)
@click.pass_context
@handle_errors
def run(  # noqa: PLR0913 - the command's options
    ctx: click.Context,
    workspaces: tuple[Path, ...],
    only: tuple[str, ...],
    out: Path | None,
    force: bool,
    scenario: str | None,
    cluster: str | None,
    tile_km: float | None,
) -> None:
    """Run the analyses of each WORKSPACE (default: the current folder); write the outputs.

    Several workspaces run one after another, each into its own configured 'out'
    folder; with --cluster they run side by side on a Dask cluster.
    """
    roots = list(workspaces) or [Path(".")]
    if out is not None and len(roots) > 1:
        raise WorkspaceError(
            f"--out names one output folder but {len(roots)} workspaces were given; leave "
            "--out away (each workspace writes to the 'out' of its urbanform.yml)"
        )
    if tile_km is not None and cluster is None:
        raise WorkspaceError("--tile-km needs --cluster (for example --cluster local:2)")
    if scenario is not None and (len(roots) > 1 or cluster is not None):
        raise WorkspaceError(
            "--scenario runs one workspace in this process; give one WORKSPACE and no "
            "--cluster"
        )
    if scenario is not None:
        ws = load_workspace(roots[0])
        if verbosity(ctx) >= 0:
            click.echo(f"urbanform: running {ws.name!r} with scenario {scenario!r} from "
                       f"{ws.root}", err=True)
        result = run_scenario(
            ws, scenario, out=out, only=list(only) or None, force=force,
            progress=progress_for(ctx),
        )
        _report(ctx, result, scenario=True)
        return
    many = len(roots) > 1 or cluster is not None
    loaded = [_named(many, root, functools.partial(load_workspace, root, out=out))
              for root in roots]
    check_distinct_outs(loaded)
    if cluster is not None:
        from urbanform.cluster import run_on_cluster

        results = run_on_cluster(
            loaded, cluster, only=list(only) or None, force=force, tile_km=tile_km,
            progress=progress_for(ctx),
        )
        for result in results:
            _report(ctx, result)
        return
    keep_freed_memory()  # the run's stages reuse the memory earlier ones freed
    for ws in loaded:
        if verbosity(ctx) >= 0:
            click.echo(f"urbanform: running {ws.name!r} from {ws.root}", err=True)
        result = _named(many, ws.root, functools.partial(
            run_workspace, ws, only=list(only) or None, force=force, progress=progress_for(ctx)
        ))
        _report(ctx, result)


def _named(many: bool, root: Path, call: Callable[[], T]) -> T:
    """``call()``; with several workspaces an error names the workspace it came from."""
    if not many:
        return call()
    try:
        return call()
    except UrbanformError as exc:
        raise type(exc)(f"workspace {root}: {exc}") from None


def _report(ctx: click.Context, result: RunResult, *, scenario: bool = False) -> None:
    if verbosity(ctx) >= 0:
        if scenario:
            click.echo(format_baseline(result.summary), err=True)
        click.echo(format_scorecard(result.summary))
        warned = format_warnings(result.summary)
        if warned:
            click.echo("\n" + warned)
        click.echo(
            f"\nOutputs in {result.out} ({result.seconds:.1f} s): summary.json, "
            "report.html, results.gpkg, results.qgz, maps/, h3/"
        )
