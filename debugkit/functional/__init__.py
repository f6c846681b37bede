"""Pure tensor maths behind the instruments (no state, no hooks)."""

from debugkit.functional import alpha, grad_sample, hessian, histograms, noise, per_sample

__all__ = ["alpha", "grad_sample", "hessian", "histograms", "noise", "per_sample"]
