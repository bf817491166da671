"""``python -m urbanform``: the same as the ``urbanform`` command."""

from urbanform.cli.main import main

if __name__ == "__main__":
    main()
