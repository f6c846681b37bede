"""The behaviour checks tell bugged from fixed runs of real baselines (data bugs the diagnosis may miss)."""

import pytest

from debugkit.exercise.calibrate import calibrate, main


@pytest.mark.slow
def test_label_and_order_bugs_are_told_apart(tmp_path, capsys):
    rows = calibrate(["label_noise", "unshuffled_data"], tmp_path, epochs=3)
    assert [(r.baseline, r.bug) for r in rows] == [("label_noise", "label_noise"), ("unshuffled_data", "unshuffled_data")]
    assert all(r.ok for r in rows), [(r.bug, r.bugged, r.bugged_reason, r.fixed, r.fixed_reason) for r in rows]
    assert "reference classifier" in rows[0].bugged_reason and "one class" in rows[1].bugged_reason


def test_calibrate_cli_rejects_unknown_baselines(tmp_path):
    with pytest.raises(Exception, match="no baseline called 'nope'"):
        main(["nope", "--work-dir", str(tmp_path)])
