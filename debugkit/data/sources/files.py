"""Find a data set's files, optionally download them, and explain what is missing."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from debugkit.data.errors import DatasetNotFoundError

#: One required file: the accepted paths, best first (e.g. ``x`` and ``x.gz``).
Required = Sequence[Path]


def _describe(alternatives: Required) -> str:
    first = str(alternatives[0])
    suffixes = [str(p)[len(first):] for p in alternatives[1:] if str(p).startswith(first)]
    if len(suffixes) == len(alternatives) - 1 and suffixes:
        return first + "".join(f"({s})" for s in suffixes)
    return " or ".join(str(p) for p in alternatives)


def _find(required: Sequence[Required]) -> tuple[list[Path], list[Required]]:
    found, missing = [], []
    for alternatives in required:
        hit = next((p for p in alternatives if p.is_file()), None)
        if hit is None:
            missing.append(alternatives)
        else:
            found.append(hit)
    return found, missing


def locate_files(
    required: Sequence[Required],
    *,
    dataset: str,
    title: str,
    root: Path,
    download: bool,
    download_fn: Callable[[], object],
    source: str,
) -> list[Path]:
    """Return one existing path per required file, downloading first if asked to.

    Args:
        required: For each file the paths that are accepted, best first.
        dataset: Registry name (``"mnist"``), used in the error.
        title: Display name (``"MNIST"``).
        root: The data root the user passed (``--data-root``).
        download: Whether to try ``download_fn`` when files are missing.
        download_fn: Fetches the files (through torchvision); may raise anything.
        source: Where the files can be obtained by hand (URL).

    Raises:
        DatasetNotFoundError: Files are missing and downloading was off or failed.
    """
    found, missing = _find(required)
    if not missing:
        return found
    failure = None
    if download:
        try:
            download_fn()
        except Exception as err:  # torchvision raises URLError, RuntimeError, OSError, ...
            failure = err
        else:
            found, missing = _find(required)
            if not missing:
                return found
    lines = "\n".join(f"  {_describe(alts)}" for alts in missing)
    if failure is not None:
        head = (
            f"Downloading {title} into {str(root)!r} failed ({type(failure).__name__}: {failure}). "
            "download=True (CLI: --download) needs network access."
        )
    elif download:
        head = f"Downloaded {title} into {str(root)!r}, but these files are still missing."
    else:
        head = f"{title} was not found under the data root {str(root)!r}."
    retry = "" if download else ", or pass download=True (CLI: --download), which needs network access"
    message = (
        f"{head}\nMissing files:\n{lines}\n"
        f"Put these files there (from {source}), pass another root= (CLI: --data-root){retry}. "
        "The 'digits' data set works offline."
    )
    err = DatasetNotFoundError(message, dataset=dataset, missing=[alts[0] for alts in missing])
    if failure is not None:
        raise err from failure
    raise err
