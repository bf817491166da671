"""Entry point of the ``urbanform`` command."""

from __future__ import annotations

import signal
from typing import Any

import click

from urbanform import __version__
from urbanform.cli import init as init_cmd
from urbanform.cli import qgis_plugin as qgis_plugin_cmd
from urbanform.cli import run as run_cmd
from urbanform.cli import site as site_cmd
from urbanform.cli import validate as validate_cmd
from urbanform.cli.options import setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="urbanform")
@click.option("-v", "--verbose", count=True, help="More messages (-vv for debugging).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Check a city's urban form against its spatial planning targets.

    A workspace folder holds urbanform.yml and the folders layers/, analyses/ and
    maps/ (one YAML file each). Start with 'urbanform init DIR'.
    """
    level = -1 if quiet else verbose
    ctx.obj = {"verbosity": level}
    setup_logging(level)


cli.add_command(run_cmd.run)
cli.add_command(validate_cmd.validate)
cli.add_command(init_cmd.init)
cli.add_command(qgis_plugin_cmd.qgis_plugin)
cli.add_command(site_cmd.site)


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """The console script: SIGTERM ends a run as Ctrl-C does, removing its temporary files."""
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="urbanform")
