"""The report templates' Jinja environment (pipeline/report/environment.py)."""

from __future__ import annotations

import jinja2
import pytest

from pipeline.report.environment import ENV


def test_environment_is_strict_and_escaping():
    env = ENV
    assert env.autoescape is True
    assert env.trim_blocks and env.lstrip_blocks
    assert {"thousands", "pct", "hms", "signed_pct"} <= set(env.filters)

    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ nope }}").render()
