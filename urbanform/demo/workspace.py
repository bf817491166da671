"""Copies of the demo workspace with another seed and scale (benchmarks, cluster tests)."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["copy_demo_workspace"]


def copy_demo_workspace(  # noqa: PLR0913 - the choices of a copy
    src: Path, dest: Path, *, seed: int, scale: float, maps: bool = False, files: bool = False
) -> Path:
    """Copy the demo workspace ``src`` to ``dest``, every ``demo:`` source at ``seed``, ``scale``.

    With ``files`` the layers are generated once and written to ``dest/data/``
    (GeoPackage, GeoTIFF), and the copy reads them from there as a real city's workspace
    reads its files: then no run (and no cluster worker) generates the city.

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
        lines = []
        for line in yml.read_text(encoding="utf-8").splitlines():
            if line.startswith("source: demo:"):
                name = line.removeprefix("source: demo:").split("?")[0].strip()
                line = (f"source: {_write_demo_layer(dest, name, seed=seed, scale=scale)}"
                        if files else f"{line}?seed={seed}&scale={scale:g}")
            lines.append(line)
        (dest / "layers" / yml.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def _write_demo_layer(root: Path, name: str, *, seed: int, scale: float) -> str:
    """Write demo layer ``name`` under ``root/data``; its path relative to ``root``."""
    import geopandas as gpd
    import rasterio

    from urbanform.demo import demo_layer

    layer = demo_layer(name, seed=seed, scale=scale)
    (root / "data").mkdir(exist_ok=True)
    if isinstance(layer, gpd.GeoDataFrame):
        layer.to_file(root / "data" / f"{name}.gpkg", driver="GPKG", engine="pyogrio")
        return f"data/{name}.gpkg"
    data = layer.data
    with rasterio.open(
        root / "data" / f"{name}.tif", "w", driver="GTiff", height=data.shape[0],
        width=data.shape[1], count=1, dtype=data.dtype, crs=layer.crs,
        transform=layer.transform, nodata=layer.nodata, compress="deflate",
    ) as dst:
        dst.write(data, 1)
    return f"data/{name}.tif"
