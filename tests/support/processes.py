"""The machine's processes as /proc lists them: for the tests that check no process is left
behind (a killed run, the preview, the narrative's bounded child)."""

from __future__ import annotations

from pathlib import Path


def process_table() -> dict[int, tuple[str, int]]:
    """{pid: (state, parent pid)} of every process /proc lists now."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry.name)] = (fields[0], int(fields[1]))
    return table


def descendants(pid: int, *, zombies: bool = True) -> set[int]:
    """Every process below ``pid`` (without the exited ones not yet reaped, unless ``zombies``)."""
    parents = {p: parent for p, (state, parent) in process_table().items() if zombies or state != "Z"}
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def children(pid: int) -> set[int]:
    """The live (not exited) direct children of ``pid``."""
    return {p for p, (state, parent) in process_table().items() if parent == pid and state != "Z"}
