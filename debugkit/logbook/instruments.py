"""Definitions of the instruments a logbook's figures rest on, for its "Instruments used" appendix.

Each definition carries the formula twice: as Typst math (PDF, and SVG for HTML) and as
LaTeX (notebooks, where Jupyter renders it with MathJax).
"""

from __future__ import annotations

from dataclasses import dataclass

from debugkit.logbook.model import Logbook, LogbookError


@dataclass(frozen=True)
class Instrument:
    """One instrument's definition.

    Attributes:
        key: Registry key, e.g. ``"alpha"`` (the run-store column where there is one).
        title: Printed name.
        typst: Display formula in Typst math syntax (without ``$``).
        latex: The same formula in LaTeX.
        text: One or two sentences (Markdown) on how to read it.
    """

    key: str
    title: str
    typst: str
    latex: str
    text: str


# g_B: mini-batch gradient, g_i: per-sample gradients, B: batch size.
_TESTS_NOTE = "Here gᵢ are the per-sample gradients of a mini-batch of size B and ḡ is their mean."

INSTRUMENTS: dict[str, Instrument] = {
    i.key: i
    for i in [
        Instrument(
            "alpha",
            "Local step size α (Cockpit)",
            r'alpha = (2 t) / overline(alpha) - 1, quad overline(alpha) = - mu_1 / mu_2',
            r"\alpha = \frac{2t}{\bar\alpha} - 1, \qquad \bar\alpha = -\frac{\mu_1}{\mu_2}",
            "A parabola in the step length τ, with coefficients μ, is fitted along the update direction to the "
            "losses and directional derivatives before (τ = 0) and after (τ = t) the step; ᾱ is where the "
            "parabola is back at its starting value. α near −1: the step barely moved (too small); "
            "near 0: it went to the minimum; near 1: it jumped to the other side; above 1: the loss grew.",
        ),
        Instrument(
            "grad_norm",
            "Gradient norm",
            r'norm(overline(g))_2, quad overline(g) = 1 / B sum_(i=1)^B g_i, quad g_i = nabla_theta ell_i (theta)',
            r"\|\bar g\|_2, \qquad \bar g = \frac{1}{B}\sum_{i=1}^B g_i, \qquad g_i = \nabla_\theta \ell_i(\theta)",
            "Length of the mini-batch gradient. Stuck near zero from the start suggests vanishing gradients "
            "or a detached graph; growing without bound, divergence.",
        ),
        Instrument(
            "distance",
            "Distance from initialisation",
            r'd_t = norm(theta_t - theta_0)_2',
            r"d_t = \|\theta_t - \theta_0\|_2",
            "How far the parameters have travelled. Flat means nothing is learning (frozen parameters, "
            "a learning rate of zero, an optimizer that was given the wrong parameters).",
        ),
        Instrument(
            "update_ratio",
            "Update-to-parameter ratio",
            r'r_l = norm(Delta theta_l)_2 / norm(theta_l)_2',
            r"r_l = \frac{\|\Delta\theta_l\|_2}{\|\theta_l\|_2}",
            "Per layer l. Values around 0.001 are typical for SGD; orders of magnitude below mean "
            "the layer barely moves, above mean it is being overwritten every step.",
        ),
        Instrument(
            "norm_test",
            "Norm test (Byrd et al., 2012)",
            r'theta_"norm" = sqrt(1 / (B (B - 1)) sum_(i=1)^B norm(g_i - overline(g))_2^2 / norm(overline(g))_2^2)',
            r"\theta_\text{norm} = \sqrt{\frac{1}{B(B-1)} \sum_{i=1}^B \frac{\|g_i - \bar g\|_2^2}{\|\bar g\|_2^2}}",
            "The smallest θ for which the norm test passes: the estimated noise of the mini-batch gradient "
            "relative to its length. Values well above 1 say the batch is too small for the gradient to point "
            "anywhere reliable. " + _TESTS_NOTE,
        ),
        Instrument(
            "inner_test",
            "Inner-product test (Bollapragada et al., 2018)",
            r'theta_"inner" = sqrt(1 / (B (B - 1)) sum_(i=1)^B (g_i^top overline(g) - norm(overline(g))_2^2)^2 / norm(overline(g))_2^4)',
            r"\theta_\text{inner} = \sqrt{\frac{1}{B(B-1)} \sum_{i=1}^B \frac{\left(g_i^\top \bar g - \|\bar g\|_2^2\right)^2}{\|\bar g\|_2^4}}",
            "Noise of the per-sample gradients along the mean direction: large values mean many samples "
            "disagree about whether the step goes downhill. " + _TESTS_NOTE,
        ),
        Instrument(
            "ortho_test",
            "Orthogonality test (Bollapragada et al., 2018)",
            r'nu_"ortho" = sqrt(1 / (B (B - 1)) sum_(i=1)^B norm(g_i - (g_i^top overline(g)) / norm(overline(g))_2^2 overline(g))_2^2 / norm(overline(g))_2^2)',
            r"\nu_\text{ortho} = \sqrt{\frac{1}{B(B-1)} \sum_{i=1}^B \frac{\left\|g_i - \frac{g_i^\top \bar g}{\|\bar g\|_2^2} \bar g\right\|_2^2}{\|\bar g\|_2^2}}",
            "Noise of the per-sample gradients orthogonal to the mean direction. " + _TESTS_NOTE,
        ),
        Instrument(
            "hess_max_ev",
            "Largest Hessian eigenvalue",
            r'lambda_max = max_(norm(v)_2 = 1) v^top nabla_theta^2 cal(L)(theta) v',
            r"\lambda_{\max} = \max_{\|v\|_2 = 1} v^\top \nabla_\theta^2 \mathcal{L}(\theta)\, v",
            "Found by power iteration with Hessian-vector products. Gradient descent on a quadratic is stable "
            "only for learning rates η < 2/λ, with λ the largest eigenvalue.",
        ),
        Instrument(
            "mean_gsnr",
            "Gradient signal-to-noise ratio",
            r'"GSNR" = 1 / D sum_(j=1)^D (bb(E)[g_j])^2 / "Var"[g_j]',
            r"\mathrm{GSNR} = \frac{1}{D}\sum_{j=1}^D \frac{\mathbb{E}[g_j]^2}{\mathrm{Var}[g_j]}",
            "Mean over the D parameters, with mean and variance taken over the samples of a batch. "
            "Small values: the gradient is mostly noise.",
        ),
        Instrument(
            "act_dead",
            "Dead units",
            r'"dead"_l = 1 / N_l sum_(u=1)^(N_l) bb(1)[a_(l,u)(x_i) = 0 " for " i = 1, dots, B]',
            r"\mathrm{dead}_l = \frac{1}{N_l}\sum_{u=1}^{N_l} \mathbf{1}\left[a_{l,u}(x_i) = 0 \text{ for } i = 1, \dots, B\right]",
            "Fraction of the N units of layer l that output zero for the whole batch; such ReLU units get "
            "no gradient and stay dead.",
        ),
    ]
}

FIGURE_INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "cockpit": ("alpha", "grad_norm", "distance", "norm_test", "inner_test", "ortho_test", "hess_max_ev"),
    "alpha": ("alpha",),
    "grad_norm": ("grad_norm",),
    "gradient_norm": ("grad_norm",),
    "gradients": ("grad_norm",),
    "distance": ("distance",),
    "update_ratio": ("update_ratio",),
    "update_size": ("update_ratio",),
    "updates": ("update_ratio",),
    "gradient_tests": ("norm_test", "inner_test", "ortho_test"),
    "grad_tests": ("norm_test", "inner_test", "ortho_test"),
    "norm_test": ("norm_test",),
    "hessian": ("hess_max_ev",),
    "hess_max_ev": ("hess_max_ev",),
    "gsnr": ("mean_gsnr",),
    "mean_gsnr": ("mean_gsnr",),
    "activations": ("act_dead",),
}
"""Which definitions a run figure of a given name rests on."""

DEFAULT_INSTRUMENTS = ("alpha", "grad_norm", "norm_test", "update_ratio")
"""Printed when a logbook names no instruments and uses no run figure that implies any."""


def instruments_for(lb: Logbook) -> list[Instrument]:
    """The definitions for ``lb``'s appendix: its ``instruments`` list, else those behind its run figures.

    Raises:
        LogbookError: ``lb.instruments`` names an instrument that has no definition.
    """
    if lb.instruments is not None:
        unknown = [k for k in lb.instruments if k not in INSTRUMENTS]
        if unknown:
            raise LogbookError(
                f"front matter 'instruments' names unknown instrument(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(INSTRUMENTS)}"
            )
        return [INSTRUMENTS[k] for k in dict.fromkeys(lb.instruments)]
    keys: list[str] = []
    for _, _, fig in lb.iter_figures():
        if fig.is_run_figure:
            keys += FIGURE_INSTRUMENTS.get(fig.name, ())
    keys = list(dict.fromkeys(keys)) or list(DEFAULT_INSTRUMENTS)
    order = list(INSTRUMENTS)
    return [INSTRUMENTS[k] for k in sorted(keys, key=order.index)]
