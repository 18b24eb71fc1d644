"""A JSON extract's rows: a JSON array of objects (also gzip-compressed), or an object whose
``service_requests`` member is that array (Toronto's Open311 feed), read by DuckDB's built-in
JSON reader, which streams the array: a file larger than memory still loads.

The object form is first copied to a temporary file holding only the array, a chunk at a time
(the member must be the object's last, as GeoReport v2 servers write it). Every field is read
as text; a row's line is its position in the array (1 for the first request). Malformed JSON is
a file error naming the byte offset where the file stops being JSON.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path
from typing import IO

import duckdb

from ..contract import SourceFile
from .errors import LoadError, duck_message, file_error
from .sql import ql

CHUNK = 1 << 20
MEMBER = re.compile(rb'^\s*\{\s*"service_requests"\s*:\s*\[')
# the largest file whose malformed JSON is parsed again in Python to find the exact byte offset
EXACT_OFFSET_LIMIT = 256 << 20


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")


def array_file(sf: SourceFile, tmp: Path) -> tuple[Path, int]:
    """(a file holding the JSON array, the byte offset of its first byte in the original
    decompressed text): the file itself when it is an array."""
    with _open(sf.path) as f:
        try:
            head = f.read(4096)
        except (OSError, EOFError) as e:
            raise file_error(sf.path, f"it could not be read as gzip-compressed JSON ({e}).") from e
        start = len(head) - len(head.lstrip())
        if not head.strip():
            raise file_error(sf.path, "the file is empty.")
        if head[start:start + 1] == b"[":
            return sf.path, 0
        found = MEMBER.match(head)
        if not found:
            raise file_error(sf.path, "it is not an Open311 request list: expected a JSON array of requests, "
                                      'or an object whose "service_requests" member is that array.')
        offset = found.end() - 1
        out = tmp / f"{sf.sha256[:16]}.json"
        with out.open("wb") as dst:
            dst.write(head[offset:])
            shutil.copyfileobj(f, dst, CHUNK)
    _cut_after_array(sf, out)
    return out, offset


def _cut_after_array(sf: SourceFile, path: Path) -> None:
    """Drop the object's closing brace after the array (only whitespace may surround it)."""
    with path.open("r+b") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - 4096))
        tail = f.read()
        stripped = tail.rstrip()
        if not stripped.endswith(b"}"):
            raise file_error(sf.path, "the JSON object does not end with a closing brace: the file is cut short.")
        body = stripped[:-1].rstrip()
        if not body.endswith(b"]"):
            raise file_error(sf.path, 'the "service_requests" array must be the object\'s last member.')
        f.truncate(size - len(tail) + len(body))


def relation(path: Path, fields: list[str]) -> str:
    """DuckDB's reader of the array's objects, each field as text (others never read)."""
    columns = "{" + ", ".join(f"{ql(name)}: 'VARCHAR'" for name in fields) + "}"
    return (f"read_json({ql(str(path))}, format='array', columns={columns}, "
            "maximum_object_size=16777216)")


def malformed(sf: SourceFile, e: duckdb.Error, array: Path, offset: int) -> LoadError:
    """A file error for JSON DuckDB could not read: the byte offset where it stops being JSON
    (exact, from Python's parser, for files up to EXACT_OFFSET_LIMIT)."""
    message = duck_message(e)
    if "Malformed JSON" not in message and "JSON" not in message:
        return file_error(sf.path, f"it could not be read as JSON ({message}).")
    where = None
    if array.stat().st_size <= EXACT_OFFSET_LIMIT:
        with _open(array) if array == sf.path else array.open("rb") as f:
            raw = f.read()
        try:
            json.loads(raw)
        except json.JSONDecodeError as err:
            where = offset + len(raw.decode("utf-8", errors="replace")[:err.pos].encode("utf-8"))
            reason = err.msg
        except UnicodeDecodeError as err:
            where, reason = offset + err.start, "not UTF-8"
        else:
            return file_error(sf.path, f"its requests could not be read ({message}).")
    if where is None:
        return file_error(sf.path, f"it is not valid JSON ({message}).")
    return file_error(sf.path, f"it is not valid JSON at byte {where:,} (counting from 0): {reason}.")
