"""The one error type of the pipeline.

Every expected failure (a bad extract, a malformed override, a narrative error, dbt failing,
a missing argument) is a :class:`CxError`. Its message is one paragraph for the analyst: what
went wrong, where (file, line and column when they apply) and what to do. The CLI prints it
and exits with ``exit_code``; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class CxError(Exception):
    """An expected failure, explained to the user in one paragraph."""

    exit_code = 1


class UsageError(CxError):
    """The command was given an argument it cannot work with (exit status 2)."""

    exit_code = 2
