"""Running workspaces on a Dask cluster (``urbanform run --cluster SPEC``).

The client (the ``urbanform`` process) checks every workspace and its output folder
first, then submits the work as Dask tasks: one task per analysis of each workspace
and one that writes the workspace's outputs from their results, or with ``--tile-km``
one task per tile of each analysis that tiles and one per analysis that does not
(:mod:`urbanform.tiles`). Workers read the sources themselves, by the paths
the workspace gives (a shared file system, GDAL ``/vsis3/`` paths, URLs).

The writing task runs on a worker, with the writers of :mod:`urbanform.pipeline` and
the same staged folder and atomic swap as a run without a cluster (so the output folder
must be reachable from the workers: the same path on a shared file system); it returns
only the summary. A worker reads a workspace's layers once and keeps its run context
(walk graph, snapped units) for the analyses of that workspace it is given. Shipping
each workspace's layers and results back for the client to write made the client the
bottleneck (with two workers, 41 of 57 s of a three-city run were the client's
unpickling and writing, one city after another). For a tiled workspace the workers
return their tiles' units and the client aggregates them once and writes the outputs.

Dask is imported only here and only when ``--cluster`` is given, so a plain run does
not need it. A task whose worker dies is run again by the scheduler; a task that fails
with an unexpected exception is retried :data:`RETRIES` times. An analysis error
(:class:`~urbanform.errors.UrbanformError`) is not retried: the task returns it and the
client raises it, naming the workspace.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pyproj

from urbanform.analyses.context import Context
from urbanform.analyses.params import Params
from urbanform.errors import UrbanformError, WorkspaceError
from urbanform.grid import H3Memo
from urbanform.layers.harmonise import load_layers
from urbanform.layers.types import Layers
from urbanform.outdir import check_output
from urbanform.outputs import staged_output, write_gpkg
from urbanform.pipeline import (
    GpkgWriter,
    RunResult,
    _h3,
    _write_all,
    h3_of,
    run_analyses,
    run_layers,
    summarise,
    validate_analyses,
)
from urbanform.priorities import priorities
from urbanform.progress import Progress
from urbanform.results import AnalysisResult, LayerStyle
from urbanform.workspace import AnalysisSpec, Workspace, check_distinct_outs

__all__ = ["ClusterSpec", "parse_cluster", "open_client", "run_on_cluster", "fetch", "RETRIES"]

RETRIES = 2
"""How often a task that raised an unexpected exception is submitted again."""

CONNECT_TIMEOUT_S = 30
"""Seconds to wait for a scheduler given by its address."""

T = TypeVar("T")
Checked = list[tuple[AnalysisSpec, Params]]
H3 = tuple[dict[str, dict[int, Any]], dict[str, LayerStyle]]
"""What :func:`urbanform.pipeline._h3` returns: cells by analysis and resolution, styles."""


@dataclass(frozen=True)
class ClusterSpec:
    """Where to run: a scheduler ``address``, or a LocalCluster of ``workers`` processes."""

    address: str | None = None
    workers: int | None = None


def parse_cluster(spec: str) -> ClusterSpec:
    """The cluster of ``--cluster SPEC``: ``local``, ``local:N`` or ``tcp://HOST:PORT``.

    Raises
    ------
    WorkspaceError
        For anything else, naming the option and the accepted forms.

    Examples
    --------
    >>> parse_cluster("local:2")
    ClusterSpec(address=None, workers=2)
    >>> parse_cluster("tcp://10.0.0.5:8786").address
    'tcp://10.0.0.5:8786'
    """
    text = spec.strip()
    if text == "local":
        return ClusterSpec(workers=os.cpu_count() or 1)
    if text.startswith("local:"):
        n = text.split(":", 1)[1]
        if n.isdigit() and int(n) > 0:
            return ClusterSpec(workers=int(n))
    elif "://" in text and text.split("://", 1)[0] in ("tcp", "tls", "ucx", "inproc"):
        if text.split("://", 1)[1]:
            return ClusterSpec(address=text)
    raise WorkspaceError(
        f"--cluster {spec!r}: use 'local' (one worker per core), 'local:N' (N workers) or a "
        "scheduler address such as tcp://HOST:8786"
    )


@contextmanager
def open_client(spec: ClusterSpec) -> Iterator[Any]:
    """A ``distributed.Client`` on the cluster of ``spec``, closed (with its cluster) after.

    Raises
    ------
    WorkspaceError
        When Dask is not installed or the scheduler cannot be reached.
    """
    try:
        import distributed
    except ImportError:  # pragma: no cover - the dask extra is installed by make test
        raise WorkspaceError(
            "--cluster needs Dask; install it with: pip install 'urbanform[dask]'"
        ) from None
    dist: Any = distributed  # untyped: called through Any
    if spec.address is not None:
        try:
            client = dist.Client(spec.address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise WorkspaceError(
                f"--cluster {spec.address}: no Dask scheduler answered ({exc}); start one "
                "with 'dask scheduler' and workers with 'dask worker ADDRESS'"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    with dask.config.set({"distributed.worker.multiprocessing-method": local_start_method()}):
        cluster = dist.LocalCluster(
            n_workers=spec.workers, threads_per_worker=1, processes=True,
            dashboard_address=":0", silence_logs=logging.CRITICAL,
        )
        client = dist.Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


def local_start_method() -> str:
    """How a LocalCluster starts its worker processes: ``fork`` where it is safe, else ``spawn``.

    A forked worker starts with urbanform, GeoPandas and Dask already imported: on two
    cores a LocalCluster of two workers was ready for work in 0.6 s and closed in 0.1 s,
    against 3-4 s, then 3-10 s of imports in each worker, and 4 s to close when spawned
    (benchmarks/README.md). Python 3.12 deprecates forking a process that runs threads
    (the client's event loop is one), so there, and off Linux, workers are spawned.
    """
    if sys.platform.startswith("linux") and sys.version_info < (3, 12):
        return "fork"
    return "spawn"


def _named(ws: Workspace, call: Callable[[], T]) -> T:
    """``call()``; an error names the workspace it came from."""
    try:
        return call()
    except UrbanformError as exc:
        raise type(exc)(f"workspace {ws.root}: {exc}") from None


_CONTEXTS: OrderedDict[str, Context] = OrderedDict()
"""Per worker process: the run contexts (layers, walk graph, snaps) of recent workspaces."""

KEEP_CONTEXTS = 2
"""Workspaces whose context a worker keeps (its analyses of one city share one graph)."""


def worker_context(ws: Workspace) -> Context:
    """The run context of ``ws`` on this worker: its layers read once, its caches shared.

    Analyses of one workspace that land on the same worker share the walk graph and the
    snapped units, as in a plain run (the caches hold only deterministic answers, so the
    results do not depend on which analyses share a worker).
    """
    key = repr((str(ws.root), ws.crs, ws.layers))
    ctx = _CONTEXTS.pop(key, None)
    if ctx is None:
        ctx = Context(load_layers(run_layers(ws), crs=ws.crs))
    _CONTEXTS[key] = ctx
    while len(_CONTEXTS) > KEEP_CONTEXTS:
        _CONTEXTS.popitem(last=False)
    return ctx


@dataclass
class Answer:
    """What an analysis task sends back: the result and what is made from it alone.

    The H3 cells and the "where to act" list of one analysis depend on its result only,
    so the worker that ran the analysis makes them, in parallel with the other analyses,
    and the writing task (which waits for every analysis of the workspace) only writes.
    """

    result: AnalysisResult
    h3: tuple[dict[int, Any], LayerStyle] | None
    priorities: list[dict[str, Any]]


def analysis_task(ws: Workspace, spec: AnalysisSpec, params: Params) -> tuple[str, Any]:
    """Worker side: one analysis of ``ws``; ``("ok", Answer)`` or ``("error", exc)``.

    An :class:`~urbanform.errors.UrbanformError` (a bad input) is returned, not raised:
    it is not worth a retry.
    """
    from urbanform.tiles import worker_setup

    worker_setup()
    try:
        ctx = worker_context(ws)
        (result,) = run_analyses(ctx, [(spec, params)])
        memo: H3Memo = ctx.cache.setdefault("h3_memo", {})
        h3 = h3_of(result, ws.h3_resolutions, memo)
        where = priorities(result, ctx.layers, resolution=max(ws.h3_resolutions), memo=memo)
    except UrbanformError as exc:
        return "error", exc
    return "ok", Answer(result, h3, where)


def write_task(
    ws: Workspace, checked: Checked, answers: list[tuple[str, Any]], *, force: bool,
    started: str,
) -> tuple[str, Any]:
    """Worker side: the H3 summaries and every output of ``ws``, as a plain run writes them.

    ``answers`` are the workspace's :func:`analysis_task` answers, in the order of
    ``checked``. Returns ``("ok", summary)`` or the first ``("error", exc)``.
    """
    from urbanform.tiles import worker_setup

    worker_setup()
    for answer in answers:
        if answer[0] == "error":
            return answer
    done: list[Answer] = [payload for _, payload in answers]
    results = [a.result for a in done]
    made = [(a.result.name, a.h3) for a in done if a.h3 is not None]
    h3 = ({name: one[0] for name, one in made}, {name: one[1] for name, one in made})
    try:
        layers = worker_context(ws).layers
        run = finish(ws, checked, layers, results, h3=h3, force=force, progress=Progress(),
                     started=started, t0=time.perf_counter(),
                     ready={a.result.name: a.priorities for a in done},
                     gpkg_writer=functools.partial(_gpkg_beside, _key(f"{ws.name}-gpkg")))
    except UrbanformError as exc:
        return "error", exc
    return "ok", run.summary


def gpkg_task(layers: dict[str, Any], path: Path, crs: Any) -> None:
    """Worker side: write ``results.gpkg`` of a workspace (see :func:`_gpkg_beside`)."""
    from urbanform.tiles import worker_setup

    worker_setup()
    write_gpkg(layers, path, crs=crs)


def _gpkg_beside(key: str, layers: dict[str, Any], path: Path, crs: Any) -> Callable[[], None]:
    """Start :func:`gpkg_task` as a task of its own; return the wait for it.

    A writing task runs from inside a worker: the GeoPackage goes to another worker by
    preference (the last workspace's writing task otherwise runs while the other workers
    have nothing left), and while it waits this task leaves its worker's thread to others
    (Dask's ``secede``), so a cluster of one worker does not wait for itself. The layers
    go as scattered data, not inside the task.
    """
    from distributed import get_client, get_worker, rejoin, secede

    client = get_client()
    me = get_worker().address
    others = [w for w in client.scheduler_info()["workers"] if w != me]
    # another worker by preference (this one goes on with the maps); any one if busy
    where: dict[str, Any] = {"workers": others, "allow_other_workers": True} if others else {}
    (data,) = client.scatter(  # type: ignore[no-untyped-call]
        [layers], hash=False, workers=others or None
    )
    future = client.submit(gpkg_task, data, path, crs, key=key, retries=RETRIES, **where)

    def wait() -> None:
        secede()  # type: ignore[no-untyped-call]
        try:
            future.result()
        finally:
            rejoin()  # type: ignore[no-untyped-call]

    return wait


def unwrap(ws: Workspace, answer: tuple[str, Any]) -> Any:
    """The payload of a task's answer; its error raised, naming the workspace."""
    status, payload = answer
    if status == "error":
        raise type(payload)(f"workspace {ws.root}: {payload}")
    return payload


def fetch(ws: Workspace, future: Any) -> Any:
    """The payload of a task of ``ws``; a worker lost too often becomes a one-line error."""
    try:
        answer = future.result()
    except Exception as exc:
        if type(exc).__name__ != "KilledWorker":
            raise
        raise WorkspaceError(
            f"workspace {ws.root}: the workers running it died too often ({exc}); give "
            "each worker more memory, or use --tile-km"
        ) from None
    return unwrap(ws, answer)


def _written(ws: Workspace, future: Any, *, t0: float) -> RunResult:
    """The run of a workspace whose task wrote its outputs (layers and results stay there)."""
    summary = fetch(ws, future)
    crs = pyproj.CRS.from_user_input(summary["crs"])
    run = RunResult(ws, Layers(crs=crs, vectors={}, rasters={}), [], summary)
    run.out = ws.out
    run.seconds = time.perf_counter() - t0
    return run


def home_workers(client: Any, n: int) -> list[dict[str, Any]]:
    """``submit`` options giving workspace ``i`` of ``n`` a home worker, in turn.

    A workspace's analyses share its layers, walk graph and snapped units, which a
    worker builds once per workspace (:func:`worker_context`): sent to one worker, they
    are built once, not once on every worker. The restriction is loose, so Dask's work
    stealing still moves tasks to a worker with nothing to do. Priorities (given by the
    caller) finish the workspaces in order, each one's writing task first.
    """
    workers = sorted(client.scheduler_info().get("workers", {}))
    if not workers:
        return [{} for _ in range(n)]
    return [{"workers": [workers[i % len(workers)]], "allow_other_workers": True}
            for i in range(n)]


def _key(name: str) -> str:
    """A unique task key that names the work (shown by the Dask dashboard)."""
    return f"urbanform-{name}-{uuid.uuid4().hex[:12]}"


def _check_outputs(workspaces: list[Workspace], *, force: bool) -> None:
    check_distinct_outs(workspaces)
    for ws in workspaces:
        _named(ws, functools.partial(check_output, ws.out, force=force, workspace=ws.root))


def run_on_cluster(  # noqa: PLR0913 - the options of the run command
    workspaces: list[Workspace],
    spec: str,
    *,
    only: list[str] | None = None,
    force: bool = False,
    tile_km: float | None = None,
    progress: Progress | None = None,
) -> list[RunResult]:
    """Run every workspace on the Dask cluster ``spec`` and write each one's outputs.

    Parameters
    ----------
    workspaces
        The loaded workspaces; each writes to its own ``out``.
    spec
        ``local``, ``local:N`` or a scheduler address (:func:`parse_cluster`).
    only
        Names of the analyses to run (default: all).
    force
        Replace output folders that are not earlier urbanform outputs.
    tile_km
        Cut each study area into tiles of this size (km) for the analyses that tile.
    progress
        Shows the stages on the client.

    Returns
    -------
    list of RunResult
        In the order of ``workspaces``, each written to its ``out``.
    """
    cluster = parse_cluster(spec)
    if tile_km is not None and not tile_km > 0:
        raise WorkspaceError(f"--tile-km {tile_km:g}: give a tile size in km above 0")
    progress = progress or Progress()
    t0 = time.perf_counter()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    checked = [_named(ws, functools.partial(validate_analyses, ws, only=only))
               for ws in workspaces]
    _check_outputs(workspaces, force=force)
    runs: list[RunResult] = []
    with open_client(cluster) as client, progress.stage(
        f"workspaces on {spec}", total=len(workspaces)
    ) as step:
        if tile_km is None:
            homes = home_workers(client, len(workspaces))
            futures = [  # one task per analysis, then one writing the workspace's outputs
                client.submit(
                    write_task, ws, c,
                    [client.submit(analysis_task, ws, spec, params, retries=RETRIES,
                                   key=_key(f"{ws.name}-{spec.name}"), priority=-i, **home)
                     for spec, params in c],
                    force=force, started=started, retries=RETRIES, key=_key(f"{ws.name}-write"),
                    priority=1 - i, **home,
                )
                for i, (ws, c, home) in enumerate(zip(workspaces, checked, homes, strict=True))
            ]
            for ws, future in zip(workspaces, futures, strict=True):
                runs.append(_written(ws, future, t0=t0))
                step.advance(note=ws.name)
            return runs
        from urbanform.tiles import TiledRun

        homes = home_workers(client, len(workspaces))
        tiled = [TiledRun(client, ws, c, tile_km=tile_km, retries=RETRIES, home=home)
                 for ws, c, home in zip(workspaces, checked, homes, strict=True)]
        for r in tiled:  # every workspace's tiles queued before the first is gathered
            r.start()
        for ws, c, gather in zip(workspaces, checked, tiled, strict=True):
            layers, results, h3 = gather()
            runs.append(finish(ws, c, layers, results, h3=h3, force=force,
                               progress=Progress(), started=started, t0=t0))
            step.advance(note=ws.name)
    return runs


def finish(  # noqa: PLR0913 - what a finished run consists of
    ws: Workspace,
    checked: Checked,
    layers: Layers,
    results: list[AnalysisResult],
    *,
    h3: H3 | None,
    force: bool,
    progress: Progress,
    started: str,
    t0: float,
    ready: dict[str, list[dict[str, Any]]] | None = None,
    gpkg_writer: GpkgWriter | None = None,
) -> RunResult:
    """Summarise a workspace's results and write its outputs, as the in-process run does.

    ``ready``: "where to act" lists already made by the analysis tasks, by analysis.
    ``gpkg_writer``: writes the GeoPackage beside the other outputs (:func:`write_task`).
    """
    memo: H3Memo = {}
    cells, styles = (
        h3 if h3 is not None else _h3(results, ws.h3_resolutions, progress, memo=memo)
    )
    summary = summarise(ws, checked, layers, results, memo=memo, ready=ready)
    run = RunResult(ws, layers, results, summary, cells, styles)
    with staged_output(ws.out, force=force, workspace=ws.root) as tmp:
        _write_all(run, tmp, started=started, t0=t0, progress=progress, gpkg_writer=gpkg_writer)
    run.out = ws.out
    run.seconds = time.perf_counter() - t0
    return run
