"""Read IDX files (the MNIST / Fashion-MNIST format), raw or gzipped."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

# Type byte of the IDX header -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` is decompressed on the fly) into a numpy array.

    Header: two zero bytes, a type byte, the number of dimensions, then one big-endian
    uint32 per dimension, then the data in C order.

    Example:
        >>> read_idx("data/MNIST/raw/train-labels-idx1-ubyte.gz").shape   # doctest: +SKIP
        (60000,)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
        raise ValueError(f"{str(path)!r} is not an IDX file (bad magic number {data[:4].hex()!r})")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[data[2]]
    count = int(np.prod(shape)) if shape else 0
    if len(data) - header < count * dtype.itemsize:
        raise ValueError(f"{str(path)!r} is truncated: header promises shape {shape}")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))
