"""Activation statistics per layer, from forward hooks."""

from __future__ import annotations

from debugkit.instruments.base import ACT_HIST, ACTIVATIONS, Instrument
from debugkit.schedules import as_schedule, every


class Activations(Instrument):
    """Per layer: mean, std, dead fraction (ReLU family), saturated fraction (tanh/sigmoid).

    Pre-activations of linear and convolution layers get ``pre_mean``, ``pre_std``,
    ``pre_large`` (fraction beyond ±5) and ``pre_dead`` (units negative for the whole
    batch).  Histograms of every layer's outputs are recorded every ``hist_every`` steps.
    """

    name = "activations"
    phase = "pre"

    def __init__(self, schedule=None, *, name=None, hist_every=100):
        super().__init__(schedule, name=name)
        self.hist_schedule = as_schedule(hist_every, every(100)) if hist_every else None

    def needs(self, step):
        out = {ACTIVATIONS} if self.due(step) else set()
        if self.hist_schedule is not None and self.hist_schedule(step):
            out.add(ACT_HIST)
        return frozenset(out)

    def due(self, step):
        return self.active(step) or (self.hist_schedule is not None and self.hist_schedule(step))

    def compute(self, ctx) -> None:
        per_stat: dict[str, dict[str, float]] = {}
        for layer, stats in ctx.state.act.items():
            for k, v in stats.items():
                per_stat.setdefault(k, {})[layer] = v
        for k, vals in per_stat.items():
            ctx.layer(self.key(k), vals)
        for layer, (counts, edges) in ctx.state.act_hist.items():
            if counts:
                ctx.hist(self.key("act"), counts, edges, layer=layer)


class InputOutput(Instrument):
    """Statistics of the input batch (mean, std, range) and of the network output (logit
    scale, softmax entropy, whether outputs already are probabilities/log-probabilities)."""

    name = "inputs_outputs"
    phase = "pre"

    def needs(self, step):
        from debugkit.instruments.base import IO

        return frozenset({IO}) if self.due(step) else frozenset()

    def compute(self, ctx) -> None:
        for k, v in ctx.state.io.items():
            ctx.scalar(self.key(k), v)
