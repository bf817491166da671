"""Progress of a long run: one object passed down, never printed from deep inside.

A run is a sequence of *stages* (reading layers, each analysis, H3 summaries, web maps,
the report, the GeoPackage, the QGIS project), each with an optional count of steps.
Library code only calls :meth:`Progress.stage` and :meth:`Stage.advance`; what is shown
is chosen by the caller:

- :class:`Progress` itself shows nothing (the default, and ``-q``);
- :class:`LineProgress` writes one plain line per stage (logs, pipes, CI);
- :class:`BarProgress` draws a ``tqdm`` bar with counts (a terminal);
- :class:`JsonProgress` writes one JSON line per stage and step, for programs that read
  the progress (the QGIS plugin sets ``URBANFORM_PROGRESS=json``).

:func:`make_progress` picks between the line and bar forms for a stream. Subclasses may record
timings instead (the pipeline benchmark does).

Examples
--------
>>> import io
>>> out = io.StringIO()
>>> progress = LineProgress(out)
>>> with progress.stage("web maps", total=2) as step:
...     step.advance()
...     step.advance()
>>> print(out.getvalue().strip())
[1] web maps (2)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = [
    "BarProgress", "JSON_PREFIX", "JsonProgress", "LineProgress", "Progress", "Stage",
    "make_progress",
]


class Stage:
    """One running stage: counts its steps; subclasses show them."""

    def __init__(self, name: str, total: int | None) -> None:
        self.name = name
        self.total = total
        self.done = 0

    def advance(self, n: int = 1, *, note: str | None = None) -> None:
        """Count ``n`` finished steps (``note``: what the last one was, for display)."""
        self.done += n

    def close(self) -> None:
        """End the stage (called by :meth:`Progress.stage`)."""


class Progress:
    """Progress that shows nothing; the base of the others.

    Subclasses override :meth:`_open` (make a :class:`Stage`) and :meth:`_closed`
    (after a stage ends, with whether it failed).
    """

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def stage(self, name: str, *, total: int | None = None) -> Iterator[Stage]:
        """Run one stage of ``total`` steps (``None``: not counted) inside the block."""
        self.count += 1
        step = self._open(name, total)
        failed = True
        try:
            yield step
            failed = False
        finally:
            step.close()
            self._closed(step, failed=failed)

    def _open(self, name: str, total: int | None) -> Stage:
        return Stage(name, total)

    def _closed(self, step: Stage, *, failed: bool) -> None:
        """Called after each stage ends."""


class LineProgress(Progress):
    """One line per stage on ``stream``: ``[n] name (total)``."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream

    def _open(self, name: str, total: int | None) -> Stage:
        counted = f" ({total:,})" if total is not None else ""
        self.stream.write(f"[{self.count}] {name}{counted}\n")
        self.stream.flush()
        return Stage(name, total)


class _BarStage(Stage):
    def __init__(self, name: str, total: int | None, bar: Any) -> None:
        super().__init__(name, total)
        self.bar = bar

    def advance(self, n: int = 1, *, note: str | None = None) -> None:
        super().advance(n)
        if note:
            self.bar.set_postfix_str(note, refresh=False)
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


class BarProgress(Progress):
    """A ``tqdm`` bar per stage on ``stream`` (a terminal), left on screen when done."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream

    def _open(self, name: str, total: int | None) -> Stage:
        from tqdm import tqdm

        bar = tqdm(
            total=total,
            desc=f"[{self.count}] {name}",
            file=self.stream,
            leave=True,
            dynamic_ncols=True,
            bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} "
            "[{elapsed}]{postfix}"
            if total
            else "{desc} [{elapsed}]{postfix}",
        )
        return _BarStage(name, total, bar)


#: The start of every :class:`JsonProgress` line, so a reader tells them from log lines.
JSON_PREFIX = "urbanform-progress "


class _JsonStage(Stage):
    def __init__(self, name: str, total: int | None, emit: Any) -> None:
        super().__init__(name, total)
        self.emit = emit

    def advance(self, n: int = 1, *, note: str | None = None) -> None:
        super().advance(n)
        self.emit(self)


class JsonProgress(Progress):
    """One machine-readable line per stage start and step on ``stream``.

    Each line is :data:`JSON_PREFIX` and a JSON object ``{"stage", "name", "done",
    "total"}`` (``total`` null for an uncounted stage).

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with JsonProgress(out).stage("web maps", total=2) as step:
    ...     step.advance()
    >>> print(out.getvalue().strip())
    urbanform-progress {"stage": 1, "name": "web maps", "done": 0, "total": 2}
    urbanform-progress {"stage": 1, "name": "web maps", "done": 1, "total": 2}
    """

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self.stream = stream

    def _emit(self, step: Stage) -> None:
        record = {"stage": self.count, "name": step.name, "done": step.done, "total": step.total}
        self.stream.write(JSON_PREFIX + json.dumps(record) + "\n")
        self.stream.flush()

    def _open(self, name: str, total: int | None) -> Stage:
        step = _JsonStage(name, total, self._emit)
        self._emit(step)
        return step


def make_progress(
    stream: IO[str], *, quiet: bool = False, machine: bool = False
) -> Progress:
    """The progress for ``stream``.

    Nothing when ``quiet``, JSON lines when ``machine``, a bar on a terminal, else plain
    lines.
    """
    if quiet:
        return Progress()
    if machine:
        return JsonProgress(stream)
    isatty = getattr(stream, "isatty", None)
    return BarProgress(stream) if callable(isatty) and isatty() else LineProgress(stream)
