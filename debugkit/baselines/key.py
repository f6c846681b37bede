"""The catalogue as text (for ``debugkit baselines ls``) and the instructor key ``KEY.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from debugkit.baselines.catalogue import Baseline, baselines_dir, list_baselines


def _lines(bug_lines: Sequence[int]) -> str:
    return ("line " if len(bug_lines) == 1 else "lines ") + ", ".join(map(str, bug_lines))


def format_catalogue(key: bool = False, baselines: Sequence[Baseline] | None = None) -> str:
    """A plain-text table of the baselines: name, model, number of bugs, the symptom students see.

    Args:
        key: also list every bug (id, lines in ``train.py``, the instrument that reveals it, the fix):
            the instructor's view. Without it the table has no spoilers.
        baselines: what to list (default: :func:`list_baselines`).

    Example:
        >>> print(format_catalogue())          # doctest: +SKIP
        name                   model    bugs  symptom
        lr_too_high            mlp         1  the training loss jumps around ...
    """
    baselines = list(list_baselines() if baselines is None else baselines)
    width = max([len("name")] + [len(b.name) for b in baselines])
    out = [f"{'name':<{width}}  {'model':<7}  bugs  symptom"]
    for b in baselines:
        out.append(f"{b.name:<{width}}  {b.model:<7}  {len(b.bugs):>4}  {b.symptom}")
        if key:
            for bug in b.bugs:
                out.append(f"{'':<{width}}    - {bug.id} (train.py {_lines(bug.lines)})")
                out.append(f"{'':<{width}}      instrument: {bug.instrument}")
                out.append(f"{'':<{width}}      fix: {bug.fix}")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def format_key(baselines: Sequence[Baseline] | None = None) -> str:
    """The instructor key as Markdown: an overview table, then every bug of every baseline."""
    baselines = list(list_baselines() if baselines is None else baselines)
    out = [
        "# Bugged baselines: instructor key",
        "",
        "<!-- Generated from the bug.toml files by debugkit.baselines.write_key(); do not edit by hand. -->",
        "",
        "Spoilers: every planted bug, where it is, what reveals it and how to fix it. Line numbers refer to",
        "`train.py`; where the fix only inserts code, the line after which it goes. `train_fixed.py`",
        "differs from `train.py` on exactly these lines.",
        "",
        "| baseline | model | bugs (train.py lines) | symptom |",
        "| --- | --- | --- | --- |",
    ]
    for b in baselines:
        bugs = "<br>".join(f"`{bug.id}` ({', '.join(map(str, bug.lines))})" for bug in b.bugs)
        out.append(f"| [{b.name}](#{b.name}) | {b.model} | {bugs} | {_cell(b.symptom)} |")
    for b in baselines:
        out += ["", f"## {b.name}", "", f"**{b.title}** ({b.model}{', several bugs' if b.multi else ''}) — "
                f"`python buggy_baselines/{b.name}/train.py`", "", f"Symptom: {b.symptom}."]
        if b.effect:
            out += ["", f"Measured: {b.effect}."]
        for bug in b.bugs:
            out += [
                "",
                f"### `{bug.id}` — train.py {_lines(bug.lines)}",
                "",
                f"- **What:** {bug.description}",
                f"- **Symptom:** {bug.symptom}",
                f"- **Revealed by:** {bug.instrument}",
                f"- **Fix:** {bug.fix}",
            ]
    return "\n".join(out) + "\n"


def write_key(path: str | Path | None = None, baselines: Sequence[Baseline] | None = None) -> Path:
    """(Re)generate the instructor key (default ``buggy_baselines/KEY.md``) from the ``bug.toml`` files.

    Returns:
        The path written.
    """
    path = Path(path) if path is not None else baselines_dir() / "KEY.md"
    path.write_text(format_key(baselines), encoding="utf-8")
    return path
