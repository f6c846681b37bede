"""The automatic bug hunt end to end on a small baseline, with a hypothesis that must be refuted."""

from pathlib import Path

import pypdf
import pytest

from debugkit.hunt import hunt
from debugkit.hunt.hunt import Metrics

BASELINES = Path(__file__).resolve().parents[2] / "buggy_baselines"


def test_unknown_hypothesis_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown hypothesis lr_too_hihg"):
        hunt("lr_too_high", None, work_dir=tmp_path / "w", hypotheses=["lr_too_hihg"], progress=False)
    assert not (tmp_path / "w").exists()  # nothing was run


@pytest.mark.slow
def test_a_wrong_hypothesis_is_refuted_reverted_and_kept_in_the_log(tmp_path):
    # "the learning rate is too low" is wrong for the fixed script (SGD lr 0.05, momentum 0.9):
    # ten times that must make things clearly worse, be recorded as refuted and be reverted.
    script = BASELINES / "lr_too_high" / "train_fixed.py"
    out = tmp_path / "log" / "wrong.pdf"
    res = hunt(script, out, work_dir=tmp_path / "work", tuning=False, hypotheses=["lr_too_low"], progress=False)

    first = res.steps[0]
    assert first.finding.id == "lr_too_low"
    assert first.verdict == "refuted", first.metrics_after.describe()
    assert "reverted" in first.note
    assert first.metrics_after.score() < first.metrics_before.score() - 0.03
    assert res.fixed == []
    assert res.final_script.read_text() == script.read_text()  # the edit did not survive

    md = out.with_suffix(".md").read_text()
    assert "**Verdict.** refuted" in md and "lr_too_low" in md
    reader = pypdf.PdfReader(out)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "refuted" in text.lower()
    assert "lr_too_low" in text.replace("\n", "")
    assert sum(len(page.images) for page in reader.pages) >= 2  # observation and result figures


@pytest.mark.slow
def test_hunt_fixes_the_planted_bug(tmp_path):
    res = hunt("lr_too_high", None, work_dir=tmp_path / "work", tuning=False, progress=False)
    assert res.steps[0].finding.id == "lr_too_high" and res.steps[0].verdict == "confirmed"
    assert "lr_too_high" in res.fixed
    original = (BASELINES / "lr_too_high" / "train.py").read_text()
    assert res.final_script.read_text() != original
    assert Metrics.of(Path(res.steps[0].after)).val_acc > 0.8 > Metrics.of(Path(res.baseline_run)).val_acc
