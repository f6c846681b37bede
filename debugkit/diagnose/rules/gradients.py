"""Gradient flow: accumulation, explosion, vanishing, frozen and detached parameters, noise."""

from __future__ import annotations

import math

import numpy as np

from debugkit.diagnose.findings import make_finding
from debugkit.diagnose.rules import rule


def _ordered(sig, layers):
    order = list(sig.layer_types)
    return sorted(layers, key=lambda l: order.index(l) if l in order else len(order))


@rule("missing_zero_grad")
def missing_zero_grad(sig):
    acc = sig.col("accumulated_grad")
    if len(acc) < 3:
        return None
    frac = float(acc.iloc[1:].mean())
    if frac < 0.5:
        return None
    a = sig.median("grad_norm_accumulated", frac=0.5)
    b = sig.median("grad_norm", frac=0.5)
    return make_finding("missing_zero_grad", min(0.7 + 0.3 * frac, 1.0),
                        {"frac": frac, "acc_norm": a, "batch_norm": b})


@rule("exploding_gradients")
def exploding_gradients(sig):
    g = sig.col("grad_norm")
    if len(g) < 10:
        return None
    fin = g[np.isfinite(g.to_numpy())]
    if len(fin) < 5:
        return None
    g0 = float(fin.iloc[:3].median())
    g1 = float(fin.iloc[-3:].median())
    nonfinite = len(fin) < len(g)
    growth = g1 / g0 if g0 > 0 else math.inf
    if growth < 100 and not (nonfinite and growth > 10):
        return None
    return make_finding("exploding_gradients", min(0.5 + 0.1 * math.log10(max(growth, 1)), 0.95),
                        {"growth": growth, "g0": g0, "g1": g1, "nonfinite": nonfinite})


@rule("vanishing_gradients")
def vanishing_gradients(sig):
    norms = sig.layer_median("grad_norm", frac=0.5)
    types = sig.layer_types
    weighted = [l for l in _ordered(sig, norms) if types.get(l) in ("Linear", "Conv1d", "Conv2d", "Conv3d")]
    if len(weighted) < 3:
        return None
    first, last = norms[weighted[0]], norms[weighted[-1]]
    if last <= 0 or first <= 0:
        return None
    ratio = first / last
    if ratio > 1e-3:
        return None
    return make_finding("vanishing_gradients", min(0.5 + 0.1 * -math.log10(ratio) / 3, 0.9),
                        {"ratio": ratio, "first_layer": weighted[0], "last_layer": weighted[-1]})


@rule("frozen_params")
def frozen_params(sig):
    not_in_opt = sig.meta.get("params_not_in_optimizer") or []
    upd = sig.layer_all("update_size")
    grads = sig.layer_all("grad_norm")
    never = []
    if len(upd) and sig.steps >= 3:
        per = upd.groupby("layer")["value"].max()
        gmax = grads.groupby("layer")["value"].max() if len(grads) else {}
        # never updated although a gradient arrived (zero gradients are another story: dead/symmetric units)
        never = [l for l, v in per.items() if v == 0.0 and float(gmax.get(l, 0.0)) > 0.0]
    layers = sorted({n.rsplit(".", 1)[0] for n in not_in_opt} | set(never))
    why = []
    if not_in_opt:
        why.append(f"{len(not_in_opt)} parameter tensors ({', '.join(not_in_opt[:4])}"
                   f"{', …' if len(not_in_opt) > 4 else ''}) are not in the optimizer")
    if never:
        why.append(f"their update size is exactly 0 at every step")
    if layers:
        return make_finding("frozen_params", 0.95, {"layers": ", ".join(layers), "not_in_optimizer": not_in_opt,
                                                    "never_updated": never, "why": " and ".join(why)})
    frozen = sig.frozen_layers
    if frozen and len(frozen) < len(sig.layer_types):
        # requires_grad=False: intended for transfer learning, a bug elsewhere
        total = [l for l in sig.layer_types if l not in frozen]
        if not any(t for l, t in sig.layer_types.items() if l in frozen and t in ("Linear", "Conv2d", "Conv1d")):
            return None
        conf = 0.75 if sig.loss_drop < 0.5 else 0.45
        sev = "warning" if conf > 0.5 else "info"
        return make_finding("frozen_params", conf, {"layers": ", ".join(frozen), "requires_grad_false": frozen,
                                                    "why": "their parameters have requires_grad=False (intended only "
                                                           "when fine-tuning a pretrained backbone)"}, severity=sev)
    return None


@rule("detached_graph")
def detached_graph(sig):
    trainable = sig.trainable_layers
    grads = sig.layer_all("grad_norm")
    if not trainable or grads.empty or sig.steps < 3:
        return None
    with_grad = set(grads["layer"].unique())
    missing = [l for l in trainable if l not in with_grad and l != "(root)"]
    if not missing:
        return None
    return make_finding("detached_graph", 0.95, {"layers": ", ".join(missing), "no_gradient": missing})


@rule("batch_too_noisy")
def batch_too_noisy(sig):
    theta = sig.median("norm_test", frac=0.5)
    if not math.isfinite(theta) or theta < 3.0:
        return None
    cabs = sig.median("cabs_batch_size", frac=0.5)
    return make_finding("batch_too_noisy", 0.4, {"theta": theta, "cabs": f"{cabs:.0f}" if math.isfinite(cabs) else "?"})
