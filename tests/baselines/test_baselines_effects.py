"""End to end: every bugged baseline is measurably worse than its fix, on the embedded digits.

Each script runs as a user would run it (``run_baseline``: a fresh ``python train.py --seed S``), bugged and
fixed, for SEEDS. The margins below were checked on seeds 0-9 (``python -m pytest tests/baselines
--run-slow`` with SEEDS = range(10)); the numbers in the comments are the worst case over those seeds.
"""

from __future__ import annotations

import hashlib
import math
from concurrent.futures import ThreadPoolExecutor

import pytest

from debugkit.baselines import Baseline, BaselineResult, list_baselines, run_baseline

SEEDS = (0, 1)
#: Two scripts at a time with one thread each: the two cores of a CI runner.
WORKERS = 2
ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: Wall-clock limit per script (the brief: at most 60 s on two cores; they take 3-10 s).
MAX_SECONDS = 60.0

BASELINES = {b.name: b for b in list_baselines()}
_CACHE: dict[tuple[str, int], BaselineResult] = {}


def _key(baseline: Baseline, fixed: bool, seed: int) -> tuple[str, int]:
    script = baseline.fixed_script if fixed else baseline.script
    # identical fixed scripts (several baselines share one correct program) run once per seed
    return hashlib.sha1(script.read_bytes()).hexdigest(), seed


def runs(name: str) -> tuple[list[BaselineResult], list[BaselineResult]]:
    """(bugged, fixed) results of baseline ``name`` for every seed in SEEDS."""
    baseline = BASELINES[name]
    jobs = [(fixed, seed) for fixed in (False, True) for seed in SEEDS]
    todo = [(f, s) for f, s in jobs if _key(baseline, f, s) not in _CACHE]

    def one(job):
        fixed, seed = job
        return job, run_baseline(baseline, fixed=fixed, seed=seed, env=ENV, timeout=300)

    with ThreadPoolExecutor(WORKERS) as pool:
        for (fixed, seed), result in pool.map(one, todo):
            _CACHE[_key(baseline, fixed, seed)] = result
    results = [_CACHE[_key(baseline, f, s)] for f, s in jobs]
    return results[: len(SEEDS)], results[len(SEEDS):]


def finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


def broken(r: BaselineResult, max_acc: float) -> bool:
    """Diverged, or validation accuracy at most ``max_acc``."""
    return r.diverged or r.val_acc <= max_acc


def describe(bugged, fixed) -> str:
    f = lambda r: f"val_acc {r.val_acc:.3f} test_acc {r.test_acc:.3f} val_loss {r.val_loss:.3g} train_loss {r.train_loss:.3g}"  # noqa: E731
    return "\n".join([f"bugged seed {s}: {f(r)}" for s, r in zip(SEEDS, bugged)]
                     + [f"fixed  seed {s}: {f(r)}" for s, r in zip(SEEDS, fixed)])


# Per baseline: a check on one seed's (bugged, fixed) pair. Worst case over seeds 0-9 in the comments.
def _lr_too_high(b, f):  # bugged val_acc <= 0.xx (oscillates around ln 10)
    assert broken(b, 0.3) and f.val_acc >= 0.9


def _lr_too_low(b, f):  # stalled loss: bugged train_loss >= 2.xx, fixed <= 0.xx
    assert b.train_loss >= 2.0 and b.val_acc <= 0.5 and f.train_loss <= 0.5 and f.val_acc >= 0.9


def _missing_zero_grad(b, f):  # the loss grows to hundreds or diverges
    assert (b.diverged or b.train_loss > 10) and broken(b, 0.3) and f.val_acc >= 0.9


def _double_softmax(b, f):
    # CE on probabilities cannot go below ln(1 + 9/e) = 1.46 (accuracy alone is not reliably lower: the
    # argmax survives the extra softmax, and some seeds reach the fixed accuracy)
    floor = math.log(1 + 9 / math.e)
    assert b.train_loss >= floor - 0.05 and b.val_loss >= floor - 0.05
    assert f.train_loss <= 0.2 and f.val_loss <= 0.5


def _unnormalized_inputs(b, f):  # first epoch loss in the thousands, then dead ReLUs at 2.30
    assert broken(b, 0.3) and f.val_acc >= 0.9
    assert b.diverged or b.epochs[0]["train_loss"] > 10


def _bad_init_scale(b, f):  # huge initial loss, then stuck
    assert broken(b, 0.3) and f.val_acc >= 0.9
    assert b.diverged or b.epochs[0]["train_loss"] > 5


def _symmetric_init(b, f):  # identical units: one unit's worth of capacity
    assert b.val_acc <= 0.5 and b.train_acc <= 0.5 and f.val_acc >= 0.9


def _dead_relu(b, f):  # loss pinned at ln 10
    assert b.train_loss >= 2.2 and broken(b, 0.3) and f.val_acc >= 0.9


def _saturated_activations(b, f):
    assert b.val_acc <= f.val_acc - 0.08 and b.train_loss >= 5 * f.train_loss


def _label_noise(b, f):  # memorisation only: train accuracy up, validation at chance
    assert b.val_acc <= 0.25 and b.train_acc >= b.val_acc + 0.15 and f.val_acc >= 0.9


def _unshuffled_data(b, f):
    assert b.val_acc <= f.val_acc - 0.3


def _embedding_not_trained(b, f):  # frozen_params, detached_graph
    assert b.val_acc <= f.val_acc - 0.2 and b.train_loss >= 1.0


def _clip_too_aggressive(b, f):
    assert b.val_acc <= f.val_acc - 0.08 and b.train_loss >= 1.0 and f.train_loss <= 0.2


def _weight_decay_too_high(b, f):
    assert b.val_acc <= 0.4 and b.train_loss >= 2.0 and f.val_acc >= 0.9


def _lr_schedule_increasing(b, f):  # fine at first, then the loss turns up
    losses = [e["train_loss"] for e in b.epochs]
    best = min(losses[:3])
    assert broken(b, 0.4) and (b.diverged or max(losses[3:]) > best + 0.5) and f.val_acc >= 0.9


def _eval_mode_training(b, f):  # training itself is fine; evaluation in train mode is not
    assert b.train_acc >= 0.9 and b.val_acc <= f.val_acc - 0.25 and b.val_loss >= 5 * f.val_loss


def _val_from_train_split(b, f):
    # validation = training data: its loss sits far below the clean test loss; with a real split it does not
    assert b.val_loss <= 0.2 * b.test_loss and f.val_loss >= 0.3 * f.test_loss
    assert b.val_acc >= 0.995 and b.val_acc >= b.test_acc + 0.005


def _val_own_normalization(b, f):
    # training and test are bit-for-bit the same; only the validation numbers are wrong
    assert b.train_loss == f.train_loss and b.test_acc == f.test_acc
    assert b.val_loss >= 5 * f.val_loss and b.val_acc <= b.test_acc - 0.15 and f.val_acc >= 0.9


def _numerics_exercise(b, f):
    assert b.val_acc <= f.val_acc - 0.5 and f.val_acc >= 0.9


def _cifar_cnn(b, f):
    assert broken(b, 0.3) and f.val_acc >= 0.9


CHECKS = {
    "lr_too_high": _lr_too_high,
    "lr_too_low": _lr_too_low,
    "missing_zero_grad": _missing_zero_grad,
    "double_softmax": _double_softmax,
    "unnormalized_inputs": _unnormalized_inputs,
    "bad_init_scale": _bad_init_scale,
    "symmetric_init": _symmetric_init,
    "dead_relu": _dead_relu,
    "saturated_activations": _saturated_activations,
    "label_noise": _label_noise,
    "unshuffled_data": _unshuffled_data,
    "frozen_params": _embedding_not_trained,
    "detached_graph": _embedding_not_trained,
    "clip_too_aggressive": _clip_too_aggressive,
    "weight_decay_too_high": _weight_decay_too_high,
    "lr_schedule_increasing": _lr_schedule_increasing,
    "eval_mode_training": _eval_mode_training,
    "val_from_train_split": _val_from_train_split,
    "val_own_normalization": _val_own_normalization,
    "numerics_exercise": _numerics_exercise,
    "cifar_cnn": _cifar_cnn,
}


def test_every_baseline_has_a_check():
    assert set(CHECKS) == set(BASELINES)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BASELINES))
def test_bugged_is_measurably_worse_than_fixed(name):
    bugged, fixed = runs(name)
    for r in bugged + fixed:
        assert r.duration <= MAX_SECONDS, f"{r.script} took {r.duration:.1f} s"
        assert r.epochs, f"{r.script} printed no epoch lines"
    for r in fixed:  # the fixed program trains properly and reports finite numbers
        assert not r.diverged and all(finite(getattr(r, k)) for k in ("train_loss", "val_loss", "test_loss"))
        assert r.test_acc >= 0.9, describe(bugged, fixed)
    for seed, b, f in zip(SEEDS, bugged, fixed):
        try:
            CHECKS[name](b, f)
        except AssertionError as err:
            raise AssertionError(f"{name}, seed {seed}: {err}\n{describe(bugged, fixed)}") from None
