"""One panel per file; each draws into a figure or sub-figure from a :class:`~debugkit.plot.draw.Ctx`."""

from debugkit.plot.panels.activations import draw_activations
from debugkit.plot.panels.alpha import draw_alpha
from debugkit.plot.panels.curvature import draw_curvature
from debugkit.plot.panels.grad_norm import draw_grad_norm
from debugkit.plot.panels.gradient_tests import draw_gradient_tests
from debugkit.plot.panels.histograms import draw_hist_1d, draw_hist_2d
from debugkit.plot.panels.inputs_outputs import draw_inputs_outputs
from debugkit.plot.panels.learning_curves import draw_learning_curves
from debugkit.plot.panels.loss import draw_loss
from debugkit.plot.panels.step_size import draw_distance

# name -> (draw function, size in inches of its stand-alone figure)
PANELS = {
    "loss": (draw_loss, (8.0, 4.5)),
    "alpha": (draw_alpha, (9.0, 4.2)),
    "grad_norm": (draw_grad_norm, (8.0, 6.0)),
    "distance": (draw_distance, (7.5, 7.0)),
    "curvature": (draw_curvature, (9.0, 6.5)),
    "gradient_tests": (draw_gradient_tests, (11.0, 6.0)),
    "hist_1d": (draw_hist_1d, (10.0, 4.2)),
    "hist_2d": (draw_hist_2d, (6.5, 5.2)),
    "activations": (draw_activations, (10.0, 5.0)),
    "learning_curves": (draw_learning_curves, (10.0, 4.2)),
    "inputs_outputs": (draw_inputs_outputs, (13.0, 4.2)),
}

__all__ = ["PANELS"] + [f.__name__ for f, _ in PANELS.values()]
