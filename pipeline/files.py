"""Writing and fingerprinting files: the one place for atomic writes and SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

CHUNK = 1 << 20
TRUE_WORDS = ("1", "true", "yes", "on")


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: Path, data: bytes | str) -> Path:
    """Write ``data`` (text is UTF-8) to a temporary file beside ``path``, then rename it into
    place: a reader sees the old file or the new one, never a part. Returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; reports are meant to be shared
        os.replace(tmp, path)
    except OSError as error:  # a write names no file: name the one being written (a full disk)
        Path(tmp).unlink(missing_ok=True)
        if error.filename is None:
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def env_flag(value: str | None) -> bool:
    """True for an environment value such as ``1``, ``true``, ``yes`` or ``on`` (any case)."""
    return (value or "").strip().lower() in TRUE_WORDS
