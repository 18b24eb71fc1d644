"""The landing zone (pipeline/landing_zone.py): the landing tables as Parquet, one file per
source file, written again only when that file changed."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.landing_zone import export, file_name


def warehouse(path: Path, files: dict[str, tuple[str, int, list[str]]]) -> Path:
    """A warehouse with raw.interactions rows per source file {file: (sha256, rank, ids)}, an
    empty raw.kb_views and raw.rejects, and the load audit."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute("CREATE OR REPLACE TABLE raw.interactions (interaction_id VARCHAR, started_at TIMESTAMPTZ, "
                    "_source_file VARCHAR, _source_line BIGINT, _delivery_rank INTEGER)")
        con.execute("CREATE OR REPLACE TABLE raw.kb_views (date DATE, views BIGINT, _source_file VARCHAR, "
                    "_source_line BIGINT, _delivery_rank INTEGER)")
        con.execute("CREATE OR REPLACE TABLE raw.rejects (source_file VARCHAR, line BIGINT, \"column\" VARCHAR)")
        con.execute("CREATE OR REPLACE TABLE raw.load_audit (source_file VARCHAR, entity VARCHAR, sha256 VARCHAR, "
                    "delivery_rank INTEGER)")
        for name, (sha, rank, ids) in files.items():
            con.execute("INSERT INTO raw.load_audit VALUES (?, 'interactions', ?, ?)", [name, sha, rank])
            for line, i in enumerate(ids, 2):
                con.execute("INSERT INTO raw.interactions VALUES (?, TIMESTAMPTZ '2024-03-10 07:00:00+00', ?, ?, ?)",
                            [i, name, line, rank])
    return path


def read(folder: Path) -> list[tuple]:
    with duckdb.connect() as con:
        con.execute("SET TimeZone='UTC'")
        return con.execute(f"SELECT interaction_id, _source_file, _delivery_rank FROM read_parquet('{folder}/*.parquet') "
                           "ORDER BY ALL").fetchall()


def test_one_file_per_source_file_and_every_table_has_its_columns(tmp_path: Path) -> None:
    db = warehouse(tmp_path / "w.duckdb", {"2024/interactions_2024.csv": ("a", 1, ["i1", "i2"]),
                                           "2024/interactions_2024_b.csv": ("b", 2, ["i2"])})
    counts = export(db, tmp_path / "landing")
    assert counts == {"written": 5, "kept": 0, "removed": 0}
    names = sorted(p.name for p in (tmp_path / "landing" / "interactions").iterdir())
    assert names == sorted([file_name("2024/interactions_2024.csv"), file_name("2024/interactions_2024_b.csv")])
    assert read(tmp_path / "landing" / "interactions") == [
        ("i1", "2024/interactions_2024.csv", 1), ("i2", "2024/interactions_2024.csv", 1),
        ("i2", "2024/interactions_2024_b.csv", 2)]
    with duckdb.connect() as con:  # empty tables: one empty file with the columns
        empty = con.execute(f"SELECT * FROM read_parquet('{tmp_path}/landing/kb_views/*.parquet')")
        assert [d[0] for d in empty.description][:2] == ["date", "views"] and empty.fetchall() == []
        rejects = con.execute(f"SELECT * FROM read_parquet('{tmp_path}/landing/rejects/*.parquet')")
        assert [d[0] for d in rejects.description] == ["source_file", "line", "column"]


def test_an_unchanged_file_is_not_written_again(tmp_path: Path) -> None:
    files = {"2024/interactions_2024.csv": ("a", 1, ["i1"]), "2024/interactions_2024_b.csv": ("b", 2, ["i2"])}
    db = warehouse(tmp_path / "w.duckdb", files)
    export(db, tmp_path / "landing")
    kept = tmp_path / "landing" / "interactions" / file_name("2024/interactions_2024.csv")
    changed = tmp_path / "landing" / "interactions" / file_name("2024/interactions_2024_b.csv")
    before = kept.stat().st_mtime_ns, kept.stat().st_ino
    # b changes, a third file arrives
    warehouse(db, {**files, "2024/interactions_2024_b.csv": ("b2", 2, ["i2", "i3"]),
                   "2024/interactions_2024_c.csv": ("c", 3, ["i4"])})
    counts = export(db, tmp_path / "landing")
    assert (kept.stat().st_mtime_ns, kept.stat().st_ino) == before
    assert counts["written"] == 3 and counts["removed"] == 0  # b, c and the load audit
    assert len(read(changed.parent)) == 4
    # a file removed from the raw folder leaves the landing zone too; a re-ranked file is rewritten
    warehouse(db, {"2024/interactions_2024.csv": ("a", 2, ["i1"])})
    counts = export(db, tmp_path / "landing")
    assert counts["removed"] == 2
    assert read(kept.parent) == [("i1", "2024/interactions_2024.csv", 2)]


def test_file_names_are_flat_visible_and_distinct() -> None:
    a, b = file_name("2024/_interactions.csv"), file_name("2024/.interactions.csv")
    assert "/" not in a and not a.startswith(("_", ".")) and a.endswith(".parquet")
    assert a != b and not b.startswith(("_", "."))
