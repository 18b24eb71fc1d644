"""Where a CSV file's rows start: one pass over its bytes (NumPy, a chunk at a time) that follows
the quotes, so that a line break inside a quoted field does not end a row.

The rules are those of RFC 4180 with the leniency of Python's ``csv`` module (non-strict),
which the exact parser in :mod:`.csv_rows` uses:

* a physical line ends at ``\\n``, ``\\r\\n`` or a lone ``\\r``; lines are numbered from 1;
* a field is quoted when its first character is ``"``; inside it ``""`` is one quote, and
  commas and line breaks belong to the value;
* any other quote is an ordinary character (a *stray* quote), and text after a closing quote
  is kept (``"ab"c`` is ``abc``); the scan counts both (``irregular``);
* a row ends at a line break outside quotes; an empty line is not a row.

The scan works on bytes: ``"``, ``,``, ``\\r`` and ``\\n`` are single bytes in UTF-8 and in
Windows-1252, and never part of another character.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

QUOTE, LF, CR, COMMA = 34, 10, 13, 44


@dataclass
class Structure:
    """The rows of a CSV file: where each non-empty record starts (the header is the first)."""

    lines: np.ndarray  # int64: the physical line each record starts on
    starts: np.ndarray  # int64: the byte offset it starts at
    ends: np.ndarray  # int64: the byte offset of the line break that ends it (or of the end)
    physical_lines: int
    irregular: int  # stray quotes and closing quotes followed by text
    open_quote_line: int | None  # the line of a quoted field still open at the end of the file

    @property
    def longest(self) -> int:
        """Bytes of the longest record (0 without records)."""
        return int((self.ends - self.starts).max()) if len(self.starts) else 0


def scan(chunks: Iterable[bytes]) -> Structure:
    """The structure of the CSV text made of ``chunks`` (bytes, after any byte-order mark)."""
    s = _Scanner()
    for chunk in chunks:
        s.feed(chunk)
    s.feed(b"", final=True)
    return s.result()


class _Scanner:
    """The scan's state between chunks. A chunk is cut before its trailing quotes and carriage
    returns, which are carried to the next one: a run of quotes or a ``\\r\\n`` is never split."""

    def __init__(self) -> None:
        self.base = 0  # offset of the next byte scanned
        self.inside = 0  # 1 inside a quoted field
        self.prev = LF  # the byte before the next one (the file starts at a line start)
        self.breaks = 0  # line breaks so far
        self.irregular = 0
        self.open_line: int | None = None  # line of the latest opening quote
        self.carry = b""
        self.end_pos: list[np.ndarray] = []  # line breaks outside quotes: offset,
        self.end_line: list[np.ndarray] = []  # number of the line they end,
        self.end_len: list[np.ndarray] = []  # and length (2 for \r\n)

    def feed(self, data: bytes, final: bool = False) -> None:
        data = self.carry + data
        cut = len(data) if final else len(data.rstrip(b'"\r'))
        self.carry = data[cut:]
        if cut:
            self._scan(np.frombuffer(data, np.uint8, count=cut))

    def _scan(self, a: np.ndarray) -> None:
        n = len(a)
        cr = a == CR
        lf = a == LF
        lf[1:] &= ~cr[:-1]  # the \n of a \r\n is part of the \r's line break
        if self.prev == CR:
            lf[0] = False
        brk = np.flatnonzero(cr | lf)
        length = np.ones(len(brk), np.int64)
        length[cr[brk] & (brk + 1 < n) & (a[np.minimum(brk + 1, n - 1)] == LF)] = 2
        inside = self._quotes(a, brk)
        out = inside == 0
        self.end_pos.append(self.base + brk[out])
        self.end_line.append(self.breaks + np.flatnonzero(out) + 1)
        self.end_len.append(length[out])
        self.breaks += len(brk)
        self.prev = int(a[-1])
        self.base += n

    def _quotes(self, a: np.ndarray, brk: np.ndarray) -> np.ndarray:
        """1 for each line break inside a quoted field; updates the quote state.

        Each run of k quotes maps the state before it to the state after it: inside a quoted
        field an odd run closes it (``"`` or ``"`` + ``""``...), an even one stays inside;
        outside, a run at a field start opens a field when odd, and any other run is stray
        (stays outside). The state after every run is then a cumulative parity since the last
        run that forces "outside"."""
        q = np.flatnonzero(a == QUOTE)
        if not q.size:
            return np.full(len(brk), self.inside, np.int64)
        first = np.empty(q.size, bool)
        first[0] = True
        np.not_equal(np.diff(q), 1, out=first[1:])
        rs = q[first]
        k = np.diff(np.append(np.flatnonzero(first), q.size))
        prev = a[np.maximum(rs - 1, 0)].astype(np.int64)
        if rs[0] == 0:
            prev[0] = self.prev
        at_start = (prev == COMMA) | (prev == LF) | (prev == CR)
        odd = (k & 1).astype(bool)
        toggles = np.cumsum(odd & at_start)
        idx = np.arange(rs.size)
        reset = np.maximum.accumulate(np.where(odd & ~at_start, idx, -1))
        since = toggles - np.where(reset >= 0, toggles[np.maximum(reset, 0)], 0)
        after = (np.where(reset >= 0, 0, self.inside) + since) & 1
        before = np.concatenate(([self.inside], after[:-1]))
        end = rs + k
        nxt = a[np.minimum(end, len(a) - 1)]
        text_after = ((before == 1) & (after == 0) & (end < len(a))
                      & (nxt != COMMA) & (nxt != LF) & (nxt != CR))
        self.irregular += int(((before == 0) & ~at_start).sum() + text_after.sum())
        opens = np.flatnonzero((before == 0) & (after == 1))
        if opens.size:
            self.open_line = self.breaks + int(np.searchsorted(brk, rs[opens[-1]])) + 1
        j = np.searchsorted(rs, brk) - 1
        inside = np.where(j >= 0, after[np.maximum(j, 0)], self.inside)
        self.inside = int(after[-1])
        return inside

    def result(self) -> Structure:
        end_pos = np.concatenate(self.end_pos) if self.end_pos else np.empty(0, np.int64)
        end_line = np.concatenate(self.end_line) if self.end_line else np.empty(0, np.int64)
        end_len = np.concatenate(self.end_len) if self.end_len else np.empty(0, np.int64)
        starts = np.concatenate(([0], end_pos + end_len)).astype(np.int64)
        ends = np.concatenate((end_pos, [self.base])).astype(np.int64)
        lines = np.concatenate(([1], end_line + 1)).astype(np.int64)
        keep = ends > starts
        last_is_break = self.prev in (LF, CR)
        return Structure(
            lines=lines[keep], starts=starts[keep], ends=ends[keep],
            physical_lines=self.breaks + (0 if self.base == 0 or last_is_break else 1),
            irregular=self.irregular,
            open_quote_line=self.open_line if self.inside else None,
        )
