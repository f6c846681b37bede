"""Results of a study: per-run rows, per-configuration mean ± std, comparisons, Markdown."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from debugkit.study.definition import StudyDefinition
from debugkit.study.stats import ALPHA, Comparison, format_mean_std, summarize

#: Final-epoch metrics summarised per configuration (lower is better for losses).
METRICS = ("val_acc", "val_f1", "val_loss", "train_loss", "train_acc")


@dataclass
class StudyResult:
    """What :func:`~debugkit.study.run_study` produced.

    Attributes:
        definition: The study that was run.
        out_dir: Its directory (runs, tables, figures).
        runs: One row per run: ``variant, replicate, run_dir, status`` and final metrics.
        table: One row per configuration: ``n``, ``<metric>_mean``, ``<metric>_std``, ...
        comparisons: Each configuration against the reference (see :mod:`debugkit.study.stats`).
        reference: What was compared against (``baseline`` or the best configuration).
        warnings: Statistical-honesty warnings (single seeds, unequal tuning budgets, ...).
        figures: Figure name -> PNG path.
        elapsed: Wall-clock seconds of the whole study.
    """

    definition: StudyDefinition
    out_dir: Path
    runs: pd.DataFrame
    table: pd.DataFrame
    comparisons: list[Comparison] = field(default_factory=list)
    reference: str | None = None
    warnings: list[str] = field(default_factory=list)
    figures: dict[str, Path] = field(default_factory=dict)
    elapsed: float = math.nan

    @property
    def best(self) -> str:
        """The configuration with the best mean of the study's metric."""
        m = self.definition.metric
        col = f"{m}_mean"
        ok = self.table[self.table[col].notna()]
        if ok.empty:
            return str(self.table.index[0])
        return str(ok[col].idxmin() if _lower_is_better(m) else ok[col].idxmax())

    def to_markdown(self) -> str:
        return results_markdown(self)

    def save(self) -> None:
        """Write ``runs.csv``, ``results.csv``, ``results.md`` and ``study.json``."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.runs.to_csv(self.out_dir / "runs.csv", index=False)
        self.table.to_csv(self.out_dir / "results.csv")
        (self.out_dir / "results.md").write_text(self.to_markdown(), encoding="utf-8")
        summary = {
            "definition": self.definition.to_dict(),
            "reference": self.reference,
            "best": self.best,
            "elapsed_s": self.elapsed,
            "warnings": self.warnings,
            "comparisons": [c.__dict__ for c in self.comparisons],
            "figures": {k: str(v) for k, v in self.figures.items()},
        }
        (self.out_dir / "study.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")


def _lower_is_better(metric: str) -> bool:
    return "loss" in metric


def collect_runs(jobs, outcomes: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per job, final metrics read from the run store (the source of truth)."""
    from debugkit.store import load_run

    rows = []
    for job in jobs:
        row: dict[str, Any] = {"variant": job.variant, "replicate": job.replicate, "run_dir": str(job.run_dir),
                               "seed": job.config.seed, **job.params}
        outcome = outcomes.get(str(job.run_dir), {})
        try:
            run = load_run(job.run_dir)
            row["status"] = run.meta.get("status", outcome.get("status", "?"))
            epochs = run.epochs
            if not epochs.empty:
                last = epochs.iloc[-1]
                row["epochs"] = int(last["epoch"])
                for m in METRICS:
                    row[m] = float(last[m]) if m in last and last[m] is not None else math.nan
                if "val_acc" in epochs:
                    row["best_val_acc"] = float(pd.to_numeric(epochs["val_acc"], errors="coerce").max())
            row["time"] = run.meta.get("train_time", outcome.get("time", math.nan))
        except FileNotFoundError:
            row["status"] = outcome.get("status", "missing")
        if outcome.get("error"):
            row["error"] = outcome["error"]
        rows.append(row)
    df = pd.DataFrame(rows)
    for m in METRICS:
        if m not in df:
            df[m] = math.nan
    return df


def variant_table(runs: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    """Per-configuration ``n``, ``n_diverged``, ``n_crashed`` and mean/std of each metric."""
    rows = []
    for variant, g in runs.groupby("variant", sort=False):
        row: dict[str, Any] = {"variant": variant}
        for p in params:
            row[p] = g[p].iloc[0] if p in g else None
        ok = g[~g["status"].isin(["crashed", "missing"])]
        row["n"] = len(ok)
        row["n_diverged"] = int((g["status"] == "diverged").sum())
        row["n_crashed"] = int((g["status"] == "crashed").sum())
        for m in METRICS + ("best_val_acc", "time"):
            if m in ok:
                s = summarize(pd.to_numeric(ok[m], errors="coerce").tolist())
                row[f"{m}_mean"], row[f"{m}_std"] = s.mean, s.std
        rows.append(row)
    return pd.DataFrame(rows).set_index("variant")


def results_markdown(r: StudyResult) -> str:
    d = r.definition
    m = d.metric
    params = [p for p in ("lr", "batch_size", "changes") if p in r.table.columns]
    header = ["configuration", *params, "n", m, *[x for x in ("val_f1", "val_loss", "train_loss") if x != m]]
    if r.comparisons:
        header.append(f"vs {r.reference}")
    verdicts = {c.name: c.verdict for c in r.comparisons}
    lines = [
        f"# Study `{d.name}` ({d.kind})",
        "",
        f"Final-epoch metrics, mean ± std (ddof=1) over "
        f"{'folds' if d.kind == 'cv' else 'seeds'} {d.seeds if d.kind != 'cv' else f'(k={d.folds})'}; "
        f"base config: {d.base.label()}, {d.base.epochs} epochs, data set {d.base.dataset}.",
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    for variant in r.table.index:
        row = r.table.loc[variant].to_dict()  # a dict keeps each column's own type (iterrows would upcast)
        cells = [f"**{variant}**" if variant == r.best else str(variant)]
        cells += [_cell(row[p]) for p in params]
        n = int(row["n"])
        extra = []
        if row.get("n_diverged", 0):
            extra.append(f"{int(row['n_diverged'])} diverged")
        if row.get("n_crashed", 0):
            extra.append(f"{int(row['n_crashed'])} crashed")
        cells.append(f"{n}" + (f" ({', '.join(extra)})" if extra else ""))
        for col in header[len(params) + 2:]:
            if col.startswith("vs "):
                cells.append(verdicts.get(variant, "reference" if variant == r.reference else ""))
            else:
                cells.append(format_mean_std(row.get(f"{col}_mean", math.nan), row.get(f"{col}_std", math.nan), None))
        lines.append("| " + " | ".join(cells) + " |")
    if len(r.table) > 1:
        lines += ["", f"Best configuration by mean {m}: **{r.best}**."]
    else:
        s = summarize(pd.to_numeric(r.runs[m], errors="coerce").tolist())
        lines += ["", f"{m} over {s.n} runs: {format_mean_std(s.mean, s.std, s.n)}, range {s.min:.4f} – {s.max:.4f}, "
                  f"standard error of the mean {s.sem:.4f}."]
    if r.comparisons:
        lines += [
            "",
            "## How differences are judged",
            "",
            f"Welch's two-sided t-test on the final {m} of each configuration against "
            f"{'the baseline' if r.reference == 'baseline' else 'the best configuration'}, Holm-corrected over "
            f"all comparisons of this study (α = {ALPHA}). *Within noise* means the difference is not "
            "distinguishable from seed-to-seed variation with this many runs; it does not mean the "
            "configurations are equal.",
        ]
    if d.kind == "cv":
        lines += ["", "The k folds share most of their training data, so their spread underestimates the "
                  "variance of the estimate (Bengio & Grandvalet, 2004); read ± std as a lower bound."]
    lines += ["", "Hyperparameters were chosen for final-epoch performance: the curves at earlier epochs do not "
              "show which configuration trains faster in general."]
    if r.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in r.warnings]
    if r.figures:
        lines += ["", "## Figures", ""] + [f"![{k}]({Path(v).name})" for k, v in r.figures.items()]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "—" if value is None else str(value)


def finite(values) -> np.ndarray:
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    return v[np.isfinite(v)]
