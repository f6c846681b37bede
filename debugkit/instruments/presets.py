"""Named collections of instruments (``economy``, ``standard``, ``full``, Cockpit's)."""

from __future__ import annotations

from typing import Callable, Iterable

from debugkit.instruments.activations import Activations, InputOutput
from debugkit.instruments.alpha import Alpha
from debugkit.instruments.base import Instrument
from debugkit.instruments.distance import Distance
from debugkit.instruments.grad_hist import GradHist1d, GradHist2d
from debugkit.instruments.grad_norm import GradNorm
from debugkit.instruments.gradient_tests import CABS, EarlyStopping, InnerTest, MeanGSNR, NormTest, OrthoTest
from debugkit.instruments.hess_max_ev import HessMaxEV
from debugkit.instruments.hess_trace import HessTrace
from debugkit.instruments.loss import Loss
from debugkit.instruments.param_norm import ParamNorm
from debugkit.instruments.tic import TIC
from debugkit.instruments.update_size import UpdateSize
from debugkit.schedules import Schedule, every, first


def _economy(s: Schedule | None) -> list[Instrument]:
    return [Loss(s), GradNorm(s), ParamNorm(s), UpdateSize(s), Distance(s), Alpha(s), Activations(s),
            InputOutput(s)]


def _standard(s: Schedule | None) -> list[Instrument]:
    # the diagnosis default: everything cheap every step, noise and curvature sampled
    noise = s or every(25) | first(2)
    curv = s or every(100, offset=10)
    return _economy(s) + [
        NormTest(noise), InnerTest(noise), OrthoTest(noise), MeanGSNR(noise), GradHist1d(noise),
        HessMaxEV(curv, max_iter=30), HessTrace(curv, samples=4), TIC(curv, samples=4),
    ]


def _full(s: Schedule | None) -> list[Instrument]:
    curv = s or every(10)
    return _economy(s) + [
        NormTest(s), InnerTest(s), OrthoTest(s), MeanGSNR(s), CABS(s), EarlyStopping(s), GradHist1d(s),
        GradHist2d(s), HessMaxEV(curv), HessTrace(curv), TIC(curv),
    ]


def _cockpit_economy(s: Schedule | None) -> list[Instrument]:
    return [Alpha(s), Distance(s), GradHist1d(s), GradNorm(s), InnerTest(s), Loss(s), NormTest(s), OrthoTest(s),
            UpdateSize(s)]


def _cockpit_business(s: Schedule | None) -> list[Instrument]:
    # one Hutchinson probe per tracked step: an unbiased estimate of the trace Cockpit computes
    # exactly (BackPACK's Hessian diagonal); TIC and the trace share the same probe
    return _cockpit_economy(s) + [TIC(s, samples=1), HessTrace(s, samples=1)]


def _cockpit_full(s: Schedule | None) -> list[Instrument]:
    return _cockpit_business(s) + [HessMaxEV(s), GradHist2d(s)]


#: Preset name → factory taking an optional schedule that overrides every default.
PRESETS: dict[str, Callable[[Schedule | None], list[Instrument]]] = {
    "economy": _economy,
    "standard": _standard,
    "full": _full,
    "cockpit:economy": _cockpit_economy,
    "cockpit:business": _cockpit_business,
    "cockpit:full": _cockpit_full,
    "business": _cockpit_business,  # Cockpit's own name; ours has no 'business' tier
}


def resolve_instruments(
    preset: str | None, extra: Iterable[Instrument] | None = None, schedule: Schedule | None = None
) -> list[Instrument]:
    """Instruments of ``preset`` (with ``schedule`` overriding defaults) plus ``extra``."""
    out: list[Instrument] = []
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        out = PRESETS[preset](schedule)
    for inst in extra or []:
        if not isinstance(inst, Instrument):
            raise TypeError(f"instruments must be debugkit Instrument objects, got {type(inst).__name__}")
        out = [i for i in out if i.instance_name != inst.instance_name] + [inst]
    return out
