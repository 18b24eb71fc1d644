"""The shared test helpers' own failure modes (tests/support/): a wait that times out says so."""

from __future__ import annotations

import time

import pytest

from tests.support.polling import wait_until


def test_wait_until_returns_once_the_condition_holds() -> None:
    looks = []
    start = time.monotonic()
    wait_until(lambda: looks.append(1) or len(looks) == 3, 5, "the third look")
    assert len(looks) == 3
    assert time.monotonic() - start < 2  # two pauses of 50 ms, not the deadline


def test_wait_until_fails_at_the_deadline_naming_what_it_awaited() -> None:
    start = time.monotonic()
    with pytest.raises(AssertionError, match=r"^timed out after 0.2 s waiting for the flag$"):
        wait_until(lambda: False, 0.2, "the flag")
    assert 0.2 <= time.monotonic() - start < 2
    with pytest.raises(AssertionError, match=r"waiting for pids \[7\] to exit$"):
        wait_until(lambda: False, 0.1, lambda: "pids [7] to exit")
