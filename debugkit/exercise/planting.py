"""Plant a chosen subset of a baseline's bugs: ``train_fixed.py`` with only those bugs' hunks re-applied.

The diff between ``train.py`` (bugged) and ``train_fixed.py`` is cut into hunks (``difflib``
opcodes; a replacement of as many lines by as many lines is cut line by line), and every hunk is
given to the bugs whose ``lines`` (1-based in ``train.py``; a pure insertion belongs to the line it
follows, as in :func:`debugkit.baselines.changed_lines`) it touches. Planting a subset emits the
bugged side of the chosen bugs' hunks and the fixed side of all others.
"""

from __future__ import annotations

import difflib
import random
from dataclasses import dataclass, field

from debugkit.baselines import Baseline


@dataclass(frozen=True)
class Hunk:
    """One change between ``train.py`` lines ``[i1, i2)`` and ``train_fixed.py`` lines ``[j1, j2)`` (0-based)."""

    i1: int
    i2: int
    j1: int
    j2: int
    bug_ids: tuple[str, ...]

    @property
    def touched(self) -> set[int]:
        """1-based ``train.py`` lines this hunk touches (the line it follows for an insertion)."""
        return set(range(self.i1 + 1, self.i2 + 1)) if self.i2 > self.i1 else {self.i1}


@dataclass
class PlantedScript:
    """A script with some bugs planted.

    Attributes:
        text: The script.
        bugs: The planted bug ids, in ``bug.toml`` order.
        lines: Bug id → 1-based lines of :attr:`text` where the bug sits (for a missing line:
            the line after which it belongs).
        missing: Bug id → those of its lines after which code is missing (the fix inserts there).
    """

    text: str
    bugs: list[str]
    lines: dict[str, list[int]] = field(default_factory=dict)
    missing: dict[str, list[int]] = field(default_factory=dict)


def bug_hunks(baseline: Baseline) -> list[Hunk]:
    """The hunks of ``diff train.py train_fixed.py``, each with the bugs it belongs to.

    Raises:
        ValueError: a hunk touches no bug's lines (``bug.toml`` and the scripts disagree).
    """
    bugged = baseline.script.read_text(encoding="utf-8").splitlines()
    fixed = baseline.fixed_script.read_text(encoding="utf-8").splitlines()
    hunks: list[Hunk] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, bugged, fixed, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:  # line-for-line: one hunk per line, bugs stay apart
            pieces = [(i1 + k, i1 + k + 1, j1 + k, j1 + k + 1) for k in range(i2 - i1)]
        else:
            pieces = [(i1, i2, j1, j2)]
        for a1, a2, b1, b2 in pieces:
            probe = Hunk(a1, a2, b1, b2, ())
            owners = tuple(b.id for b in baseline.bugs if probe.touched & set(b.lines))
            if not owners:
                raise ValueError(
                    f"{baseline.name}: train.py line(s) {sorted(probe.touched)} differ from train_fixed.py but no "
                    f"bug in {baseline.metadata} lists them; add them to the right bug's 'lines'"
                )
            hunks.append(Hunk(a1, a2, b1, b2, owners))
    return hunks


def tied_bugs(hunks: list[Hunk], chosen: set[str]) -> set[str]:
    """``chosen`` plus every bug sharing a hunk with a chosen one (they can only be planted together)."""
    out = set(chosen)
    changed = True
    while changed:
        changed = False
        for h in hunks:
            if out & set(h.bug_ids) and not set(h.bug_ids) <= out:
                out |= set(h.bug_ids)
                changed = True
    return out


def plant(baseline: Baseline, chosen: list[str] | set[str] | None = None) -> PlantedScript:
    """``train_fixed.py`` with the hunks of the ``chosen`` bugs (all bugs if None) put back.

    Planting every bug gives ``train.py`` itself; planting none gives ``train_fixed.py``.

    Raises:
        ValueError: an id in ``chosen`` is not a bug of this baseline.
    """
    ids = [b.id for b in baseline.bugs]
    chosen = set(ids if chosen is None else chosen)
    unknown = chosen - set(ids)
    if unknown:
        raise ValueError(f"{baseline.name} has no bug(s) {sorted(unknown)}; its bugs are {ids}")
    hunks = bug_hunks(baseline)
    chosen = tied_bugs(hunks, chosen)
    bugged = baseline.script.read_text(encoding="utf-8").splitlines()
    fixed = baseline.fixed_script.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    lines: dict[str, list[int]] = {i: [] for i in ids if i in chosen}
    missing: dict[str, list[int]] = {}
    pos = 0  # next train.py line (0-based) not yet emitted
    for h in sorted(hunks, key=lambda h: (h.i1, h.i2)):
        out.extend(bugged[pos:h.i1])
        planted = bool(chosen & set(h.bug_ids))
        if planted:
            where = list(range(len(out) + 1, len(out) + 1 + (h.i2 - h.i1))) or [len(out)]
            out.extend(bugged[h.i1:h.i2])
            for bid in h.bug_ids:
                lines[bid].extend(where)
                if h.i2 == h.i1:
                    missing.setdefault(bid, []).extend(where)
        else:
            out.extend(fixed[h.j1:h.j2])
        pos = h.i2
    out.extend(bugged[pos:])
    text = "\n".join(out) + "\n"
    return PlantedScript(text, [i for i in ids if i in chosen], {k: sorted(set(v)) for k, v in lines.items()},
                         {k: sorted(set(v)) for k, v in missing.items()})


def choose_bugs(baseline: Baseline, seed: int, *, min_bugs: int = 2) -> list[str]:
    """A random subset (at least ``min_bugs``, fewer than all) of a multi-bug baseline's bugs for ``seed``.

    Single-bug baselines keep their bug. The choice depends only on the seed and the bug ids.
    """
    ids = [b.id for b in baseline.bugs]
    if len(ids) <= min_bugs:
        return ids
    rng = random.Random(f"{baseline.name}:{seed}")
    k = rng.randint(min_bugs, max(min_bugs, len(ids) - 1))  # a proper subset: it differs from the full notebook
    picked = set(rng.sample(ids, k))
    picked = tied_bugs(bug_hunks(baseline), picked)
    return [i for i in ids if i in picked]
