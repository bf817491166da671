"""``python -m urbanform``: the same as the ``urbanform`` command."""

from urbanform.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="urbanform")
