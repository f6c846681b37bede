"""Initialisation and activation health: scale, symmetry, dead and saturated units, initial loss."""

from __future__ import annotations

import math

from debugkit.diagnose.findings import make_finding
from debugkit.diagnose.rules import rule
from debugkit.diagnose.signals import ACT_RELU_TYPES, BOUNDED_TYPES


def _ln_c(sig):
    c = sig.num_classes
    return (c, math.log(c)) if c and c > 1 else (None, None)


@rule("wrong_initial_loss")
def wrong_initial_loss(sig):
    c, lnc = _ln_c(sig)
    if c is None or "CrossEntropy" not in (sig.loss_fn or "CrossEntropyLoss") or not math.isfinite(sig.loss_first):
        return None
    l0 = sig.loss_first
    if abs(l0 - lnc) < max(0.5, 0.3 * lnc):
        return None
    # mild deviations are common (initialisation details); far off is worth a warning
    severity = "warning" if (l0 > 2 * lnc or l0 < 0.5 * lnc) else "info"
    return make_finding("wrong_initial_loss", 0.5, {"loss0": l0, "lnc": lnc, "C": c}, severity=severity)


@rule("bad_init_scale")
def bad_init_scale(sig):
    c, lnc = _ln_c(sig)
    std0 = sig.finite("output_logit_std").iloc[:3].median() if len(sig.finite("output_logit_std")) else math.nan
    if not math.isfinite(std0):
        return None
    l0 = sig.loss_first
    inputs_ok = not _inputs_unnormalized(sig)
    big_logits = std0 > 10
    big_loss = lnc is not None and math.isfinite(l0) and l0 > 2.5 * lnc
    if not (big_logits and (big_loss or lnc is None)) or not inputs_ok:
        return None
    conf = min(0.6 + 0.1 * math.log10(std0 / 10 + 1) + (0.2 if big_loss else 0), 0.95)
    return make_finding("bad_init_scale", conf, {"logit_std": float(std0), "loss0": l0, "lnc": lnc or math.nan})


def _inputs_unnormalized(sig) -> bool:
    std = sig.median("input_std", frac=1.0)
    mx = sig.median("input_max", frac=1.0)
    mean = sig.median("input_mean", frac=1.0)
    return (math.isfinite(std) and std > 8) or (math.isfinite(mx) and mx > 40) or (math.isfinite(mean) and abs(mean) > 8)


@rule("unnormalized_inputs")
def unnormalized_inputs(sig):
    if not _inputs_unnormalized(sig):
        return None
    ev = {k: sig.median(f"input_{k}", frac=1.0) for k in ("mean", "std", "min", "max")}
    ev["lo"], ev["hi"] = ev.pop("min"), ev.pop("max")
    scale = max(abs(ev["hi"]), abs(ev["lo"]), ev["std"])
    return make_finding("unnormalized_inputs", min(0.6 + 0.1 * math.log10(max(scale, 1)), 0.98), ev)


@rule("symmetric_init")
def symmetric_init(sig):
    probe = _probe(sig, "symmetric_weights")
    if not probe:
        return None
    layers = probe.get("layers") or []
    if not layers:
        return None
    when = " at the start and still after training" if probe.get("still_symmetric") else " at the start"
    conf = 0.95 if probe.get("still_symmetric") else 0.7
    return make_finding("symmetric_init", conf, {"layers": ", ".join(layers), "detail": probe}, when=when)


def _probe(sig, name):
    ev = sig.events
    if not len(ev) or "kind" not in ev.columns:
        return None
    rows = ev[(ev["kind"] == "probe") & (ev.get("probe") == name)] if "probe" in ev.columns else ev.iloc[0:0]
    if not len(rows):
        return None
    return rows.iloc[-1].get("result")


@rule("dead_relu")
def dead_relu(sig):
    dead = sig.layer_median("act_dead", frac=0.5)
    types = sig.layer_types
    cands = {l: v for l, v in dead.items() if types.get(l) in ACT_RELU_TYPES or types.get(l) is None}
    if not cands:
        return None
    layer, frac = max(cands.items(), key=lambda kv: kv[1])
    if frac < 0.6:
        return None
    return make_finding("dead_relu", min(0.5 + frac / 2, 0.98), {"layer": layer, "frac": frac, "per_layer": cands})


@rule("saturated_activations")
def saturated_activations(sig):
    sat = sig.layer_median("act_saturated", frac=0.5)
    types = sig.layer_types
    cands = {l: v for l, v in sat.items() if types.get(l) in BOUNDED_TYPES or types.get(l) is None}
    if not cands:
        return None
    layer, frac = max(cands.items(), key=lambda kv: kv[1])
    if frac < 0.5:
        return None
    return make_finding("saturated_activations", min(0.5 + frac / 2, 0.98), {"layer": layer, "frac": frac,
                                                                             "per_layer": cands})
