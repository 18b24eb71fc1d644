"""The bench's input data: the demo data set at a scale (reused when it matches), the month of
new files, hard-linked copies of the raw folder, the narrative sentence of the rerun, and the
rows of each entity."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path
from typing import Any


def demo_matches(raw_dir: Path, scale: float, seed: int) -> bool:
    """True when ``raw_dir`` holds a complete demo data set generated with ``scale`` and ``seed``
    (the generator writes DEMO_DATA.md last) in the generator's current Parquet layout (row
    groups of at most ``demo.ROW_GROUP_ROWS`` rows: older sets are read more slowly)."""
    import pyarrow.parquet as pq

    from pipeline.demo.dataset import ROW_GROUP_ROWS

    marker = raw_dir / "DEMO_DATA.md"
    if not marker.is_file():
        return False
    m = re.search(r"seed (\d+) and scale ([0-9.eE+-]+)", marker.read_text(encoding="utf-8"))
    if not m or int(m.group(1)) != seed or abs(float(m.group(2)) - scale) > 1e-12:
        return False
    files = [raw_dir / str(y) / f"{entity}_{y}.parquet"
             for y in (2023, 2024) for entity in ("interactions", "service_requests", "kb_views")]
    if not all(f.is_file() for f in files):
        return False
    meta = pq.read_metadata(files[0])
    return all(meta.row_group(i).num_rows <= ROW_GROUP_ROWS for i in range(meta.num_row_groups))


def parquet_files(raw_dir: Path, entity: str) -> list[str]:
    """The entity's Parquet extracts in the year folders, sorted."""
    return sorted(
        str(p) for p in Path(raw_dir).glob(f"[0-9][0-9][0-9][0-9]/{entity}*.parquet") if p.is_file()
    )


def write_extra_month(raw_dir: Path, days: int = 7) -> list[Path]:
    """One month of new files: ``2025/{interactions,service_requests}_2025-01.parquet``, the
    first ``days`` days of January 2024 shifted by a year, with new ids (``2024-`` → ``2025-``)."""
    import duckdb

    folder = Path(raw_dir) / "2025"
    folder.mkdir(parents=True, exist_ok=True)
    src = {e: parquet_files(raw_dir, e) for e in ("interactions", "service_requests")}
    src = {e: [f for f in files if "/2024/" in f.replace(os.sep, "/")] for e, files in src.items()}
    out = [folder / "interactions_2025-01.parquet", folder / "service_requests_2025-01.parquet"]
    shift = "INTERVAL 1 YEAR"

    def gap(x: str) -> str:  # a local time shifted into the 2025 spring-forward gap moves out of it
        return (f"CASE WHEN {x} >= TIMESTAMP '2025-03-09 02:00' AND {x} < TIMESTAMP '2025-03-09 03:00' "
                f"THEN {x} + INTERVAL 1 HOUR ELSE {x} END")

    with duckdb.connect() as con:
        con.execute("SET autoinstall_known_extensions=false; SET autoload_known_extensions=false")
        con.execute(
            f"COPY (SELECT * REPLACE (replace(interaction_id, '2024-', '2025-') AS interaction_id, "
            f"started_at + {shift} AS started_at, responded_at + {shift} AS responded_at, "
            f"replace(sr_id, '2024-', '2025-') AS sr_id) "
            f"FROM read_parquet(?) WHERE started_at < TIMESTAMP '2024-01-01' + INTERVAL {days} DAY "
            f"ORDER BY started_at) TO '{out[0]}' (FORMAT parquet)",
            [src["interactions"]],
        )
        con.execute(
            f"COPY (SELECT * REPLACE (replace(sr_id, '2024-', '2025-') AS sr_id, "
            f"created_at + {shift} AS created_at, {gap('closed_at + ' + shift)} AS closed_at) "
            f"FROM read_parquet(?) WHERE created_at < TIMESTAMP '2024-01-01' + INTERVAL {days} DAY "
            f"ORDER BY created_at) TO '{out[1]}' (FORMAT parquet)",
            [src["service_requests"]],
        )
    return out


def link_tree(src: Path, dst: Path) -> None:
    """A copy of ``src`` made of hard links (a plain copy where linking is not possible);
    the links keep content and modification time, so the loader sees the same files."""
    if dst.exists():
        shutil.rmtree(dst)
    for root, _dirs, files in os.walk(src):
        target = dst / Path(root).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            try:
                os.link(Path(root) / name, target / name)
            except OSError:
                shutil.copy2(Path(root) / name, target / name)


def write_sentence(raw: Path, year: int, sentence: str | None) -> None:
    """Write (or, with None, remove) ``raw/narrative/<year>/highlights.md``."""
    path = Path(raw) / "narrative" / str(year) / "highlights.md"
    if sentence is None:
        path.unlink(missing_ok=True)
        for folder in (path.parent, path.parent.parent):
            with contextlib.suppress(OSError):
                folder.rmdir()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sentence + "\n", encoding="utf-8")


def row_counts(raw: Path) -> dict[str, Any]:
    """Rows of each entity's generated files (informative only: an error is reported, not raised)."""
    counts: dict[str, Any] = {}
    try:
        import duckdb

        with duckdb.connect() as con:
            for entity in ("interactions", "service_requests", "kb_views"):
                files = parquet_files(raw, entity)
                counts[entity] = con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchone()[0] \
                    if files else 0
    except Exception as e:  # noqa: BLE001 - row counts are informative only
        counts = {"error": str(e)}
    return counts
