"""RowFile: the rows of a 2-D `.npy` array read from disk when asked for (positioned reads), so that a large
table costs the operating system's file cache, not this process's memory, as a memory map would."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class RowFile:
    """A read-only 2-D array on disk: `rows[i]`, `rows[a:b]` and `rows[indexes]` read just those rows."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(handle)
            self._offset = handle.tell()
        if len(shape) != 2 or fortran or dtype.hasobject:
            raise ValueError(f"{path} does not hold a plain 2-D array")
        self.shape, self.dtype = shape, dtype
        self._row_bytes = shape[1] * dtype.itemsize
        self._descriptor = os.open(path, os.O_RDONLY)

    def __del__(self) -> None:
        descriptor = getattr(self, "_descriptor", None)
        if descriptor is not None:
            os.close(descriptor)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        rows = self[0 : len(self)]
        return rows if dtype is None else rows.astype(dtype)

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, slice):
            first, last, step = key.indices(len(self))
            if step != 1:
                raise IndexError("RowFile takes slices with step 1")
            return self._read(first, max(last, first))
        if isinstance(key, (int, np.integer)):
            row = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= row < len(self):
                raise IndexError(f"row {key} out of {len(self)}")
            return self._read(row, row + 1)[0]
        indexes = np.asarray(key, dtype=np.int64)
        if indexes.size and (indexes.min() < 0 or indexes.max() >= len(self)):
            raise IndexError(f"rows out of {len(self)}")
        result = np.empty((indexes.size, self.shape[1]), dtype=self.dtype)
        if not indexes.size:
            return result
        breaks = np.flatnonzero(np.diff(indexes) != 1) + 1  # read each run of consecutive rows at once
        for start, end in zip(np.r_[0, breaks], np.r_[breaks, indexes.size]):
            result[start:end] = self._read(int(indexes[start]), int(indexes[start]) + end - start)
        return result

    def _read(self, first: int, last: int) -> np.ndarray:
        count = last - first
        data = os.pread(self._descriptor, count * self._row_bytes, self._offset + first * self._row_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape(count, self.shape[1])
