"""RowFile reads exactly the rows asked for, as numpy would from the whole array."""

import numpy as np
import pytest

from index.rows import RowFile


def test_rows_read_from_disk_equal_the_saved_array(tmp_path):
    array = np.arange(40 * 6, dtype=np.float16).reshape(40, 6)
    np.save(tmp_path / "rows.npy", array)
    rows = RowFile(tmp_path / "rows.npy")
    assert len(rows) == 40 and rows.shape == (40, 6) and rows.dtype == np.float16
    np.testing.assert_array_equal(rows[3:9], array[3:9])
    np.testing.assert_array_equal(rows[-1], array[-1])
    indexes = np.array([5, 6, 7, 20, 2, 3, 39])  # runs of consecutive rows, out of order
    np.testing.assert_array_equal(rows[indexes], array[indexes])
    np.testing.assert_array_equal(np.asarray(rows, dtype=np.float32), array.astype(np.float32))
    assert rows[10:10].shape == (0, 6) and rows[np.array([], dtype=int)].shape == (0, 6)
    with pytest.raises(IndexError):
        rows[np.array([1, 40])]
    with pytest.raises(IndexError):
        rows[40]
