"""The monitor on the training loops people actually write."""

import copy
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import debugkit
from debugkit import instruments as I


def _data(n=64, d=6, c=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, c, (n,), generator=g)


def _mlp(inplace=False, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(inplace=inplace), nn.Linear(8, 3))


def _train(model, opt, loss_fn, x, y, steps, bs=16, accumulate=1, on_step=None):
    for s in range(steps):
        opt.zero_grad()
        for a in range(accumulate):
            lo = (s * bs + a * (bs // accumulate)) % len(x)
            xb, yb = x[lo:lo + bs // accumulate], y[lo:lo + bs // accumulate]
            (loss_fn(model(xb), yb) / accumulate).backward()
        opt.step()
        if on_step:
            on_step(s)


NOISE = lambda: [I.Loss(), I.GradNorm(), I.NormTest(), I.InnerTest(), I.OrthoTest(), I.MeanGSNR(),  # noqa: E731
                 I.Alpha(exact=True)]


def test_gradient_accumulation_equals_one_big_batch(tmp_path):
    x, y = _data()
    runs = {}
    for acc in (1, 2):
        model = _mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        mon = debugkit.Monitor(model, opt, nn.CrossEntropyLoss(), preset=None, instruments=NOISE(),
                               run_dir=tmp_path / f"acc{acc}", strict=True, subsample=None)
        _train(model, opt, nn.CrossEntropyLoss(), x, y, steps=5, accumulate=acc)
        mon.close()
        runs[acc] = debugkit.load_run(tmp_path / f"acc{acc}").scalars
    cols = ["loss", "grad_norm", "norm_test", "inner_test", "ortho_test", "mean_gsnr", "alpha"]
    np.testing.assert_allclose(runs[2][cols].to_numpy(dtype=float)[:4], runs[1][cols].to_numpy(dtype=float)[:4],
                               rtol=1e-4)
    assert (runs[2].accumulated_grad == 0).all()


def test_inplace_relu_gives_the_same_per_sample_statistics(tmp_path):
    x, y = _data()
    vals = []
    for inplace in (False, True):
        model = _mlp(inplace=inplace)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        mon = debugkit.Monitor(model, opt, nn.CrossEntropyLoss(), preset=None, instruments=NOISE(),
                               run_dir=tmp_path / str(inplace), strict=True)
        _train(model, opt, nn.CrossEntropyLoss(), x, y, steps=3)
        mon.close()
        vals.append(debugkit.load_run(tmp_path / str(inplace)).scalars[["norm_test", "inner_test"]].to_numpy())
    np.testing.assert_allclose(vals[0], vals[1], rtol=1e-5)


def test_monitoring_does_not_change_the_training_trajectory(tmp_path):
    """Curvature and micro-batch recomputation must not touch RNG, BN buffers or weights."""
    x, y = _data(n=128)

    def make():
        torch.manual_seed(3)
        return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))

    finals = []
    for monitored in (False, True):
        model = make()
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        torch.manual_seed(11)
        mon = debugkit.Monitor(model, opt, nn.CrossEntropyLoss(), preset="full", schedule=1,
                               run_dir=tmp_path / "m", strict=True) if monitored else None
        _train(model, opt, nn.CrossEntropyLoss(), x, y, steps=6, bs=32)
        if mon:
            mon.close()
        finals.append(copy.deepcopy(model.state_dict()))
    for k in finals[0]:
        torch.testing.assert_close(finals[0][k], finals[1][k], rtol=0, atol=0, msg=k)


def test_batchnorm_and_dropout_use_the_microbatch_estimator(tmp_path):
    x, y = _data(n=128)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    mon = debugkit.Monitor(model, opt, nn.CrossEntropyLoss(), preset="full", schedule=1, run_dir=tmp_path / "bn",
                           strict=True)
    _train(model, opt, nn.CrossEntropyLoss(), x, y, steps=4, bs=32)
    mon.close()
    s = debugkit.load_run(tmp_path / "bn").scalars
    assert (s.grad_estimator == "microbatch").all()
    for col in ["norm_test", "inner_test", "ortho_test", "mean_gsnr", "hess_max_ev", "hess_trace", "tic"]:
        assert np.isfinite(s[col].to_numpy(dtype=float)).all(), col
    assert np.isfinite(s.alpha.to_numpy(dtype=float)[:3]).all()
    run = debugkit.load_run(tmp_path / "bn")
    assert {"grad_1d", "grad_2d"} <= set(run.hists.name)
    assert set(run.hists[run.hists.name == "grad_1d"].estimator) == {"microbatch"}


def test_model_returning_its_own_loss(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = _mlp()

        def forward(self, x, y):
            return {"loss": nn.functional.cross_entropy(self.body(x), y), "logits": self.body(x)}

    x, y = _data()
    model = Net()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    mon = debugkit.Monitor(model, opt, preset="standard", schedule=1, run_dir=tmp_path / "own", strict=True)
    losses = []
    for s in range(4):
        opt.zero_grad()
        out = model(x[s * 16:(s + 1) * 16], y[s * 16:(s + 1) * 16])
        out["loss"].backward()
        losses.append(out["loss"].item())
        opt.step()
    mon.close()
    sc = debugkit.load_run(tmp_path / "own").scalars
    np.testing.assert_allclose(sc.loss.to_numpy(), losses, rtol=1e-6)
    assert np.isfinite(sc.hess_max_ev.to_numpy(dtype=float)).all()
    assert np.isfinite(sc.alpha.to_numpy(dtype=float)[:3]).all()


def test_functional_loss_is_seen_through_backward(tmp_path):
    x, y = _data()
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    mon = debugkit.Monitor(model, opt, run_dir=tmp_path / "f")
    losses = []
    for s in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[:16]), y[:16])
        loss.backward()
        losses.append(loss.item())
        opt.step()
    mon.close()
    np.testing.assert_allclose(debugkit.load_run(tmp_path / "f").scalars.loss.to_numpy(), losses, rtol=1e-6)
    assert torch.Tensor.backward.__name__ == "backward"  # the watch is removed again


def test_eval_under_no_grad_between_steps_is_ignored(tmp_path):
    x, y = _data()
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    mon = debugkit.Monitor(model, opt, loss_fn, preset="economy", run_dir=tmp_path / "e", strict=True)

    def evaluate(_):
        model.eval()
        with torch.no_grad():
            loss_fn(model(x), y)
        model.train()

    _train(model, opt, loss_fn, x, y, steps=4, on_step=evaluate)
    mon.close()
    sc = debugkit.load_run(tmp_path / "e").scalars
    assert len(sc) == 4
    # the recorded loss is the training batch's, not the full-data evaluation
    assert sc.loss.iloc[1] != pytest.approx(loss_fn(model(x), y).item())


def test_lr_scheduler_and_adam(tmp_path):
    x, y = _data()
    model = _mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    mon = debugkit.Monitor(model, opt, nn.CrossEntropyLoss(), run_dir=tmp_path / "s", strict=True)
    _train(model, opt, nn.CrossEntropyLoss(), x, y, steps=5, on_step=lambda s: sched.step())
    mon.close()
    lr = debugkit.load_run(tmp_path / "s").scalars.lr.to_numpy()
    np.testing.assert_allclose(lr, [1e-2, 1e-2, 1e-3, 1e-3, 1e-4], rtol=1e-6)


def test_missing_zero_grad_is_flagged_and_batch_gradient_is_isolated(tmp_path):
    x, y = _data()
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    mon = debugkit.Monitor(model, opt, loss_fn, preset=None, instruments=[I.GradNorm(), I.NormTest()],
                           run_dir=tmp_path / "z", strict=True)
    for s in range(4):
        loss_fn(model(x[:16]), y[:16]).backward()  # no zero_grad
        opt.step()
    mon.close()
    sc = debugkit.load_run(tmp_path / "z").scalars
    assert sc.accumulated_grad.tolist() == [0, 1, 1, 1]
    # the accumulated gradient grows; the batch gradient stays of the same size
    assert sc.grad_norm_accumulated.iloc[3] > 2.5 * sc.grad_norm.iloc[3]


def test_disabled_monitor_installs_nothing(tmp_path):
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    mon = debugkit.Monitor(model, opt, nn.CrossEntropyLoss(), run_dir=tmp_path / "off", enabled=False)
    assert not model._forward_hooks and not model._forward_pre_hooks
    assert all(not m._forward_hooks for m in model.modules())
    assert not opt._optimizer_step_pre_hooks
    assert not (tmp_path / "off").exists()
    mon.close()


def test_close_removes_every_hook(tmp_path):
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    mon = debugkit.Monitor(model, opt, nn.CrossEntropyLoss(), preset="full", run_dir=tmp_path / "c")
    assert model._forward_hooks
    mon.close()
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert not opt._optimizer_step_pre_hooks and not opt._optimizer_step_post_hooks
    assert debugkit.load_run(tmp_path / "c").meta["status"] == "finished"


# -- bad input -------------------------------------------------------------------------
def test_non_module_model_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match="needs a torch.nn.Module, got list"):
        debugkit.Monitor([nn.Linear(2, 2)], None, run_dir=tmp_path / "x")


def test_run_dir_that_is_a_file_is_a_clear_error(tmp_path):
    f = tmp_path / "afile"
    f.write_text("hello")
    model = _mlp()
    with pytest.raises(NotADirectoryError, match="afile.*is an existing file"):
        debugkit.Monitor(model, torch.optim.SGD(model.parameters(), lr=0.1), run_dir=f)


def test_optimizer_of_another_model_is_a_clear_error(tmp_path):
    model, other = _mlp(), _mlp()
    with pytest.raises(ValueError, match="does not own any parameter of the model"):
        debugkit.Monitor(model, torch.optim.SGD(other.parameters(), lr=0.1), run_dir=tmp_path / "x")


def test_unknown_preset_lists_the_valid_ones(tmp_path):
    model = _mlp()
    with pytest.raises(ValueError, match="unknown preset 'fast'.*economy"):
        debugkit.Monitor(model, torch.optim.SGD(model.parameters(), lr=0.1), preset="fast", run_dir=tmp_path / "x")


def test_nan_loss_is_recorded_and_flagged_and_the_run_keeps_its_data(tmp_path):
    x, y = _data()
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=1e6)  # diverges
    loss_fn = nn.CrossEntropyLoss()
    mon = debugkit.Monitor(model, opt, loss_fn, preset="standard", run_dir=tmp_path / "nan")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for s in range(8):
            opt.zero_grad()
            loss_fn(model(x[:16] * 100), y[:16]).backward()
            opt.step()
    mon.close()
    run = debugkit.load_run(tmp_path / "nan")
    assert len(run.scalars) == 8
    assert not np.isfinite(run.scalars.loss.iloc[-1])
    assert np.isfinite(run.scalars.loss.iloc[0])
    nan_events = run.events[run.events.kind == "nan_loss"]
    assert len(nan_events) == 1
    assert any("loss is nan" in str(w.message) or "loss is inf" in str(w.message) for w in caught)


KILL_SCRIPT = textwrap.dedent("""
    import sys, time, torch
    from torch import nn
    import debugkit
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    mon = debugkit.Monitor(model, opt, loss_fn, preset="full", schedule=1, run_dir=sys.argv[1])
    x, y = torch.randn(32, 6), torch.randint(0, 3, (32,))
    step = 0
    while True:
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
        step += 1
        if step == 5:
            print("ready", flush=True)
""")


def test_sigkill_mid_training_leaves_a_readable_run(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(KILL_SCRIPT)
    run_dir = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(script), str(run_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.7)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    run = debugkit.load_run(run_dir)
    steps = run.scalars.index.to_numpy()
    assert len(steps) >= 5
    assert (np.diff(steps) == 1).all()
    assert run.meta["status"] == "running"  # never closed
    assert np.isfinite(run.scalars.loss.to_numpy()).all()
    assert len(run.layers) > 0 and len(run.hists) > 0
    # a truncated last line (the kill may land mid-write) is skipped, not an error
    with open(run_dir / "scalars.jsonl", "a") as fh:
        fh.write('{"step": 99999, "loss": 1.')
    again = debugkit.load_run(run_dir)
    assert 99999 not in again.scalars.index
    assert again.skipped_lines >= 0


def test_optimizer_step_with_a_closure(tmp_path):
    """Lightning and LBFGS-style loops run forward/backward inside optimizer.step(closure)."""
    x, y = _data()
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    mon = debugkit.Monitor(model, opt, loss_fn, preset="economy", run_dir=tmp_path / "cl", strict=True)
    losses, norms = [], []
    for s in range(4):
        xb, yb = x[s * 16:(s + 1) * 16], y[s * 16:(s + 1) * 16]

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            losses.append(loss.item())
            norms.append(torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item())
            return loss

        opt.step(closure)
    mon.close()
    sc = debugkit.load_run(tmp_path / "cl").scalars
    assert len(losses) == 4  # the closure ran once per step, not twice
    np.testing.assert_allclose(sc.loss.to_numpy(), losses, rtol=1e-6)
    np.testing.assert_allclose(sc.grad_norm.to_numpy(), norms, rtol=1e-5)


def test_resumed_monitor_measures_distance_from_the_original_start(tmp_path):
    x, y = _data()
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = nn.CrossEntropyLoss()
    theta0 = [p.detach().clone() for p in model.parameters()]
    mon = debugkit.Monitor(model, opt, loss_fn, preset=None, instruments=[I.Distance()], run_dir=tmp_path / "r")
    _train(model, opt, loss_fn, x, y, steps=3)
    mon.close()
    theta3 = [p.detach().clone() for p in model.parameters()]
    # a new process would rebuild the model from a checkpoint; here: the same weights, a new monitor
    mon = debugkit.Monitor(model, opt, loss_fn, preset=None, instruments=[I.Distance()], run_dir=tmp_path / "r")
    mon.resume(3)
    _train(model, opt, loss_fn, x, y, steps=1)
    mon.close()
    sc = debugkit.load_run(tmp_path / "r").scalars
    assert list(sc.index) == [0, 1, 2, 3]
    # step 3's distance is measured before its update: θ₃ against the original θ₀ (not the resumed weights)
    expected = torch.sqrt(sum(((t3 - t0) ** 2).sum() for t3, t0 in zip(theta3, theta0))).item()
    assert sc.distance.iloc[3] == pytest.approx(expected, rel=1e-5)
    assert expected > 0.01


def test_deepcopies_of_the_model_stay_unmonitored(tmp_path):
    """EMA copies made with copy.deepcopy after attaching must neither crash nor be recorded."""
    x, y = _data()
    model = _mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    mon = debugkit.Monitor(model, opt, loss_fn, preset="standard", schedule=1, run_dir=tmp_path / "ema", strict=True)
    ema = copy.deepcopy(model)
    for s in range(3):
        opt.zero_grad()
        loss = loss_fn(model(x[:16]), y[:16])
        loss.backward()
        opt.step()
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), model.parameters()):
                pe.mul_(0.9).add_(0.1 * p)
        loss_fn(ema(x[:16]), y[:16]).backward()  # the copy trains too (no optimizer): ignored
    mon.close()
    sc = debugkit.load_run(tmp_path / "ema").scalars
    assert len(sc) == 3 and (sc.accumulated_grad == 0).all()
    assert mon.model is model
