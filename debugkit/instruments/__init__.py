"""Instruments: one quantity (family) per file, a shared base class, and presets."""

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
from debugkit.instruments.presets import PRESETS, resolve_instruments
from debugkit.instruments.tic import TIC
from debugkit.instruments.update_size import UpdateSize

__all__ = [
    "Activations", "Alpha", "CABS", "Distance", "EarlyStopping", "GradHist1d", "GradHist2d", "GradNorm",
    "HessMaxEV", "HessTrace", "InnerTest", "InputOutput", "Instrument", "Loss", "MeanGSNR", "NormTest",
    "OrthoTest", "PRESETS", "ParamNorm", "TIC", "UpdateSize", "resolve_instruments",
]
