"""Shared pytest fixtures: a temporary raw folder, a warehouse path, a CSV writer, and the
session's one real load and ``dbt build`` of the end-to-end extracts (``pipeline_build``),
reused by every test that only reads it; and how pytest-xdist shares the tests out."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.integration.extracts import write_extracts


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    """An empty raw-extract folder (the pipeline's ``raw/``)."""
    d = tmp_path / "raw"
    d.mkdir()
    return d


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a not-yet-created DuckDB warehouse file."""
    return tmp_path / "output" / "warehouse.duckdb"


def write_text_file(
    path: Path,
    text: str,
    encoding: str = "utf-8",
    mtime: float | None = None,
) -> Path:
    """Write ``text`` (dedented; surrounding blank lines stripped, one trailing newline).

    ``encoding`` is any Python codec (e.g. ``utf-8-sig`` or ``cp1252``); ``mtime`` sets the
    modification time (seconds since the epoch), which decides delivery order.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    body = textwrap.dedent(text).strip("\n") + "\n"
    with path.open("w", encoding=encoding, newline="") as f:
        f.write(body)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def write_csv(raw_dir: Path) -> Callable[..., Path]:
    """``write_csv("2024/interactions.csv", text, encoding=..., mtime=...)`` under raw_dir."""

    def _write(rel: str, text: str, encoding: str = "utf-8", mtime: float | None = None) -> Path:
        return write_text_file(raw_dir / rel, text, encoding=encoding, mtime=mtime)

    return _write


@pytest.fixture(scope="session")
def pipeline_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(raw, output) after `report --year 2024` on the hand-made extracts.

    dbt's run_results.json of this production build is kept as
    ``output/production_run_results.json`` (later dbt commands overwrite the original)."""
    raw = tmp_path_factory.mktemp("raw")
    output = tmp_path_factory.mktemp("output")
    write_extracts(raw)
    # 1 bad row (channel 'fax') of 12 is over the default 1% limit; allow it for this fixture.
    code = main(
        ["report", "--year", "2024", "--raw", str(raw), "--output", str(output), "--max-reject-rate", "0.5"]
    )
    assert code == 0
    shutil.copyfile(output / "dbt_target" / "run_results.json", output / "production_run_results.json")
    return raw, output


# The test modules that read the session's built warehouse (pipeline_build above).
SHARED_BUILD = frozenset({"tests/integration/test_pipeline.py", "tests/integration/test_transform.py",
                          "tests/slow/test_reruns.py"})
# The unit modules that draw the report's charts: on one worker, they share its vl-convert
# start-up and the charts it has drawn (``pipeline.report.charts.draw_spec`` is cached).
CHART_DRAWING = frozenset({"tests/unit/test_charts.py", "tests/unit/test_documents.py",
                           "tests/unit/test_events.py", "tests/unit/test_narrative.py",
                           "tests/unit/test_front_matter.py"})
# Under pytest-xdist, each of these groups of modules runs on one worker.
SAME_WORKER = {"pipeline_build": SHARED_BUILD, "chart_drawing": CHART_DRAWING}


# The longest modules (seconds to minutes each), longest first: with pytest-xdist they start
# first, and the short modules fill in around them, so no worker idles at the end.
LONGEST_FIRST = (
    "tests/slow/test_spark.py", "tests/slow/test_faults.py", "tests/slow/test_fuzz_load.py",
    "tests/slow/test_bench.py", "tests/slow/test_full_disk.py", "tests/slow/test_delivery_order.py",
    "tests/slow/test_reference_changes.py", "tests/slow/test_incremental.py", "tests/integration/test_render.py", "tests/integration/test_pipeline.py",
    "tests/integration/test_transform.py", "tests/slow/test_reruns.py", "tests/integration/test_bia.py", "tests/integration/test_preview.py",
    "tests/integration/test_sr_only_year.py",
    "tests/slow/test_open_data.py", "tests/slow/test_preview_rebuild.py",
    "tests/unit/test_charts.py", "tests/unit/test_documents.py", "tests/unit/test_events.py",
    "tests/unit/test_narrative.py", "tests/unit/test_front_matter.py",
    "tests/unit/test_ingest.py", "tests/unit/test_ingest_defects.py", "tests/unit/test_ingest_catalogue.py",
)


def _module(nodeid: str) -> str:
    """'tests/unit/test_x.py::test_y[1]' → 'tests/unit/test_x.py'."""
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the LONGEST_FIRST modules first (each module's tests stay together, in order), and
    fail when a module that is not in SHARED_BUILD reads the session's built warehouse: it
    could run on another worker and write that build's output folder at the same time."""
    readers = {_module(item.nodeid) for item in items if "pipeline_build" in item.fixturenames}
    if readers - SHARED_BUILD:
        raise pytest.UsageError(f"add {sorted(readers - SHARED_BUILD)} to SHARED_BUILD in tests/conftest.py")
    rank = {module: i for i, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_module(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """pytest-xdist (``make test`` runs ``-n 2``): each test module on one worker, so its
    module-scoped fixtures (a rendered report, a browser, a BIA build) are made once; each
    SAME_WORKER group on one worker together, so the session's build is made once too, and
    the charts are drawn once."""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False  # keep the order above, not "most tests first"

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = _module(nodeid)
            return next((group for group, modules in SAME_WORKER.items() if module in modules), module)

    return ModuleScheduling(config, log)
