"""requirements/lock.py: the check `make test` and `make install` run before anything else."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lock_module(tmp_path: Path):
    """lock.py working on copies of pyproject.toml and requirements/ in tmp_path."""
    (tmp_path / "requirements").mkdir()
    for name in ("default", "test", "spark"):
        shutil.copy(ROOT / "requirements" / f"{name}.txt", tmp_path / "requirements" / f"{name}.txt")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    spec = importlib.util.spec_from_file_location("lock", ROOT / "requirements" / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.HERE, module.PYPROJECT = tmp_path / "requirements", tmp_path / "pyproject.toml"
    return module


def test_the_committed_lock_matches_pyproject(tmp_path):
    assert _lock_module(tmp_path).problems() == []


def test_a_changed_pin_is_named(tmp_path):
    lock = _lock_module(tmp_path)
    text = lock.PYPROJECT.read_text(encoding="utf-8")
    lock.PYPROJECT.write_text(text.replace('"click==8.5.1"', '"click==8.5.0"'), encoding="utf-8")
    with pytest.raises(lock.LockError) as e:
        lock.check()
    message = str(e.value)
    assert message.startswith("error: the dependency lock does not match pyproject.toml (")
    # the digest differs in all three layers, and the pin is named in each
    for layer in ("default", "test", "spark"):
        assert f"requirements/{layer}.txt was made from another pyproject.toml" in message
        assert f"pyproject.toml pins click==8.5.0, requirements/{layer}.txt has 8.5.1" in message
    assert message.endswith("Run `make lock` to resolve it again, then commit pyproject.toml and requirements/ together.")


def test_a_new_extra_dependency_and_a_missing_layer_are_named(tmp_path):
    lock = _lock_module(tmp_path)
    text = lock.PYPROJECT.read_text(encoding="utf-8")
    lock.PYPROJECT.write_text(text.replace('"pyspark==4.3.0",', '"pyspark==4.3.0",\n  "delta-spark==4.0.0",'),
                              encoding="utf-8")
    (lock.HERE / "default.txt").unlink()
    found = lock.problems()
    assert found == [
        "requirements/default.txt is missing",
        "requirements/test.txt was made from another pyproject.toml",
        "requirements/spark.txt was made from another pyproject.toml",
        "pyproject.toml pins delta-spark==4.0.0, requirements/spark.txt has nothing",
    ]


def test_a_lint_setting_does_not_stale_the_lock(tmp_path):
    lock = _lock_module(tmp_path)
    text = lock.PYPROJECT.read_text(encoding="utf-8")
    lock.PYPROJECT.write_text(text.replace("line-length = 110", "line-length = 100"), encoding="utf-8")
    assert lock.problems() == []
