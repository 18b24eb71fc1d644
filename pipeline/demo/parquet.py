"""Writing the extracts: Arrow arrays built from the generator's codes, Parquet in chunks."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

CHUNK_ROWS = 500_000
# Parquet row groups of DuckDB's own row-group size: readers split a file across threads by row
# group, so one 500,000-row group per chunk kept a 2-core reader on one core.
ROW_GROUP_ROWS = 122_880


def id_array(prefix: str, nums: np.ndarray, width: int, valid: np.ndarray | None = None) -> pa.Array:
    """Fixed-width ids such as ``SR2024-0000001`` built straight into an Arrow buffer."""
    nums = np.asarray(nums, np.int64)
    n = len(nums)
    p = np.frombuffer(prefix.encode("ascii"), np.uint8)
    length = len(p) + width
    buf = np.empty((n, length), np.uint8)
    buf[:, : len(p)] = p
    digits = nums.copy()
    for k in range(width):
        buf[:, length - 1 - k] = 48 + digits % 10
        digits //= 10
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int32)
    validity = None
    null_count = 0
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
        null_count = int((~valid).sum())
    return pa.Array.from_buffers(
        pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(buf.tobytes())], null_count
    )


def take(values: Sequence[str] | pa.Array, idx: np.ndarray) -> pa.Array:
    """Strings from a small dictionary; negative index -> null."""
    idx = np.asarray(idx)
    dictionary = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    neg = idx < 0
    indices = pa.array(np.where(neg, 0, idx).astype(np.int32), mask=neg if neg.any() else None)
    return pc.take(dictionary, indices)


def ts(us: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Naive local timestamps (µs) as an Arrow array; ``null`` marks missing values."""
    arr = np.asarray(us, np.int64).view("datetime64[us]")
    if null is not None and null.any():
        return pa.array(arr, type=pa.timestamp("us"), mask=null)
    return pa.array(arr, type=pa.timestamp("us"))


def write_parquet(
    path: Path, schema: pa.Schema, n: int, make_batch: Callable[[int, int], dict[str, pa.Array]]
) -> None:
    """Write ``make_batch(lo, hi)`` chunks (column name -> array) to ``path``, atomically.

    Every column of ``schema`` must be given, and no other: the schema (from the contract)
    decides the column order.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with pq.ParquetWriter(
        tmp, schema, compression="zstd", compression_level=3, use_dictionary=True, write_statistics=True
    ) as writer:
        for lo in range(0, max(n, 1), CHUNK_ROWS):
            hi = min(n, lo + CHUNK_ROWS)
            columns = make_batch(lo, hi)
            if set(columns) != set(schema.names):
                raise ValueError(f"columns {sorted(set(columns) ^ set(schema.names))} given or missing")
            table = pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    os.replace(tmp, path)
