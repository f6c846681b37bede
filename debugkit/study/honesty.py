"""Warnings about comparisons that cannot support their conclusions.

Exercise sheet 11 asks what can be concluded when two update rules, each tuned by random
search, are compared on one problem. Some of the problems are checked here automatically:
single runs (no error bar), unequal tuning budgets, a new method run with the other
method's tuned learning rate, and a best setting at the edge of the searched grid.
"""

from __future__ import annotations

import math
import warnings

import pandas as pd

from debugkit.study.definition import StudyDefinition


class StudyWarning(UserWarning):
    """A study's comparison is weaker than it looks (see :mod:`debugkit.study.honesty`)."""


#: Config keys that make a variant a different *method*, whose own tuning matters.
METHOD_KEYS = ("optimizer", "model.name", "schedule", "batch_size")


def before_run(d: StudyDefinition) -> list[str]:
    """Problems visible from the definition alone."""
    out = []
    if len(d.seeds) < 2 and d.kind != "cv":
        out.append(
            f"each configuration runs with a single seed ({d.seeds[0]}): there is no error bar, so no difference "
            "between configurations can be told apart from seed noise. Use seeds >= 2 (better 5)."
        )
    if d.kind == "cv" and d.folds < 3:
        out.append(f"{d.folds}-fold cross-validation gives a very rough error estimate; use k >= 5 if affordable.")
    budgets = {k: v for k, v in (d.tuning_budgets or {}).items()}
    if budgets and len(set(budgets.values())) > 1:
        desc = ", ".join(f"{k}: {v}" for k, v in budgets.items())
        out.append(
            f"the compared configurations were tuned with different budgets ({desc} trials): the better-tuned one "
            "has an advantage that is not a property of the method. Tune each with the same budget and search "
            "procedure, or report the budgets next to the results."
        )
    if d.kind == "ablation":
        for c in d.changes:
            method = [k for k in c.changes if k in METHOD_KEYS]
            if method and "lr" not in c.changes and not budgets:
                out.append(
                    f"variant {c.name!r} changes {', '.join(method)} but keeps lr={d.base.lr:g} tuned for the "
                    "baseline: the comparison favours the baseline (unequal tuning). Tune the learning rate of each "
                    "variant with the same budget, or pass tuning_budgets to document what was done."
                )
    return out


def after_run(d: StudyDefinition, table: pd.DataFrame, best: str) -> list[str]:
    """Problems visible from the results."""
    out = []
    crashed = int(table.get("n_crashed", pd.Series(dtype=int)).sum())
    if crashed:
        out.append(f"{crashed} run(s) crashed (see the error column of runs.csv); "
                   "their configurations have fewer runs.")
    diverged = table[table.get("n_diverged", 0) > 0] if "n_diverged" in table else table.iloc[0:0]
    for variant, row in diverged.iterrows():
        out.append(f"{int(row['n_diverged'])} of {int(row['n'])} run(s) of {variant!r} diverged (non-finite loss); "
                   "their final metrics are those of a broken model.")
    if d.kind == "lr-batch" and best in table.index:
        lr = table.loc[best].get("lr")
        if lr is not None and len(d.lrs) > 1 and not (isinstance(lr, float) and math.isnan(lr)):
            if lr in (min(d.lrs), max(d.lrs)):
                out.append(f"the best learning rate ({lr:g}) is at the edge of the grid {sorted(d.lrs)}: the optimum "
                           "may lie outside it. Extend the grid in that direction.")
    return out


def emit(messages: list[str]) -> None:
    for m in messages:
        warnings.warn(m, StudyWarning, stacklevel=3)
