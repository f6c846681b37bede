"""Consistency checks for a baseline: metadata, the bugged/fixed diff, and spoiler-free scripts."""

from __future__ import annotations

import difflib
import re

from debugkit.baselines.catalogue import BUG_IDS, MODEL_KINDS, Baseline

#: Words a student-facing script must not contain (case-insensitive; "debug" counts too).
SPOILER_WORDS = ("bug", "fix")

_IMPORT_DEBUGKIT = re.compile(r"^\s*(import|from)\s+debugkit\b", re.MULTILINE)


def changed_lines(bugged: str, fixed: str) -> set[int]:
    """Lines of ``bugged`` (1-based) that the change to ``fixed`` touches.

    A replaced or deleted line counts itself; a pure insertion counts the line it follows (0 for an
    insertion at the very top). This is the convention of ``Bug.lines``.
    """
    a, b = bugged.splitlines(), fixed.splitlines()
    touched: set[int] = set()
    for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            touched.update(range(i1 + 1, i2 + 1))
        else:
            touched.add(i1)
    return touched


def validate_baseline(baseline: Baseline) -> list[str]:
    """Everything wrong with one baseline, as messages (empty when it is consistent).

    Checks: the three files exist; ``bug.toml`` fields are filled in, ids known, line numbers inside
    ``train.py``; ``diff train.py train_fixed.py`` touches exactly the bug lines; neither script imports
    debugkit, names a bug id or says "bug"/"fix"; both have ``# %%`` cells and ``--epochs``/``--seed``.
    """
    problems: list[str] = []
    name = baseline.name
    for path in (baseline.script, baseline.fixed_script, baseline.metadata):
        if not path.is_file():
            problems.append(f"{name}: missing {path.name}")
    if problems:
        return problems
    bugged = baseline.script.read_text(encoding="utf-8")
    fixed = baseline.fixed_script.read_text(encoding="utf-8")
    n_lines = len(bugged.splitlines())

    for key in ("title", "symptom"):
        if not getattr(baseline, key).strip():
            problems.append(f"{name}: bug.toml {key!r} is empty")
    if baseline.model not in MODEL_KINDS:
        problems.append(f"{name}: model {baseline.model!r} is not one of {', '.join(MODEL_KINDS)}")
    if not baseline.bugs:
        problems.append(f"{name}: bug.toml lists no [[bugs]]")
    if baseline.multi != (len(baseline.bugs) > 1):
        problems.append(f"{name}: multi = {str(baseline.multi).lower()} but bug.toml lists {len(baseline.bugs)} bug(s)")
    for bug in baseline.bugs:
        if bug.id not in BUG_IDS:
            problems.append(f"{name}: unknown bug id {bug.id!r} (known: {', '.join(BUG_IDS)})")
        if not bug.lines:
            problems.append(f"{name}: bug {bug.id!r} lists no lines")
        for line in bug.lines:
            if not 1 <= line <= n_lines:
                problems.append(f"{name}: bug {bug.id!r} line {line} is outside train.py (1..{n_lines})")
        for key in ("description", "symptom", "instrument", "fix"):
            if not getattr(bug, key).strip():
                problems.append(f"{name}: bug {bug.id!r} has an empty {key!r}")

    touched = changed_lines(bugged, fixed)
    listed = set(baseline.bug_lines)
    if touched != listed:
        problems.append(
            f"{name}: diff train.py train_fixed.py touches lines {sorted(touched)} but bug.toml lists "
            f"{sorted(listed)}"
        )

    for path, text in ((baseline.script, bugged), (baseline.fixed_script, fixed)):
        label = f"{name}/{path.name}"
        if _IMPORT_DEBUGKIT.search(text):
            problems.append(f"{label} imports debugkit; baselines must run without it")
        lowered = text.lower()
        for word in SPOILER_WORDS:
            if word in lowered:
                line = next(i for i, ln in enumerate(text.splitlines(), 1) if word in ln.lower())
                problems.append(f"{label} line {line} contains {word!r}, a spoiler for students")
        for bug_id in BUG_IDS:
            if bug_id in lowered:
                problems.append(f"{label} names the finding id {bug_id!r}")
        if "# %%" not in text:
            problems.append(f"{label} has no '# %%' cell markers")
        for option in ("--epochs", "--seed"):
            if option not in text:
                problems.append(f"{label} has no {option} option")
    return problems
