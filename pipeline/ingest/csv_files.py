"""A CSV extract's bytes: opening ``.gz`` and ``.zip`` files, checking that the bytes are text,
and detecting the encoding (UTF-8, UTF-8 with BOM, else Windows-1252, transcoded to UTF-8).
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import file_error

CHUNK = 1 << 20
HEAD = 65536  # bytes looked at to tell text from binary data or an HTML page
CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}
MARKUP_STARTS = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")


def prepare_csv(path: Path, display: Path, tmp: Path) -> tuple[Path, str]:
    """Check a CSV's bytes; return (path DuckDB should read, encoding).

    Raises LoadError for an empty file, binary content, an HTML page or undecodable bytes.
    Windows-1252 files are transcoded to a UTF-8 copy in ``tmp``. ``display`` is the path
    named in messages (the delivered file, when ``path`` was extracted from a zip archive).
    """
    chunks = _chunks(path, display)
    first = next(chunks, b"")
    if not first.strip() and not any(c.strip() for c in _chunks(path, display)):
        raise file_error(display, "the file is empty.")
    _check_text(first[:HEAD], display)
    if _is_utf8(first, chunks):
        return path, "utf-8-sig" if first.startswith(codecs.BOM_UTF8) else "utf-8"
    return _transcode_cp1252(path, display, tmp), "cp1252"


def extract_zip(path: Path, tmp: Path) -> Path:
    """Copy the one CSV file inside the zip archive ``path`` to ``tmp``; return the copy."""
    try:
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.infolist() if _is_csv_member(m)]
            if len(members) != 1:
                raise file_error(
                    path,
                    f"the zip archive must contain exactly one CSV file, it contains "
                    f"{len(members)}.",
                )
            out = tmp / (_path_key(path) + "_zip.csv")
            with z.open(members[0]) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            return out
    except zipfile.BadZipFile as e:
        raise file_error(path, "it is not a valid zip archive.") from e


def _is_csv_member(m: zipfile.ZipInfo) -> bool:
    return (
        not m.is_dir()
        and m.filename.lower().endswith(".csv")
        and not Path(m.filename).name.startswith(".")
        and "__MACOSX" not in m.filename
    )


def _path_key(path: Path) -> str:
    return hashlib.sha1(str(path).encode()).hexdigest()[:12]


def _is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _open_bytes(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if _is_gzip(path) else path.open("rb")


def _chunks(path: Path, display: Path) -> Iterator[bytes]:
    """The file's bytes (decompressed for ``.gz``) in 1 MiB chunks."""
    try:
        with _open_bytes(path) as f:
            yield from iter(lambda: f.read(CHUNK), b"")
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        problem = ("it is not a readable gzip-compressed file" if _is_gzip(path)
                   else "it could not be read")
        raise file_error(display, f"{problem} ({e}).") from e


def _check_text(head: bytes, display: Path) -> None:
    """Raise LoadError when the first bytes are binary data or an HTML/XML page."""
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if b"\x00" in head or control > max(2, len(head) // 100):
        raise file_error(display, "it is not a CSV file (it contains binary data).")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(MARKUP_STARTS):
        raise file_error(
            display,
            "it is not a CSV file but an HTML/XML page (perhaps an error or login page "
            "saved instead of the extract).",
        )


def _is_utf8(first: bytes, rest: Iterator[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(first)
        for chunk in rest:
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _transcode_cp1252(path: Path, display: Path, tmp: Path) -> Path:
    """A UTF-8 copy of a Windows-1252 file in ``tmp``; LoadError (with the byte offset and
    line) at the first byte that Windows-1252 leaves undefined."""
    out = tmp / (_path_key(path) + ".csv")
    offset = 0
    line = 1
    with out.open("w", encoding="utf-8", newline="") as w:
        for chunk in _chunks(path, display):
            bad = next((i for i, b in enumerate(chunk) if b in CP1252_UNDEFINED), None)
            if bad is not None:
                line += chunk[:bad].count(b"\n")
                raise file_error(
                    display,
                    f"it contains bytes that are neither UTF-8 nor Windows-1252 (byte 0x"
                    f"{chunk[bad]:02X} at byte offset {offset + bad}, line "
                    f"{line}); re-export it as UTF-8.",
                )
            w.write(chunk.decode("cp1252"))
            offset += len(chunk)
            line += chunk.count(b"\n")
    return out
