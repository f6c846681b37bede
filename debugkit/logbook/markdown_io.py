"""The logbook's plain-text format: Markdown with YAML front matter.

A logbook file looks like this (every part but the title is optional)::

    ---
    title: Debugging the digits MLP
    author: Ada Lovelace
    course: Numerics of ML, exercise 11
    date: 2024-01-19
    baseline: MLP, SGD lr 1e-5, 10 epochs
    runs: {base: runs/base, fix1: runs/fix-lr}
    ---

    ## Summary

    Two bugs found; accuracy 0.12 → 0.97.

    | Step | Val. acc. | Val. loss | Δ | Verdict |
    |---|---|---|---|---|
    | baseline | 0.12 ± 0.01 | 2.30 | — | — |
    | lr 1e-5 → 1e-2 | 0.91 ± 0.01 | 0.31 | +0.79 | confirmed |

    ## 1. Loss does not move

    **Observation.** The training loss stays at 2.30 ...

    ![The loss is flat](run:base#loss)

    **Hypothesis.** The learning rate is far too low.

    **Experiment.** lr 1e-5 → 1e-2 (`config: {lr: 0.01}`)

    **Result.** Validation accuracy 0.12 → 0.91 ± 0.01 (3 seeds).

    | lr | val acc |
    |---|---|
    | 1e-5 | 0.12 ± 0.01 |
    | 1e-2 | 0.91 ± 0.01 |

    ![](run:fix1#learning_curves){width=70%}

    **Verdict.** confirmed — the loss now falls within the first epoch.

    **Runs.** base, fix1

Rules:

* ``## Summary`` (unnumbered) holds the summary text; a table whose columns are
  *Step, Val. acc., Val. loss, Δ, Verdict* becomes the summary table. Text before the first
  ``##`` heading is summary text too.
* Every other ``##`` heading starts an entry; a leading ``1.`` is dropped (entries are
  numbered by their order).
* Sections start with ``**Observation.**``, ``**Hypothesis.**``, ``**Experiment.**``,
  ``**Result.**``, ``**Verdict.**`` and ``**Runs.**`` at the start of a line (``**Observation:**``,
  ``**Results.**`` and ``### Observation`` work too).
* A line holding only an image is a figure of the section it is in:
  ``![caption](figures/x.png)`` or ``![caption](run:<alias or run dir>[,<more>]#<figure name>)``,
  optionally followed by ``{width=60%}``. Relative paths resolve against the file's folder.
* In the experiment, a fenced block tagged ``config`` (e.g. ```` ```yaml config ````) or an
  inline `` `config: {lr: 0.01}` `` holds the changed configuration; a ```` ```diff ```` block
  the code change.
* In the result, the first table is the metrics table (``0.91 ± 0.01`` cells are read as
  mean ± std); a following ``Table: caption`` line is its caption.
* The verdict is the first word of the verdict section; the rest is a note.
* A text line that would otherwise be read as structure is written with a leading ``\\``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from debugkit.logbook.markup import split_table_row
from debugkit.logbook.model import (
    Entry,
    Experiment,
    Figure,
    Logbook,
    LogbookError,
    MeanStd,
    Result,
    VERDICTS,
    SummaryRow,
    Table,
    clean_text,
)

FRONT_MATTER_KEYS = ("title", "author", "course", "subtitle", "date", "baseline", "runs", "instruments", "meta", "summary_table")

_SECTION_WORDS = {
    "observation": "observation",
    "observations": "observation",
    "hypothesis": "hypothesis",
    "hypotheses": "hypothesis",
    "experiment": "experiment",
    "experiments": "experiment",
    "result": "result",
    "results": "result",
    "verdict": "verdict",
    "conclusion": "verdict",
    "run": "runs",
    "runs": "runs",
}
_WORDS = "|".join(sorted(_SECTION_WORDS, key=len, reverse=True))
_MARKER_RES = [
    re.compile(rf"^\*\*\s*({_WORDS})\s*[.:]?\s*\*\*\s*[.:]?[ \t]*(.*)$", re.I),
    re.compile(rf"^#{{3,4}}\s+({_WORDS})\s*[.:]?\s*$", re.I),
]
_IMAGE_RE = re.compile(
    r"^!\[(?P<caption>(?:\\.|[^\]\\])*)\]\((?P<target><[^>\n]*>|[^)\s]*)\)[ \t]*(?:\{(?P<attrs>[^}\n]*)\})?[ \t]*$"
)
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING2_RE = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_ENTRY_NUMBER_RE = re.compile(r"^(?:entry\s+)?\d+\s*[.):]\s*", re.I)
_INLINE_CONFIG_RE = re.compile(r"[ \t]*(\(\s*)?`config:\s*(\{[^`]*\})`(\s*\))?")
_SUMMARY_HEADERS = {
    "step": "step",
    "change": "step",
    "stepchange": "step",
    "valacc": "val_acc",
    "validationaccuracy": "val_acc",
    "valaccuracy": "val_acc",
    "accuracy": "val_acc",
    "valloss": "val_loss",
    "validationloss": "val_loss",
    "loss": "val_loss",
    "δ": "delta",
    "delta": "delta",
    "δacc": "delta",
    "deltaacc": "delta",
    "verdict": "verdict",
}


class _YamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also reads ``1e-5`` as a float (as YAML 1.2 does), not as text."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def yaml_load(text: str) -> Any:
    """Parse YAML safely (no Python objects), with hand-written ``lr: 1e-3`` read as a number."""
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass


SUMMARY_COLUMNS = {"step": "Step", "val_acc": "Val. acc.", "val_loss": "Val. loss", "delta": "Δ", "verdict": "Verdict"}


# -- helpers shared by reader and writer --------------------------------------------------------


def _code_mask(lines: list[str]) -> list[bool]:
    """``True`` for every line that is part of a fenced code block (fences included)."""
    mask, fence = [], None
    for line in lines:
        m = _FENCE_RE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                mask.append(True)
            else:
                mask.append(False)
        else:
            mask.append(True)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
                fence = None
    return mask


def _is_marker(line: str) -> re.Match | None:
    for pat in _MARKER_RES:
        m = pat.match(line)
        if m:
            return m
    return None


def _is_structural(line: str) -> bool:
    """Would this text line be read as logbook structure (heading, section, figure, table)?"""
    return bool(
        re.match(r"^#{1,2}(\s|$)", line) or _is_marker(line) or _IMAGE_RE.match(line) or line.startswith("|")
    )


def _escape_structure(text: str) -> str:
    lines = text.split("\n")
    mask = _code_mask(lines)
    return "\n".join("\\" + l if not code and _is_structural(l) else l for l, code in zip(lines, mask))


def _unescape_line(line: str) -> str:
    if line.startswith("\\") and _is_structural(line[1:]):
        return line[1:]
    return line


# -- reading ------------------------------------------------------------------------------------


class _Source:
    """Where text comes from, to put file and line into error messages."""

    def __init__(self, name: str, line_offset: int):
        self.name = name
        self.offset = line_offset

    def error(self, line: int | None, message: str) -> LogbookError:
        where = self.name if line is None else f"{self.name}, line {line + self.offset + 1}"
        return LogbookError(f"{where}: {message}")


def parse_logbook(source: str | os.PathLike, *, base_dir: str | os.PathLike | None = None) -> Logbook:
    """Read a logbook from a Markdown file (path) or from Markdown text.

    Args:
        source: A path (``str`` without line breaks or ``os.PathLike``) or the Markdown text.
        base_dir: Folder relative paths resolve against; defaults to the file's folder
            (or the current folder for text).

    Returns:
        The :class:`Logbook`; ``parse_logbook(lb.to_markdown()) == lb``.

    Raises:
        LogbookError: The text is malformed; the message names file, line and entry.
        FileNotFoundError: ``source`` is a path that does not exist.

    Example:
        >>> lb = parse_logbook("logbooks/digits.md")   # doctest: +SKIP
        >>> lb.entries[0].verdict                       # doctest: +SKIP
        'confirmed'
    """
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"logbook file {str(path)!r} does not exist")
        text = path.read_text(encoding="utf-8")
        name = str(path)
        default_dir = path.resolve().parent
    elif isinstance(source, str):
        text, name, default_dir = source, "<logbook text>", None
    else:
        raise TypeError(f"parse_logbook takes a path or Markdown text, got {type(source).__name__}")
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    front, body, offset = _split_front_matter(text, name)
    src = _Source(name, offset)
    lb = _build(front, body, src)
    lb.base_dir = Path(base_dir) if base_dir is not None else default_dir
    return lb


def _split_front_matter(text: str, name: str) -> tuple[dict, str, int]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text, 0
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            raw = "\n".join(lines[1:i])
            try:
                front = yaml_load(raw) if raw.strip() else {}
            except yaml.YAMLError as exc:
                raise LogbookError(f"{name}: the front matter is not valid YAML: {exc}") from exc
            if front is None:
                front = {}
            if not isinstance(front, dict):
                raise LogbookError(f"{name}: the front matter must be 'key: value' lines, got {type(front).__name__}")
            return front, "\n".join(lines[i + 1 :]), i + 1
    raise LogbookError(f"{name}: the front matter starts with '---' on line 1 but is never closed by a '---' line")


def _build(front: dict, body: str, src: _Source) -> Logbook:
    unknown = [k for k in front if k not in FRONT_MATTER_KEYS]
    if unknown:
        raise src.error(
            None,
            f"unknown front matter key(s) {', '.join(map(repr, unknown))}; "
            f"known keys: {', '.join(FRONT_MATTER_KEYS)} (put anything else under 'meta:')",
        )
    lines = body.split("\n")
    mask = _code_mask(lines)
    # split into the preamble and '## ' sections
    chunks: list[tuple[str | None, int, list[int]]] = [(None, 0, [])]
    for i, (line, code) in enumerate(zip(lines, mask)):
        m = None if code else _HEADING2_RE.match(line)
        if m:
            chunks.append((m.group(1), i, []))
        else:
            chunks[-1][2].append(i)

    title = front.get("title")
    summary_parts: list[str] = []
    summary_rows: list[SummaryRow] = []
    entries: list[Entry] = []
    for heading, start, idx in chunks:
        if heading is None:
            idx = list(idx)
            first = next((i for i in idx if lines[i].strip()), None)
            if first is not None and not mask[first] and re.match(r"^#\s+\S", lines[first]):
                if title is None:
                    title = lines[first][1:].strip()
                idx.remove(first)
            text, rows = _summary_part(lines, mask, idx, src, allow_table=False)
            summary_parts.append(text)
        elif re.fullmatch(r"summary", heading.strip(), re.I):
            text, rows = _summary_part(lines, mask, idx, src, allow_table=True)
            summary_parts.append(text)
            if rows:
                if summary_rows:
                    raise src.error(start, "there are two summary tables; keep one")
                summary_rows = rows
        else:
            entries.append(_parse_entry(heading, start, lines, mask, idx, src, len(entries) + 1))

    if title is None:
        raise src.error(None, "the logbook has no title; add 'title: ...' to the front matter")
    if "summary_table" in front:
        if summary_rows:
            raise src.error(None, "a summary table is given both in the front matter and as a Markdown table; keep one")
        if not isinstance(front["summary_table"], list):
            raise src.error(None, "front matter 'summary_table' must be a list of rows")
        try:
            summary_rows = [SummaryRow(**r) for r in front["summary_table"]]
        except TypeError as exc:
            raise src.error(None, f"front matter 'summary_table': {exc}") from exc
    if "course" in front and "subtitle" in front:
        raise src.error(None, "give either 'course' or 'subtitle' in the front matter, not both")
    runs = front.get("runs") or {}
    if not isinstance(runs, dict):
        raise src.error(None, "front matter 'runs' must map aliases to run directories, e.g. {base: runs/base}")
    instruments = front.get("instruments")
    if isinstance(instruments, str):
        instruments = [s.strip() for s in instruments.split(",") if s.strip()]
    try:
        return Logbook(
            title=str(title),
            author=_str(front.get("author")),
            course=_str(front.get("course", front.get("subtitle"))),
            date=_str(front.get("date")),
            baseline=_str(front.get("baseline")),
            summary="\n\n".join(p for p in summary_parts if p),
            summary_table=summary_rows,
            entries=entries,
            runs={str(k): str(v) for k, v in runs.items()},
            instruments=instruments,
            meta=front.get("meta") or {},
        )
    except LogbookError as exc:
        raise src.error(None, str(exc)) from None


def _str(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):  # YAML reads 2024-01-19 as a date
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


_TABLE_SEP_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def _summary_part(lines, mask, idx, src: _Source, allow_table: bool) -> tuple[str, list[SummaryRow]]:
    items = [(i, lines[i], mask[i]) for i in idx]
    rows: list[SummaryRow] = []
    if allow_table:
        rest, table = _metrics_table(items, src, "summary")
        if table is not None:
            keys = [_SUMMARY_HEADERS.get(re.sub(r"[^\wδ]", "", h.lower())) for h in table.columns]
            if keys[0] == "step" and None not in keys and len(set(keys)) == len(keys):
                first = next(i for i, t, c in items if t.startswith("|") and not c)
                for n, row in enumerate(table.rows):
                    values = {k: (v.to_text() if isinstance(v, MeanStd) else v) for k, v in zip(keys, row)}
                    try:
                        rows.append(SummaryRow(**values))
                    except LogbookError as exc:
                        raise src.error(first + 2 + n, str(exc)) from None
                items = rest
    text = "\n".join(t if c else _unescape_line(t) for _, t, c in items)
    return clean_text(text), rows


Line = tuple[int, str]  # (line number in the body, text)


def _parse_entry(heading, start, lines, mask, idx, src: _Source, number: int) -> Entry:
    title = _ENTRY_NUMBER_RE.sub("", heading, count=1).strip()
    where = f"entry {number} {title!r}"
    sections: dict[str, list[Line]] = {"_pre": []}
    starts: dict[str, int] = {}
    current = "_pre"
    for i in idx:
        m = None if mask[i] else _is_marker(lines[i])
        if m:
            current = _SECTION_WORDS[m.group(1).lower()]
            if current in sections:
                raise src.error(i, f"{where}: the {current} section appears twice; merge the two")
            sections[current] = []
            starts[current] = i
            rest = m.group(2) if m.re is _MARKER_RES[0] else ""
            if rest.strip():
                sections[current].append((i, rest))
        else:
            sections[current].append((i, lines[i]))

    pre = sections.pop("_pre")
    if any(t.strip() for _, t in pre):
        if "observation" in sections:
            first = next(i for i, t in pre if t.strip())
            raise src.error(first, f"{where}: text before the first section; start it with **Observation.** (or move it there)")
        sections["observation"] = pre

    figures: list[Figure] = []
    texts: dict[str, str] = {}
    experiment_parts: dict[str, Any] = {}
    metrics = None
    for sec, items in sections.items():
        code = _code_mask([t for _, t in items])
        kept: list[tuple[int, str, bool]] = []
        for (i, t), c in zip(items, code):
            m = None if c else _IMAGE_RE.match(t)
            if m:
                if sec == "runs":
                    raise src.error(i, f"{where}: a figure in the Runs section; put it under Observation or Result")
                figures.append(_figure(m, sec, src, i, where))
            else:
                kept.append((i, t, c))
        if sec == "experiment":
            kept, experiment_parts = _experiment_parts(kept, src, where)
        if sec == "result":
            kept, metrics = _metrics_table(kept, src, where)
        texts[sec] = clean_text("\n".join(t if c else _unescape_line(t) for _, t, c in kept))

    verdict_text = texts.get("verdict", "")
    verdict, note = "", ""
    if verdict_text:
        m = re.match(r"^[*_`]*([A-Za-z]+)[.,:;!]?[*_`]*(.*)$", verdict_text, re.S)
        verdict = m.group(1) if m else verdict_text.split()[0]
        note = re.sub(r"^[\s.,:;!—–-]+", "", m.group(2)) if m else ""
        if verdict.lower() not in VERDICTS:
            raise src.error(
                starts["verdict"],
                f"{where}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}; "
                "start the section with the verdict word, e.g. **Verdict.** refuted — <a note>",
            )
    runs = [r.strip().strip("`").strip() for r in re.split(r"[,\n]", texts.get("runs", ""))]
    try:
        return Entry(
            title=title,
            observation=texts.get("observation", ""),
            hypothesis=texts.get("hypothesis", ""),
            experiment=Experiment(texts.get("experiment", ""), **experiment_parts),
            result=Result(texts.get("result", ""), metrics),
            verdict=verdict,
            verdict_note=note,
            figures=figures,
            runs=[r for r in runs if r],
        )
    except LogbookError as exc:
        message = str(exc).removeprefix(f"entry {title!r}: ")
        raise src.error(start, f"{where}: {message}") from None


def _figure(m: re.Match, section: str, src: _Source, i: int, where: str) -> Figure:
    caption = re.sub(r"\\([\\\[\]])", r"\1", m.group("caption"))
    target = m.group("target")
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1]
    width = None
    attrs = m.group("attrs")
    if attrs:
        wm = re.fullmatch(r"\s*width\s*=\s*([0-9.]+)\s*(%?)\s*", attrs)
        if not wm:
            raise src.error(i, f"{where}: figure attributes {{{attrs}}} not understood; only {{width=60%}} is")
        width = float(wm.group(1)) / (100 if wm.group(2) else 1)
    try:
        return Figure.from_target(target, caption=caption, section=section, width=width)
    except LogbookError as exc:
        raise src.error(i, f"{where}: {exc}") from None


def _experiment_parts(items: list[tuple[int, str, bool]], src: _Source, where: str):
    """Take config and diff blocks (and inline `config: {...}` spans) out of the experiment text."""
    parts: dict[str, Any] = {}
    kept: list[tuple[int, str, bool]] = []
    pos = 0
    while pos < len(items):
        i, t, c = items[pos]
        fm = _FENCE_RE.match(t) if c else None
        if fm:  # an opening fence: the block runs to the next code line that closes it
            end = pos + 1
            while end < len(items) and items[end][2] and not (end > pos and _closes(items[end][1], fm.group(1))):
                end += 1
            block = items[pos : end + 1]
            body = "\n".join(t for _, t, _ in items[pos + 1 : end])
            info = fm.group(2).strip().lower().split()
            if any("config" in w for w in info):
                if "config" in parts:
                    raise src.error(i, f"{where}: two config blocks in the experiment; merge them")
                try:
                    cfg = yaml_load(body) if body.strip() else {}
                except yaml.YAMLError as exc:
                    raise src.error(i, f"{where}: the config block is not valid YAML: {exc}") from None
                if not isinstance(cfg, dict):
                    raise src.error(i, f"{where}: the config block must hold 'key: value' lines")
                parts["config"] = cfg
            elif info[:1] == ["diff"] and "code_diff" not in parts:
                parts["code_diff"] = body
            else:
                kept.extend(block)
            pos = end + 1
            continue
        if not c:
            inline: dict = {}
            for m in _INLINE_CONFIG_RE.finditer(t):
                try:
                    cfg = yaml_load(m.group(2))
                except yaml.YAMLError as exc:
                    raise src.error(i, f"{where}: inline config {m.group(2)!r} is not valid YAML: {exc}") from None
                if not isinstance(cfg, dict):
                    raise src.error(i, f"{where}: inline config must be a mapping like {{lr: 0.01}}")
                inline.update(cfg)
            if inline:
                parts["config"] = {**parts.get("config", {}), **inline}
                t = _INLINE_CONFIG_RE.sub("", t)
        kept.append((i, t, c))
        pos += 1
    return kept, parts


def _closes(text: str, fence: str) -> bool:
    m = _FENCE_RE.match(text)
    return bool(m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip())


def _metrics_table(items: list[tuple[int, str, bool]], src: _Source, where: str):
    """Take the first column-0 pipe table (and a following 'Table: caption' line) out of the result."""
    for pos in range(len(items) - 1):
        i, t, c = items[pos]
        if c or not t.startswith("|") or not _TABLE_SEP_RE.match(items[pos + 1][1]) or items[pos + 1][2]:
            continue
        end = pos + 2
        while end < len(items) and items[end][1].startswith("|") and not items[end][2]:
            end += 1
        rest = items[:pos] + items[end:]
        caption = ""
        k = pos
        while k < len(rest) and not rest[k][1].strip():
            k += 1
        if k < len(rest) and not rest[k][2] and re.match(r"^Table:\s", rest[k][1]):
            caption = rest[k][1].split(":", 1)[1].strip()
            rest = rest[:k] + rest[k + 1 :]
        header = split_table_row(t)
        rows = [split_table_row(r) for _, r, _ in items[pos + 2 : end]]
        try:
            return rest, Table(header, rows, caption)
        except LogbookError as exc:
            raise src.error(i, f"{where}: {exc}") from None
    return items, None


# -- writing ------------------------------------------------------------------------------------


def to_markdown(lb: Logbook) -> str:
    """Write ``lb`` in the Markdown format read by :func:`parse_logbook` (round-trips exactly)."""
    front: dict[str, Any] = {"title": lb.title}
    for key in ("author", "course", "date", "baseline"):
        if getattr(lb, key):
            front[key] = getattr(lb, key)
    if lb.runs:
        front["runs"] = dict(lb.runs)
    if lb.instruments is not None:
        front["instruments"] = list(lb.instruments)
    if lb.meta:
        front["meta"] = lb.meta
    out = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000).rstrip("\n"), "---", ""]

    if lb.summary or lb.summary_table:
        out += ["## Summary", ""]
        if lb.summary:
            out += [_escape_structure(lb.summary), ""]
        if lb.summary_table:
            out += _summary_table_md(lb.summary_table) + [""]

    for n, e in enumerate(lb.entries, 1):
        out += [f"## {n}. {e.title}", ""]
        out += _section("Observation", e.observation) + _figures_md(e.figures_in("observation"))
        out += _section("Hypothesis", e.hypothesis) + _figures_md(e.figures_in("hypothesis"))
        out += _section("Experiment", e.experiment.description)
        if e.experiment.config:
            dumped = yaml.safe_dump(e.experiment.config, sort_keys=False, allow_unicode=True, width=1000)
            out += ["```yaml config", dumped.rstrip("\n"), "```", ""]
        if e.experiment.code_diff:
            out += ["```diff", e.experiment.code_diff, "```", ""]
        out += _figures_md(e.figures_in("experiment"))
        out += _section("Result", e.result.text)
        if e.result.metrics is not None:
            out += _table_md(e.result.metrics) + [""]
            if e.result.metrics.caption:
                out += [f"Table: {e.result.metrics.caption}", ""]
        out += _figures_md(e.figures_in("result"))
        verdict = e.verdict + (f" — {e.verdict_note}" if e.verdict_note else "")
        out += _section("Verdict", verdict) + _figures_md(e.figures_in("verdict"))
        if e.runs:
            out += [f"**Runs.** {', '.join(e.runs)}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _section(name: str, text: str) -> list[str]:
    marker = f"**{name}.**"
    if not text:
        return [marker, ""]
    text = _escape_structure(text)
    first = text.split("\n", 1)[0]
    # start the text on the marker line only if it is a plain paragraph line
    if re.match(r"^(\s|[-*+>|#`~]|\d+[.)]\s|!\[|\\)", first):
        return [marker, "", text, ""]
    return [f"{marker} {text}", ""]


def _figures_md(figures: list[Figure]) -> list[str]:
    out = []
    for f in figures:
        caption = f.caption.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        target = f.target
        if re.search(r"[\s()<>]", target):
            target = f"<{target}>"
        attrs = ""
        if f.width is not None:
            pct = f.width * 100
            attrs = f"{{width={round(pct)}%}}" if round(pct) / 100 == f.width else f"{{width={f.width!r}}}"
        out += [f"![{caption}]({target}){attrs}", ""]
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table_md(table: Table) -> list[str]:
    def cell(c):
        return _md_cell(c.to_text() if isinstance(c, MeanStd) else c)

    out = ["| " + " | ".join(_md_cell(c) for c in table.columns) + " |"]
    out.append("|" + "|".join("---" for _ in table.columns) + "|")
    out += ["| " + " | ".join(cell(c) or " " for c in row) + " |" for row in table.rows]
    return out


def _summary_table_md(rows: list[SummaryRow]) -> list[str]:
    out = ["| " + " | ".join(SUMMARY_COLUMNS.values()) + " |", "|---|---|---|---|---|"]
    for r in rows:
        cells = [
            _md_cell(r.step),
            r.val_acc.to_text() if r.val_acc else "—",
            r.val_loss.to_text() if r.val_loss else "—",
            r.delta.to_text(signed=True) if r.delta else "—",
            r.verdict or "—",
        ]
        out.append("| " + " | ".join(cells) + " |")
    return out
