"""Source-level experiments: each fixer edits typical training code the way a person would."""

import tomllib
from pathlib import Path

import pytest

from debugkit.diagnose.findings import FINDING_TYPES, make_finding
from debugkit.hunt.fixers import FIXERS, apply_experiment

BASELINES = Path(__file__).resolve().parents[2] / "buggy_baselines"


def fix(src: str, fid: str, **evidence) -> str | None:
    return apply_experiment(src, make_finding(fid, 0.9, evidence))


LOOP = """\
for epoch in range(3):
    for xb, yb in loader:
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
        scheduler.step()
"""


def test_zero_grad_goes_into_the_batch_loop():
    out = fix(LOOP, "missing_zero_grad")
    lines = out.splitlines()
    assert lines[2] == "        optimizer.zero_grad()"
    assert fix(out, "missing_zero_grad") is None  # already there


def test_learning_rate_scaled_in_the_optimizer_not_elsewhere():
    src = "x = foo(lr=5)\noptimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)\n"
    assert "lr=0.05" in fix(src, "lr_too_high")
    assert "foo(lr=5)" in fix(src, "lr_too_high")
    assert "lr=5.0" in fix(src, "lr_too_low")


def test_learning_rate_from_argparse_default():
    src = ('parser.add_argument("--lr", type=float, default=1e-4)\n'
           "optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)\n")
    assert 'default=0.001' in fix(src, "lr_too_low")


def test_softmax_layer_removed():
    src = "model = nn.Sequential(\n    nn.Linear(4, 3),\n    nn.Softmax(dim=1),\n)\n"
    assert "Softmax" not in fix(src, "double_softmax")
    assert "F.softmax" not in fix("    return F.softmax(self.fc(x), dim=1)\n", "double_softmax")


def test_custom_init_removed_with_its_function_and_call():
    src = ("def init_weights(m):\n    if isinstance(m, nn.Linear):\n        nn.init.constant_(m.weight, 0.01)\n"
           "        nn.init.zeros_(m.bias)\n\n\nmodel.apply(init_weights)\nprint('ok')\n")
    out = fix(src, "symmetric_init")
    assert "init_weights" not in out and "constant_" not in out and "print('ok')" in out
    compile(out, "x", "exec")


def test_optimizer_gets_all_parameters():
    assert "SGD(model.parameters()" in fix("opt = torch.optim.SGD(model.fc.parameters(), lr=0.1)\n", "frozen_params")
    multi = 'opt = torch.optim.SGD(\n    [\n        {"params": model[0].parameters()},\n    ],\n    lr=0.1,\n)\n'
    out = fix(multi, "frozen_params")
    assert "SGD(\n    model.parameters()," in out
    compile(out, "x", "exec")


def test_every_finding_experiment_has_a_fixer():
    for t in FINDING_TYPES.values():
        action = t.experiment.get("action")
        if action:
            assert action in FIXERS, (t.id, action)


def _planted():
    for d in sorted(BASELINES.glob("*/bug.toml")):
        meta = tomllib.loads(d.read_text())
        for bug in meta["bugs"]:
            yield d.parent.name, bug["id"]


@pytest.mark.parametrize("name,bug", list(_planted()))
def test_every_planted_bug_has_an_automatic_experiment(name, bug):
    src = (BASELINES / name / "train.py").read_text()
    out = fix(src, bug, total=3.0)
    assert out is not None and out != src
    compile(out, name, "exec")
