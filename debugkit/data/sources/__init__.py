"""Data-set sources: each turns files on disk into :class:`RawData`.

A source is a callable ``(root: Path, download: bool) -> RawData``; adding a data set
is one file here and one line in :data:`SOURCES`.
"""

from debugkit.data.sources.cifar10 import load_cifar10_raw
from debugkit.data.sources.digits import load_digits_raw
from debugkit.data.sources.idx import read_idx
from debugkit.data.sources.mnist import FASHION_MNIST, MNIST, IdxImageSource
from debugkit.data.sources.raw import RawData
from debugkit.data.sources.svhn import load_svhn_raw

#: Registry name -> source callable ``(root, download) -> RawData``.
SOURCES = {
    "digits": load_digits_raw,
    "mnist": MNIST,
    "fashion_mnist": FASHION_MNIST,
    "cifar10": load_cifar10_raw,
    "svhn": load_svhn_raw,
}

__all__ = [
    "FASHION_MNIST",
    "MNIST",
    "SOURCES",
    "IdxImageSource",
    "RawData",
    "load_cifar10_raw",
    "load_digits_raw",
    "load_svhn_raw",
    "read_idx",
]
