"""The bench's names, in one place: the report year and BIA month it times, the stages' names
(the JSON, the baseline and the README's tables key on them: keep them stable), the floors,
and the names of its result files."""

from __future__ import annotations

import os

YEAR = 2024
BIA_MONTH = "2024-07"
SKIPPABLE = ("report", "bia", "incremental", "e2e", "mapped")
NO_BUDGET = "no budget at this scale"

QUERY_FLOOR_STAGE = "floor: DuckDB query on the Parquet files"
COPY_FLOOR_STAGE = "copy floor: DuckDB copies the Parquet files into tables"
DBT_NOOP_STAGE = "dbt no-op build: dbt build selecting nothing"
RENDER_INPUTS_STAGE = "render floor: the three documents' print HTML (untimed input)"
RENDER_FLOOR_STAGE = "render floor: bare WeasyPrint, the three documents 2 at a time, + their charts"
BIA_FLOOR_STAGE = "BIA PDF floor: bare WeasyPrint, one BIA report"
LOAD_STAGE = "load"
DBT_STAGE = "dbt build"
DBT_UNIT_STAGE = "dbt unit tests: dbt test --select test_type:unit"
MONTH_LOAD_STAGE = "one new month: load"
MONTH_DBT_STAGE = "one new month: dbt build"
E2E_STAGE = "cold python -m pipeline report (end to end)"
RERUN_REPORT = "rerun, nothing new: python -m pipeline report"
SENTENCE_REPORT = "rerun, one narrative sentence changed: python -m pipeline report"
PREVIEW_STAGE = "preview: the HTML rendered again after a narrative save (median of 5)"
MAPPED_CSV_STAGE = "mapped load: contract CSV"
MAPPED_STAGE = "mapped load: through a mapping"

# The floors a stage's time is divided by (each stage names its own: ``Bench.child(floor=…)``).
# ``report`` and ``bia_batch`` are made of the others: see ``benchmarks.ratios.floor_values``.
FLOORS = {
    "query": "query floor",
    "copy": "copy floor",
    "dbt_noop": "dbt no-op build",
    "render": "render floor",
    "report": "copy + dbt no-op + render floors",
    "bia_batch": "BIAs × BIA PDF floor ÷ workers",
}


def scale_name(scale: float) -> str:
    """Folder/file name of a scale: 1 → '1', 10.0 → '10', 0.002 → '0.002'."""
    return f"{scale:g}"


def engine() -> str:
    """The engine the dbt models run on (``--engine``, passed to every stage as CX311_ENGINE)."""
    return os.environ.get("CX311_ENGINE", "duckdb")


def result_name(scale: float, engine_name: str | None = None) -> str:
    """``<scale>.json``, or ``<scale>-spark.json`` for a run on Spark."""
    name = engine_name or engine()
    return scale_name(scale) + ("" if name == "duckdb" else f"-{name}") + ".json"
