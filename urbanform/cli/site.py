"""``urbanform site``: choose candidate sites that lift an analysis to its target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from urbanform.cli.options import handle_errors, progress_for, verbosity, workspace_arg
from urbanform.siting import (
    EXACT_MAX,
    SiteRequest,
    SiteResult,
    default_out,
    site_workspace,
    write_site_outputs,
)
from urbanform.workspace import load_workspace


def _report(result: SiteResult, out: Path, copy: Path) -> str:
    lines = [
        f"{result.analysis}: {result.indicator} {result.value_before:.4f} -> "
        f"{result.value_after:.4f} (target {result.target if result.target is not None else '-'}"
        f", {'met' if result.met else 'not met' if result.met is False else 'no target'})",
    ]
    if result.plan is not None:
        gap = result.plan.gap
        lines.append(
            f"{len(result.sites)} sites by {result.plan.method}; greedy gap ({gap.measure}, "
            f"{gap.source}): {gap.value:.4g}"
        )
    for name, rank, gain, value in zip(result.sites["name"], result.sites["rank"],
                                       result.sites["gain"], result.sites["value_after"],
                                       strict=True):
        lines.append(f"  {rank:>3}  {name:<30} +{gain * 100:5.2f} points  -> {value:.4f}")
    lines += [f"note: {n}" for n in result.notes]
    lines.append(f"\nOutputs in {out}: sites.gpkg, sites.json, scenario.yml (sites also in {copy})")
    return "\n".join(lines)


@click.command()
@workspace_arg
@click.option("--analysis", "analysis", required=True, metavar="NAME",
              help="The analysis run to lift (park_coverage or living_circle).")
@click.option("--candidates", required=True, metavar="LAYER",
              help="The layer of candidate sites (layers/LAYER.yml, role: candidates).")
@click.option("--target", type=float, metavar="V",
              help="Value to reach (default: the analysis's target).")
@click.option("--max-sites", type=click.IntRange(min=1), metavar="N",
              help="At most N sites; without a target: the best N sites.")
@click.option("--indicator", metavar="KEY",
              help="Indicator to raise (default: the target's; living circles: "
                   "pop_share_<category>).")
@click.option("--exact-max", type=click.IntRange(min=0), default=EXACT_MAX, show_default=True,
              help="Run the exact integer program when candidates x unit groups is at most "
                   "this (0: never).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: <out>-site-NAME beside the workspace's out).")
@click.option("--force", is_flag=True, help="Replace an output folder holding other files.")
@click.pass_context
@handle_errors
def site(ctx: click.Context, /, workspace: Path, **opts: Any) -> None:
    """Choose the fewest (or cheapest) candidate sites that lift ANALYSIS to its target."""
    ws = load_workspace(workspace)
    out, force = opts.pop("out"), opts.pop("force")
    request = SiteRequest(**opts)
    result = site_workspace(ws, request, progress=progress_for(ctx))
    folder = out if out is not None else default_out(ws.out, request.analysis)
    copy = write_site_outputs(result, folder, workspace=ws.root, force=force)
    if verbosity(ctx) >= 0:
        click.echo(_report(result, Path(folder), copy))
