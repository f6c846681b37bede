"""Is a difference real or noise? Mean ± std over seeds/folds, Welch's t-test, Holm's correction.

The rule every study report uses (documented once, here):

* Each configuration is summarised by the mean and the sample standard deviation
  (``ddof=1``) of its final-epoch metric over seeds (or folds).
* Two configurations are compared with Welch's two-sided t-test (unequal variances).
  All comparisons of one study are corrected together with Holm's step-down method
  (family-wise error rate α = 0.05).
* A difference is **within noise** when the corrected p-value is ≥ α. With two or three
  seeds the test has little power: "within noise" means "not shown to differ", not "equal".
* A configuration with a single run has no error estimate; it cannot be compared.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: Family-wise significance level of a study's comparisons.
ALPHA = 0.05


@dataclass(frozen=True)
class Summary:
    """Mean, sample std (ddof=1; 0 for n=1), standard error, min, max, n of a set of values."""

    mean: float
    std: float
    sem: float
    min: float
    max: float
    n: int

    def __str__(self) -> str:
        return format_mean_std(self.mean, self.std, self.n)


def summarize(values: Sequence[float]) -> Summary:
    """Summary of the finite ``values`` (NaN/inf from diverged runs are left out).

    Example:
        >>> str(summarize([0.9, 0.92, 0.94]))
        '0.9200 ± 0.0200 (n=3)'
    """
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    n = len(v)
    if n == 0:
        return Summary(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    std = float(v.std(ddof=1)) if n > 1 else 0.0
    return Summary(float(v.mean()), std, std / math.sqrt(n) if n > 1 else math.nan, float(v.min()),
                   float(v.max()), n)


def format_mean_std(mean: float, std: float, n: int | None = None, digits: int = 4) -> str:
    """``"0.9200 ± 0.0200 (n=3)"``; a single run is shown without ± (no error estimate)."""
    if mean is None or not math.isfinite(mean):
        return "—"
    suffix = f" (n={n})" if n is not None else ""
    if n == 1:
        return f"{mean:.{digits}f} (n=1, no error bar)"
    return f"{mean:.{digits}f} ± {std:.{digits}f}{suffix}"


@dataclass(frozen=True)
class Comparison:
    """One configuration compared with a reference on one metric.

    Attributes:
        name, reference: The compared configuration and the reference.
        diff: ``mean(name) - mean(reference)``.
        t, dof, p: Welch's statistic, Welch–Satterthwaite degrees of freedom, two-sided p.
        p_adjusted: Holm-corrected p over all comparisons of the study.
        within_noise: ``p_adjusted >= ALPHA`` (or not testable).
        overlap_2sigma: The mean ± 2·std intervals overlap (a cruder second opinion).
        verdict: One line for reports.
    """

    name: str
    reference: str
    metric: str
    diff: float
    t: float
    dof: float
    p: float
    p_adjusted: float
    within_noise: bool
    overlap_2sigma: bool
    verdict: str


def welch_t_test(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Welch's two-sided t-test of ``mean(a) != mean(b)``: ``(t, dof, p)``.

    NaN when either sample has fewer than two values or both have zero spread.

    Example:
        >>> t, dof, p = welch_t_test([1.0, 1.1, 0.9], [2.0, 2.1, 1.9])
        >>> p < 0.01
        True
    """
    from scipy import stats

    a = np.asarray([x for x in a if math.isfinite(x)], dtype=float)
    b = np.asarray([x for x in b if math.isfinite(x)], dtype=float)
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return math.nan, math.nan, math.nan
    with warnings.catch_warnings():
        # nearly identical runs: scipy warns about precision; the p-value is still what it is
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.ttest_ind(a, b, equal_var=False)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(res.statistic), float(dof), float(res.pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (NaN stays NaN and does not count).

    Example:
        >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03])]
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    valid = np.flatnonzero(np.isfinite(p))
    out = np.full(len(p), np.nan)
    m = len(valid)
    running = 0.0
    for rank, i in enumerate(valid[np.argsort(p[valid], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def compare(groups: dict[str, Sequence[float]], reference: str, metric: str, *,
            higher_is_better: bool = True) -> list[Comparison]:
    """Compare every group with ``reference`` (Welch + Holm, see the module docstring)."""
    ref = list(groups[reference])
    names = [n for n in groups if n != reference]
    tests = [welch_t_test(groups[n], ref) for n in names]
    adjusted = holm([p for _, _, p in tests])
    out = []
    r = summarize(ref)
    for name, (t, dof, p), p_adj in zip(names, tests, adjusted):
        s = summarize(groups[name])
        diff = s.mean - r.mean
        overlap = (abs(diff) <= 2 * (s.std + r.std)) if s.n > 1 and r.n > 1 else True
        if s.n < 2 or r.n < 2:
            within, verdict = True, f"cannot tell: {min(s.n, r.n)} run(s) on one side, no error estimate"
        elif not math.isfinite(p_adj):
            within = diff == 0
            verdict = "identical results on every seed (no spread): not testable" if within else \
                "no spread within either group (seeds not varied?): not testable"
        else:
            within = p_adj >= ALPHA
            better = (diff > 0) == higher_is_better
            word = "better" if better else "worse"
            verdict = (f"within noise (Δ={diff:+.4f}, Holm-adjusted p={p_adj:.3g})" if within
                       else f"{word} than {reference} (Δ={diff:+.4f}, Holm-adjusted p={p_adj:.3g})")
        out.append(Comparison(name, reference, metric, diff, t, dof, p, p_adj, within, overlap, verdict))
    return out
