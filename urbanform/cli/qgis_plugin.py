"""``urbanform qgis-plugin``: write the QGIS Processing plugin as an installable zip."""

from __future__ import annotations

from pathlib import Path

import click

from urbanform.cli.options import handle_errors, verbosity
from urbanform.qgis_plugin import write_plugin


@click.command("qgis-plugin")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing urbanform_qgis.zip.")
@click.pass_context
@handle_errors
def qgis_plugin(ctx: click.Context, folder: Path, force: bool) -> None:
    """Write FOLDER/urbanform_qgis.zip, a QGIS plugin (3.22+) running urbanform from Processing.

    Install it in QGIS with Plugins > Manage and Install Plugins > Install from ZIP.
    """
    path = write_plugin(folder, force=force)
    if verbosity(ctx) >= 0:
        click.echo(f"Wrote {path}; in QGIS: Plugins > Manage and Install Plugins > "
                   "Install from ZIP")
