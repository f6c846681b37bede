"""Gauss-Newton Hessian trace: the maths against an explicit Hessian, and when it applies."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import debugkit
from debugkit import instruments as I
from debugkit.functional.ggn import piecewise_linear


def _trace_by_autograd(model, loss_fn, x, y):
    params = [p for p in model.parameters()]
    loss = loss_fn(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    total = 0.0
    for g, p in zip(grads, params):
        flat = g.reshape(-1)
        for i in range(flat.numel()):
            total += torch.autograd.grad(flat[i], p, retain_graph=True)[0].reshape(-1)[i].item()
    return total


class Custom(nn.Module):
    """A custom forward with functional ReLU and a residual sum: still piecewise linear."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(4, 6), nn.Linear(6, 6), nn.Linear(6, 3)

    def forward(self, x):
        h = F.relu(self.a(x))
        h = h + F.relu(self.b(h))
        return self.c(h.view(h.size(0), -1))


class Gated(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.c = nn.Linear(4, 6), nn.Linear(6, 3)

    def forward(self, x):
        return self.c(torch.tanh(self.a(x)))


def _record(model, loss_fn, instruments, x, y, tmp_path, steps=1):
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    mon = debugkit.Monitor(model, opt, loss_fn, preset=None, instruments=instruments, run_dir=tmp_path / "run",
                           subsample=None)
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    mon.close()
    return debugkit.load_run(tmp_path / "run").scalars


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_exact_gauss_newton_trace_is_the_hessian_trace(reduction, tmp_path):
    torch.manual_seed(0)
    model = Custom().double()
    x, y = torch.randn(9, 4, dtype=torch.double), torch.randint(0, 3, (9,))
    y[2] = -100  # ignored samples do not enter the loss
    loss_fn = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)
    ref = _trace_by_autograd(model, loss_fn, x, y)
    s = _record(model, loss_fn, [I.HessTrace(1, method="ggn_exact")], x, y, tmp_path)
    assert s.hess_trace_method[0] == "ggn_exact"
    assert s.hess_trace[0] == pytest.approx(ref, rel=1e-8)


def test_sampled_labels_are_unbiased(tmp_path):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 5)).double()
    x, y = torch.randn(16, 4, dtype=torch.double), torch.randint(0, 5, (16,))
    ref = _trace_by_autograd(model, nn.CrossEntropyLoss(), x, y)
    s = _record(model, nn.CrossEntropyLoss(), [I.HessTrace(1, method="ggn", samples=1)], x, y, tmp_path, steps=300)
    est = s.hess_trace.astype(float)
    assert set(s.hess_trace_method) == {"ggn"}
    assert est.std() > 0  # every step draws new labels
    assert est.mean() == pytest.approx(ref, rel=3 * est.std() / len(est) ** 0.5 / ref + 1e-3)


def test_which_models_qualify():
    assert piecewise_linear(Custom())[0]
    assert piecewise_linear(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                          nn.Dropout(), nn.Linear(2, 2)))[0]
    ok, why = piecewise_linear(Gated())
    assert not ok and "tanh" in why
    ok, why = piecewise_linear(nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=1)))
    assert not ok and "Softmax" in why


@pytest.mark.parametrize("model", [
    nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3)),
    nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3)),  # training mode
], ids=["tanh", "batchnorm-train"])
def test_auto_falls_back_to_hutchinson(model, tmp_path):
    torch.manual_seed(0)
    x, y = torch.randn(12, 4), torch.randint(0, 3, (12,))
    s = _record(model, nn.CrossEntropyLoss(), [I.HessTrace(1, samples=2)], x, y, tmp_path)
    assert s.hess_trace_method[0] == "hutchinson"
    assert torch.isfinite(torch.tensor(float(s.hess_trace[0])))


def test_unknown_method_is_a_clear_error():
    with pytest.raises(ValueError, match="must be one of"):
        I.HessTrace(1, method="diagonal")
