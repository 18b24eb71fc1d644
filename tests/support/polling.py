"""Waiting for a condition without guessing how long it takes: poll it every 50 ms up to a
deadline, and fail with a message that says what was awaited (and what was seen)."""

from __future__ import annotations

import time
from collections.abc import Callable

INTERVAL = 0.05  # seconds between two looks


def wait_until(condition: Callable[[], object], timeout: float, what: str | Callable[[], str],
               interval: float = INTERVAL) -> None:
    """Return as soon as ``condition()`` is true; raise AssertionError after ``timeout`` seconds.

    ``what`` describes the awaited state for the message ("the run's children to exit"), or is
    a function giving it at the deadline, when it can name what is still wrong."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"timed out after {timeout:g} s waiting for {described}")
        time.sleep(interval)
