"""Per-sample gradient statistics from layer inputs and output gradients.

For a layer ``y = f(x; W)`` that is linear in its parameters, the gradient of the
batch loss ``L`` splits into per-sample contributions ``b_i = Σ_t δ_it ⊗ x_it``, where
``δ = ∂L/∂y``.  With a mean-reduced loss ``L = (1/N) Σ ℓ_i`` the per-sample gradient is
``∇ℓ_i = N b_i``.  Many statistics of the ``b_i`` need no per-sample gradient tensor:

* squared norms ``‖b_i‖² = ‖δ_i‖² ‖x_i‖²``                      (no weight sharing)
* sums of squares ``Σ_i b_i² = (δ²)ᵀ (x²)``                     (one matmul)
* projections ``⟨b_i, V⟩ = Σ_t δ_itᵀ V x_it``                    (one forward pass with ``V``)

Each layer type has a handler in :data:`HANDLERS` (a lookup table, not an
``isinstance`` chain).  Layers without a handler, or whose samples interact (BatchNorm
in training mode), are not covered; the caller then falls back to another estimator.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field
import torch
import torch.nn.functional as F
from torch import Tensor, nn

# Upper bound on the floats of a materialised per-sample gradient chunk (~64 MB).
_CHUNK_FLOATS = 16_000_000


@dataclass
class Capture:
    """One call of a layer during one forward/backward: its input and output gradient."""

    x: Tensor
    delta: Tensor | None = None
    #: the layer output itself, kept on curvature steps (Gauss-Newton trace: a second
    #: backward pass to the layer outputs gives other output gradients for the same inputs)
    out: Tensor | None = None


@dataclass
class LayerRecord:
    """All calls of one layer within one micro-batch (weight sharing gives several)."""

    module: nn.Module
    name: str
    captures: list[Capture] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return bool(self.captures) and all(c.delta is not None for c in self.captures)

    def select(self, idx: Tensor) -> "LayerRecord":
        """The same record restricted to the samples ``idx``."""
        caps = [Capture(c.x[idx], None if c.delta is None else c.delta[idx]) for c in self.captures]
        return LayerRecord(self.module, self.name, caps)


class Handler:
    """Per-sample statistics of one layer type.

    Subclasses implement :meth:`materialize`; the other methods have generic
    implementations on top of it and are overridden where maths makes them cheaper.
    All methods return contributions ``b_i`` of the batch gradient (not yet scaled by N).
    """

    param_names: tuple[str, ...] = ("weight", "bias")
    #: Statistics come from materialised per-sample gradients (worth caching per step).
    prefers_materialize: bool = False

    def covers(self, module: nn.Module) -> bool:
        """Whether per-sample gradients of ``module`` are well defined right now."""
        return True

    def params(self, module: nn.Module) -> list[tuple[str, nn.Parameter]]:
        out = []
        for n in self.param_names:
            p = getattr(module, n, None)
            if isinstance(p, nn.Parameter) and p.requires_grad:
                out.append((n, p))
        return out

    def materialize(self, module: nn.Module, x: Tensor, delta: Tensor) -> dict[str, Tensor]:
        raise NotImplementedError

    # -- generic implementations ------------------------------------------------------
    def _chunks(self, module: nn.Module, n: int):
        numel = sum(p.numel() for _, p in self.params(module)) or 1
        size = max(1, _CHUNK_FLOATS // numel)
        for start in range(0, n, size):
            yield slice(start, min(n, start + size))

    def sq_norms(self, module: nn.Module, x: Tensor, delta: Tensor) -> Tensor:
        out = []
        for sl in self._chunks(module, x.shape[0]):
            grads = self.materialize(module, x[sl], delta[sl])
            out.append(sum(g.flatten(1).pow(2).sum(1) for g in grads.values()))
        return torch.cat(out)

    def dots(self, module: nn.Module, x: Tensor, delta: Tensor, dirs: dict[str, Tensor]) -> Tensor:
        """``⟨b_i, V_k⟩`` for directions ``dirs[name]`` of shape ``(K, *param.shape)`` → ``(N, K)``."""
        out = []
        for sl in self._chunks(module, x.shape[0]):
            grads = self.materialize(module, x[sl], delta[sl])
            out.append(sum(g.flatten(1) @ dirs[n].flatten(1).T for n, g in grads.items() if n in dirs))
        return torch.cat(out)

    def elements(self, module: nn.Module, x: Tensor, delta: Tensor, idx: dict[str, Tensor]) -> dict[str, Tensor]:
        """Per-sample gradient entries at the flat indices ``idx[name]``: ``(N, len(idx))``."""
        grads = self.materialize(module, x, delta)
        return {k: grads[k].flatten(1)[:, idx[k]] for k in idx if k in grads}

    def sum_sq(self, module: nn.Module, x: Tensor, delta: Tensor) -> dict[str, Tensor]:
        acc: dict[str, Tensor] = {}
        for sl in self._chunks(module, x.shape[0]):
            for n, g in self.materialize(module, x[sl], delta[sl]).items():
                s = g.pow(2).sum(0)
                acc[n] = acc[n] + s if n in acc else s
        return acc


def _flatten_tokens(module: nn.Module, x: Tensor, delta: Tensor) -> tuple[Tensor, Tensor]:
    """Bring ``(N, ..., F)`` tensors to ``(N, T, F)``."""
    n = x.shape[0]
    return x.reshape(n, -1, x.shape[-1]), delta.reshape(n, -1, delta.shape[-1])


class LinearHandler(Handler):
    """``nn.Linear`` on inputs ``(N, in)`` or ``(N, ..., in)``."""

    def materialize(self, module, x, delta):
        x, d = _flatten_tokens(module, x, delta)
        out = {}
        if module.weight.requires_grad:
            out["weight"] = torch.einsum("nto,nti->noi", d, x)
        if module.bias is not None and module.bias.requires_grad:
            out["bias"] = d.sum(1)
        return out

    def sq_norms(self, module, x, delta):
        x, d = _flatten_tokens(module, x, delta)
        bias = module.bias is not None and module.bias.requires_grad
        if x.shape[1] == 1:
            res = d.pow(2).sum((1, 2))
            w = res * x.pow(2).sum((1, 2)) if module.weight.requires_grad else 0
            return w + (res if bias else 0)
        t, fi, fo = x.shape[1], x.shape[2], d.shape[2]
        if t * t <= fi * fo:
            # ‖Σ_t δ_t x_tᵀ‖² = Σ_{t,s} (δ_t·δ_s)(x_t·x_s): cheaper than materialising
            dd = torch.einsum("nto,nso->nts", d, d)
            res = torch.einsum("nts,nti,nsi->n", dd, x, x) if module.weight.requires_grad else 0
            return res + (dd.sum((1, 2)) if bias else 0)
        return super().sq_norms(module, x, d)

    def dots(self, module, x, delta, dirs):
        x, d = _flatten_tokens(module, x, delta)
        out = 0
        if "weight" in dirs and module.weight.requires_grad:
            v = dirs["weight"]  # (K, out, in)
            k, fo, fi = v.shape
            proj = (x @ v.reshape(k * fo, fi).T).reshape(x.shape[0], x.shape[1], k, fo)
            out = out + torch.einsum("ntko,nto->nk", proj, d)
        if "bias" in dirs and module.bias is not None and module.bias.requires_grad:
            out = out + d.sum(1) @ dirs["bias"].T
        return out

    def elements(self, module, x, delta, idx: dict[str, Tensor]) -> dict[str, Tensor]:
        """Per-sample gradient entries at flat indices ``idx[name]`` without materialising."""
        x, d = _flatten_tokens(module, x, delta)
        out = {}
        if "weight" in idx and module.weight.requires_grad:
            o, i = idx["weight"] // x.shape[2], idx["weight"] % x.shape[2]
            out["weight"] = torch.einsum("ntk,ntk->nk", d[:, :, o], x[:, :, i])
        if "bias" in idx and module.bias is not None and module.bias.requires_grad:
            out["bias"] = d.sum(1)[:, idx["bias"]]
        return out

    def sum_sq(self, module, x, delta):
        x, d = _flatten_tokens(module, x, delta)
        if x.shape[1] > 1:
            return super().sum_sq(module, x, d)
        x, d = x[:, 0], d[:, 0]
        out = {}
        d2 = d.pow(2)
        if module.weight.requires_grad:
            out["weight"] = d2.T @ x.pow(2)
        if module.bias is not None and module.bias.requires_grad:
            out["bias"] = d2.sum(0)
        return out


_CONV_FN = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _conv_prepare(module: nn.Module, x: Tensor) -> tuple[Tensor, tuple]:
    """Apply the module's padding explicitly; return padded input and zero padding."""
    nd = x.dim() - 2
    if isinstance(module.padding, str) or module.padding_mode != "zeros":
        mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
        x = F.pad(x, module._reversed_padding_repeated_twice, mode=mode)
        return x, (0,) * nd
    return x, tuple(module.padding)


def _unfold(module: nn.Module, x: Tensor) -> Tensor:
    """``(N, C, *spatial)`` → ``(N, C·prod(kernel), L)`` patches.

    Built from strided views (``Tensor.unfold``) and one copy: on this PyTorch CPU build
    ``F.unfold`` (im2col) takes about a second for a batch of 128 images, this ~15 ms.
    """
    x, padding = _conv_prepare(module, x)
    nd = x.dim() - 2
    if any(padding):
        pad = []
        for p in reversed(padding):
            pad += [p, p]
        x = F.pad(x, pad)
    for i in range(nd):
        k, s, d = module.kernel_size[i], module.stride[i], module.dilation[i]
        x = x.unfold(2 + i, d * (k - 1) + 1, s)
        if d > 1:
            x = x[..., ::d]
    n, c = x.shape[:2]
    out, ks = x.shape[2:2 + nd], x.shape[2 + nd:]
    x = x.permute(0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))
    return x.reshape(n, c * math.prod(ks), math.prod(out))


class ConvHandler(Handler):
    """``nn.Conv1d/2d/3d`` (any padding mode, stride, dilation and groups).

    Per-sample weight gradients are materialised (callers cache them once per step) as
    unfolded input patches times output gradients, one batched matrix product.
    """

    prefers_materialize = True

    def materialize(self, module, x, delta):
        out = {}
        n = x.shape[0]
        if module.weight.requires_grad:
            out["weight"] = self._unfolded(module, x, delta)
        if module.bias is not None and module.bias.requires_grad:
            out["bias"] = delta.reshape(n, delta.shape[1], -1).sum(2)
        return out

    @staticmethod
    def _unfolded(module, x, delta):
        n, g = x.shape[0], module.groups
        d = delta.reshape(n, delta.shape[1], -1)  # (N, O, L)
        u = _unfold(module, x)  # (N, C·k, L)
        u = u.reshape(n * g, u.shape[1] // g, u.shape[2])
        dg = d.reshape(n * g, d.shape[1] // g, d.shape[2])
        w = torch.bmm(dg, u.transpose(1, 2))
        return w.reshape(n, *module.weight.shape)

    def dots(self, module, x, delta, dirs):
        n = x.shape[0]
        out = 0
        if "weight" in dirs and module.weight.requires_grad:
            v = dirs["weight"]  # (K, O, C/g, *k)
            k = v.shape[0]
            xp, padding = _conv_prepare(module, x)
            conv = _CONV_FN[x.dim() - 2]
            if module.groups == 1:
                y = conv(xp, v.reshape(-1, *v.shape[2:]), None, module.stride, padding, module.dilation)
                y = y.reshape(n, k, delta.shape[1], -1)
                out = out + torch.einsum("nkol,nol->nk", y, delta.reshape(n, delta.shape[1], -1))
            else:
                cols = []
                for j in range(k):
                    y = conv(xp, v[j], None, module.stride, padding, module.dilation, module.groups)
                    cols.append((y * delta).flatten(1).sum(1))
                out = out + torch.stack(cols, 1)
        if "bias" in dirs and module.bias is not None and module.bias.requires_grad:
            out = out + delta.reshape(n, delta.shape[1], -1).sum(2) @ dirs["bias"].T
        return out


class _AffineNormHandler(Handler):
    """Normalisation layers: per-sample grads are ``Σ δ ⊙ x̂`` and ``Σ δ`` (small, so materialised)."""

    prefers_materialize = True

    def normalized(self, module, x):
        raise NotImplementedError

    def reduce_dims(self, module, x) -> tuple[int, ...]:
        raise NotImplementedError

    def materialize(self, module, x, delta):
        dims = self.reduce_dims(module, x)
        out = {}
        if module.weight is not None and module.weight.requires_grad:
            xh = self.normalized(module, x)
            out["weight"] = (delta * xh).sum(dims) if dims else delta * xh
        if module.bias is not None and module.bias.requires_grad:
            out["bias"] = delta.sum(dims) if dims else delta
        return out


class LayerNormHandler(_AffineNormHandler):
    def normalized(self, module, x):
        return F.layer_norm(x, module.normalized_shape, None, None, module.eps)

    def reduce_dims(self, module, x):
        return tuple(range(1, x.dim() - len(module.normalized_shape)))


class GroupNormHandler(_AffineNormHandler):
    def normalized(self, module, x):
        xh = F.group_norm(x, module.num_groups, None, None, module.eps)
        return xh

    def reduce_dims(self, module, x):
        return tuple(range(2, x.dim()))


class BatchNormEvalHandler(_AffineNormHandler):
    """BatchNorm with running statistics (eval mode): samples do not interact."""

    def covers(self, module):
        return not module.training and module.track_running_stats and module.running_mean is not None

    def normalized(self, module, x):
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - module.running_mean.reshape(shape)) / torch.sqrt(module.running_var.reshape(shape) + module.eps)

    def reduce_dims(self, module, x):
        return tuple(range(2, x.dim()))


class EmbeddingHandler(Handler):
    """``nn.Embedding``: the per-sample gradient scatters ``δ`` into the looked-up rows."""

    param_names = ("weight",)

    def materialize(self, module, x, delta):
        n = x.shape[0]
        ids = x.reshape(n, -1)
        d = delta.reshape(n, ids.shape[1], -1)
        out = torch.zeros(n, *module.weight.shape, dtype=d.dtype, device=d.device)
        out.scatter_add_(1, ids.unsqueeze(-1).expand_as(d), d)
        return {"weight": out}

    def sq_norms(self, module, x, delta):
        n = x.shape[0]
        ids = x.reshape(n, -1)
        d = delta.reshape(n, ids.shape[1], -1)
        same = (ids.unsqueeze(2) == ids.unsqueeze(1)).to(d.dtype)
        return torch.einsum("nts,nto,nso->n", same, d, d)

    def dots(self, module, x, delta, dirs):
        n = x.shape[0]
        ids = x.reshape(n, -1)
        d = delta.reshape(n, ids.shape[1], -1)
        v = dirs["weight"]  # (K, vocab, dim)
        return torch.einsum("kntd,ntd->nk", v[:, ids], d)

    def sum_sq(self, module, x, delta):
        n = x.shape[0]
        ids = x.reshape(n, -1)
        d = delta.reshape(n, ids.shape[1], -1)
        vocab = module.weight.shape[0]
        key = (torch.arange(n, device=ids.device).unsqueeze(1) * vocab + ids).reshape(-1)
        uniq, inv = torch.unique(key, return_inverse=True)
        rows = torch.zeros(uniq.numel(), d.shape[-1], dtype=d.dtype, device=d.device)
        rows.index_add_(0, inv, d.reshape(-1, d.shape[-1]))
        out = torch.zeros_like(module.weight)
        out.index_add_(0, uniq % vocab, rows.pow(2))
        return {"weight": out}


HANDLERS: dict[type, Handler] = {
    nn.Linear: LinearHandler(),
    nn.Conv1d: ConvHandler(),
    nn.Conv2d: ConvHandler(),
    nn.Conv3d: ConvHandler(),
    nn.LayerNorm: LayerNormHandler(),
    nn.GroupNorm: GroupNormHandler(),
    nn.BatchNorm1d: BatchNormEvalHandler(),
    nn.BatchNorm2d: BatchNormEvalHandler(),
    nn.BatchNorm3d: BatchNormEvalHandler(),
    nn.Embedding: EmbeddingHandler(),
}


def handler_for(module: nn.Module) -> Handler | None:
    """The handler for ``module``'s exact type (subclasses of supported layers included)."""
    for cls in type(module).__mro__:
        h = HANDLERS.get(cls)
        if h is not None:
            return h
    return None


def register_handler(layer_type: type, handler: Handler) -> None:
    """Teach debugkit a new layer type (one line per layer, as in BackPACK)."""
    HANDLERS[layer_type] = handler

