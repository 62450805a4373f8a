"""Fast, realistic-looking string ids (UUIDs, Stripe `cus_…`, Salesforce `001…`) from uint64s.

Python string formatting per row would dominate the generator's run time, so ids are built as a
fixed-width byte matrix with numpy and handed to Arrow as one buffer (no per-row objects).
"""

from __future__ import annotations

import binascii

import numpy as np
import polars as pl
import pyarrow as pa

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_BASE62 = np.frombuffer(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8
)


def strings_from_matrix(chars: np.ndarray) -> pl.Series:
    """One string per row of a (n, width) uint8 matrix of ASCII codes, built zero-copy in Arrow."""
    n, width = chars.shape
    data = np.ascontiguousarray(chars, dtype=np.uint8).tobytes()
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    array = pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))
    return pl.Series(array)


def _prefix_matrix(prefix: str, n: int) -> np.ndarray:
    return np.tile(np.frombuffer(prefix.encode("ascii"), dtype=np.uint8), (n, 1))


def uuid_strings(hi: np.ndarray, lo: np.ndarray) -> pl.Series:
    """UUID-v4-shaped strings (8-4-4-4-12, lower-case hex) from two uint64 arrays."""
    n = len(hi)
    raw = np.empty((n, 2), dtype=">u8")  # big-endian, so hex digits read most significant first
    raw[:, 0], raw[:, 1] = hi, lo
    digits = np.frombuffer(binascii.hexlify(raw.tobytes()), dtype=np.uint8).reshape(n, 32).copy()
    digits[:, 12] = ord("4")  # version nibble, so the ids look like the uuid4s Segment emits
    digits[:, 16] = _HEX[8 + (digits[:, 16] % 4)]  # RFC 4122 variant
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst in ((slice(0, 8), slice(0, 8)), (slice(8, 12), slice(9, 13)),
                     (slice(12, 16), slice(14, 18)), (slice(16, 20), slice(19, 23)),
                     (slice(20, 32), slice(24, 36))):  # fmt: skip
        out[:, dst] = digits[:, src]
    return strings_from_matrix(out)


def base62_strings(prefix: str, values: np.ndarray, width: int) -> pl.Series:
    """`prefix` + `width` base-62 characters derived from uint64 values (e.g. Stripe ids).

    Beyond 10 characters the digits are re-mixed so long ids do not end in runs of zeros.
    """
    n = len(values)
    v = values.astype(np.uint64).copy()
    digits = np.empty((n, width), dtype=np.uint8)
    base = np.uint64(62)
    with np.errstate(over="ignore"):
        for position in range(width):
            if position % 10 == 0 and position:
                v = (v ^ (v >> np.uint64(31))) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(position)
            digits[:, position] = _BASE62[(v % base).astype(np.intp)]
            v //= base
    return strings_from_matrix(np.concatenate([_prefix_matrix(prefix, n), digits], axis=1))
