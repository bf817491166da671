"""``urbanform run``: run a workspace and print the scorecard."""

from __future__ import annotations

from pathlib import Path

import click

from urbanform.cli.options import handle_errors, progress_for, verbosity, workspace_arg
from urbanform.outputs import format_warnings
from urbanform.pipeline import run_workspace
from urbanform.scenarios import format_baseline, run_scenario
from urbanform.scorecard import format_scorecard
from urbanform.workspace import load_workspace


@click.command()
@workspace_arg
@click.option("--only", multiple=True, metavar="NAME", help="Run only this analysis (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--force", is_flag=True, help="Replace an output folder urbanform did not write.")
@click.option(
    "--scenario",
    metavar="NAME",
    help="Run scenarios/NAME.yml (or a scenario file) beside the baseline; default "
    "output: <out>/scenario-NAME/.",
)
@click.pass_context
@handle_errors
def run(
    ctx: click.Context,
    workspace: Path,
    only: tuple[str, ...],
    out: Path | None,
    force: bool,
    scenario: str | None,
) -> None:
    """Run the analyses of WORKSPACE (default: the current folder) and write the outputs."""
    ws = load_workspace(workspace, out=None if scenario else out)
    if verbosity(ctx) >= 0:
        what = f" with scenario {scenario!r}" if scenario else ""
        click.echo(f"urbanform: running {ws.name!r}{what} from {ws.root}", err=True)
    if scenario:
        result = run_scenario(
            ws, scenario, out=out, only=list(only) or None, force=force,
            progress=progress_for(ctx),
        )
    else:
        result = run_workspace(
            ws, only=list(only) or None, force=force, progress=progress_for(ctx)
        )
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
