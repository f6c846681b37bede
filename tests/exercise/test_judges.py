"""Verdict rules and behaviour checks on hand-made evidence (no training)."""

import pytest

from debugkit.baselines import BUG_IDS
from debugkit.exercise import FIXED, JUDGES, NOT_FIXED, UNCLEAR, Evidence, judge_bugs
from debugkit.exercise.judges import ABSENT, PRESENT, UNKNOWN, signature

REF = Evidence({"heldout_acc": 0.96, "lr_first": 0.05, "lr_early": 0.05, "lr_last": 0.01, "optimizer": "SGD",
                "update_ratio_early": 0.016, "accumulated_grad": 0.0, "act_saturated_early": 0.07,
                "aug_retention": 0.8, "val_overlap": 0.0, "num_classes": 10, "loss_first": 2.4,
                "logit_std_first": 1.0})
BAND = (0.88, 1.0)


def ev(**values):
    return Evidence({**REF.values, **values})


def test_every_bug_id_has_a_behaviour_check():
    assert set(JUDGES) == set(BUG_IDS)


def test_behaviour_present_means_not_fixed_even_without_the_finding():
    [v] = judge_bugs(["missing_zero_grad"], ev(accumulated_grad=1.0, heldout_acc=0.2), REF, BAND)
    assert (v.status, v.finding_raised) == (NOT_FIXED, False)
    assert "100% of steps" in v.reason


def test_finding_raised_without_a_deciding_check_is_not_fixed():
    e = ev()
    e.findings = ["symmetric_init"]  # no probe result: the judge cannot decide
    [v] = judge_bugs(["symmetric_init"], e, REF, BAND)
    assert v.status == NOT_FIXED and "still raises symmetric_init" in v.reason


def test_finding_raised_but_behaviour_gone_is_unclear():
    e = ev(accumulated_grad=0.0)
    e.findings = ["missing_zero_grad"]
    [v] = judge_bugs(["missing_zero_grad"], e, REF, BAND)
    assert v.status == UNCLEAR


def test_behaviour_gone_and_accuracy_in_band_is_fixed():
    [v] = judge_bugs(["missing_zero_grad"], ev(heldout_acc=0.95), REF, BAND)
    assert v.status == FIXED


def test_behaviour_gone_but_accuracy_far_below_the_band_is_unclear_unless_other_bugs_remain():
    [v] = judge_bugs(["missing_zero_grad"], ev(heldout_acc=0.4), REF, BAND)
    assert v.status == UNCLEAR and "below the fixed baseline's band" in v.reason
    both = judge_bugs(["missing_zero_grad", "lr_too_low"], ev(heldout_acc=0.4, lr_early=1e-4), REF, BAND)
    assert [v.status for v in both] == [FIXED, NOT_FIXED]
    assert "lr_too_low remain" in both[0].reason


def test_no_behaviour_check_decides_then_accuracy_does():
    [v] = judge_bugs(["symmetric_init"], ev(heldout_acc=0.95), REF, BAND)
    assert v.status == FIXED
    [v] = judge_bugs(["symmetric_init"], ev(heldout_acc=0.5), REF, BAND)
    assert v.status == UNCLEAR


def test_a_failed_run_leaves_everything_unclear():
    e = ev(accumulated_grad=1.0)
    e.failure = "the re-run crashed before training (cell [3]: NameError: x)"
    assert [v.status for v in judge_bugs(["missing_zero_grad", "lr_too_low"], e, REF, BAND)] == [UNCLEAR, UNCLEAR]


@pytest.mark.parametrize("lr, state", [(1e-4, PRESENT), (0.01, ABSENT), (0.5, ABSENT), (0.004, UNKNOWN)])
def test_lr_too_low_compares_with_the_fixed_baseline(lr, state):
    assert signature("lr_too_low", ev(lr_early=lr), REF).state == state


def test_another_optimizer_is_judged_by_what_its_steps_do():
    adam = ev(optimizer="Adam", lr_early=1e-3, update_ratio_early=0.01)
    assert signature("lr_too_low", adam, REF).state == ABSENT
    slow = ev(optimizer="Adam", lr_early=1e-7, update_ratio_early=1e-6)
    assert signature("lr_too_low", slow, REF).state == PRESENT


@pytest.mark.parametrize("bug, values, state", [
    ("lr_schedule_increasing", {"lr_first": 0.05, "lr_last": 14.0}, PRESENT),
    ("lr_schedule_increasing", {"lr_first": 0.05, "lr_last": 0.05}, ABSENT),
    ("saturated_activations", {"act_saturated_early": 0.83}, PRESENT),
    ("saturated_activations", {"act_saturated_early": 0.1}, ABSENT),
    ("bad_augmentation", {"aug_retention": 0.2}, PRESENT),
    ("bad_augmentation", {"aug_retention": 1.0}, ABSENT),
    ("val_from_train_split", {"val_overlap": 1.0}, PRESENT),
    ("val_from_train_split", {"val_overlap": 0.0}, ABSENT),
    ("label_noise", {"label_heldout_acc": 0.12, "chance": 0.11}, PRESENT),
    ("label_noise", {"label_heldout_acc": 0.95, "chance": 0.11}, ABSENT),
    ("clip_too_aggressive", {"clip_factor": 0.01, "clip_frac": 1.0, "steps": 100}, PRESENT),
    ("clip_too_aggressive", {"steps": 100}, ABSENT),
])
def test_behaviour_checks(bug, values, state):
    assert signature(bug, ev(**values), REF).state == state


def test_missing_measurements_are_unknown():
    empty = Evidence()
    for bug in BUG_IDS:
        assert signature(bug, empty, REF).state == UNKNOWN, bug


def test_checks_cope_with_any_single_measurement():
    keys = set(REF.values) | {"clip_factor", "clip_frac", "decay_ratio", "val_overlap_monitor", "input_std",
                              "input_absmax", "dead_early", "symmetric_layers", "output_is_prob", "frozen_names",
                              "gradless_names", "model_training", "val_train_mode", "val_feature_mean_abs",
                              "batch_class_purity", "label_heldout_acc", "chance", "val_acc", "other_acc"}
    for key in sorted(keys):
        value = [] if key.endswith("_names") else ("SGD" if key == "optimizer" else 0.5)
        for bug in BUG_IDS:
            for e, r in ((Evidence({key: value}), REF), (Evidence({key: value}), Evidence())):
                assert "check failed" not in signature(bug, e, r).detail, (bug, key)
