"""The whole run, stage by stage, at several sizes of the demo city.

Runs the demo workspace (this repository's ``urbanform.yml``, ``layers/``, ``analyses/``
and ``maps/``, copied to a temporary folder with every ``demo:NAME`` source turned into
``demo:NAME?scale=S``) through the real command (``urbanform -q run WS --out OUT``), with
the command's progress object swapped for a stage timer. Each scale runs in a child
process of its own, so that its peak memory is its own.

Prints, per stage (reading and harmonising layers, each analysis, H3 summaries and files,
GeoPackage, web maps, report, QGIS styles and project): wall and CPU seconds and the
stage's peak resident memory (``VmHWM``, reset at the start of each stage); then per
scale the total, its ratio to the smallest scale, the size of ``report.html``, and the
log-log slope of total time against scale (1.0 is linear). Generating the synthetic
demo city is done before the run and shown apart: a real city's layers are read from
files.

Usage::

    python benchmarks/pipeline.py --scale 1 5            # the hook's check: ratio <= 6
    python benchmarks/pipeline.py --scale 25
    python benchmarks/pipeline.py --scale 25 --only park_network circle15 tod jobs_housing forest
    python benchmarks/pipeline.py --scale 5 25 --browser   # + the report in headless Chromium
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import re
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: E402 - benchmarks/ is on sys.path when run as a script
import report_browser

from urbanform.progress import Progress, Stage

ROOT = _common.ROOT
_DEMO = re.compile(r"^(source:\s*)demo:(\w+)\s*$", re.M)


class StageTimer(Progress):
    """Records wall, CPU seconds and peak memory of every stage."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, float, float, float]] = []
        self._t: tuple[float, float] = (0.0, 0.0)

    def _open(self, name: str, total: int | None) -> Stage:
        _reset_peak()
        self._t = _common.clock()
        return Stage(name, total)

    def _closed(self, step: Stage, *, failed: bool) -> None:
        wall, cpu = _common.since(self._t)
        self.rows.append((step.name, wall, cpu, _stage_peak_mb()))


def _reset_peak() -> None:
    """Reset this process's resident-memory high-water mark (Linux ``clear_refs`` 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _stage_peak_mb() -> float:
    """``VmHWM`` (peak resident memory since the last reset), in MB."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return _common.peak_mb()
    kb = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
    return kb / 1024.0


def scaled_workspace(folder: Path, scale: float) -> Path:
    """Copy the demo workspace to ``folder`` with every demo source at ``scale``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "urbanform.yml").write_text((ROOT / "urbanform.yml").read_text())
    for sub in ("layers", "analyses", "maps"):
        (folder / sub).mkdir(exist_ok=True)
        for f in sorted((ROOT / sub).glob("*.yml")):
            text = _DEMO.sub(
                lambda m: f"{m.group(1)}demo:{m.group(2)}?scale={scale:g}", f.read_text()
            )
            (folder / sub / f.name).write_text(text)
    return folder


def run_scale(scale: float, only: list[str], queue: mp.Queue, browser: bool = False) -> None:
    """Run the demo workspace at ``scale`` through the CLI; put the figures on ``queue``."""
    from urbanform import demo
    from urbanform.cli import main as cli_main
    from urbanform.cli import run as run_cmd

    t = _common.clock()
    demo._cached_city(2021, float(scale))  # the synthetic inputs, made before the clock
    gen_wall, gen_cpu = _common.since(t)
    gen_peak = _common.peak_mb()
    timer = StageTimer()
    run_cmd.progress_for = lambda ctx: timer  # the command's progress -> the stage timer
    with tempfile.TemporaryDirectory() as tmp:
        ws = scaled_workspace(Path(tmp) / "ws", scale)
        out = Path(tmp) / "out"
        args = ["-q", "run", str(ws), "--out", str(out)] + [a for n in only for a in ("--only", n)]
        t = _common.clock()
        try:
            cli_main.cli.main(args, standalone_mode=False)
        except SystemExit as exc:  # the command's error exit
            queue.put({"scale": scale, "error": f"exit {exc.code}"})
            return
        wall, cpu = _common.since(t)
        # the stages reset the high-water mark: the run's peak is the largest of theirs
        peak = max([_common.peak_mb(), *(row[3] for row in timer.rows)])
        report_mb = (out / "report.html").stat().st_size / 1e6
        shown = report_browser.visit(out / "report.html") if browser else None
    queue.put(
        {
            "scale": scale,
            "generate": (gen_wall, gen_cpu, gen_peak),
            "stages": timer.rows,
            "total": (wall, cpu, peak),
            "report_mb": report_mb,
            "browser": shown,
        }
    )


def _in_child(scale: float, only: list[str], browser: bool) -> dict:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=run_scale, args=(scale, only, queue, browser))
    proc.start()
    res = queue.get()
    proc.join()
    return res


def _table(results: list[dict]) -> None:
    names: list[str] = []
    for r in results:
        for row in r["stages"]:
            if row[0] not in names:
                names.append(row[0])
    head = f"{'stage':42s}" + "".join(
        f" | scale {r['scale']:<4g} wall s  cpu s  peak MB" for r in results
    )
    print(head)
    print("-" * len(head))
    for name in ["demo city generated (not counted)"] + names:
        line = f"{name[:42]:42s}"
        for r in results:
            if name.startswith("demo city"):
                w, c, p = r["generate"]
            else:
                rows = [x for x in r["stages"] if x[0] == name]
                w, c, p = (rows[0][1], rows[0][2], rows[0][3]) if rows else (math.nan,) * 3
            line += f" | {'':10s}{w:7.1f} {c:6.1f} {p:8.0f}"
        print(line)
    line = f"{'total (run, generation excluded)':42s}"
    for r in results:
        w, c, p = r["total"]
        line += f" | {'':10s}{w:7.1f} {c:6.1f} {p:8.0f}"
    print(line)


def _slope(results: list[dict]) -> float:
    xs = [math.log(r["scale"]) for r in results]
    ys = [math.log(r["total"][0]) for r in results]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=float, nargs="+", default=[1.0, 5.0])
    p.add_argument("--only", nargs="*", default=[], metavar="NAME", help="analyses to run")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    p.add_argument(
        "--browser", action="store_true",
        help="open each report in headless Chromium: load time and each map's draw time",
    )
    args = p.parse_args(argv)
    results = []
    for scale in sorted(set(args.scale)):
        t = time.perf_counter()
        res = _in_child(scale, args.only, args.browser)
        if "error" in res:
            print(f"scale {scale:g}: the run failed ({res['error']})", file=sys.stderr)
            return 1
        print(f"scale {scale:g} done in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        results.append(res)
    _table(results)
    base = results[0]
    print()
    for r in results:
        ratio = r["total"][0] / base["total"][0]
        print(
            f"scale {r['scale']:g}: total {r['total'][0]:.1f} s wall, {r['total'][1]:.1f} s CPU, "
            f"peak {r['total'][2] / 1024:.2f} GB, report.html {r['report_mb']:.1f} MB; "
            f"{ratio:.2f}x the scale-{base['scale']:g} time "
            f"(scale ratio {r['scale'] / base['scale']:g})"
        )
    for r in results:
        if r.get("browser"):
            print(f"scale {r['scale']:g} in Chromium:")
            print("\n".join(report_browser.report_lines(r["browser"])))
    if len(results) > 1:
        print(f"log-log slope of total time against scale: {_slope(results):.2f} (1.0 is linear)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
