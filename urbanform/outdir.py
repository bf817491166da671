"""The output folder: what may be replaced, one writer at a time, atomic replacement.

A run writes into a temporary folder next to the output folder and swaps it into
place only when every file is complete. Around that:

- a guard (:func:`check_output`) that refuses to replace anything urbanform did not
  write: the workspace, a folder that contains it, the home folder, the file-system
  root, or a folder holding files other than an earlier output's;
- a lock file next to the output folder, so a second run into the same folder stops
  with an error instead of mixing two outputs;
- an atomic swap (``renameat2(RENAME_EXCHANGE)`` where the system has it), so a run
  killed at any moment leaves the earlier output complete; what a killed run leaves
  behind is a hidden ``.NAME.tmp-*`` folder that the next run removes.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from urbanform.checks import short_path
from urbanform.errors import OutputError, UrbanformError

try:  # POSIX only; elsewhere runs are not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["check_output", "is_output", "output_lock", "staged_output", "MANIFEST"]

log = logging.getLogger(__name__)

MARKER = "summary.json"
MANIFEST = ".urbanform-files"
"""Written into every output: the relative paths of its files, one per line."""
_STAGING = ".urbanform-staging"
_KNOWN = {MARKER, MANIFEST, "report.html", "results.gpkg", "results.qgz", "maps", "h3"}
"""Top-level names of an output written before outputs carried a manifest."""


def _schema_ok(folder: Path) -> bool:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and str(data.get("schema", "")).startswith("urbanform.summary/")


def _files(folder: Path) -> set[str]:
    """Relative paths (POSIX) of every file and folder under ``folder``."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


NESTED = "scenario-"
"""Prefix of the scenario outputs a run's output folder may hold (``scenario-NAME/``)."""


def _nested(folder: Path) -> set[str]:
    """Top-level names in ``folder`` that belong to its scenario outputs.

    Each ``scenario-NAME`` folder that is a complete output, and the lock and
    temporary folders of a scenario run writing there (``.scenario-NAME.*``).
    """
    try:
        names = [p.name for p in folder.iterdir()]
    except OSError:
        return set()
    return {
        n
        for n in names
        if n.startswith(f".{NESTED}") or (n.startswith(NESTED) and is_output(folder / n))
    }


def _foreign(folder: Path) -> list[str]:
    """What in ``folder`` an urbanform output did not write (sorted relative paths).

    Scenario outputs nested in it (:func:`_nested`) are urbanform's own.
    """
    nested = _nested(folder)
    found = {p for p in _files(folder) if p.split("/")[0] not in nested}
    try:
        listed = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
    except OSError:
        return sorted(p for p in found if p.split("/")[0] not in _KNOWN)
    own = set(listed) | {MANIFEST}
    # a folder listed in the manifest owns nothing it did not list
    return sorted(p for p in found if p not in own)


def is_output(folder: Path) -> bool:
    """Whether ``folder`` is a complete urbanform output and holds nothing else."""
    folder = Path(folder)
    return (
        folder.is_dir()
        and not (folder / _STAGING).exists()
        and _schema_ok(folder)
        and not _foreign(folder)
    )


def _protected(out: Path, workspace: Path | None) -> str | None:
    """Why ``out`` must never be replaced, or ``None``."""
    if out == Path(out.anchor):
        return "the file-system root"
    try:
        home = Path.home().resolve()
    except (RuntimeError, KeyError):  # no HOME and no password entry
        home = None
    if out == home:
        return "your home folder"
    if workspace is not None:
        ws = Path(workspace).resolve()
        if out == ws:
            return "the workspace itself"
        if ws.is_relative_to(out):
            return f"a folder that contains the workspace {ws}"
    return None


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:5])
    return shown + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def check_output(out: Path, *, force: bool = False, workspace: Path | None = None) -> None:
    """Refuse an output folder whose replacement could delete what urbanform did not write.

    ``out`` may be missing, empty or an earlier urbanform output; with ``force`` also a
    folder holding only the files of an output that urbanform does not recognise (one
    without a readable ``summary.json``). Never the workspace, a folder containing it,
    the home folder, the file-system root, a file, or a folder holding other files.

    Raises
    ------
    OutputError
        Naming the folder, what it holds and what to do instead.
    """
    out = Path(out).expanduser().absolute()
    shown = short_path(out)
    why = _protected(Path(os.path.realpath(out)), workspace)
    hint = "choose a new folder with --out, for example --out out"
    if why:
        raise OutputError(f"refusing to write outputs to {shown}: it is {why}; {hint}")
    try:
        if not out.exists() and not out.is_symlink():
            return
        if not out.is_dir():
            raise OutputError(f"{shown} exists and is a file, not an output folder; {hint}")
        if not any(out.iterdir()):
            return
        foreign = _foreign(out)
        nested = _nested(out)
        # a folder holding only scenario outputs (run before their baseline) is ours too
        recognised = _schema_ok(out) or all(p.name in nested for p in out.iterdir())
    except OSError as exc:  # permission denied, a name too long, a symbolic link loop
        raise OutputError(
            f"cannot look into {shown} ({exc.strerror or exc}); choose a folder you can "
            "write to with --out"
        ) from None
    if foreign:
        raise OutputError(
            f"{shown} holds files urbanform did not write ({_listing(foreign)}); "
            "replacing the folder would delete them, so urbanform will not, even with "
            f"--force; move them away or {hint}"
        )
    if not recognised and not force:
        raise OutputError(
            f"{shown} exists and is not an urbanform output folder (no valid "
            "summary.json); choose another --out or pass --force to replace it"
        )


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``.NAME.lock`` next to ``out`` for the block; a second holder gets an error.

    Raises
    ------
    OutputError
        When another run holds the lock.
    """
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    path = out.parent / f".{out.name}.lock"
    shown = short_path(out)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(
                f"another urbanform run is writing to {shown} (lock {path.name}); wait for "
                "it to finish or choose another --out"
            ) from None
        try:  # the holder before us may have removed the file we locked
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        try:
            path.unlink(missing_ok=True)
        finally:
            os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); ``False`` where unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):  # not Linux (TypeError: Windows)
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _is_ours(folder: Path) -> bool:
    """A leftover of a killed run: empty, or marked as staging, or an output copy."""
    try:
        return folder.is_dir() and (
            not any(folder.iterdir()) or (folder / _STAGING).exists() or is_output(folder)
        )
    except OSError:
        return False


def _clean_leftovers(out: Path) -> None:
    """Restore an output a killed swap left aside; remove killed runs' temporary folders."""
    parent = out.parent
    olds = sorted(parent.glob(f".{out.name}.old-*"))
    if not out.exists() and olds and is_output(olds[-1]):
        os.replace(olds[-1], out)
        log.warning("restored the previous output %s from %s", out, olds[-1].name)
    for p in [*parent.glob(f".{out.name}.tmp-*"), *parent.glob(f".{out.name}.old-*")]:
        if _is_ours(p):
            log.info("removing %s, left by an interrupted run", p)
            shutil.rmtree(p, ignore_errors=True)


def _carry_nested(src: Path, dst: Path) -> None:
    """Move the scenario outputs of ``src`` into ``dst`` (a new output replacing ``src``).

    They are not listed in the manifest: a scenario run rewrites its folder on its own.
    """
    if not src.is_dir() or not dst.is_dir():
        return
    for name in sorted(_nested(src)):
        if name.startswith(NESTED) and not (dst / name).exists():
            os.replace(src / name, dst / name)


def _write_manifest(tmp: Path) -> None:
    (tmp / _STAGING).unlink(missing_ok=True)
    names = sorted(_files(tmp))
    (tmp / MANIFEST).write_text("".join(f"{n}\n" for n in names), encoding="utf-8")


def _swap_in(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out``; the earlier output (now at ``tmp``) is deleted after."""
    if out.exists() and _exchange(tmp, out):
        (tmp / _STAGING).touch()
        (tmp / MARKER).unlink(missing_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    """The process's umask, read without changing it (Linux), else the usual 022."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _os_message(exc: OSError, out: Path) -> str:
    # a file of the temporary folder is named as the file of the output it would become
    tmp = re.escape(os.path.join(str(out.parent), f".{out.name}.tmp-")) + r"[^/\\]+"
    where = short_path(re.sub(tmp, lambda _: str(out), str(exc.filename or out)))
    shown = short_path(out)
    why = {
        errno.ENOSPC: "no space left on the device; free some space or choose another --out",
        errno.EDQUOT: "the disk quota is exceeded; free some space or choose another --out",
        errno.EROFS: "the file system is read-only; choose another --out",
        errno.EACCES: "permission denied; choose a folder you can write to with --out",
        errno.EPERM: "permission denied; choose a folder you can write to with --out",
        errno.EEXIST: "a file stands where a folder is needed; choose another --out",
        errno.ENOTDIR: "a file stands where a folder is needed; choose another --out",
    }.get(exc.errno or 0, f"{exc.strerror or exc}; choose another --out")
    return f"cannot write the outputs to {shown} ({where}): {why}; nothing was changed there"


@contextmanager
def staged_output(
    out: Path, *, force: bool = False, workspace: Path | None = None
) -> Iterator[Path]:
    """A temporary folder that replaces ``out`` when the block finishes without error.

    Parameters
    ----------
    out
        The output folder.
    force
        Also replace an output folder urbanform does not recognise (see
        :func:`check_output`).
    workspace
        The workspace folder: never replaced, nor any folder containing it.

    Raises
    ------
    OutputError
        When ``out`` may not be replaced, another run is writing to it, or the file
        system refuses (full, read-only, no permission); ``out`` is then unchanged.
    """
    out = Path(out).expanduser().absolute()
    try:
        check_output(out, force=force, workspace=workspace)
        out.parent.mkdir(parents=True, exist_ok=True)
        with output_lock(out):
            _clean_leftovers(out)
            check_output(out, force=force, workspace=workspace)
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
            try:
                os.chmod(tmp, 0o777 & ~_umask())  # as mkdir would; mkdtemp gives 0700
                (tmp / _STAGING).touch()
                yield tmp
                _write_manifest(tmp)
                _carry_nested(out, tmp)
                _swap_in(tmp, out)
            finally:
                if tmp.exists():
                    _carry_nested(tmp, out)
                    shutil.rmtree(tmp, ignore_errors=True)
    except OutputError as exc:  # a writer's own message names the temporary folder
        cause = exc.__cause__
        if isinstance(cause, OSError) and not isinstance(cause, UrbanformError):
            raise OutputError(_os_message(cause, out)) from None
        raise
    except UrbanformError:
        raise
    except OSError as exc:
        raise OutputError(_os_message(exc, out)) from None
    except Exception as exc:  # GDAL and SQLite report a full disk in their own words
        code = _file_system_fault(out.parent)
        if code is None:
            raise
        log.debug("writing failed with %s: %s", type(exc).__name__, exc)
        raise OutputError(_os_message(OSError(code, os.strerror(code)), out)) from None


_LOW_SPACE = 1 << 20
"""Free bytes below which a failed write is taken for a full file system."""


def _file_system_fault(folder: Path) -> int | None:
    """``ENOSPC`` or ``EROFS`` when the file system of ``folder`` is full or read-only."""
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        return None
    if st.f_flag & getattr(os, "ST_RDONLY", 1):
        return errno.EROFS
    if st.f_bavail * st.f_frsize < _LOW_SPACE:
        return errno.ENOSPC
    return None
