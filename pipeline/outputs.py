"""The output folder: one run at a time, and a result set published whole or not at all.

* **Run lock.** ``OUTPUT/.cx311.lock`` holds the pid, start time and command of the run that
  owns the folder, under an exclusive ``flock`` (released by the kernel when the process
  dies, however it dies). A second run is refused with a message naming the owner, or waits.
* **Staging.** A run writes a result set (``OUTPUT/2024/``, ``OUTPUT/bia/2024-07/``) into
  ``OUTPUT/.staging/`` and publishes it with renames only when everything succeeded, so a
  failed or killed run leaves the previous set exactly as it was. Temporary files of the run
  (WeasyPrint's, the loader's, dbt's) go to ``OUTPUT/.staging/tmp`` and are removed.
* **Recovery.** The next run removes what a killed run left in ``.staging`` and, if a kill
  fell between the two renames of a publish, puts the previous set back first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import CxError, disk_full

LOCK_NAME = ".cx311.lock"
STAGING = ".staging"


class OutputBusy(CxError):
    """Another run owns the output folder."""


def _describe(owner: dict) -> str:
    return (f"{owner.get('output', 'OUTPUT')} is in use by pid {owner.get('pid', '?')} since "
            f"{owner.get('started', '?')} ({owner.get('command', '?')}). Wait for it to finish, or "
            "run again with --wait to queue behind it.")


def _read_owner(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_folder(output: Path) -> Path:
    """Create ``output`` (a folder), or explain in one paragraph why it cannot be."""
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise CxError(f"OUTPUT {output} is a file, not a folder: give a folder (it is created if missing).")
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CxError(f"Cannot create the OUTPUT folder {output}: {error.strerror}.") from error
    return output


@contextmanager
def run_lock(output: Path, command: str, wait: bool = False, say=lambda message: None) -> Iterator[Path]:
    """Hold ``OUTPUT/.cx311.lock`` for the duration of a run (see module doc)."""
    output = prepare_folder(output)
    path = output / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        previous = _read_owner(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            owner = _read_owner(path) or previous
            if not wait:
                raise OutputBusy(_describe({**owner, "output": str(output)})) from None
            say(f"waiting: {_describe({**owner, 'output': str(output)})}")
            fcntl.flock(fd, fcntl.LOCK_EX)
            previous = {}
        if previous.get("pid") and previous.get("pid") != os.getpid() and not _alive(previous["pid"]):
            say(f"note: taking over the lock of pid {previous['pid']} ({previous.get('command', '?')}), "
                "which is no longer running")
        owner = {"pid": os.getpid(), "command": command,
                 "started": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(owner) + "\n").encode("utf-8"), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the flock


def staging_root(output: Path) -> Path:
    return Path(output) / STAGING


def recover(output: Path) -> list[str]:
    """Undo what a killed run left behind (call with the run lock held). Returns notes."""
    root = staging_root(output)
    notes: list[str] = []
    if not root.is_dir():
        return notes
    for marker in sorted(root.glob(f"previous-*{PUBLISHED_AS}")):
        aside = marker.with_name(marker.name[:-len(PUBLISHED_AS)])
        target = Path(marker.read_text(encoding="utf-8").strip() or ".")
        if aside.is_dir() and not target.exists():
            os.replace(aside, target)
            notes.append(f"restored {target}: a run was killed while publishing it")
    shutil.rmtree(root, ignore_errors=True)
    return notes


# Beside a set moved aside while a new one is published: the path it was published as. Written
# before anything moves, so that a full disk stops a publish before it starts.
PUBLISHED_AS = ".published-as"


@contextmanager
def staged(output: Path, final: Path) -> Iterator[Path]:
    """A fresh folder in ``OUTPUT/.staging`` to write a result set into; ``publish`` moves it
    to ``final``. Removed if the run fails before publishing."""
    root = staging_root(output)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{final.name}-", dir=root))
    work.chmod(0o755)  # mkdtemp makes it private; a published set is meant to be shared
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def publish(staged_dir: Path, final: Path, keep: tuple[str, ...] = ()) -> Path:
    """Replace ``final`` by ``staged_dir`` with two renames; a kill between them is undone by
    the next run's :func:`recover` (a marker beside the set moved aside names ``final``, written
    before anything moves: a full disk fails the publish with the previous set in place). Files
    named in ``keep`` (e.g. a send log) are carried over from the previous set."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    for name in keep:
        if (final / name).is_file() and not (staged_dir / name).exists():
            shutil.copy2(final / name, staged_dir / name)
    aside = marker = None
    if final.exists():
        aside = staged_dir.parent / f"previous-{final.name}-{os.getpid()}-{time.monotonic_ns()}"
        marker = aside.with_name(aside.name + PUBLISHED_AS)
        try:  # what needs space comes first: a full disk stops the publish here, nothing moved
            with marker.open("w", encoding="utf-8") as f:
                f.write(str(final.resolve()))
        except OSError as error:
            marker.unlink(missing_ok=True)
            raise OSError(error.errno, error.strerror, str(marker)) from error
        os.replace(final, aside)
    os.replace(staged_dir, final)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
        marker.unlink(missing_ok=True)  # type: ignore[union-attr]
    return final


@contextmanager
def private_tmp(output: Path) -> Iterator[Path]:
    """Point this process's temporary files (and its children's, through TMPDIR) at
    ``OUTPUT/.staging/tmp-<pid>``, removed at the end."""
    tmp = staging_root(output) / f"tmp-{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    saved_env, saved_dir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = str(tmp)
    try:
        yield tmp
    finally:
        tempfile.tempdir = saved_dir
        if saved_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_env
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            tmp.parent.rmdir()  # .staging itself, once nothing else is in it


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies: a dbt child or a PDF worker never
    outlives a killed run (call it in the child: ``preexec_fn`` or a pool initializer)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: nothing to ask for
        pass


def os_error_message(error: OSError) -> str:
    """One paragraph for an operating-system error: what, and which path."""
    where = f" {error.filename}" if error.filename else ""
    if error.errno == errno.ENOSPC:
        return disk_full(error.filename)
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"Permission denied:{where} cannot be read or written by this user."
    if error.errno == errno.ENOTDIR:
        return f"A path that should be a folder is a file:{where}."
    return f"{error.strerror or error}:{where}." if where else f"{error.strerror or error}."
