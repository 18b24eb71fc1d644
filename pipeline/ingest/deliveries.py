"""The delivery order, and which files a run loads, compared with the previous load
(``raw.load_audit``).

**A file's place is fixed when the warehouse first loads it.** A file whose path and content
(SHA-256) were loaded before keeps the rank, load batch and modification time recorded then,
whatever its modification time is now (``touch``, ``cp -r``, an unzip); a new file, or a
file whose content changed (a new delivery), is placed after every file loaded before. Files
first loaded by the same run are placed among themselves by modification time, then name,
then path (``contract.discover``'s order): they share that run's ``load_batch``, which is how
the models can tell when a modification time decided between two versions of an SR.

**What is loaded.** Per entity, in delivery order, the files up to the first one that
changed or was removed are skipped (their rows stay); from there on, the old rows are
deleted and the files are (re)loaded, the unchanged ones in their old places, so that
collapsing exact duplicates against earlier deliveries stays exact. A file's rows are its
landing rows, its rejects, its notes and its audit row.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

import duckdb

from ..contract import ENTITIES, RAW_SCHEMA, SourceFile


class Placed(NamedTuple):
    """A file as the previous load recorded it."""

    entity: str
    sha256: str
    rank: int
    batch: int
    mtime_ns: int | None


def reconcile(con: duckdb.DuckDBPyConnection, files: list[SourceFile],
              reload: Collection[str] = ()) -> tuple[list[SourceFile], list[str]]:
    """Place every file (see the module doc), delete the rows of changed and removed files and
    of the files after them; return the files to load (in delivery order) and the skipped
    files' paths (sorted). No file of an entity in ``reload`` is skipped: its previous files'
    rows are deleted and all its files are loaded (the unchanged ones keep their places)."""
    previous = recorded(con)
    place(files, previous)
    # a mapped file read through another mapping than its current one is read again
    read_through = {f: n for f, n in con.execute(
        "SELECT source_file, note FROM raw.load_notes WHERE note LIKE 'read through the mapping %'").fetchall()}
    stale = {s.rel for s in files if s.mapping is not None and read_through.get(s.rel) != mapping_note(s)}
    to_load: list[SourceFile] = []
    skipped: list[str] = []
    for entity in ENTITIES:
        old = sorted(((f, p) for f, p in previous.items() if p.entity == entity), key=lambda x: x[1].rank)
        new = sorted((s for s in files if s.entity == entity), key=lambda s: s.rank)
        k = 0 if entity in reload else unchanged_prefix([(f, p.sha256, p.rank) for f, p in old], new, stale)
        for f, _ in old[k:]:
            forget(con, entity, f)
        skipped.extend(sf.rel for sf in new[:k])
        to_load.extend(new[k:])
    return sorted(to_load, key=lambda s: s.rank), sorted(skipped)


def recorded(con: duckdb.DuckDBPyConnection) -> dict[str, Placed]:
    """{source file: its place} as the previous load recorded it."""
    return {f: Placed(*rest) for f, *rest in con.execute(
        "SELECT source_file, entity, sha256, delivery_rank, load_batch, mtime_ns FROM raw.load_audit"
    ).fetchall()}


def place(files: list[SourceFile], previous: dict[str, Placed]) -> None:
    """Give each file its rank and load batch: an unchanged file those recorded (and the
    modification time recorded, its extract time); the others, in the order given (modification
    time, then name, then path), the ranks after every recorded one and a new batch."""
    next_rank = max((p.rank for p in previous.values()), default=0) + 1
    batch = max((p.batch for p in previous.values()), default=0) + 1
    for sf in files:
        was = previous.get(sf.rel)
        if was is not None and (was.entity, was.sha256) == (sf.entity, sf.sha256):
            sf.rank, sf.batch = was.rank, was.batch
            if was.mtime_ns is not None:
                sf.mtime_ns = was.mtime_ns
        else:
            sf.rank, sf.batch = next_rank, batch
            next_rank += 1


def unchanged_prefix(old: list[tuple[str, str, int]], new: list[SourceFile], stale: set[str] | None = None) -> int:
    """How many files at the start of ``new`` match ``old`` (path, SHA-256 and rank), in order;
    a file in ``stale`` (its mapping changed) ends the prefix."""
    k = 0
    while (k < len(old) and k < len(new) and old[k] == (new[k].rel, new[k].sha256, new[k].rank)
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
