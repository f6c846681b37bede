"""Per-sample gradient statistics of every layer handler against torch.func per-sample gradients."""

import pytest
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from debugkit.functional.per_sample import handler_for

N = 5


def _layer_cases():
    torch.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    bn.eval()
    return {
        "linear": (nn.Linear(4, 3), torch.randn(N, 4)),
        "linear_seq": (nn.Linear(4, 3), torch.randn(N, 6, 4)),
        "linear_long_seq": (nn.Linear(2, 2), torch.randn(N, 9, 2)),
        "linear_nobias": (nn.Linear(4, 3, bias=False), torch.randn(N, 4)),
        "conv1d": (nn.Conv1d(2, 3, 3, padding=1), torch.randn(N, 2, 7)),
        "conv2d": (nn.Conv2d(2, 4, 3, stride=2, padding=1), torch.randn(N, 2, 7, 7)),
        "conv2d_groups_dil": (nn.Conv2d(4, 6, 3, groups=2, dilation=2, padding="same"), torch.randn(N, 4, 8, 8)),
        "conv2d_reflect": (nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), torch.randn(N, 2, 6, 6)),
        "conv3d": (nn.Conv3d(2, 2, 2), torch.randn(N, 2, 3, 4, 4)),
        "layernorm": (nn.LayerNorm(6), torch.randn(N, 3, 6)),
        "groupnorm": (nn.GroupNorm(2, 4), torch.randn(N, 4, 3, 3)),
        "batchnorm_eval": (bn, torch.randn(N, 3, 4, 4)),
        "embedding": (nn.Embedding(7, 3), torch.randint(0, 7, (N, 6))),
    }


CASES = _layer_cases()


def _reference(module, x):
    """Per-sample gradients of the mean loss L = 1/N Σ_i <w_i, y_i> (random w), scaled by 1/N."""
    torch.manual_seed(1)
    y = module(x)
    w = torch.randn_like(y)
    params = {k: v.detach() for k, v in module.named_parameters()}

    def loss_one(p, xi, wi):
        yi = functional_call(module, p, (xi.unsqueeze(0),))
        return (yi * wi.unsqueeze(0)).sum() / N

    per = vmap(grad(loss_one), in_dims=(None, 0, 0))(params, x, w)
    delta = w / N  # ∂L/∂y
    return per, delta


@pytest.mark.parametrize("case", list(CASES))
def test_handler_matches_functorch(case):
    module, x = CASES[case]
    h = handler_for(module)
    per, delta = _reference(module, x)
    got = h.materialize(module, x, delta)
    assert set(got) == set(per)
    for k in per:
        torch.testing.assert_close(got[k], per[k], rtol=1e-4, atol=1e-6)
    sq = sum(v.flatten(1).pow(2).sum(1) for v in per.values())
    torch.testing.assert_close(h.sq_norms(module, x, delta), sq, rtol=1e-4, atol=1e-7)
    dirs = {k: torch.randn(2, *v.shape[1:]) for k, v in per.items()}
    ref_dots = sum(per[k].flatten(1) @ dirs[k].flatten(1).T for k in per)
    torch.testing.assert_close(h.dots(module, x, delta, dirs), ref_dots, rtol=1e-4, atol=1e-6)
    ss = h.sum_sq(module, x, delta)
    for k in per:
        torch.testing.assert_close(ss[k], per[k].pow(2).sum(0), rtol=1e-4, atol=1e-7)


def test_batchnorm_in_training_mode_is_not_covered():
    bn = nn.BatchNorm1d(3)
    assert not handler_for(bn).covers(bn)
    bn.eval()
    assert handler_for(bn).covers(bn)


def test_unsupported_layer_has_no_handler():
    assert handler_for(nn.MultiheadAttention(4, 2)) is None
    assert handler_for(nn.PReLU()) is None


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("conv")])
def test_strided_unfold_equals_im2col(case):
    import torch.nn.functional as F

    from debugkit.functional.per_sample import _unfold

    module, x = CASES[case]
    if x.dim() != 4:
        pytest.skip("F.unfold is 2-D only")
    xp = F.pad(x, module._reversed_padding_repeated_twice, mode="reflect" if module.padding_mode == "reflect"
               else "constant")
    ref = F.unfold(xp, module.kernel_size, module.dilation, 0, module.stride)
    torch.testing.assert_close(_unfold(module, x), ref)


@pytest.mark.parametrize("case", ["linear", "linear_seq", "conv2d", "layernorm"])
def test_elements_pick_per_sample_entries(case):
    module, x = CASES[case]
    h = handler_for(module)
    per, delta = _reference(module, x)
    idx = {k: torch.randperm(v[0].numel())[:5] for k, v in per.items()}
    got = h.elements(module, x, delta, idx)
    for k in per:
        torch.testing.assert_close(got[k], per[k].flatten(1)[:, idx[k]], rtol=1e-4, atol=1e-7)
