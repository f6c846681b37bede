"""Curvature maths against an explicit Hessian from autograd."""

import pytest
import torch
from torch import nn
from torch.func import functional_call

from debugkit.functional.hessian import exact_diagonal, hutchinson_trace, make_hvp, power_iteration


def _problem(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    params = list(model.parameters())
    names = [n for n, _ in model.named_parameters()]

    def f(flat):
        ps, i = {}, 0
        for n, p in zip(names, params):
            ps[n] = flat[i:i + p.numel()].view(p.shape)
            i += p.numel()
        return nn.functional.cross_entropy(functional_call(model, ps, (x,)), y)

    flat = torch.cat([p.detach().flatten() for p in params])
    H = torch.autograd.functional.hessian(f, flat)
    loss = nn.functional.cross_entropy(model(x), y)
    return H, loss, params


def test_hvp_equals_explicit_hessian_times_vector():
    H, loss, params = _problem()
    hvp, _ = make_hvp(loss, params)
    v = [torch.randn_like(p) for p in params]
    hv = torch.cat([t.flatten() for t in hvp(v)])
    ref = H @ torch.cat([t.flatten() for t in v])
    torch.testing.assert_close(hv, ref, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_power_iteration_finds_largest_magnitude_eigenvalue(seed):
    H, loss, params = _problem(seed)
    hvp, _ = make_hvp(loss, params)
    ev = torch.linalg.eigvalsh(H)
    ref = ev[ev.abs().argmax()].item()
    got, n = power_iteration(hvp, params, max_iter=2000, rtol=1e-8, generator=torch.Generator().manual_seed(0))
    assert got == pytest.approx(ref, rel=1e-3)
    assert n > 1


def test_exact_diagonal_and_trace():
    H, loss, params = _problem()
    hvp, _ = make_hvp(loss, params)
    diag = torch.cat([d.flatten() for d in exact_diagonal(hvp, params)])
    torch.testing.assert_close(diag, torch.diagonal(H), rtol=1e-4, atol=1e-6)


def test_hutchinson_is_unbiased():
    H, loss, params = _problem()
    hvp, _ = make_hvp(loss, params)
    est, per = hutchinson_trace(hvp, params, samples=2000, generator=torch.Generator().manual_seed(0))
    ref = torch.trace(H).item()
    # Rademacher variance is 2 Σ_{i≠j} H_ij²; 2000 samples give a std of a few percent at most
    sd = (2 * (H.pow(2).sum() - torch.diagonal(H).pow(2).sum()) / 2000).sqrt().item()
    assert abs(est - ref) < 4 * sd + 1e-6
    assert est == pytest.approx(sum(per))
