"""Rebuild the example logbooks in this folder (automatic bug hunts on the embedded digits data).

    python logbooks/build.py                 # all examples (about 8–9 minutes for all three on 2 cores)
    python logbooks/build.py lr_too_high     # one of them

Each hunt keeps its edited scripts and run directories under ``hunts/<name>/``; the PDF and the
Markdown (with its figure files) are written here.
"""

import sys
from pathlib import Path

from debugkit.hunt import hunt

EXAMPLES = ["lr_too_high", "numerics_exercise", "cifar_cnn"]  # one single-bug and both multi-bug baselines


def main(names):
    here = Path(__file__).resolve().parent
    for name in names or EXAMPLES:
        result = hunt(name, here / f"{name}.pdf", work_dir=here.parent / "hunts" / name)
        print(f"{name}: fixed {result.fixed} in {result.seconds / 60:.1f} min → {here / (name + '.pdf')}")


if __name__ == "__main__":
    main(sys.argv[1:])
