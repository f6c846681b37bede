"""α's ingredients against finite differences and exact quadratics; activation and I/O statistics by hand."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

import debugkit
from debugkit import instruments as I
from debugkit.functional.activations import activation_stats, input_stats, output_stats
from debugkit.functional.alpha import alpha, fit_quadratic


def test_alpha_on_exact_quadratics():
    # f(s) = (s - m)^2 observed at 0 and t without noise: α = 2t/(2m) − 1
    for m, t in [(1.0, 1.0), (1.0, 2.0), (1.0, 0.5), (2.0, 3.0)]:
        f = lambda s: (s - m) ** 2  # noqa: E731
        df = lambda s: 2 * (s - m)  # noqa: E731
        a = alpha(t, [f(0), f(t)], [df(0), df(t)], [1e-3, 1e-3], [1e-3, 1e-3])
        assert a == pytest.approx(t / m - 1, abs=1e-6)
    # concave: −1, no move: −1
    assert alpha(1.0, [0.0, -1.0], [-1.0, -3.0], [1, 1], [1, 1]) == -1.0
    assert alpha(0.0, [1.0, 1.0], [0.0, 0.0], [1, 1], [1, 1]) == -1.0


def test_noisy_observations_get_less_weight():
    # a very noisy end-point value barely moves the fit
    mu_clean = fit_quadratic(1.0, [1.0, 0.0], [-2.0, 0.0], [1e-6, 1e-6], [1e-6, 1e-6])
    mu_noisy = fit_quadratic(1.0, [1.0, 5.0], [-2.0, 0.0], [1e-6, 1e6], [1e-6, 1e-6])
    np.testing.assert_allclose(mu_noisy, mu_clean, atol=1e-3)


def test_alpha_slope_matches_finite_differences(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()
    x, y = torch.randn(20, 5, dtype=torch.double), torch.randint(0, 3, (20,))
    opt = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.5)
    loss_fn = nn.CrossEntropyLoss()
    inst = I.Alpha(exact=True)
    mon = debugkit.Monitor(model, opt, loss_fn, preset=None, instruments=[inst], run_dir=tmp_path / "r", strict=True)
    before = copy.deepcopy(model)
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()
    start = inst._start
    d = [p.detach() - q.detach() for p, q in zip(model.parameters(), before.parameters())]
    norm = math.sqrt(sum((v ** 2).sum().item() for v in d))
    assert start.t == pytest.approx(norm, rel=1e-6)
    eps = 1e-6

    def loss_at(s):
        m = copy.deepcopy(before)
        with torch.no_grad():
            for p, v in zip(m.parameters(), d):
                p.add_(v * s / norm)
        return loss_fn(m(x), y).item()

    fd = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    assert start.df == pytest.approx(fd, rel=1e-5)
    assert start.f == pytest.approx(loss_at(0.0), rel=1e-9)
    # and the per-sample loss variance the fit weighs the value with
    per = nn.functional.cross_entropy(before(x), y, reduction="none")
    assert start.var_f == pytest.approx(per.var().item(), rel=1e-6)
    mon.close()


def test_activation_statistics_by_hand():
    y = torch.tensor([[0.0, 1.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0], [0.0, 4.0, 0.0]])
    s = activation_stats(y, "relu")
    assert s["act_dead"] == pytest.approx(1 / 3)  # unit 0 is zero for every sample
    assert s["act_zero"] == pytest.approx(8 / 12)
    assert s["act_mean"] == pytest.approx(y.mean().item())
    assert s["act_std"] == pytest.approx(y.std().item(), rel=1e-6)
    t = torch.tanh(torch.tensor([[10.0, 0.1], [-10.0, 0.2]]))
    assert activation_stats(t, "tanh")["act_saturated"] == pytest.approx(0.5)
    z = torch.tensor([[6.0, -1.0], [-7.0, -2.0]])
    pre = activation_stats(z, "linear")
    assert pre["pre_large"] == pytest.approx(0.5) and pre["pre_dead"] == pytest.approx(0.5)
    conv = torch.zeros(4, 2, 3, 3)
    conv[:, 1] = 1.0
    assert activation_stats(conv, "relu")["act_dead"] == pytest.approx(0.5)  # channel 0 is dead


def test_input_and_output_statistics():
    x = torch.arange(12.0).reshape(3, 4) * 20
    s = input_stats(x)
    assert s["input_min"] == 0 and s["input_max"] == 220 and s["input_mean"] == pytest.approx(110)
    logits = torch.randn(8, 5)
    assert output_stats(logits)["output_is_prob"] == 0.0
    assert output_stats(torch.softmax(logits, 1))["output_is_prob"] == 1.0
    assert output_stats(torch.log_softmax(logits, 1))["output_is_logprob"] == 1.0
    ent = output_stats(torch.zeros(4, 5))["output_entropy"]
    assert ent == pytest.approx(math.log(5))
