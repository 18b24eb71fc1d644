"""A CSV extract's bytes: opening ``.gz`` and ``.zip`` files, checking that the bytes are text,
detecting the encoding and finding the rows (:mod:`.csv_scan`), in one pass.

Encoding rule: a file that is valid UTF-8 is UTF-8 (``utf-8``, or ``utf-8-sig`` with a
byte-order mark). A file with a UTF-8 byte-order mark, or with at least one valid multi-byte
UTF-8 character, is UTF-8 even when some bytes are invalid: the rows holding them are rejected
("invalid UTF-8 at byte N of the value") and the rest loads as UTF-8. Only a file with no valid
multi-byte UTF-8 character at all is read as Windows-1252 (``cp1252``, transcoded to a UTF-8
copy); a byte that Windows-1252 leaves undefined is then a file error.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from .csv_scan import Structure, scan
from .errors import file_error

CHUNK = 1 << 20
HEAD = 65536  # bytes looked at to tell text from binary data or an HTML page
CP1252_UNDEFINED = re.compile(b"[\x81\x8d\x8f\x90\x9d]")
MARKUP_STARTS = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # also the start of the UTF-32 ones
MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")  # a character decoded from 2-4 bytes


@dataclass
class CsvText:
    """A CSV file ready to be parsed."""

    path: Path  # what to parse: the delivered file, its copy from a zip, or a UTF-8 copy
    display: Path  # the delivered file, named in messages
    encoding: str  # utf-8 | utf-8-sig | cp1252
    skip: int  # bytes before the text (a byte-order mark)
    bad_utf8: bool  # UTF-8 with some invalid bytes: their rows are rejected
    structure: Structure

    @property
    def gzipped(self) -> bool:
        return _is_gzip(self.path)

    def open(self) -> IO[bytes]:
        """The bytes (decompressed), positioned after the byte-order mark."""
        f = _open_bytes(self.path)
        f.read(self.skip)
        return f


def inspect_csv(path: Path, display: Path, tmp: Path) -> CsvText:
    """Check a CSV's bytes, find its encoding and rows.

    Raises LoadError for an empty file, binary content, an HTML page, UTF-16 text, bytes that
    are neither UTF-8 nor Windows-1252, and a quoted field that is never closed. ``display`` is
    the path named in messages (the delivered file, when ``path`` was extracted from a zip).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid, bom, text_seen = True, False, False

    def text_chunks() -> Iterator[bytes]:
        nonlocal valid, bom, text_seen
        for i, chunk in enumerate(_chunks(path, display)):
            if i == 0:
                if chunk.startswith(UTF16_BOMS):
                    raise file_error(display, "it is UTF-16 (or UTF-32) text; save it as CSV UTF-8.")
                bom = chunk.startswith(codecs.BOM_UTF8)
                chunk = chunk[len(codecs.BOM_UTF8):] if bom else chunk
            if not text_seen and chunk.strip():
                _check_text(chunk[:HEAD], display)
                text_seen = True
            valid = valid and _decodes(decoder, chunk)
            yield chunk

    structure = scan(text_chunks())
    if not text_seen:
        raise file_error(display, "the file is empty.")
    valid = valid and _decodes(decoder, b"", final=True)
    _check_quotes(structure, display)
    skip = len(codecs.BOM_UTF8) if bom else 0
    encoding = "utf-8-sig" if bom else "utf-8"
    if valid or bom or _has_multibyte(path, display):
        return CsvText(path, display, encoding, skip, not valid, structure)
    copy = _transcode_cp1252(path, display, tmp, structure)
    return CsvText(copy, display, "cp1252", 0, False, scan(_chunks(copy, display)))


def prepare_csv(path: Path, display: Path, tmp: Path) -> tuple[Path, str]:
    """(path of the UTF-8 text to read, encoding) of a CSV file: see :func:`inspect_csv`."""
    text = inspect_csv(path, display, tmp)
    return text.path, text.encoding


def _decodes(decoder: codecs.IncrementalDecoder, chunk: bytes, final: bool = False) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def _check_quotes(structure: Structure, display: Path) -> None:
    """LoadError for a quoted field that is still open at the end of the file."""
    line = structure.open_quote_line
    if line is None:
        return
    last = structure.physical_lines
    rest = f"line {line}" if last <= line else f"lines {line} to {last}"
    raise file_error(
        display,
        f"the quoted field that starts on line {line} is never closed (no closing quote before "
        f"the end of the file), so the rest of the file ({rest}) cannot be split into rows. "
        "Add the missing quote (or remove the stray one) and export the file again.",
    )


def _has_multibyte(path: Path, display: Path) -> bool:
    """True when the (not valid UTF-8) file holds at least one valid multi-byte UTF-8 character."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    return any(MULTIBYTE.search(decoder.decode(chunk)) for chunk in _chunks(path, display))


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
    if control > max(2, len(head) // 100):  # a NUL or two in a field only reject their rows
        raise file_error(display, "it is not a CSV file (it contains binary data).")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(MARKUP_STARTS):
        raise file_error(
            display,
            "it is not a CSV file but an HTML/XML page (perhaps an error or login page "
            "saved instead of the extract).",
        )


def _transcode_cp1252(path: Path, display: Path, tmp: Path, structure: Structure) -> Path:
    """A UTF-8 copy of a Windows-1252 file in ``tmp``; LoadError (with the byte offset and the
    line where its row starts) at the first byte that Windows-1252 leaves undefined."""
    out = tmp / (_path_key(path) + ".csv")
    offset = 0
    with out.open("w", encoding="utf-8", newline="") as w:
        for chunk in _chunks(path, display):
            found = CP1252_UNDEFINED.search(chunk)
            if found:
                at = offset + found.start()
                row = max(0, int(np.searchsorted(structure.starts, at, side="right")) - 1)
                line = int(structure.lines[row]) if len(structure.lines) else 1
                raise file_error(
                    display,
                    f"it contains bytes that are neither UTF-8 nor Windows-1252 (byte 0x"
                    f"{chunk[found.start()]:02X} at byte offset {at}, in the row that starts on "
                    f"line {line}); re-export it as UTF-8.",
                )
            w.write(chunk.decode("cp1252"))
            offset += len(chunk)
    return out
