"""Statistics behind study verdicts: Welch vs scipy, Holm, 'within noise' decisions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from debugkit.study import compare, holm, summarize, welch_t_test
from debugkit.study.stats import format_mean_std


def test_summary_uses_sample_std_and_drops_nonfinite():
    s = summarize([0.9, 0.92, 0.94, float("nan"), float("inf")])
    assert s.n == 3 and s.mean == pytest.approx(0.92) and s.std == pytest.approx(np.std([0.9, 0.92, 0.94], ddof=1))
    assert s.sem == pytest.approx(s.std / math.sqrt(3))
    one = summarize([0.5])
    assert one.std == 0.0 and one.n == 1 and math.isnan(one.sem)
    assert "no error bar" in str(one)
    assert format_mean_std(0.9, 0.01, 3) == "0.9000 ± 0.0100 (n=3)"


def test_welch_matches_scipy_and_satterthwaite():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 5), rng.normal(0.5, 3, 8)
    t, dof, p = welch_t_test(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    va, vb = a.var(ddof=1) / 5, b.var(ddof=1) / 8
    assert dof == pytest.approx((va + vb) ** 2 / (va**2 / 4 + vb**2 / 7))
    assert all(math.isnan(x) for x in welch_t_test([1.0], [2.0, 3.0]))
    assert all(math.isnan(x) for x in welch_t_test([1.0, 1.0], [1.0, 1.0]))


def test_holm_adjustment():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, float("nan"), 0.001]) == pytest.approx([0.5, float("nan"), 0.002], nan_ok=True)
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])


def test_compare_verdicts():
    groups = {
        "baseline": [0.90, 0.91, 0.89, 0.905, 0.895],
        "clearly better": [0.97, 0.975, 0.965, 0.97, 0.972],
        "noise": [0.902, 0.89, 0.91, 0.9, 0.899],
        "single": [0.99],
    }
    res = {c.name: c for c in compare(groups, "baseline", "val_acc")}
    assert not res["clearly better"].within_noise and "better than baseline" in res["clearly better"].verdict
    assert res["noise"].within_noise and "within noise" in res["noise"].verdict
    assert res["single"].within_noise and "cannot tell" in res["single"].verdict
    assert res["clearly better"].p_adjusted >= res["clearly better"].p  # corrected for 2 testable comparisons
    # for losses lower is better
    loss = compare({"base": [1.0, 1.1, 0.9, 1.05], "new": [0.5, 0.55, 0.45, 0.5]}, "base", "val_loss",
                   higher_is_better=False)
    assert "better than base" in loss[0].verdict


def test_two_seed_differences_are_often_within_noise():
    # the same true mean, two seeds each: almost never "significant" at α=0.05
    rng = np.random.default_rng(0)
    flagged = 0
    for _ in range(200):
        res = compare({"a": rng.normal(0.9, 0.01, 2).tolist(), "b": rng.normal(0.9, 0.01, 2).tolist()}, "a", "acc")
        flagged += not res[0].within_noise
    assert flagged <= 20  # ≈ 5 % false positives expected
