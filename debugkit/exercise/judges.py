"""Behaviour checks, one per bug id: is the bug's signature still in the run?

Each judge compares the student's :class:`~debugkit.exercise.evidence.Evidence` with the
evidence of the fixed baseline (same seed and epochs) and answers ``present`` (the behaviour
the bug causes is there), ``absent`` (it is gone), or ``unknown`` (no measurement decides it).
Judges look at what the run did, never at the code: a fix written differently from the key
passes when it changes the behaviour.

Add a judge with::

    @judge("my_bug")
    def my_bug(ev, ref):
        return Signature("present", "why")
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from debugkit.exercise.evidence import Evidence

PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"


@dataclass(frozen=True)
class Signature:
    """A judge's answer: ``state`` (present / absent / unknown) and the measurement behind it."""

    state: str
    detail: str


#: Bug id → judge ``fn(student evidence, fixed-baseline evidence) -> Signature``.
JUDGES: dict[str, Callable[[Evidence, Evidence], Signature]] = {}


def judge(bug_id: str):
    """Register ``fn(ev, ref) -> Signature`` as the behaviour check of ``bug_id``."""

    def deco(fn):
        if bug_id in JUDGES:
            raise ValueError(f"duplicate judge for {bug_id!r}")
        JUDGES[bug_id] = fn
        return fn

    return deco


def signature(bug_id: str, ev: Evidence, ref: Evidence) -> Signature:
    """The behaviour check of ``bug_id`` (``unknown`` when there is none or it cannot decide)."""
    fn = JUDGES.get(bug_id)
    if fn is None:
        return Signature(UNKNOWN, "no behaviour check for this bug")
    try:
        return fn(ev, ref)
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the verdicts on the others
        return Signature(UNKNOWN, f"the behaviour check failed: {type(exc).__name__}: {exc}")


def _unknown(what: str) -> Signature:
    return Signature(UNKNOWN, f"{what} was not measured")


def _verdict(present: bool, absent: bool, text: str) -> Signature:
    """``present`` if the bug's behaviour shows, else ``absent`` if it is clearly gone, else ``unknown``."""
    return Signature(PRESENT if present else ABSENT if absent else UNKNOWN, text)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0 or not (math.isfinite(a) and math.isfinite(b)):
        return None
    return a / b


def _pct(x: float) -> str:
    return f"{x:.0%}"


# -- optimisation ------------------------------------------------------------------------------


@judge("missing_zero_grad")
def missing_zero_grad(ev, ref):
    a = ev.get("accumulated_grad")
    if a is None:
        return _unknown("the accumulated-gradient flag")
    text = f".grad already held earlier gradients before backward at {_pct(a)} of steps"
    return _verdict(a > 0.5, a < 0.05, text)


def _lr_compare(ev, ref) -> tuple[float | None, str]:
    """Learning rate early in the run relative to the fixed baseline's (same optimizer only)."""
    lr, lr_ref = ev.get("lr_early"), ref.get("lr_early")
    if ev.get("optimizer") != ref.get("optimizer") or lr is None or lr_ref is None:
        return None, ""
    r = _ratio(lr, lr_ref)
    return r, f"learning rate {lr:.3g} early in the run (the fixed baseline uses {lr_ref:.3g} with {ev.get('optimizer')})"


def _update_compare(ev, ref) -> tuple[float | None, str]:
    u, u_ref = ev.get("update_ratio_early"), ref.get("update_ratio_early")
    r = _ratio(u, u_ref)
    if r is None:
        return None, ""
    return r, f"first steps change the weights by {u:.2g} of their size (fixed baseline: {u_ref:.2g})"


@judge("lr_too_low")
def lr_too_low(ev, ref):
    # within 10x of the fixed baseline's learning rate is another good choice; 30x below is the bug
    r, text = _lr_compare(ev, ref)
    if r is None:
        r, text = _update_compare(ev, ref)  # another optimizer: compare what the steps do
    if r is None:
        return _unknown("the learning rate")
    return _verdict(r <= 1 / 30, r >= 1 / 10, text)


@judge("lr_too_high")
def lr_too_high(ev, ref):
    r, text = _lr_compare(ev, ref)
    if r is not None:
        return _verdict(r >= 8, r <= 3, text)
    r, text = _update_compare(ev, ref)
    if r is None:
        return _unknown("the learning rate")
    return _verdict(r >= 10, r <= 3, text)


@judge("lr_schedule_increasing")
def lr_schedule_increasing(ev, ref):
    first, last = ev.get("lr_first"), ev.get("lr_last")
    if first is None or last is None or first <= 0:
        return _unknown("the learning rate")
    top = ev.get("lr_max", max(first, last))
    text = f"the learning rate went from {first:.3g} to {last:.3g} (highest {top:.3g})"
    return _verdict(last >= 3 * first, last <= 1.2 * first, text)


@judge("clip_too_aggressive")
def clip_too_aggressive(ev, ref):
    factor, frac = ev.get("clip_factor"), ev.get("clip_frac")
    if factor is None:
        if ev.get("steps"):
            return Signature(ABSENT, "clip_grad_norm_ was never called")
        return _unknown("gradient clipping")
    frac = 1.0 if frac is None and factor < 0.5 else (frac or 0.0)
    text = f"clipping scales gradients by a median factor {factor:.2g} ({_pct(frac)} of steps below 0.5)"
    return _verdict(factor <= 0.1 and frac >= 0.5, factor >= 0.3 or frac <= 0.2, text)


@judge("weight_decay_too_high")
def weight_decay_too_high(ev, ref):
    # ‖wd·θ‖ / ‖g‖: near 1 when decay and data pull equally hard (decay dominates the equilibrium)
    d, d_ref = ev.get("decay_ratio"), ref.get("decay_ratio") or 0.0
    if d is None:
        return _unknown("weight decay against the gradient")
    text = f"weight decay pulls with {d:.2g}× the gradient's strength (fixed baseline: {d_ref:.2g}×)"
    return _verdict(d >= 0.3 and d >= 10 * d_ref, d <= max(0.1, 3 * d_ref), text)


# -- initialisation and model ------------------------------------------------------------------


@judge("saturated_activations")
def saturated_activations(ev, ref):
    s, s_ref = ev.get("act_saturated_early"), ref.get("act_saturated_early") or 0.0
    if s is None:
        return _unknown("activation saturation")
    text = f"at the start {_pct(s)} of a layer's units sit at the bounds of their activation (fixed baseline: {_pct(s_ref)})"
    return _verdict(s >= max(0.4, 3 * s_ref), s <= max(0.2, 2 * s_ref), text)


@judge("bad_init_scale")
def bad_init_scale(ev, ref):
    r = _ratio(ev.get("logit_std_first"), ref.get("logit_std_first"))
    loss, c = ev.get("loss_first"), ev.get("num_classes") or ref.get("num_classes")
    if r is None and loss is None:
        return _unknown("the initial output scale")
    lnc = math.log(c) if c else None
    parts = []
    if r is not None:
        parts.append(f"initial logits spread {r:.2g}× as much as the fixed baseline's")
    if loss is not None:
        parts.append(f"first loss {loss:.3g}" + (f" (ln C = {lnc:.2f})" if lnc else ""))
    text = ", ".join(parts)
    return _verdict((r is not None and r >= 10) or (loss is not None and lnc and loss >= 4 * lnc),
                    (r is None or r <= 3) and (loss is None or not lnc or loss <= 2 * lnc), text)


@judge("dead_relu")
def dead_relu(ev, ref):
    d = ev.get("dead_early")
    d_ref = ref.get("dead_early") or 0.0
    if d is None:
        return _unknown("dead units")
    text = f"at the start {_pct(d)} of a layer's units are zero for the whole batch (fixed baseline: {_pct(d_ref)})"
    return _verdict(d >= max(0.5, 3 * d_ref), d <= max(0.25, 2 * d_ref), text)


@judge("symmetric_init")
def symmetric_init(ev, ref):
    n = ev.get("symmetric_layers")
    if n is None:
        return _unknown("weight symmetry")
    if n > 0:
        return Signature(PRESENT, f"{int(n)} layer(s) start with identical weights for all units")
    return Signature(ABSENT, "no layer starts with identical weights for all units")


@judge("double_softmax")
def double_softmax(ev, ref):
    p = ev.get("output_is_prob")
    if p is None:
        return _unknown("the model's output")
    text = f"the model's output sums to 1 per sample at {_pct(p)} of steps"
    return _verdict(p >= 0.5, p <= 0.05, text)


@judge("frozen_params")
def frozen_params(ev, ref):
    names = list(ev.get("frozen_names") or []) + list(ev.get("frozen_params_meta") or [])
    if ev.get("frozen_layers") is None and not names:
        return _unknown("which parameters move")
    if names:
        names = sorted(set(names))
        names = [n for n in names if not any(n.startswith(p + ".") for p in names)]  # a layer, not its tensors
        return Signature(PRESENT, f"never updated: {', '.join(names[:6])}")
    return Signature(ABSENT, "every layer's parameters moved")


@judge("detached_graph")
def detached_graph(ev, ref):
    names = ev.get("gradless_names")
    if names is None:
        return _unknown("per-layer gradients")
    if names:
        return Signature(PRESENT, f"no gradient reaches: {', '.join(names[:6])}")
    return Signature(ABSENT, "every layer receives a gradient")


@judge("eval_mode_training")
def eval_mode_training(ev, ref):
    m, vm = ev.get("model_training"), ev.get("val_train_mode")
    if m is None and vm is None:
        return _unknown("the model's mode")
    parts = []
    if m is not None:
        parts.append(f"the model was in training mode at {_pct(m)} of steps")
    if vm is not None:
        parts.append(f"and in training mode during {_pct(vm)} of evaluation")
    text = " ".join(parts)
    return _verdict((m is not None and m <= 0.5) or (vm is not None and vm >= 0.5),
                    (m is None or m >= 0.95) and (vm is None or vm <= 0.05), text)


# -- data ----------------------------------------------------------------------------------------


@judge("val_from_train_split")
def val_from_train_split(ev, ref):
    o = ev.get("val_overlap")
    if o is not None:
        text = f"{_pct(o)} of the validation rows were also in the training data"
        return _verdict(o >= 0.1, o <= 0.02, text)
    m = ev.get("val_overlap_monitor")  # model inputs: blind to overlap once training inputs are augmented
    if m is not None and m >= 0.1:
        return Signature(PRESENT, f"{_pct(m)} of the validation inputs were also trained on")
    val, test = ev.get("val_acc"), ev.get("result_test_acc", ev.get("other_acc"))
    if val is not None and test is not None:
        text = f"validation accuracy {val:.1%} vs test accuracy {test:.1%}"
        if val - test > 0.08:
            return Signature(PRESENT, text)
        if m is not None and m <= 0.02 and (ev.get("aug_retention") or 0) >= 0.95:
            return Signature(ABSENT, text + "; no validation input was trained on")
        return Signature(UNKNOWN, text)
    return _unknown("overlap of validation and training data")


@judge("val_own_normalization")
def val_own_normalization(ev, ref):
    m = ev.get("val_feature_mean_abs")
    if m is None:
        return _unknown("the validation inputs' statistics")
    text = f"validation features have mean |{m:.1e}| on average"
    if m <= 1e-4:
        return Signature(PRESENT, text + " (standardised with their own statistics)")
    if m >= 1e-3:
        return Signature(ABSENT, text)
    return Signature(UNKNOWN, text)


@judge("unnormalized_inputs")
def unnormalized_inputs(ev, ref):
    r_std = _ratio(ev.get("input_std"), ref.get("input_std"))
    r_max = _ratio(ev.get("input_absmax"), ref.get("input_absmax"))
    if r_std is None and r_max is None:
        return _unknown("the input scale")
    big = max(r for r in (r_std, r_max) if r is not None)
    text = f"inputs span {ev.get('input_absmax', math.nan):.3g} (std {ev.get('input_std', math.nan):.3g}); fixed baseline: " \
           f"{ref.get('input_absmax', math.nan):.3g} (std {ref.get('input_std', math.nan):.3g})"
    return _verdict(big >= 5, big <= 2, text)


@judge("unshuffled_data")
def unshuffled_data(ev, ref):
    p, p_ref = ev.get("batch_class_purity"), ref.get("batch_class_purity") or 0.0
    if p is None:
        return _unknown("batch composition")
    text = f"on average {_pct(p)} of a training batch is one class (fixed baseline: {_pct(p_ref)})"
    return _verdict(p >= max(0.6, 2 * p_ref), p <= max(0.4, 1.5 * p_ref), text)


@judge("label_noise")
def label_noise(ev, ref):
    h, chance = ev.get("label_heldout_acc"), ev.get("chance")
    h_ref = ref.get("label_heldout_acc")
    if h is None:
        return _unknown("whether labels can be predicted from the training inputs")
    text = (f"a linear reference classifier fit on the training rows predicts held-out training labels with "
            f"{h:.0%} accuracy (chance {chance or 0:.0%}" + (f", fixed baseline {h_ref:.0%})" if h_ref else ")"))
    return _verdict(h <= (chance or 0.1) + 0.15, h >= max(0.5, 0.8 * (h_ref or 0)), text)


@judge("bad_augmentation")
def bad_augmentation(ev, ref):
    r, r_ref = ev.get("aug_retention"), ref.get("aug_retention")
    if r is None:
        return _unknown("what the augmentation does to the labels")
    text = (f"a reference classifier keeps {r:.0%} of its accuracy on the augmented training inputs"
            + (f" (fixed baseline's augmentation: {r_ref:.0%})" if r_ref else ""))
    return _verdict(r <= 0.5 and r <= 0.75 * (r_ref or 1.0), r >= min(0.65, 0.85 * (r_ref or 1.0)), text)
