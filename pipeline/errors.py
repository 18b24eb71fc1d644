"""The one error type of the pipeline.

Every expected failure (a bad extract, a malformed override, a narrative error, dbt failing,
a missing argument) is a :class:`CxError`. Its message is one paragraph for the analyst: what
went wrong, where (file, line and column when they apply) and what to do. The CLI prints it
and exits with ``exit_code``; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import re


class CxError(Exception):
    """An expected failure, explained to the user in one paragraph."""

    exit_code = 1


class UsageError(CxError):
    """The command was given an argument it cannot work with (exit status 2)."""

    exit_code = 2


# A full disk, however it is reported: the operating system's errno text, which DuckDB and dbt
# repeat in their own messages ('Could not write file "<path>": No space left on device',
# "[Errno 28] No space left on device: '<path>'").
NO_SPACE = "No space left on device"
_NAMED_PATHS = (re.compile(r'"([^"]+)": No space left on device'),
                re.compile(r"No space left on device: '([^']+)'"),
                re.compile(r'file "([^"]+)"'))


def full_disk_path(text: str) -> str | None:
    """The file a 'No space left on device' message names ('' when it names none); None when
    ``text`` is not about a full disk."""
    if NO_SPACE not in text:
        return None
    for pattern in _NAMED_PATHS:
        found = pattern.search(text)
        if found:
            return found.group(1)
    return ""


def disk_full(path: object = None, doing: str = "") -> str:
    """The one message for a full disk: what could not be written, and what to do."""
    where = f": could not write {path}" if path else ""
    return f"The disk is full{where}{f' ({doing})' if doing else ''}. Free some space and run again."
