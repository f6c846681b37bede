"""The logbook data model: a title page, a summary and observation → hypothesis → result entries.

Everything here is plain data (dataclasses) and validation; reading and writing the
Markdown format lives in :mod:`debugkit.logbook.markdown_io`, rendering in
:mod:`debugkit.logbook.export`.

Texts (observation, hypothesis, ...) are Markdown source: paragraphs, lists, ``**bold**``,
``*italic*``, `` `code` `` and fenced code blocks are rendered; everything else is taken
literally (a ``$`` or ``#`` in a text is printed, never interpreted).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Union

VERDICTS = ("confirmed", "refuted", "inconclusive")
"""Allowed verdicts of an entry (and of a summary-table row)."""

SECTIONS = ("observation", "hypothesis", "experiment", "result", "verdict")
"""The sections of an entry, in the order they are written and rendered."""

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg")
"""Plain image files a figure may point to (what Typst, browsers and Jupyter all show)."""


class LogbookError(ValueError):
    """A logbook (or its Markdown source) is malformed; the message says where and how to fix it."""


# -- small helpers ------------------------------------------------------------------------


def clean_text(text: Any) -> str:
    """Normalise a Markdown text field: no trailing spaces, at most one blank line, stripped.

    Applied by the model and by the parser alike, so that writing and re-reading a logbook
    gives back equal objects.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        raise LogbookError(f"expected text, got {type(text).__name__} {text!r}")
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n").strip()


def _one_line(text: Any, what: str) -> str:
    text = clean_text(text)
    if "\n" in text:
        raise LogbookError(f"{what} must be a single line, got {text!r}")
    return text


def _fmt_number(x: float) -> str:
    """Shortest text that reads back as exactly ``x`` (``3`` for 3.0, ``0.91`` for 0.91)."""
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def _display_number(x: float, decimals: int | None = None) -> str:
    """Rounded text for print: 4 significant digits, or ``decimals`` places, no trailing zeros."""
    if not math.isfinite(x):
        return {True: "∞", False: "−∞"}[x > 0] if math.isinf(x) else "NaN"
    if decimals is not None:
        s = f"{x:.{decimals}f}"
        if "." in s:
            s = s.rstrip("0").rstrip(".")
    else:
        s = f"{x:.4g}"
        if "e" in s:  # 1e-05 -> 1e-5
            mantissa, exponent = s.split("e")
            s = f"{mantissa}e{int(exponent)}"
    if s in ("-0", "-0.0"):
        s = "0"
    return s.replace("-", "−")


_NUM = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|nan)"
_MEANSTD_RE = re.compile(
    rf"^\s*(?P<mean>{_NUM})\s*(?:(?:±|\+/-|\+-)\s*(?P<std>{_NUM}))?\s*(?:\(\s*n\s*=\s*(?P<n>\d+)\s*\))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MeanStd:
    """A number, optionally with its spread over seeds: ``0.91 ± 0.01 (n=3)``.

    Args:
        mean: The value (mean over seeds where there are several).
        std: Standard deviation over seeds, if known.
        n: Number of seeds (or repetitions), if known.

    Example:
        >>> MeanStd.parse("0.91 ± 0.01 (n=3)")
        MeanStd(mean=0.91, std=0.01, n=3)
    """

    mean: float
    std: float | None = None
    n: int | None = None
    text: str | None = field(default=None, compare=False, repr=False)
    """The text it was read from, kept so that print shows ``2.30`` as written, not ``2.3``."""

    def __post_init__(self):
        try:
            object.__setattr__(self, "mean", float(self.mean))
            if self.std is not None:
                object.__setattr__(self, "std", float(self.std))
            if self.n is not None:
                object.__setattr__(self, "n", int(self.n))
        except (TypeError, ValueError) as exc:
            raise LogbookError(f"MeanStd needs numbers, got mean={self.mean!r}, std={self.std!r}") from exc
        if self.std is not None and self.std < 0:
            raise LogbookError(f"a standard deviation cannot be negative, got {self.std}")

    @classmethod
    def parse(cls, text: str) -> "MeanStd | None":
        """Read ``"0.91"``, ``"0.91 ± 0.01"``, ``"0.91 +- 0.01 (n=3)"``; ``None`` if it is not a number."""
        m = _MEANSTD_RE.match(text.replace("−", "-"))
        if not m:
            return None
        std = m.group("std")
        n = m.group("n")
        written = re.sub(r"\s*(?:\+/-|\+-|±)\s*", " ± ", text.strip())
        return cls(float(m.group("mean")), float(std) if std else None, int(n) if n else None, written)

    @classmethod
    def coerce(cls, value: Any, what: str = "value") -> "MeanStd | None":
        """Turn ``None``, a number, a ``(mean, std)`` pair, a dict or a string into a ``MeanStd``."""
        if value is None or isinstance(value, MeanStd):
            return value
        if isinstance(value, bool):
            raise LogbookError(f"{what}: expected a number, got {value!r}")
        if isinstance(value, (int, float)) or hasattr(value, "__float__") and not isinstance(value, str):
            return cls(float(value))
        if isinstance(value, (tuple, list)) and 1 <= len(value) <= 3:
            return cls(*value)
        if isinstance(value, dict):
            return cls(**value)
        if isinstance(value, str):
            if value.strip() in ("", "—", "–", "-", "n/a", "N/A"):
                return None
            parsed = cls.parse(value)
            if parsed is None:
                raise LogbookError(f"{what}: {value!r} is not a number like '0.91' or '0.91 ± 0.01'")
            return parsed
        raise LogbookError(f"{what}: expected a number or 'mean ± std', got {value!r}")

    def to_text(self, signed: bool = False) -> str:
        """Exact text form used in the Markdown file (reads back to an equal object)."""
        if self.text is not None and MeanStd.parse(self.text) == self:
            return "+" + self.text if signed and self.mean > 0 and not self.text.startswith("+") else self.text
        mean = _fmt_number(self.mean)
        if signed and self.mean > 0:
            mean = "+" + mean
        out = mean
        if self.std is not None:
            out += f" ± {_fmt_number(self.std)}"
        if self.n is not None:
            out += f" (n={self.n})"
        return out

    def display(self, signed: bool = False) -> str:
        """Form for print: as written if read from text, else the std to two significant digits
        and the mean to the same decimal place."""
        if self.text is not None and MeanStd.parse(self.text) == self:
            out = self.text.replace("-", "−").replace("(n=", "(n = ")
            return "+" + out if signed and self.mean > 0 and not out.startswith("+") else out
        decimals = None
        if self.std is not None and self.std > 0 and math.isfinite(self.std):
            decimals = max(0, 1 - math.floor(math.log10(self.std)))
        mean = _display_number(self.mean, decimals)
        if signed and self.mean > 0:
            mean = "+" + mean
        out = mean
        if self.std is not None:
            out += f" ± {_display_number(self.std, decimals)}"
        if self.n is not None:
            out += f" (n = {self.n})"
        return out

    def __str__(self) -> str:
        return self.display()


Cell = Union[str, MeanStd]


def to_cell(value: Any) -> Cell:
    """Normalise a table cell: numbers (also numeric strings) become :class:`MeanStd`, the rest text."""
    if isinstance(value, MeanStd):
        return value
    if value is None:
        return ""
    if isinstance(value, str):
        text = _one_line(value, "a table cell")
        parsed = MeanStd.parse(text)
        return parsed if parsed is not None else text
    return MeanStd.coerce(value, "table cell")


@dataclass
class Table:
    """A small table of results, e.g. validation accuracy per configuration over seeds.

    Args:
        columns: Column headers.
        rows: One list of cells per row; numbers and ``"0.91 ± 0.01"`` strings become
            :class:`MeanStd`, other cells stay text.
        caption: Optional caption printed under the table.

    Example:
        >>> Table(["lr", "val acc"], [["1e-5", "0.12 ± 0.01"], ["1e-2", (0.91, 0.01)]])  # doctest: +SKIP
    """

    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str = ""

    def __post_init__(self):
        self.columns = [_one_line(str(c), "a column header") for c in self.columns]
        if not self.columns:
            raise LogbookError("a table needs at least one column")
        rows = []
        for i, row in enumerate(self.rows, 1):
            row = [to_cell(c) for c in row]
            if len(row) != len(self.columns):
                raise LogbookError(
                    f"table row {i} has {len(row)} cells but the table has {len(self.columns)} columns "
                    f"({', '.join(self.columns)})"
                )
            rows.append(row)
        self.rows = rows
        self.caption = _one_line(self.caption, "a table caption")

    @classmethod
    def from_records(cls, records: list[dict], caption: str = "") -> "Table":
        """Build a table from a list of dicts (columns in first-seen order)."""
        columns: list[str] = []
        for r in records:
            columns += [k for k in r if k not in columns]
        return cls(columns, [[r.get(c) for c in columns] for r in records], caption)


def _check_verdict(verdict: Any, where: str, allow_none: bool = False) -> str | None:
    if verdict is None or str(verdict).strip() in ("", "—", "–", "-", "n/a", "N/A"):
        if allow_none:
            return None
        raise LogbookError(
            f"{where}: the verdict is missing; write one of {', '.join(VERDICTS)} "
            "(inconclusive is an honest answer when the experiment did not decide it)"
        )
    v = str(verdict).strip().lower()
    if v not in VERDICTS:
        raise LogbookError(f"{where}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    return v


@dataclass
class SummaryRow:
    """One line of the summary table: a step (change) and what it did to validation metrics.

    Args:
        step: What was changed, e.g. ``"baseline"`` or ``"lr 1e-5 → 1e-2"``.
        val_acc: Validation accuracy, ``MeanStd`` or anything :meth:`MeanStd.coerce` takes.
        val_loss: Validation loss.
        delta: Change of validation accuracy against the previous row (or the baseline).
        verdict: Verdict of the hypothesis behind the step, ``None`` for the baseline.
    """

    step: str
    val_acc: MeanStd | None = None
    val_loss: MeanStd | None = None
    delta: MeanStd | None = None
    verdict: str | None = None

    def __post_init__(self):
        self.step = _one_line(self.step, "summary table step")
        if not self.step:
            raise LogbookError("summary table: every row needs a step (what was changed)")
        where = f"summary table row {self.step!r}"
        self.val_acc = MeanStd.coerce(self.val_acc, f"{where}, val_acc")
        self.val_loss = MeanStd.coerce(self.val_loss, f"{where}, val_loss")
        self.delta = MeanStd.coerce(self.delta, f"{where}, delta")
        self.verdict = _check_verdict(self.verdict, where, allow_none=True)


_ALIAS_RE = re.compile(r"^[A-Za-z_][\w.-]*$")


@dataclass
class Figure:
    """A figure: either an image file or a figure drawn from one or more runs.

    Args:
        caption: Caption (Markdown inline text).
        path: An image file (png, jpg, gif, svg); relative paths resolve against the
            logbook's folder.
        runs: Run references (aliases from the logbook's ``runs`` map, or run directories)
            for a run figure.
        name: Name of the run figure, e.g. ``"cockpit"``, ``"loss"``, ``"alpha"``,
            ``"learning_curves"`` (drawn by ``debugkit.plot.render_figure``).
        section: Entry section the figure belongs to (``observation``, ..., ``result``).
        width: Optional width as a fraction of the text width (0 < width ≤ 1).

    Example:
        >>> Figure("The loss is flat", runs=["base"], name="loss", section="observation")  # doctest: +SKIP
        >>> Figure.from_target("run:base,fix1#learning_curves")  # doctest: +SKIP
    """

    caption: str = ""
    path: str | None = None
    runs: tuple[str, ...] = ()
    name: str | None = None
    section: str = "result"
    width: float | None = None

    def __post_init__(self):
        self.caption = _one_line(self.caption, "a figure caption")
        if isinstance(self.runs, (str, os.PathLike)):
            self.runs = (self.runs,)
        self.runs = tuple(Path(r).as_posix() if isinstance(r, os.PathLike) else str(r).strip() for r in self.runs)
        if self.path is not None:
            self.path = Path(self.path).as_posix() if isinstance(self.path, os.PathLike) else str(self.path).strip()
        if self.path and (self.runs or self.name):
            raise LogbookError(
                f"figure {self.caption or self.path!r}: give either an image path or runs + a figure name, not both"
            )
        if not self.path:
            self.path = None
            if not self.runs or not self.name:
                raise LogbookError(
                    f"figure {self.caption!r}: a figure needs an image path, or runs and a figure name "
                    "(Markdown: ![caption](figures/loss.png) or ![caption](run:base#loss))"
                )
            for r in self.runs:
                if not r or any(c in r for c in ",#\n"):
                    raise LogbookError(f"figure {self.caption!r}: run reference {r!r} may not be empty or contain , or #")
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
                raise LogbookError(
                    f"figure {self.caption!r}: figure name {self.name!r} should look like 'loss' or 'learning_curves'"
                )
        elif Path(self.path).suffix.lower() not in IMAGE_SUFFIXES:
            raise LogbookError(
                f"figure {self.caption or self.path!r}: {self.path!r} is not an image; "
                f"use one of {', '.join(IMAGE_SUFFIXES)}"
            )
        if self.section not in SECTIONS:
            raise LogbookError(f"figure {self.caption!r}: section {self.section!r} is not one of {', '.join(SECTIONS)}")
        if self.width is not None:
            self.width = float(self.width)
            if not 0 < self.width <= 1:
                raise LogbookError(f"figure {self.caption!r}: width {self.width} must be a fraction in (0, 1]")

    @property
    def is_run_figure(self) -> bool:
        return self.path is None

    @property
    def target(self) -> str:
        """The figure's link target in Markdown: ``run:a,b#name`` or the image path."""
        if self.is_run_figure:
            return f"run:{','.join(self.runs)}#{self.name}"
        return self.path

    @classmethod
    def from_target(cls, target: str, caption: str = "", section: str = "result", width: float | None = None) -> "Figure":
        """Parse a Markdown image target: ``run:<alias or path>[,<more>]#<name>`` or a file path."""
        target = target.strip()
        if target.startswith("run:"):
            spec = target[4:]
            if "#" not in spec:
                raise LogbookError(
                    f"figure target {target!r} names no figure; write run:<alias or path>#<figure>, e.g. run:base#loss"
                )
            runs, name = spec.rsplit("#", 1)
            return cls(caption, runs=tuple(r.strip() for r in runs.split(",")), name=name.strip(), section=section, width=width)
        return cls(caption, path=target, section=section, width=width)


@dataclass
class Experiment:
    """What was changed to test the hypothesis.

    Args:
        description: Markdown text.
        config: Changed configuration values, e.g. ``{"lr": 0.01}`` (plain YAML data).
        code_diff: A unified diff of the code change.
    """

    description: str = ""
    config: dict | None = None
    code_diff: str | None = None

    def __post_init__(self):
        self.description = clean_text(self.description)
        if self.config is not None:
            if not isinstance(self.config, dict):
                raise LogbookError(f"experiment config must be a dict of changed values, got {self.config!r}")
            self.config = _plain_yaml(self.config, "experiment config") or None
        if self.code_diff is not None:
            diff = "\n".join(line.rstrip() for line in self.code_diff.replace("\r\n", "\n").split("\n"))
            diff = diff.strip("\n")
            if "```" in diff:
                raise LogbookError("experiment code_diff may not contain ``` (it is written as a fenced block)")
            self.code_diff = diff or None

    def is_empty(self) -> bool:
        return not (self.description or self.config or self.code_diff)


def _plain_yaml(obj: Any, what: str) -> Any:
    """Round-trip through YAML so that tuples become lists and non-YAML values fail early."""
    import yaml

    try:
        return yaml.safe_load(yaml.safe_dump(obj, sort_keys=False, allow_unicode=True))
    except yaml.YAMLError as exc:
        raise LogbookError(
            f"{what} holds a value that is not plain YAML data ({exc.__class__.__name__}); "
            "convert numpy/torch values with float() or int() first"
        ) from exc


@dataclass
class Result:
    """What happened.

    Args:
        text: Markdown text.
        metrics: Optional table of metrics (mean ± std over seeds where available).
    """

    text: str = ""
    metrics: Table | None = None

    def __post_init__(self):
        self.text = clean_text(self.text)
        if isinstance(self.metrics, dict):
            self.metrics = Table(**self.metrics)
        elif isinstance(self.metrics, list):
            self.metrics = Table.from_records(self.metrics)

    def is_empty(self) -> bool:
        return not (self.text or self.metrics)


@dataclass
class Entry:
    """One observation → hypothesis → experiment → result → verdict cycle.

    Args:
        title: Short title, e.g. ``"Loss does not move"``.
        observation: What was seen (Markdown).
        hypothesis: The explanation put to the test (Markdown).
        experiment: An :class:`Experiment`, or its description as a string.
        result: A :class:`Result`, or its text as a string.
        verdict: ``confirmed``, ``refuted`` or ``inconclusive``.
        verdict_note: Optional sentence after the verdict word.
        figures: Figures, each tagged with the section it belongs to.
        runs: Run references the entry rests on (aliases or run directories).

    Example:
        >>> Entry("Loss does not move", observation="The loss stays at 2.30.",
        ...       hypothesis="The learning rate is far too low.",
        ...       experiment=Experiment("lr 1e-5 → 1e-2", config={"lr": 0.01}),
        ...       result="Validation accuracy 0.12 → 0.91 ± 0.01 (3 seeds).",
        ...       verdict="confirmed", runs=["base", "fix1"])  # doctest: +SKIP
    """

    title: str
    observation: str = ""
    hypothesis: str = ""
    experiment: Experiment = field(default_factory=Experiment)
    result: Result = field(default_factory=Result)
    verdict: str = ""
    verdict_note: str = ""
    figures: list[Figure] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.title = _one_line(self.title, "an entry title")
        if not self.title:
            raise LogbookError("every entry needs a title")
        where = f"entry {self.title!r}"
        self.observation = clean_text(self.observation)
        self.hypothesis = clean_text(self.hypothesis)
        if isinstance(self.experiment, str):
            self.experiment = Experiment(self.experiment)
        elif isinstance(self.experiment, dict):
            self.experiment = Experiment(**self.experiment)
        if isinstance(self.result, str):
            self.result = Result(self.result)
        elif isinstance(self.result, dict):
            self.result = Result(**self.result)
        self.verdict = _check_verdict(self.verdict, where)
        self.verdict_note = clean_text(self.verdict_note)
        figures = []
        for f in self.figures:
            if isinstance(f, dict):
                f = Figure(**f)
            if not isinstance(f, Figure):
                raise LogbookError(f"{where}: figures must be Figure objects, got {f!r}")
            figures.append(f)
        # figures are kept in section order, as they are written and rendered
        self.figures = sorted(figures, key=lambda f: SECTIONS.index(f.section))
        if isinstance(self.runs, (str, os.PathLike)):
            self.runs = [self.runs]
        self.runs = [Path(r).as_posix() if isinstance(r, os.PathLike) else str(r).strip() for r in self.runs]
        for r in self.runs:
            if not r or "," in r or "\n" in r:
                raise LogbookError(f"{where}: run reference {r!r} may not be empty or contain a comma")

    def figures_in(self, section: str) -> list[Figure]:
        """The figures placed in ``section`` (in order)."""
        return [f for f in self.figures if f.section == section]

    def run_refs(self) -> list[str]:
        """All runs the entry rests on: its ``runs`` and those its figures draw from, without repeats."""
        refs = list(self.runs)
        for f in self.figures:
            refs += [r for r in f.runs if r not in refs]
        return list(dict.fromkeys(refs))


@dataclass
class Logbook:
    """A debugging logbook.

    Args:
        title: Title of the logbook.
        author: Author(s).
        course: Course or subtitle line.
        date: Date as text (e.g. ``"2024-01-19"``).
        baseline: Name of the baseline the entries start from.
        summary: Summary text (Markdown).
        summary_table: Rows of :class:`SummaryRow` (dicts are accepted).
        entries: The entries, in order.
        runs: Aliases for run directories, ``{"base": "runs/base"}``.
        instruments: Instruments whose definitions the appendix typesets; by default those
            behind the run figures used.
        meta: Free-form extra front matter (kept, not printed).
        base_dir: Folder relative paths resolve against (the Markdown file's folder).

    Example:
        >>> lb = Logbook("Debugging the digits MLP", author="Ada", entries=[...])  # doctest: +SKIP
        >>> build_logbook(lb, "logbook.pdf")                                      # doctest: +SKIP
    """

    title: str
    author: str = ""
    course: str = ""
    date: str = ""
    baseline: str = ""
    summary: str = ""
    summary_table: list[SummaryRow] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)
    instruments: list[str] | None = None
    meta: dict = field(default_factory=dict)
    base_dir: Path | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        self.title = _one_line(self.title, "the logbook title")
        if not self.title:
            raise LogbookError("the logbook needs a title")
        self.author = _one_line(self.author, "author")
        self.course = _one_line(self.course, "course")
        self.date = _one_line(self.date if not hasattr(self.date, "isoformat") else self.date.isoformat(), "date")
        self.baseline = _one_line(self.baseline, "baseline")
        self.summary = clean_text(self.summary)
        self.summary_table = [SummaryRow(**r) if isinstance(r, dict) else r for r in self.summary_table]
        entries = []
        for i, e in enumerate(self.entries, 1):
            if isinstance(e, dict):
                e = Entry(**e)
            if not isinstance(e, Entry):
                raise LogbookError(f"entry {i} must be an Entry, got {type(e).__name__}")
            entries.append(e)
        self.entries = entries
        runs = {}
        for alias, path in dict(self.runs or {}).items():
            alias = str(alias)
            if not _ALIAS_RE.match(alias):
                raise LogbookError(
                    f"run alias {alias!r} should be a simple name such as 'base' or 'fix-lr' "
                    "(letters, digits, _ . -)"
                )
            runs[alias] = Path(path).as_posix() if isinstance(path, os.PathLike) else str(path)
        self.runs = runs
        if self.instruments is not None:
            self.instruments = [str(i) for i in self.instruments]
        self.meta = dict(self.meta or {})
        if self.base_dir is not None:
            self.base_dir = Path(self.base_dir)

    # -- paths ----------------------------------------------------------------------------
    def resolve_path(self, path: str | os.PathLike) -> Path:
        """Resolve a path from the logbook against :attr:`base_dir` (the current folder if unset)."""
        p = Path(path).expanduser()
        if p.is_absolute():
            return p
        return (self.base_dir or Path.cwd()) / p

    def run_path(self, ref: str) -> Path:
        """The run directory a reference (alias from :attr:`runs`, or a path) stands for."""
        return self.resolve_path(self.runs.get(ref, ref))

    def iter_figures(self) -> Iterator[tuple[int, Entry, Figure]]:
        """``(entry number, entry, figure)`` for every figure, in document order."""
        for i, e in enumerate(self.entries, 1):
            for sec in SECTIONS:
                for f in e.figures_in(sec):
                    yield i, e, f

    # -- conversions ----------------------------------------------------------------------
    def to_markdown(self) -> str:
        """The logbook as Markdown with YAML front matter (see :func:`parse_logbook`)."""
        from debugkit.logbook.markdown_io import to_markdown

        return to_markdown(self)

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_markdown` to ``path`` and return it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_markdown(), encoding="utf-8")
        return path
