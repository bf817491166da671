"""``urbanform validate``: check a workspace and its layers without running analyses."""

from __future__ import annotations

from pathlib import Path

import click

from urbanform.cli.options import handle_errors, progress_for, workspace_arg
from urbanform.layers.harmonise import load_layers
from urbanform.layers.presets import describe_preset
from urbanform.pipeline import validate_analyses
from urbanform.scenarios import check_scenario, scenario_files
from urbanform.thin_inputs import thin_inputs
from urbanform.workspace import load_workspace


@click.command()
@workspace_arg
@click.pass_context
@handle_errors
def validate(ctx: click.Context, workspace: Path) -> None:
    """Check WORKSPACE: its YAML files, every layer, every analysis's parameters and scenario."""
    ws = load_workspace(workspace)
    checked = validate_analyses(ws)
    layers = load_layers(ws.layers, crs=ws.crs, progress=progress_for(ctx))
    click.echo(f"Workspace {ws.name!r}: working CRS {layers.crs.to_string()}")
    for p in layers.provenance:
        what = "pixels" if p.role in layers.rasters else "features"
        click.echo(f"  layer {p.name:<16} {p.role:<11} {p.features:>9,} {what:<8}  {p.crs}")
    for note in layers.notes:
        click.echo(f"  {note}")
    for layer in ws.layers:
        if layer.preset:
            lines = describe_preset(layer.preset, layer.classes)
            click.echo(f"  classes of layer {layer.name}: {lines[0]}")
            for line in lines[1:]:
                click.echo(f"  {line}")
    for spec, params in checked:
        click.echo(f"  analysis {spec.name:<13} {spec.kind}")
        click.echo(f"    params: {params.listing()}")
    for path in scenario_files(ws.root):
        click.echo(f"  scenario {path.stem:<13} {check_scenario(ws, path, layers)}")
    warned = [*layers.warnings, *thin_inputs(layers, checked)]
    for w in warned:
        click.echo(f"  warning: {w}")
    click.echo("OK" if not warned else f"OK with {len(warned)} warning(s)")
