"""Which files a run loads, compared with the previous load (``raw.load_audit``).

Per entity, the files whose (path, SHA-256) sequence in delivery order matches the previous
load are skipped (only their rank is updated if it moved); from the first difference on, the
old rows are deleted and the files are (re)loaded. A file's rows are its landing rows, its
rejects, its notes and its audit row.
"""

from __future__ import annotations

import duckdb

from ..contract import ENTITIES, RAW_SCHEMA, SourceFile


def reconcile(con: duckdb.DuckDBPyConnection, files: list[SourceFile],
              reload_all: bool = False) -> tuple[list[SourceFile], list[str]]:
    """Delete the rows of changed and removed files, re-rank the unchanged ones; return the
    files to load (in delivery order) and the skipped files' paths (sorted). With
    ``reload_all`` no file counts as unchanged: every previous file's rows are deleted and
    every file is loaded."""
    previous = con.execute(
        "SELECT source_file, entity, sha256, delivery_rank FROM raw.load_audit "
        "ORDER BY delivery_rank"
    ).fetchall()
    # a mapped file read through another mapping than its current one is read again
    read_through = {f: n for f, n in con.execute(
        "SELECT source_file, note FROM raw.load_notes WHERE note LIKE 'read through the mapping %'").fetchall()}
    stale = {s.rel for s in files if s.mapping is not None and read_through.get(s.rel) != mapping_note(s)}
    to_load: list[SourceFile] = []
    skipped: list[str] = []
    for entity in ENTITIES:
        old = [(f, sha, rank) for f, e, sha, rank in previous if e == entity]
        new = [s for s in files if s.entity == entity]
        k = 0 if reload_all else unchanged_prefix([(f, sha) for f, sha, _ in old], new, stale)
        for f, _sha, _rank in old[k:]:
            forget(con, entity, f)
        old_rank = {f: rank for f, _sha, rank in old}
        for sf in new[:k]:
            skipped.append(sf.rel)
            if old_rank.get(sf.rel) != sf.rank:
                rerank(con, sf)
        to_load.extend(new[k:])
    return sorted(to_load, key=lambda s: s.rank), sorted(skipped)


def unchanged_prefix(old: list[tuple[str, str]], new: list[SourceFile], stale: set[str] | None = None) -> int:
    """How many files at the start of ``new`` match ``old`` (path and SHA-256), in order; a
    file in ``stale`` (its mapping changed) ends the prefix."""
    k = 0
    while (k < len(old) and k < len(new) and old[k] == (new[k].rel, new[k].sha256)
           and new[k].rel not in (stale or ())):
        k += 1
    return k


def mapping_note(sf: SourceFile) -> str:
    """The load note naming the mapping (and its digest) a mapped file was read through."""
    assert sf.mapping is not None
    return f"read through the mapping {sf.mapping.rel} (sha256 {sf.mapping.digest[:12]})"


def forget(con: duckdb.DuckDBPyConnection, entity: str, source_file: str) -> None:
    """Delete a previously loaded file's rows, rejects, notes and audit row."""
    con.execute(f"DELETE FROM {RAW_SCHEMA}.{entity} WHERE _source_file = ?", [source_file])
    con.execute("DELETE FROM raw.rejects WHERE source_file = ?", [source_file])
    con.execute("DELETE FROM raw.load_notes WHERE source_file = ?", [source_file])
    con.execute("DELETE FROM raw.load_audit WHERE source_file = ?", [source_file])


def rerank(con: duckdb.DuckDBPyConnection, sf: SourceFile) -> None:
    """Give an unchanged file's rows and audit row its new delivery rank."""
    con.execute(
        f"UPDATE {RAW_SCHEMA}.{sf.entity} SET _delivery_rank = ? WHERE _source_file = ?",
        [sf.rank, sf.rel],
    )
    con.execute(
        "UPDATE raw.load_audit SET delivery_rank = ? WHERE source_file = ?",
        [sf.rank, sf.rel],
    )
