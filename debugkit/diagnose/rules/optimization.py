"""Learning rate, schedule, clipping, weight decay, loss behaviour."""

from __future__ import annotations

import math

import numpy as np

from debugkit.diagnose.findings import make_finding
from debugkit.diagnose.rules import rule


def _is_sgd(sig) -> bool:
    return sig.optimizer.get("class") in ("SGD",)


@rule("loss_diverged")
def loss_diverged(sig):
    step = sig.first_nonfinite_step
    if step is None:
        return None
    return make_finding("loss_diverged", 1.0, {"step": step, "loss_start": sig.loss_start})


@rule("lr_too_high")
def lr_too_high(sig):
    """Overshooting steps: α > 1 along the update, lr·λ_max beyond the stability limit,
    huge relative updates at the start, early loss spikes, or divergence."""
    alpha = sig.finite("alpha")
    lr = sig.finite("lr")
    ev = {}
    score = 0.0
    med_alpha = float(alpha.median()) if len(alpha) >= 5 else math.nan
    if math.isfinite(med_alpha):
        ev["alpha"] = med_alpha
        ev["alpha_above_1"] = float((alpha > 1).mean())
        if med_alpha > 1.0:
            score += 0.5 + 0.2 * min(med_alpha - 1.0, 1.0)
        elif med_alpha > 0.5 and ev["alpha_above_1"] > 0.3:
            score += 0.3
    curv = ""
    lam = sig.finite("hess_max_ev")
    if len(lam) and len(lr) and _is_sgd(sig):
        momentum = float(sig.optimizer.get("momentum") or 0.0)
        limit = 2.0 * (1.0 + momentum)
        prod = (lam * lr.reindex(lam.index).ffill().bfill()).dropna()
        if len(prod):
            val = float(prod.max())  # one measurement beyond the limit means the step is unstable there
            ev["lr_times_max_ev"] = val
            ev["stability_limit"] = limit
            if val > limit:
                curv = f"; lr·λ_max reached {val:.1f}, beyond the stability limit {limit:.1f}"
                score += 0.4
    ur = sig.finite("update_ratio")
    if len(ur) >= 10:
        early = float(ur.iloc[:20].median())
        ev["early_update_ratio"] = early
        if early > 0.2:  # each step changes the weights by a fifth of their size
            score += 0.4
    loss = sig.finite("loss")
    if len(loss) >= 10 and float(loss.iloc[0]) > 0:
        spike = float(loss.iloc[:50].max() / loss.iloc[0])
        ev["early_loss_spike"] = spike
        if spike > 3.0:
            score += 0.3
    nonfinite = sig.first_nonfinite_step
    if nonfinite is not None:
        ev["diverged_at"] = nonfinite
        if len(lr) and float(lr.iloc[0]) >= float(lr.max()) * 0.99:  # not a schedule that grew the lr
            score += 0.4
    if sig.loss_drop < -0.5 and math.isfinite(sig.loss_drop):  # loss went up a lot
        ev["loss_rise"] = -sig.loss_drop
        score += 0.3
    if score < 0.5:
        return None
    if len(lr):
        ev["lr"] = float(lr.iloc[0])
    ev.setdefault("alpha", math.nan)
    if not math.isfinite(ev["alpha"]):
        ev["alpha"] = float("nan")
    return make_finding("lr_too_high", min(score, 1.0), ev, curv=curv)


@rule("lr_too_low")
def lr_too_low(sig):
    """Steps consistently stop short of the minimum along their direction (α < 0), the loss
    falls slowly but steadily (not converged, not stuck), and updates are small.

    With a growing learning-rate schedule only the start of the run (before the learning
    rate has grown tenfold) is judged: a schedule can start far too low."""
    if sig.lr_increasing():
        from debugkit.diagnose.signals import Signals

        lr = sig.finite("lr")
        grown = lr[lr > 10 * float(lr.iloc[0])]
        end = int(grown.index[0]) - 1 if len(grown) else None
        if end is None or end < 20:
            return None
        early = Signals(sig.run, upto=min(end, sig.upto) if sig.upto is not None else end)
        if early.lr_increasing():
            return None
        return lr_too_low(early)
    if sig.steps < 20 or sig.first_nonfinite_step is not None:
        return None
    ratio = sig.median("update_ratio", frac=0.5)
    alpha = sig.finite("alpha")
    drop = sig.loss_drop
    if not math.isfinite(drop) or len(alpha) < 10:
        return None
    lr = sig.finite("lr")
    a_med = float(alpha.iloc[len(alpha) // 2:].median())
    a_neg = float((alpha.iloc[len(alpha) // 2:] < 0).mean())
    loss = sig.finite("loss")
    half = len(loss) // 2
    still_falling = float(loss.iloc[half // 2: half].median()) > float(loss.iloc[-max(half // 2, 3):].median())
    overfit = sig.events[sig.events["kind"] == "probe"] if len(sig.events) and "kind" in sig.events.columns else None
    probe = None
    if overfit is not None and "probe" in overfit.columns:
        rows = overfit[overfit["probe"] == "overfit_one_batch"]
        probe = rows.iloc[-1].get("result") if len(rows) else None
    score = 0.0
    if a_med < -0.3 and a_neg > 0.8:
        score += 0.35 + 0.15 * min((-a_med - 0.3) / 0.5, 1.0)
    if drop < 0.3 and still_falling:
        score += 0.3
    elif drop < 0.1:
        score += 0.15
    if math.isfinite(ratio) and ratio < 1e-3:
        score += 0.1 + 0.1 * min(math.log10(1e-3 / max(ratio, 1e-12)), 2) / 2
    ur = sig.finite("update_ratio")
    early = float(ur.iloc[:20].median()) if len(ur) >= 10 else math.nan
    if math.isfinite(early) and early < 3e-4:  # the very first steps barely move the weights
        score += 0.3
    if isinstance(probe, dict) and probe.get("passed") is False:
        score += 0.2
    if drop > 0.5:
        score -= 0.6
    if score < 0.6:
        return None
    return make_finding("lr_too_low", min(score, 1.0),
                        {"update_ratio": ratio, "early_update_ratio": early, "alpha": a_med, "alpha_negative": a_neg, "drop": drop,
                         "lr": float(lr.iloc[-1]) if len(lr) else None,
                         "overfit_one_batch": probe.get("passed") if isinstance(probe, dict) else None},
                        ratio=ratio if math.isfinite(ratio) else float("nan"),
                        progress=(f"the loss fell only {drop:.0%}" if math.isfinite(drop) and drop >= 0
                                  else f"the loss rose by {-drop:.0%}" if math.isfinite(drop)
                                  else "the loss made no measurable progress"))


@rule("loss_stalled")
def loss_stalled(sig):
    if sig.steps < 30 or sig.first_nonfinite_step is not None:
        return None
    drop = sig.loss_drop
    if not math.isfinite(drop) or abs(drop) > 0.05:
        return None
    return make_finding("loss_stalled", 0.6, {"drop": drop, "steps": sig.steps, "loss_start": sig.loss_start,
                                              "loss_end": sig.loss_end})


@rule("loss_oscillating")
def loss_oscillating(sig):
    if sig.steps < 30 or sig.first_nonfinite_step is not None:
        return None
    jump = sig.loss_jumpiness
    if not math.isfinite(jump) or jump < 0.5 or sig.loss_drop > 0.3:
        return None
    return make_finding("loss_oscillating", min(0.4 + jump / 4, 0.9), {"jump": jump, "drop": sig.loss_drop})


@rule("lr_schedule_increasing")
def lr_schedule_increasing(sig):
    lr = sig.finite("lr")
    if len(lr) < 10:
        return None
    v = lr.to_numpy()
    growth = v[-1] / v[0] if v[0] > 0 else math.inf
    rises = int((np.diff(v) > 0).sum())  # per-epoch schedules rise rarely, per-step ones often
    falls = int((np.diff(v) < 0).sum())
    # a warm-up rises then falls; only a schedule that keeps growing is the bug
    if growth < 3.0 or rises < 3 or falls > 0.05 * len(v) or float(v[-1]) < float(v.max()) * 0.9:
        return None
    conf = min(0.6 + 0.1 * math.log10(growth), 1.0)
    return make_finding("lr_schedule_increasing", conf, {"lr0": float(v[0]), "lr1": float(v[-1]),
                                                         "steps": len(v), "growth": growth})


@rule("clip_too_aggressive")
def clip_too_aggressive(sig):
    total = sig.finite("clip_total_norm")
    max_norm = sig.finite("clip_max_norm")
    if len(total) < 5 or not len(max_norm):
        return None
    mn = float(max_norm.median())
    clipped = float((total > mn).mean())
    factor = float((mn / total[total > 0]).clip(upper=1.0).median()) if (total > 0).any() else 1.0
    if clipped < 0.8 or factor > 0.1:
        return None
    return make_finding("clip_too_aggressive", min(0.6 + 0.1 * -math.log10(max(factor, 1e-9)), 1.0),
                        {"total": float(total.median()), "max_norm": mn, "frac": clipped, "factor": factor})


@rule("weight_decay_too_high")
def weight_decay_too_high(sig):
    """The decay pull rivals the gradient and the weights collapse while the loss stalls.

    At equilibrium heavy decay is balanced by the gradient (wd·‖θ‖ ≈ ‖g‖), so the signature
    is the balance together with weights shrinking far below their initial size."""
    wd = float(sig.optimizer.get("weight_decay") or 0.0)
    if wd <= 0:
        return None
    theta = sig.median("param_norm", frac=0.5)
    grad = sig.median("grad_norm", frac=0.5)
    if not math.isfinite(theta) or not math.isfinite(grad):
        return None
    decay = wd * theta
    ratio = decay / grad if grad > 0 else math.nan  # no gradient at all: the balance says nothing
    pn = sig.finite("param_norm")
    shrink = float(pn.iloc[-5:].median() / pn.iloc[:3].median()) if len(pn) > 10 else 1.0
    layer_shrink, layer = _layer_shrink(sig)
    stalled = math.isfinite(sig.loss_drop) and sig.loss_drop < 0.3
    score = 0.0
    if ratio > 3.0:
        score += 0.6
    elif ratio > 0.3 and shrink < 0.5:
        score += 0.5
    if shrink < 0.5:
        score += 0.2
    if wd >= 1e-3 and (shrink < 0.1 or layer_shrink < 0.2):
        # the whole model at a tenth of its initial size, or one trained layer at a fifth: once
        # there, the gradient of tiny weights is tiny too (or gone) and the balance ratio no
        # longer shows the decay's pull; layers outside the optimizer do not dilute this
        score += 0.5 if score < 0.2 else 0.3
    if stalled:
        score += 0.2
    if score < 0.6:
        return None
    balance = (f"is {ratio:.1f}× the gradient ({grad:.3g})" if math.isfinite(ratio)
               else "acts alone: the gradient has vanished")
    shrunk = (f"layer {layer} shrank to {layer_shrink:.0%} of its initial norm" if layer_shrink < min(shrink, 0.5)
              else f"the weights shrank to {shrink:.0%} of their initial size")
    return make_finding("weight_decay_too_high", min(score, 1.0),
                        {"weight_decay": wd, "decay": decay, "grad": grad, "ratio": ratio, "param_norm_ratio": shrink,
                         "layer": layer, "layer_norm_ratio": layer_shrink}, balance=balance, shrunk=shrunk)


def _layer_shrink(sig) -> tuple[float, str | None]:
    """The smallest last/first parameter-norm ratio over layers that moved (1.0 if none)."""
    df = sig.layer_all("param_norm")
    if df.empty:
        return 1.0, None
    table = df.pivot_table(index="step", columns="layer", values="value", aggfunc="median").sort_index()
    if len(table) < 20:
        return 1.0, None
    first, last = table.iloc[:3].median(), table.iloc[-5:].median()
    moved = (table.max() - table.min()) > 1e-6 * first.abs()
    ratio = (last / first)[moved & (first > 0)].dropna()
    if ratio.empty:
        return 1.0, None
    return float(ratio.min()), str(ratio.idxmin())
