"""Small demo-city workspaces (copies of the repository's demo with ``?seed=&scale=``)."""

from __future__ import annotations

from pathlib import Path

from urbanform.demo.workspace import copy_demo_workspace

REPO = Path(__file__).resolve().parents[1]


def demo_city(
    root: Path, *, seed: int, scale: float, maps: bool = False, files: bool = False
) -> Path:
    """The demo workspace at ``root`` with every demo source at ``seed`` and ``scale``.

    Without ``maps`` the maps/ folder is left empty (faster runs; the analyses are the same).
    With ``files`` the layers are written to ``root/data`` and read from there.
    """
    return copy_demo_workspace(REPO, root, seed=seed, scale=scale, maps=maps, files=files)
