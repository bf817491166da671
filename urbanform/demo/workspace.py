"""Copies of the demo workspace with another seed and scale (benchmarks, cluster tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["copy_demo_workspace"]


def copy_demo_workspace(
    src: Path, dest: Path, *, seed: int, scale: float, maps: bool = False
) -> Path:
    """Copy the demo workspace ``src`` to ``dest``, every ``demo:`` source at ``seed``, ``scale``.

    ``src`` holds ``urbanform.yml``, ``layers/``, ``analyses/`` and ``maps/`` (this
    repository's root is one). The copy is named ``Demo SEED``; without ``maps`` its
    ``maps/`` folder is empty (faster runs: one default map per analysis, the analyses
    are the same).

    Returns
    -------
    pathlib.Path
        ``dest``.
    """
    dest.mkdir(parents=True)
    text = (src / "urbanform.yml").read_text(encoding="utf-8")
    (dest / "urbanform.yml").write_text(
        text.replace('name: "Demo City (Chengdu-like)"', f'name: "Demo {seed}"'), encoding="utf-8"
    )
    shutil.copytree(src / "analyses", dest / "analyses")
    (dest / "maps").mkdir()
    if maps:
        shutil.copytree(src / "maps", dest / "maps", dirs_exist_ok=True)
    (dest / "layers").mkdir()
    for yml in sorted((src / "layers").glob("*.yml")):
        lines = [
            f"{line}?seed={seed}&scale={scale:g}" if line.startswith("source: demo:") else line
            for line in yml.read_text(encoding="utf-8").splitlines()
        ]
        (dest / "layers" / yml.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest
