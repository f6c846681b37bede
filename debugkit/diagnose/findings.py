"""The vocabulary of findings: stable ids, what each means, and what to try."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class FindingType:
    """What a finding id means.

    Attributes:
        id: Stable identifier (used in JSON, tests, logbooks, exercises).
        title: Short human title.
        kind: ``cause`` (a concrete mistake in code or setup) or ``symptom`` (how training
            behaves). Causes rank above symptoms: they say what to change.
        severity: Default severity.
        hypothesis: Plain-words explanation (may use ``{placeholders}`` from evidence).
        suggestion: The experiment or fix to try.
        experiment: Machine-readable change for automatic bug hunts (see
            :mod:`debugkit.logbook.fixers`), e.g. ``{"action": "scale_lr", "factor": 0.1}``.
    """

    id: str
    title: str
    kind: str
    severity: str
    hypothesis: str
    suggestion: str
    experiment: dict = field(default_factory=dict)


_T = FindingType
FINDING_TYPES: dict[str, FindingType] = {t.id: t for t in [
    _T("loss_diverged", "Loss became NaN/inf", "symptom", "error",
       "The loss overflowed at step {step}: updates grew until the weights or activations became non-finite.",
       "Lower the learning rate (try 10× smaller) and check inputs/initialisation scale; add gradient clipping "
       "only as a safety net.", {"action": "scale_lr", "factor": 0.1}),
    _T("lr_too_high", "Learning rate too high", "cause", "error",
       "The steps are too large for the loss surface: median α = {alpha:.2f} along the update (α > 1 lands "
       "higher on the other side){curv}; early updates change the weights by {early_update_ratio:.0%} per step.",
       "Divide the learning rate by 10 (or run an LR range test) and compare the loss curves.",
       {"action": "scale_lr", "factor": 0.1}),
    _T("lr_too_low", "Learning rate too low", "cause", "warning",
       "Each step moves the weights by a tiny fraction (median update/weight ratio {ratio:.1e}) and stops far short "
       "of the minimum along its direction (median α = {alpha:.2f}); {progress}.",
       "Multiply the learning rate by 10 and compare; an LR range test gives a good starting value.",
       {"action": "scale_lr", "factor": 10.0}),
    _T("loss_stalled", "Loss is not decreasing", "symptom", "warning",
       "The training loss changed by only {drop:.1%} over {steps} steps.",
       "Check the learning rate, the data pipeline and whether gradients reach all layers.", {}),
    _T("loss_oscillating", "Loss oscillates", "symptom", "warning",
       "The loss jumps by {jump:.2f} (relative) from step to step without a downward trend.",
       "Lower the learning rate or increase the batch size.", {"action": "scale_lr", "factor": 0.3}),
    _T("missing_zero_grad", "Gradients accumulate across steps (missing zero_grad)", "cause", "error",
       "At {frac:.0%} of steps .grad already held the previous steps' gradients before backward: the optimizer "
       "uses the running sum of all past gradients (norm {acc_norm:.3g} vs this batch's {batch_norm:.3g}).",
       "Call optimizer.zero_grad() once per step before loss.backward().", {"action": "add_zero_grad"}),
    _T("double_softmax", "Probabilities fed into a loss that expects logits", "cause", "error",
       "The model output already sums to 1 per sample ({frac:.0%} of steps) and goes into {loss}, which applies "
       "softmax again: gradients are squashed and the loss cannot fall below ~{floor:.2f}.",
       "Remove the final Softmax layer (CrossEntropyLoss expects raw logits).", {"action": "remove_softmax"}),
    _T("unnormalized_inputs", "Inputs are not normalised", "cause", "error",
       "Input values range over [{lo:.3g}, {hi:.3g}] with mean {mean:.3g} and std {std:.3g}: first-layer "
       "pre-activations are huge, which forces a tiny learning rate or saturates units.",
       "Standardise inputs with training-set mean and std (per channel or per pixel).",
       {"action": "normalize_inputs"}),
    _T("bad_init_scale", "Initial weights far too large", "cause", "error",
       "At step 0 the logits have std {logit_std:.3g} and the loss is {loss0:.3g} (≫ ln C = {lnc:.2f}): the "
       "initial weights are too large.",
       "Use a scaled initialisation (PyTorch default, Xavier or Kaiming) instead of a large fixed std.",
       {"action": "default_init"}),
    _T("symmetric_init", "Symmetric (constant) initialisation", "cause", "error",
       "In {layers} all units have identical weights{when}: every hidden unit computes the same function and gets "
       "the same gradient, so the symmetry never breaks.",
       "Initialise weights randomly (PyTorch default, Xavier or Kaiming), not with zeros or a constant.",
       {"action": "default_init"}),
    _T("dead_relu", "Dead ReLU units", "cause", "error",
       "{frac:.0%} of the units of {layer} output zero for every sample: they receive no gradient and stay dead.",
       "Check bias initialisation (no large negative biases), lower the learning rate, or use LeakyReLU.",
       {"action": "default_init"}),
    _T("saturated_activations", "Saturated activations", "cause", "error",
       "{frac:.0%} of the outputs of {layer} sit at the bounds of the activation: their gradient vanishes.",
       "Reduce the initial weight scale or input scale (normalise inputs), or use ReLU-family activations.",
       {"action": "default_init"}),
    _T("exploding_gradients", "Exploding gradients", "symptom", "error",
       "The gradient norm grew by a factor {growth:.3g} (from {g0:.3g} to {g1:.3g}).",
       "Lower the learning rate, normalise inputs, or clip gradients.", {"action": "scale_lr", "factor": 0.1}),
    _T("vanishing_gradients", "Vanishing gradients", "symptom", "warning",
       "The first layer's gradient is {ratio:.1e} times the last layer's: early layers barely learn.",
       "Use ReLU-family activations, a scaled initialisation, normalisation layers or residual connections.", {}),
    _T("frozen_params", "Parameters never updated", "cause", "error",
       "{layers} never change: {why}.",
       "Pass all parameters to the optimizer (model.parameters()) and check requires_grad.",
       {"action": "optimize_all_params"}),
    _T("detached_graph", "Parameters receive no gradient", "cause", "error",
       "{layers} get no gradient at all: the computation graph is cut between them and the loss (e.g. .detach(), "
       ".data, or a tensor rebuilt from numpy).",
       "Remove the .detach()/.data/.item() in the forward pass.", {"action": "remove_detach"}),
    _T("clip_too_aggressive", "Gradient clipping far too tight", "cause", "error",
       "clip_grad_norm_ scales gradients of norm ~{total:.3g} down to {max_norm:.3g} at {frac:.0%} of steps: "
       "the effective learning rate is {factor:.1e} of the nominal one.",
       "Raise max_norm to about the typical gradient norm (or remove clipping).", {"action": "relax_clipping"}),
    _T("weight_decay_too_high", "Weight decay far too high", "cause", "error",
       "Weight decay {weight_decay:g}: the decay term (wd·‖θ‖ = {decay:.3g}) {balance} and {shrunk}: the weights "
       "are pulled to zero faster than the data can shape them.",
       "Lower weight_decay by 100× (typical values 1e-5 to 1e-3).", {"action": "scale_weight_decay", "factor": 0.01}),
    _T("lr_schedule_increasing", "Learning rate increases during training", "cause", "error",
       "The learning rate grew from {lr0:.3g} to {lr1:.3g} ({steps} steps): the schedule goes the wrong way.",
       "Use a decreasing schedule (gamma < 1) or a constant learning rate.", {"action": "fix_lr_schedule"}),
    _T("unshuffled_data", "Training data not shuffled", "cause", "error",
       "On average {purity:.0%} of each training batch belongs to one class: the data arrive sorted by class, so "
       "the model chases one class at a time.",
       "Shuffle the training data every epoch (DataLoader(..., shuffle=True)).", {"action": "shuffle_data"}),
    _T("label_noise", "Labels do not match inputs", "cause", "error",
       "Training accuracy reaches {train_acc:.0%} but validation stays at {val_acc:.0%} (chance: {chance:.0%}): "
       "the model memorises but nothing generalises, as if labels were misaligned with inputs.",
       "Check that images and labels are indexed/shuffled together; plot a few samples with their labels.",
       {"action": "align_labels"}),
    _T("eval_mode_training", "Model in the wrong mode", "cause", "error",
       "{what}",
       "Call model.train() before the training loop of each epoch and model.eval() before evaluation.",
       {"action": "train_mode"}),
    _T("val_from_train_split", "Validation data overlap the training data", "cause", "error",
       "{what}",
       "Split off the validation set before training and never train on it.", {"action": "separate_validation"}),
    _T("val_own_normalization", "Validation normalised with its own statistics", "cause", "warning",
       "Each validation feature has mean {mean:.1e} (≈ 0 to float precision): the validation data were "
       "standardised with their own statistics instead of the training set's.",
       "Normalise validation and test data with the training mean and std.", {"action": "train_stat_normalization"}),
    _T("bad_augmentation", "Augmentation destroys the signal", "cause", "warning",
       "On the inputs the model actually trains on, accuracy is {train_acc:.0%} against {val_acc:.0%} on "
       "unaugmented data: the augmentation changes what the labels mean (e.g. rotations that turn 6 into 9).",
       "Use milder augmentation (e.g. ±15° rotation) and check augmented samples visually.",
       {"action": "weaken_augmentation"}),
    _T("overfitting", "Overfitting", "symptom", "info",
       "Validation loss rose from its minimum {best:.3g} to {last:.3g} while training loss kept falling.",
       "Add regularisation (dropout, weight decay, augmentation), more data, or stop earlier.", {}),
    _T("underfitting", "Underfitting", "symptom", "info",
       "Training accuracy is only {train_acc:.0%} at the end.",
       "Train longer, use a larger model, or tune the learning rate.", {}),
    _T("batch_too_noisy", "Gradient too noisy for the batch size", "symptom", "info",
       "Cockpit's norm test is {theta:.1f} (> 1): the mini-batch gradient is dominated by noise.",
       "Increase the batch size (CABS suggests ~{cabs}) or lower the learning rate.", {}),
    _T("wrong_initial_loss", "Initial loss is not ln C", "symptom", "warning",
       "The first loss is {loss0:.3g}, but a fresh {C}-class classifier should start near ln C = {lnc:.2f}.",
       "Check the output layer scale, the loss function and the labels.", {}),
    _T("batch_mixing", "Samples influence each other", "cause", "error",
       "The loss of one sample changes the gradient of other samples' inputs ({frac:.0%} of the gradient): a "
       "reshape/transpose mixes the batch dimension.",
       "Check view/reshape/transpose calls: the batch dimension must stay first.", {}),
]}


#: Cause → findings it can produce as side effects.  When both are raised, the explained
#: one is ranked below its cause (and says so in its evidence); nothing is dropped.
EXPLAINS: dict[str, set[str]] = {
    "bad_init_scale": {"dead_relu", "wrong_initial_loss", "exploding_gradients",
                       "loss_diverged", "lr_too_high", "vanishing_gradients", "loss_stalled", "loss_oscillating"},
    "unnormalized_inputs": {"saturated_activations", "dead_relu", "wrong_initial_loss", "exploding_gradients",
                            "loss_diverged", "lr_too_high", "bad_init_scale", "loss_oscillating", "loss_stalled",
                            "vanishing_gradients", "lr_too_low"},
    "lr_schedule_increasing": {"lr_too_high", "loss_diverged", "exploding_gradients", "loss_oscillating",
                               "dead_relu", "lr_too_low", "saturated_activations"},
    "missing_zero_grad": {"exploding_gradients", "loss_oscillating", "loss_diverged", "lr_too_high", "loss_stalled",
                          "dead_relu", "saturated_activations", "weight_decay_too_high"},
    "lr_too_high": {"loss_diverged", "exploding_gradients", "loss_oscillating", "dead_relu", "saturated_activations",
                    "wrong_initial_loss"},
    "double_softmax": {"loss_stalled", "vanishing_gradients", "underfitting", "lr_too_low", "wrong_initial_loss"},
    "symmetric_init": {"loss_stalled", "vanishing_gradients", "underfitting", "frozen_params", "detached_graph",
                       "dead_relu", "lr_too_low"},
    "dead_relu": {"vanishing_gradients", "loss_stalled", "underfitting", "lr_too_low"},
    # in tanh/sigmoid nets an oversized init shows up as saturation: the more specific finding
    "saturated_activations": {"vanishing_gradients", "loss_stalled", "underfitting", "lr_too_low", "bad_init_scale",
                              "wrong_initial_loss"},
    "frozen_params": {"loss_stalled", "underfitting", "lr_too_low"},
    "detached_graph": {"loss_stalled", "underfitting", "lr_too_low", "frozen_params"},
    "clip_too_aggressive": {"lr_too_low", "loss_stalled", "underfitting"},
    "weight_decay_too_high": {"loss_stalled", "underfitting", "lr_too_low", "dead_relu", "vanishing_gradients"},
    "label_noise": {"overfitting", "underfitting", "loss_stalled", "lr_too_low"},
    "unshuffled_data": {"loss_oscillating", "loss_stalled", "underfitting", "lr_too_high", "exploding_gradients",
                        "bad_augmentation", "dead_relu", "label_noise"},
    "eval_mode_training": {"overfitting", "underfitting"},
    "bad_augmentation": {"underfitting", "loss_stalled"},
    "lr_too_low": {"loss_stalled", "underfitting"},
    "batch_mixing": {"loss_stalled", "underfitting"},
    "loss_diverged": {"exploding_gradients", "loss_oscillating"},
}


@dataclass
class Finding:
    """One diagnosis: what is wrong, how sure, since when, and what to try."""

    id: str
    severity: str
    confidence: float
    first_step: int | None
    evidence: dict[str, Any]
    hypothesis: str
    suggestion: str
    title: str = ""
    kind: str = "symptom"
    experiment: dict = field(default_factory=dict)

    explained_by: str | None = None

    @property
    def score(self) -> float:
        """Ranking score: unexplained causes, then symptoms; within, severity, then confidence."""
        base = 2.0 if self.kind == "cause" and self.explained_by is None else 1.0
        if self.explained_by is not None:
            base -= 0.5
        return base + SEVERITIES.index(self.severity) * 0.5 + self.confidence

    def to_dict(self) -> dict:
        return asdict(self)


def make_finding(fid: str, confidence: float, evidence: dict, severity: str | None = None, **fmt) -> Finding:
    """Build a finding of type ``fid``; ``fmt`` fills the hypothesis placeholders."""
    t = FINDING_TYPES[fid]
    values = {**evidence, **fmt}
    try:
        hypothesis = t.hypothesis.format(**values)
    except (KeyError, ValueError, IndexError):
        hypothesis = t.hypothesis
    try:
        suggestion = t.suggestion.format(**values)
    except (KeyError, ValueError, IndexError):
        suggestion = t.suggestion
    return Finding(id=fid, severity=severity or t.severity, confidence=float(min(max(confidence, 0.0), 1.0)),
                   first_step=None, evidence=evidence, hypothesis=hypothesis, suggestion=suggestion, title=t.title,
                   kind=t.kind, experiment=dict(t.experiment))
