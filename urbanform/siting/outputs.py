"""Writing the siting outputs: ``sites.gpkg``, ``sites.json`` and ``scenario.yml``.

The output folder defaults to ``<out>-site-NAME`` beside the workspace's output folder
(``out-site-park500/`` for the demo): not inside it, because ``urbanform run``
replaces its output folder and refuses one that holds files it did not write.

``scenario.yml`` adds the chosen sites to the analysis's role (``parks`` or
``facilities``) in the scenario format of ``scenarios/NAME.yml``. Its ``source`` is
``scenarios/site-NAME.gpkg``, relative to the workspace, and ``urbanform site`` writes a
copy of ``sites.gpkg`` there, so copying ``scenario.yml`` to
``scenarios/site-NAME.yml`` is all it takes to run it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import yaml

from urbanform.errors import OutputError
from urbanform.siting.run import SiteResult

__all__ = ["OUTPUT_FILES", "default_out", "scenario_text", "write_site_outputs"]

OUTPUT_FILES = ("sites.gpkg", "sites.json", "scenario.yml")


def default_out(out: Path, analysis: str) -> Path:
    """The default output folder of ``urbanform site`` for ``analysis``.

    Examples
    --------
    >>> default_out(Path("/city/out"), "park500").as_posix()
    '/city/out-site-park500'
    """
    out = Path(out)
    return out.parent / f"{out.name}-site-{analysis}"


def scenario_text(result: SiteResult, source: str) -> str:
    """``scenario.yml``: a scenario adding the chosen sites, with a comment on its use."""
    stem = Path(source).stem
    fields = {"name": "name"} if result.role == "parks" else {"category": "category",
                                                              "name": "name"}
    body = {
        "description": (
            f"{len(result.sites)} sites chosen by urbanform site to lift {result.indicator} "
            f"of {result.analysis} from {result.value_before:.4f} to {result.value_after:.4f}"
        ),
        "add": {result.role: {"source": source, "layer": "sites", "fields": fields}},
    }
    head = (
        f"# Written by `urbanform site --analysis {result.analysis} --candidates "
        f"{result.layer}`.\n"
        f"# To run it: copy this file to scenarios/{stem}.yml in the workspace, then\n"
        f"#   urbanform run WORKSPACE --scenario {stem}\n"
        f"# '{source}' is relative to the workspace; urbanform site wrote it there (a copy\n"
        "# of sites.gpkg beside this file).\n"
    )
    return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


def _check_out(out: Path, workspace: Path, force: bool) -> None:
    real, ws = Path(os.path.realpath(out)), Path(os.path.realpath(workspace))
    if real == ws or ws.is_relative_to(real):
        raise OutputError(f"refusing to write site outputs to {out}: it holds the workspace; "
                          "choose another --out")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder; choose another --out")
    if out.is_dir() and not force:
        other = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES)
        if other:
            raise OutputError(
                f"{out} holds files urbanform site did not write ({', '.join(other[:3])}); "
                "choose another --out or pass --force to replace the folder"
            )


def write_site_outputs(
    result: SiteResult, out: Path, *, workspace: Path, force: bool = False
) -> Path:
    """Write the three outputs into ``out`` (replaced whole) and the scenario's sites copy.

    Returns
    -------
    pathlib.Path
        Where the copy of ``sites.gpkg`` for the scenario went
        (``WORKSPACE/scenarios/site-NAME.gpkg``).

    Raises
    ------
    OutputError
        When ``out`` is or holds the workspace, is a file, or holds other files
        (without ``force``), or a file cannot be written.
    """
    out = Path(out).expanduser().absolute()
    _check_out(out, workspace, force)
    source = f"scenarios/site-{result.analysis}.gpkg"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        try:
            result.sites.to_file(tmp / "sites.gpkg", layer="sites", driver="GPKG")
            text = json.dumps(result.to_json(), indent=2, ensure_ascii=False, allow_nan=False)
            (tmp / "sites.json").write_text(text + "\n", encoding="utf-8")
            (tmp / "scenario.yml").write_text(scenario_text(result, source), encoding="utf-8")
            copy = workspace / source
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp / "sites.gpkg", copy)
            if out.exists():
                shutil.rmtree(out)
            os.replace(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise OutputError(f"cannot write site outputs to {out}: {exc.strerror or exc}") from None
    return copy
