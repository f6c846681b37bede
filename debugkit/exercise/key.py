"""The instructor key of one exercise notebook: exactly the bugs planted in it, and where they are."""

from __future__ import annotations

import os

from debugkit.exercise.notebook import notebook_path, read_exercise, rebuild


def exercise_key(path: str | os.PathLike) -> str:
    """Markdown key for the notebook at ``path`` (a notebook or its folder), from its metadata and ``bug.toml``.

    For every planted bug: id, what is wrong, the symptom, the instrument that reveals it, the fix,
    and the cell (0-based index, as ``nb.cells[i]``) and line within the cell where it sits. If the
    notebook was edited since it was created, lines that moved are looked up by their text, and
    lines that are gone are reported as such.

    Raises:
        FileNotFoundError: no notebook at ``path``.
        ValueError: the notebook has no debugkit metadata.

    Example:
        >>> print(exercise_key("ex/ada"))   # doctest: +SKIP
    """
    nb, meta = read_exercise(path)
    built = rebuild(meta)
    bugs = {b.id: b for b in built.baseline.bugs}
    seed = meta.get("seed")
    out = [f"# Instructor key: {notebook_path(path)}", "",
           f"Baseline `{built.baseline.name}` ({built.baseline.title})"
           + (f", seed {seed}" if seed is not None else "")
           + (f", {meta['epochs']} epochs" if meta.get("epochs") else "")
           + f"; {len(built.bugs)} planted bug{'s' if len(built.bugs) != 1 else ''}: "
           + ", ".join(f"`{b}`" for b in built.bugs) + ".", ""]
    for n, bid in enumerate(built.bugs, 1):
        bug = bugs[bid]
        out += [f"## {n}. `{bid}`", "", f"- **What is wrong:** {bug.description}", f"- **Symptom:** {bug.symptom}",
                f"- **Instrument that reveals it:** {bug.instrument}", f"- **Fix:** {bug.fix}"]
        for loc in built.locations.get(bid, []):
            out.append(f"- **Where:** {_where(nb, loc)}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _where(nb, loc) -> str:
    """``cell [i], line k: `code` `` — checked against the notebook as it is now."""
    rows = []
    for line, code in zip(loc.lines, loc.code):
        cells = nb.cells
        src = cells[loc.cell].source.split("\n") if loc.cell < len(cells) else []
        gap = "something is missing after " if line in loc.missing_after else ""
        if 0 < line <= len(src) and src[line - 1] == code:
            rows.append(f"{gap}cell [{loc.cell}], line {line}: `{code.strip()}`")
            continue
        hits = [(i, k) for i, c in enumerate(cells) if c.cell_type == "code"
                for k, row in enumerate(c.source.split("\n"), 1) if row.strip() == code.strip() and code.strip()]
        if hits:
            i, k = hits[0]
            rows.append(f"{gap}cell [{i}], line {k}: `{code.strip()}` (moved since the notebook was created)")
        else:
            rows.append(f"{gap}originally cell [{loc.cell}], line {line}: `{code.strip()}` (no longer in the "
                        "notebook: edited by the student?)")
    return "; ".join(rows)
