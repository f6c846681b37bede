"""Histograms of per-sample gradient elements (1-D) and of (gradient, parameter) pairs (2-D)."""

from __future__ import annotations

import torch

from debugkit.functional.histograms import hist1d, hist2d, symmetric_range
from debugkit.instruments.base import GRAD_SAMPLE, GRAD_SUBSAMPLE, Instrument


class _GradHist(Instrument):
    phase = "pre"

    def __init__(self, schedule=None, *, name=None, max_samples: int | None = 32):
        super().__init__(schedule, name=name)
        self.max_samples = max_samples

    def needs(self, step):
        if not self.due(step):
            return frozenset()
        return frozenset({GRAD_SAMPLE if self.max_samples is None else GRAD_SUBSAMPLE})

    def _units(self, ctx):
        sample = ctx.grad_sample() if self.max_samples is None else ctx.grad_subsample()
        return sample, sample.materialize(self.max_samples)


class GradHist1d(_GradHist):
    """Histogram of the elements of individual gradients (``grad_1d``).

    Args:
        bins: Number of bins.
        range: ``(lo, hi)`` or ``"auto"`` (symmetric, covering 99.9 % of the values).
        max_samples: Individual gradients per histogram (a stated random subsample);
            ``None`` uses the whole batch, as Cockpit does.
    """

    name = "grad_hist_1d"

    def __init__(self, schedule=None, *, name=None, bins: int = 100, range="auto", max_samples: int | None = 32):
        super().__init__(schedule, name=name, max_samples=max_samples)
        self.bins, self.range = bins, range

    def compute(self, ctx) -> None:
        sample, units = self._units(ctx)
        values = torch.cat([u.flatten() for u in units.values()])
        rng = symmetric_range(values) if self.range == "auto" else tuple(self.range)
        counts, edges = hist1d(values, self.bins, rng)
        n = next(iter(units.values())).shape[0] if units else 0
        ctx.hist(self.key("grad_1d"), counts.tolist(), edges.tolist(), estimator=sample.estimator, units=n,
                 unit_size=sample.unit_size)


class GradHist2d(_GradHist):
    """2-D histogram of individual-gradient elements against parameter values (``grad_2d``)."""

    name = "grad_hist_2d"

    def __init__(self, schedule=None, *, name=None, bins=(40, 50), range="auto", max_samples: int | None = 32):
        super().__init__(schedule, name=name, max_samples=max_samples)
        self.bins, self.range = tuple(bins), range

    def compute(self, ctx) -> None:
        sample, units = self._units(ctx)
        gs, ps = [], []
        for n, u in units.items():
            p = ctx.params[n].detach()
            gs.append(u.flatten())
            ps.append(p.unsqueeze(0).expand_as(u).flatten())
        g, p = torch.cat(gs), torch.cat(ps)
        if self.range == "auto":
            rng = (symmetric_range(g), symmetric_range(p, quantile=None))
        else:
            rng = tuple(tuple(r) for r in self.range)
        counts, edges = hist2d(g, p, self.bins, rng)
        ctx.hist(self.key("grad_2d"), counts.tolist(), [e.tolist() for e in edges], estimator=sample.estimator,
                 units=next(iter(units.values())).shape[0], unit_size=sample.unit_size)
