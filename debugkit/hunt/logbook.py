"""Turn a bug hunt into an observation → hypothesis → result logbook."""

from __future__ import annotations

import os
import time
from pathlib import Path

from debugkit.hunt.hunt import FIGURE_FOR, HuntResult, Metrics, Step, fmt_loss, mean_std
from debugkit.logbook.model import Entry, Experiment, Figure, Logbook, MeanStd, Result, SummaryRow, Table


def _acc(m: Metrics | None) -> MeanStd | None:
    return MeanStd(round(m.val_acc, 4)) if m is not None and m.val_acc is not None else None


def _loss(m: Metrics | None) -> MeanStd | None:
    return MeanStd(float(f"{m.val_loss:.4g}")) if m is not None and m.val_loss is not None else None


def _curves_available(*runs: str) -> bool:
    from debugkit.store import load_run

    try:
        return all("val_loss" in load_run(r).epochs.columns for r in runs)
    except Exception:
        return False


def _finding_entry(i: int, s: Step) -> Entry:
    f = s.finding
    when = f" from step {f.first_step}" if f.first_step is not None else ""
    observation = (f"The diagnosis of the current version flags **{f.title}** (`{f.id}`, {f.severity}, confidence "
                   f"{f.confidence:.0%}{when}). Before the change: {s.metrics_before.describe()}.")
    figs = [Figure(f"Observation for `{f.id}` in the run before the change", runs=(s.before,),
                   name=FIGURE_FOR.get(f.id, "loss"), section="observation")]
    if s.after is None:
        return Entry(title=f.title, observation=observation, hypothesis=f.hypothesis,
                     experiment=Experiment(description=f.suggestion), result=Result(text=s.note),
                     verdict="inconclusive", figures=figs, runs=[s.before])
    gone = f.id not in s.remaining
    result = (f"After the change: {s.metrics_after.describe()} (before: {s.metrics_before.describe()}). "
              f"The finding `{f.id}` {'is gone' if gone else 'is still raised'}."
              + (f" Still flagged: {', '.join(f'`{r}`' for r in s.remaining)}." if s.remaining else
                 " No warning-level findings remain.") + (f" {s.note}" if s.note else ""))
    table = Table(["metric", "before", "after"], [
        ["validation accuracy", *(f"{m.val_acc:.3f}" if m.val_acc is not None else "–" for m in (s.metrics_before, s.metrics_after))],
        ["validation loss", *(fmt_loss(m.val_loss) for m in (s.metrics_before, s.metrics_after))],
        ["final training loss", *(fmt_loss(m.train_loss) for m in (s.metrics_before, s.metrics_after))],
    ], caption=f"Effect of the experiment for `{f.id}`")
    name = "learning_curves" if _curves_available(s.before, s.after) else "loss"
    figs.append(Figure("Before (first run) and after the change", runs=(s.before, s.after), name=name,
                       section="result"))
    return Entry(title=f.title, observation=observation, hypothesis=f.hypothesis,
                 experiment=Experiment(description=f"{f.suggestion} Applied to a copy of the script:",
                                       code_diff=s.diff or None),
                 result=Result(text=result, metrics=table), verdict=s.verdict, figures=figs,
                 runs=[s.before, s.after])


def _tuning_entry(i: int, s: Step) -> Entry:
    grid = s.extra.get("grid", [])
    rows = [[f"×{fac:g}", str(bs) if bs else "–", f"{m.val_acc:.3f}" if m.val_acc is not None else "–",
             "yes" if m.diverged else "no"] for fac, bs, _, m in grid]
    table = Table(["learning-rate factor", "batch size", "validation accuracy", "diverged"], rows,
                  caption="Learning-rate × batch-size grid (one seed each)")
    runs = tuple(g[2] for g in grid)
    name = "learning_curves" if _curves_available(*runs) else "loss"
    return Entry(
        title=s.title,
        observation=f"With the bugs fixed the run reaches {s.metrics_before.describe()}.",
        hypothesis="The learning rate (and batch size) inherited from the bugged script need not be the best for "
                   "the fixed one; a small grid around the current values shows whether tuning helps.",
        experiment=Experiment(description="Grid over learning-rate factors and batch sizes, one run each; the best "
                                          "setting is kept.", code_diff=s.diff or None),
        result=Result(text=f"Best setting: {s.metrics_after.describe()}.", metrics=table),
        verdict=s.verdict, figures=[Figure("Learning curves of the grid", runs=runs, name=name, section="result")],
        runs=list(runs))


def hunt_logbook(result: HuntResult, title: str | None = None) -> Logbook:
    """The logbook of a hunt: one entry per hypothesis, the tuning, and a summary table."""
    entries, rows = [], []
    first = Metrics.of(Path(result.baseline_run))
    rows.append(SummaryRow("original script", _acc(first), _loss(first), None, None))
    prev = first.val_acc
    for i, s in enumerate(result.steps, 1):
        entries.append(_finding_entry(i, s) if s.finding is not None else _tuning_entry(i, s))
        m = s.metrics_after
        acc = m.val_acc if m is not None else None
        delta = MeanStd(round(acc - prev, 4)) if acc is not None and prev is not None and s.verdict == "confirmed" else None
        if s.finding is None:
            label = "tuning"
        elif s.after is None:
            label = f"`{s.finding.id}` (no automatic experiment)"
        else:
            label = f"fix `{s.finding.id}`"
        rows.append(SummaryRow(label, _acc(m), _loss(m), delta, s.verdict))
        if s.verdict == "confirmed" and acc is not None:
            prev = acc
    finals = [Metrics.of(Path(r)) for r in result.final_runs]
    accs = [m.val_acc for m in finals if m.val_acc is not None]
    losses = [m.val_loss for m in finals if m.val_loss is not None]
    final_acc = final_loss = None
    if accs:
        mu, sd = mean_std(accs)
        final_acc = MeanStd(round(mu, 4), round(sd, 4) if sd is not None else None, len(accs))
    if losses:
        mu, sd = mean_std(losses)
        final_loss = MeanStd(round(mu, 4), round(sd, 4) if sd is not None else None, len(losses))
    rows.append(SummaryRow(f"final ({len(result.final_runs)} seed{'s' if len(result.final_runs) > 1 else ''})",
                           final_acc, final_loss,
                           MeanStd(round(final_acc.mean - first.val_acc, 4)) if final_acc and first.val_acc is not None
                           else None, None))
    def with_verdict(v):  # one mention per finding id, in order of first appearance
        return list({s.finding.id: s.finding for s in result.steps
                     if s.finding is not None and s.verdict == v}.values())

    fixed, refuted, open_ = with_verdict("confirmed"), with_verdict("refuted"), with_verdict("inconclusive")
    open_ = [f for f in open_ if f.id not in {g.id for g in fixed}]
    summary = [f"debugkit diagnosed `{result.script.name}` and tested {sum(1 for s in result.steps if s.finding)} "
               f"hypotheses in {result.seconds / 60:.1f} minutes, each as a run of an edited copy of the script."]
    if fixed:
        summary.append("Confirmed and fixed: " + ", ".join(f"{f.title} (`{f.id}`)" for f in fixed) + ".")
    if refuted:
        summary.append("Refuted (change reverted): " + ", ".join(f"`{f.id}`" for f in refuted) + ".")
    if open_:
        summary.append("Left open: " + ", ".join(f"`{f.id}`" for f in open_) + ".")
    if final_acc is not None and first.val_acc is not None:
        summary.append(f"Validation accuracy went from {first.val_acc:.1%} to {final_acc.mean:.1%}"
                       + (f" ± {final_acc.std:.1%} over {final_acc.n} seeds." if final_acc.std is not None else "."))
    summary.append(f"The final script is `{_shown(result.final_script)}`; every run directory is listed in the "
                   "appendix and can be re-plotted with `debugkit plot`.")
    aliases = _alias_runs(entries, result)
    return Logbook(title=title or f"Bug hunt: {result.name}", author="debugkit (automatic bug hunt)", runs=aliases,
                   course="Observation → hypothesis → result, from recorded runs",
                   date=time.strftime("%Y-%m-%d"), baseline=result.name, summary=" ".join(summary),
                   summary_table=rows, entries=entries)


def _shown(path) -> str:
    """A path as a reader should see it: relative to the working directory when inside it."""
    p = Path(path).resolve()
    try:
        return p.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return os.fspath(path)


def _alias_runs(entries: list[Entry], result: HuntResult) -> dict[str, str]:
    """Short names for the hunt's runs (``missing_zero_grad``), used in entries and figures."""
    aliases: dict[str, str] = {}
    by_path: dict[str, str] = {}

    def alias(run: str) -> str:
        full = str(Path(run).resolve())
        if full not in by_path:
            folder = Path(run).parent.name or Path(run).name  # "02-missing_zero_grad"
            base = folder.split("-", 1)[1] if folder[:2].isdigit() and "-" in folder else folder
            name, k = base, 2
            while name in aliases:
                name, k = f"{base}-{k}", k + 1
            aliases[name] = full
            by_path[full] = name
        return by_path[full]

    for e in entries:
        e.runs = [alias(r) for r in e.runs]
        for f in e.figures:
            f.runs = tuple(alias(r) for r in f.runs)
    for r in [result.baseline_run, *result.final_runs]:
        alias(r)
    return aliases
