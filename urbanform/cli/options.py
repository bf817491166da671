"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from urbanform.errors import UrbanformError
from urbanform.progress import Progress, make_progress

F = TypeVar("F", bound=Callable[..., Any])

workspace_arg = click.argument(
    "workspace",
    required=False,
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
)


def verbosity(ctx: click.Context) -> int:
    """-1 (quiet), 0 (default), 1+ (verbose) from the group options."""
    obj = ctx.find_root().obj or {}
    return int(obj.get("verbosity", 0))


def setup_logging(level: int) -> None:
    """Send urbanform's log records to stderr at the level chosen by -v / -q."""
    logger = logging.getLogger("urbanform")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(
        {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(level, logging.DEBUG)
    )
    logger.propagate = False


def progress_for(ctx: click.Context) -> Progress:
    """Progress on stderr: a bar on a terminal, plain lines otherwise, nothing with ``-q``.

    ``URBANFORM_PROGRESS=json`` in the environment asks for machine-readable lines
    (:class:`urbanform.progress.JsonProgress`), as the QGIS plugin does.
    """
    machine = os.environ.get("URBANFORM_PROGRESS", "").lower() == "json"
    return make_progress(sys.stderr, quiet=verbosity(ctx) < 0, machine=machine)


def _silence_stdout() -> None:
    """Point stdout at the null device so that flushing it at exit raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (click's test runner)
        pass


def handle_errors(func: F) -> F:
    """Turn library errors into a one- or two-line message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UrbanformError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except BrokenPipeError:  # the reader went away (``urbanform run | head``)
            _silence_stdout()
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted; no output was written.", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: say so briefly, details with -vv
            ctx = click.get_current_context(silent=True)
            if ctx is not None and verbosity(ctx) >= 2:
                traceback.print_exc()
            click.echo(
                f"Internal error: {type(exc).__name__}: {exc} (run with -vv for details; "
                "please report it)",
                err=True,
            )
            sys.exit(1)

    return wrapper  # type: ignore[return-value]
