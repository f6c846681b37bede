"""Percent-format scripts (``# %%`` / ``# %% [markdown]``) as notebook cells, and back.

Every edit made to turn a script into notebook code keeps the line count, so line numbers of
``bug.toml`` (after planting) still point at the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"^# %%(?P<rest>.*)$")
_SYS_PATH = re.compile(r"^(?P<indent>\s*)sys\.path\.insert\(\s*0\s*,.*$")
_PARSE_ARGS = re.compile(r"\.parse_args\(\s*\)")


@dataclass
class ScriptCell:
    """One cell of a percent-format script.

    Attributes:
        kind: ``code`` or ``markdown``.
        source: The cell's text (markdown without its leading ``#``), blank lines at both ends removed.
        first_line: 1-based script line of the source's first line.
    """

    kind: str
    source: str
    first_line: int

    @property
    def last_line(self) -> int:
        return self.first_line + max(len(self.source.split("\n")), 1) - 1

    def locate(self, line: int) -> int | None:
        """1-based line within this cell of script ``line`` (None if it is not in this cell)."""
        if self.first_line <= line <= self.last_line:
            return line - self.first_line + 1
        return None


def _uncomment(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    return line.removeprefix("#")


def split_cells(text: str) -> list[ScriptCell]:
    """Cut a percent-format script at its ``# %%`` markers (text before the first marker is a code cell)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    cells: list[ScriptCell] = []
    kind, body = "code", []

    def close():
        while body and not body[0][1].strip():
            body.pop(0)
        while body and not body[-1][1].strip():
            body.pop()
        if body:
            src = [_uncomment(t) if kind == "markdown" else t for _, t in body]
            cells.append(ScriptCell(kind, "\n".join(src), body[0][0]))

    for n, line in enumerate(lines, 1):
        m = _MARKER.match(line)
        if m:
            close()
            kind = "markdown" if "[markdown]" in m.group("rest") else "code"
            body = []
            continue
        body.append((n, line))
    close()
    return cells


def adapt_for_notebook(text: str, *, seed: int | None = None, epochs: int | None = None) -> str:
    """Make a baseline script run as notebook cells, keeping every line where it is.

    * ``sys.path.insert(0, ...)`` (the baselines put the folder holding ``utils.py``, one up, first)
      → the working directory, where the notebook's copy of ``utils.py`` sits;
    * ``parser.parse_args()`` → ``parser.parse_args(args=[])`` (a kernel's command line is not the
      script's): the defaults of the ``add_argument`` lines are the settings;
    * ``seed`` / ``epochs`` replace the defaults of ``--seed`` / ``--epochs``.
    """
    out = []
    for line in text.split("\n"):
        m = _SYS_PATH.match(line)
        if m:
            where = "str(Path.cwd())" if "Path" in text else '""'
            line = f"{m.group('indent')}sys.path.insert(0, {where})  # utils.py sits next to this notebook"
        line = _PARSE_ARGS.sub(".parse_args(args=[])", line)
        if seed is not None:
            line = _set_default(line, "--seed", int(seed))
        if epochs is not None:
            line = _set_default(line, "--epochs", int(epochs))
        out.append(line)
    return "\n".join(out)


def _set_default(line: str, option: str, value: int) -> str:
    pat = re.compile(rf"(add_argument\(\s*[\"']{re.escape(option)}[\"'].*?default\s*=\s*)(-?\d+)")
    return pat.sub(lambda m: f"{m.group(1)}{value}", line)


def has_default(text: str, option: str) -> bool:
    """Whether the script has an ``add_argument("--option", ..., default=<int>)`` line."""
    pat = re.compile(rf"add_argument\(\s*[\"']{re.escape(option)}[\"'].*?default\s*=\s*-?\d+")
    return any(pat.search(line) for line in text.split("\n"))
