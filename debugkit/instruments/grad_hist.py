"""Histograms of per-sample gradient elements (1-D) and of (gradient, parameter) pairs (2-D)."""

from __future__ import annotations

import torch

from debugkit.functional.histograms import hist1d, hist2d, symmetric_range
from debugkit.instruments.base import GRAD_SAMPLE, GRAD_SUBSAMPLE, Instrument


class _GradHist(Instrument):
    phase = "pre"

    def __init__(self, schedule=None, *, name=None, max_samples: int | None = 32,
                 max_values: int | None = 2_000_000):
        super().__init__(schedule, name=name)
        self.max_samples = max_samples
        self.max_values = max_values
        self._gen = torch.Generator().manual_seed(0)

    def needs(self, step):
        if not self.due(step):
            return frozenset()
        return frozenset({GRAD_SAMPLE if self.max_samples is None else GRAD_SUBSAMPLE})

    def _units(self, ctx):
        """``(sample, {name: (units, k) values}, {name: flat indices or None}, elements per unit)``.

        All elements when ``units × parameters ≤ max_values``; otherwise the same random
        subset of elements for every unit (a stated subsample, recorded with the histogram).
        """
        sample = ctx.grad_sample() if self.max_samples is None else ctx.grad_subsample()
        units = sample.n if self.max_samples is None else min(sample.n, self.max_samples)
        sizes = {n: ctx.params[n].numel() for n in sample.names}
        total = sum(sizes.values())
        if self.max_values is None or units * total <= self.max_values:
            vals = {k: v.flatten(1) for k, v in sample.materialize(self.max_samples).items()}
            return sample, vals, {k: None for k in vals}, "all"
        per_unit = max(1, self.max_values // max(units, 1))
        idx = {}
        for n, size in sizes.items():  # entries of every parameter in proportion to its size
            k = max(1, round(per_unit * size / total))
            if k >= size:
                idx[n] = torch.arange(size)
            else:
                idx[n] = torch.randint(0, size, (k,), generator=self._gen).sort().values
        return sample, sample.elements(idx, self.max_samples), idx, per_unit


class GradHist1d(_GradHist):
    """Histogram of the elements of individual gradients (``grad_1d``).

    Args:
        bins: Number of bins.
        range: ``(lo, hi)`` or ``"auto"`` (symmetric, covering 99.9 % of the values).
        max_samples: Individual gradients per histogram (a stated random subsample);
            ``None`` uses the whole batch, as Cockpit does.
        max_values: Above this many values (samples × parameters) the histogram uses the
            same random subset of parameter entries for every sample; ``None``: all.
    """

    name = "grad_hist_1d"

    def __init__(self, schedule=None, *, name=None, bins: int = 100, range="auto", max_samples: int | None = 32):
        super().__init__(schedule, name=name, max_samples=max_samples)
        self.bins, self.range = bins, range

    def compute(self, ctx) -> None:
        sample, units, _, per_unit = self._units(ctx)
        values = torch.cat([u.flatten() for u in units.values()])
        rng = symmetric_range(values) if self.range == "auto" else tuple(self.range)
        if ctx.distributed:  # one range for all ranks, counts summed
            from debugkit.distributed import all_max, all_sum

            hi = all_max(rng[1])
            rng = (-hi, hi) if self.range == "auto" else rng
        counts, edges = hist1d(values, self.bins, rng)
        if ctx.distributed:
            counts = all_sum(counts)
        n = next(iter(units.values())).shape[0] if units else 0
        ctx.hist(self.key("grad_1d"), counts.tolist(), edges.tolist(), estimator=sample.estimator, units=n,
                 unit_size=sample.unit_size, elements_per_unit=per_unit)


class GradHist2d(_GradHist):
    """2-D histogram of individual-gradient elements against parameter values (``grad_2d``)."""

    name = "grad_hist_2d"

    def __init__(self, schedule=None, *, name=None, bins=(40, 50), range="auto", max_samples: int | None = 32):
        super().__init__(schedule, name=name, max_samples=max_samples)
        self.bins, self.range = tuple(bins), range

    def compute(self, ctx) -> None:
        sample, units, idx, per_unit = self._units(ctx)
        gs, ps = [], []
        for n, u in units.items():
            p = ctx.params[n].detach().flatten()
            if idx.get(n) is not None:
                p = p[idx[n]]
            gs.append(u.flatten())
            ps.append(p.unsqueeze(0).expand_as(u).flatten())
        g, p = torch.cat(gs), torch.cat(ps)
        if self.range == "auto":
            rng = (symmetric_range(g), symmetric_range(p, quantile=None))
            if ctx.distributed:
                from debugkit.distributed import all_max

                rng = tuple((-all_max(r[1]), all_max(r[1])) for r in rng)
        else:
            rng = tuple(tuple(r) for r in self.range)
        counts, edges = hist2d(g, p, self.bins, rng)
        if ctx.distributed:
            from debugkit.distributed import all_sum

            counts = all_sum(counts)
        ctx.hist(self.key("grad_2d"), counts.tolist(), [e.tolist() for e in edges], estimator=sample.estimator,
                 units=next(iter(units.values())).shape[0], unit_size=sample.unit_size, elements_per_unit=per_unit)
