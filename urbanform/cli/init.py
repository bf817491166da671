"""``urbanform init``: write a commented workspace for a new city."""

from __future__ import annotations

from pathlib import Path

import click

from urbanform.cli.options import handle_errors
from urbanform.scaffold import write_workspace


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--osm",
    "osm",
    type=click.Path(dir_okay=False, exists=False, path_type=Path),
    help="An .osm.pbf / .osm extract to take streets, parks, stations, facilities "
    "and land use from.",
)
@click.option("--name", default=None, help="City name (default: the folder name).")
@click.option("--force", is_flag=True, help="Write into a folder that already has files.")
@handle_errors
def init(directory: Path, osm: Path | None, name: str | None, force: bool) -> None:
    """Write a new workspace into DIRECTORY."""
    written = write_workspace(directory, osm=osm, name=name, force=force)
    click.echo(f"Wrote {len(written)} files to {directory}:")
    for p in written:
        click.echo(f"  {p.relative_to(directory)}")
    click.echo(
        "Edit layers/*.yml to point at your data, then run: "
        f"urbanform validate {directory} && urbanform run {directory}"
    )
