"""Cockpit's gradient tests: is the mini-batch gradient precise enough for its batch size?"""

from __future__ import annotations

from debugkit.functional import noise
from debugkit.instruments.base import GRAD_SAMPLE, Instrument


class _GradTest(Instrument):
    requires = frozenset({GRAD_SAMPLE})
    phase = "pre"

    def _inputs(self, ctx):
        sample = ctx.grad_sample()
        return sample, ctx.batch_grad_sq(sample.names)

    def record(self, ctx, key, value, sample):
        ctx.scalar(self.key(key), value)
        ctx.scalar(self.key("grad_estimator"), sample.estimator)


class NormTest(_GradTest):
    """Norm test θ (``norm_test``, Byrd et al. 2012); values above 1 ask for a larger batch."""

    name = "norm_test"

    def compute(self, ctx) -> None:
        sample, g_sq = self._inputs(ctx)
        v = noise.norm_test(ctx.unit_sq_norms(), g_sq, sample.batch_size, sample.unit_size)
        self.record(ctx, "norm_test", v, sample)


class InnerTest(_GradTest):
    """Inner-product test (``inner_test``, Bollapragada et al. 2017)."""

    name = "inner_test"

    def compute(self, ctx) -> None:
        sample, g_sq = self._inputs(ctx)
        v = noise.inner_product_test(ctx.unit_proj_g(), g_sq, sample.batch_size, sample.unit_size)
        self.record(ctx, "inner_test", v, sample)


class OrthoTest(_GradTest):
    """Orthogonality test ν (``ortho_test``, Bollapragada et al. 2017)."""

    name = "ortho_test"

    def compute(self, ctx) -> None:
        sample, g_sq = self._inputs(ctx)
        v = noise.orthogonality_test(ctx.unit_sq_norms(), ctx.unit_proj_g(), g_sq, sample.batch_size,
                                     sample.unit_size)
        self.record(ctx, "ortho_test", v, sample)


class MeanGSNR(_GradTest):
    """Mean gradient signal-to-noise ratio over all parameters (``mean_gsnr``)."""

    name = "mean_gsnr"

    def __init__(self, schedule=None, *, name=None, eps: float = 1e-5):
        super().__init__(schedule, name=name)
        self.eps = eps

    def compute(self, ctx) -> None:
        sample = ctx.grad_sample()
        var = ctx.unit_variance()
        grads = ctx.grads()
        v = noise.mean_gsnr([var[n] for n in var], [grads[n] for n in var], sample.batch_size, self.eps)
        self.record(ctx, "mean_gsnr", v, sample)


class CABS(_GradTest):
    """CABS batch-size suggestion ``lr · tr Σ / loss`` (``cabs_batch_size``, Balles et al. 2017)."""

    name = "cabs"

    def compute(self, ctx) -> None:
        sample = ctx.grad_sample()
        var = ctx.unit_variance()
        lr, loss = ctx.lr, ctx.loss
        if lr is None or loss is None:
            return
        self.record(ctx, "cabs_batch_size", noise.cabs_batch_size(list(var.values()), lr, loss, sample.batch_size),
                    sample)


class EarlyStopping(_GradTest):
    """Evidence-based early-stopping criterion (``early_stopping``; > 0 suggests stopping)."""

    name = "early_stopping"

    def __init__(self, schedule=None, *, name=None, eps: float = 1e-5):
        super().__init__(schedule, name=name)
        self.eps = eps

    def compute(self, ctx) -> None:
        sample = ctx.grad_sample()
        var = ctx.unit_variance()
        grads = ctx.grads()
        v = noise.early_stopping([var[n] for n in var], [grads[n] for n in var], sample.batch_size, self.eps)
        self.record(ctx, "early_stopping", v, sample)
