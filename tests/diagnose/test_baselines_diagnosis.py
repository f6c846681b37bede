"""Diagnosis quality on every bugged baseline, run exactly as a user would (the CLI, a fresh process).

* single-bug baselines: the planted bug's finding is ranked first;
* multi-bug baselines: every planted bug appears among the findings;
* fixed versions: no finding of warning level or above.
"""

import json
import subprocess
import sys

import pytest

from debugkit.baselines import list_baselines

BASELINES = list_baselines()


def _diagnose(script, tmp_path):
    js = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "debugkit.cli", "diagnose", "--quiet", "--no-dashboard",
                           "--run-dir", str(tmp_path / "run"), "--json", str(js), "--", "python", str(script)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return json.loads(js.read_text()), proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("baseline", BASELINES, ids=[b.name for b in BASELINES])
def test_planted_bug_is_diagnosed(baseline, tmp_path):
    report, text = _diagnose(baseline.script, tmp_path / "bugged")
    found = [f["id"] for f in report["findings"]]
    planted = [b.id for b in baseline.bugs]
    if baseline.multi:
        missing = [p for p in planted if p not in found]
        assert not missing, f"planted {missing} not among findings {found}\n{text[-3000:]}"
    else:
        assert found and found[0] == planted[0], f"top finding {found[:3]} instead of {planted[0]}\n{text[-3000:]}"
    for p in planted:
        f = next(f for f in report["findings"] if f["id"] == p)
        assert f["severity"] in ("warning", "error") and f["first_step"] is not None
        assert f["hypothesis"] and f["suggestion"] and f["evidence"]


@pytest.mark.slow
@pytest.mark.parametrize("baseline", BASELINES, ids=[b.name for b in BASELINES])
def test_fixed_version_raises_no_warning(baseline, tmp_path):
    report, text = _diagnose(baseline.fixed_script, tmp_path / "fixed")
    loud = [(f["id"], f["severity"]) for f in report["findings"] if f["severity"] in ("warning", "error")]
    assert not loud, f"{loud}\n{text[-3000:]}"
