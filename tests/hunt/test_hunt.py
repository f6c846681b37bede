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
def test_hunt_keeps_a_refuted_hypothesis_and_fixes_the_bug(tmp_path):
    # "the learning rate is too low" is wrong for a script whose SGD runs at lr 1.0 with momentum:
    # raising it must make things worse, be recorded as refuted and reverted; the real bug is then found.
    out = tmp_path / "log" / "lr.pdf"
    res = hunt("lr_too_high", out, work_dir=tmp_path / "work", tuning=False, hypotheses=["lr_too_low"],
               progress=False)

    first = res.steps[0]
    assert first.finding.id == "lr_too_low"
    assert first.verdict == "refuted"
    assert "reverted" in first.note
    assert first.metrics_after.score() < first.metrics_before.score()
    assert "lr_too_high" in res.fixed
    assert "lr_too_low" not in res.fixed
    # the reverted edit is not in the final script; the real fix is
    final = res.final_script.read_text()
    original = (BASELINES / "lr_too_high" / "train.py").read_text()
    assert final != original
    assert Metrics.of(Path(res.steps[-1].after)).val_acc > 0.8

    md = out.with_suffix(".md").read_text()
    assert "refuted" in md and "lr_too_low" in md and "lr_too_high" in md
    reader = pypdf.PdfReader(out)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Refuted" in text or "refuted" in text
    assert "lr_too_low" in text.replace("\n", "")
    assert sum(len(page.images) for page in reader.pages) >= 2  # observation and result figures
