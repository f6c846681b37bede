"""MNIST and Fashion-MNIST in torchvision's folder layout (``<root>/MNIST/raw/...``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from debugkit.data.sources.files import locate_files
from debugkit.data.sources.idx import read_idx
from debugkit.data.sources.raw import RawData

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class IdxImageSource:
    """A torchvision MNIST-family data set stored as four IDX files (raw or ``.gz``).

    Calling it with ``(root, download)`` returns :class:`RawData`; files are looked up
    in ``<root>/<folder>/raw/`` exactly where torchvision puts them.
    """

    name: str
    title: str
    folder: str  # also the torchvision.datasets class name
    class_names: tuple[str, ...]
    source: str

    def files(self, root: Path) -> list[tuple[Path, Path]]:
        raw = Path(root) / self.folder / "raw"
        return [(raw / f, raw / f"{f}.gz") for f in IDX_FILES]

    def download(self, root: Path) -> None:
        import torchvision.datasets

        # One call fetches all four files (train and test).
        getattr(torchvision.datasets, self.folder)(str(root), train=True, download=True)

    def __call__(self, root: Path, download: bool = False) -> RawData:
        paths = locate_files(
            self.files(root),
            dataset=self.name,
            title=self.title,
            root=root,
            download=download,
            download_fn=lambda: self.download(root),
            source=self.source,
        )
        arrays = [torch.from_numpy(read_idx(p)) for p in paths]
        train_x, train_y, test_x, test_y = arrays
        for path, images in ((paths[0], train_x), (paths[2], test_x)):
            if images.ndim != 3 or images.dtype != torch.uint8:
                raise ValueError(
                    f"{str(path)!r} must hold uint8 images (N, H, W), got {images.dtype} {tuple(images.shape)}"
                )
        return RawData(
            train_x.unsqueeze(1),
            train_y.long(),
            test_x.unsqueeze(1),
            test_y.long(),
            list(self.class_names),
            max_value=255.0,
        )


MNIST = IdxImageSource(
    name="mnist",
    title="MNIST",
    folder="MNIST",
    class_names=tuple(str(i) for i in range(10)),
    source="https://ossci-datasets.s3.amazonaws.com/mnist/",
)

FASHION_MNIST = IdxImageSource(
    name="fashion_mnist",
    title="Fashion-MNIST",
    folder="FashionMNIST",
    class_names=(
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    source="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
