"""Small demo-city workspaces (copies of the repository's demo with ``?seed=&scale=``)."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def demo_city(root: Path, *, seed: int, scale: float, maps: bool = False) -> Path:
    """The demo workspace at ``root`` with every demo source at ``seed`` and ``scale``.

    Without ``maps`` the maps/ folder is left empty (faster runs; the analyses are the same).
    """
    root.mkdir(parents=True)
    text = (REPO / "urbanform.yml").read_text(encoding="utf-8")
    (root / "urbanform.yml").write_text(
        text.replace('name: "Demo City (Chengdu-like)"', f'name: "Demo {seed}"'), encoding="utf-8"
    )
    shutil.copytree(REPO / "analyses", root / "analyses")
    (root / "maps").mkdir()
    if maps:
        shutil.copytree(REPO / "maps", root / "maps", dirs_exist_ok=True)
    (root / "layers").mkdir()
    for yml in sorted((REPO / "layers").glob("*.yml")):
        lines = []
        for line in yml.read_text(encoding="utf-8").splitlines():
            if line.startswith("source: demo:"):
                line = f"{line}?seed={seed}&scale={scale:g}"
            lines.append(line)
        (root / "layers" / yml.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
