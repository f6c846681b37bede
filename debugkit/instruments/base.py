"""The instrument base class: should it run this step → declare needs → compute → record."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from debugkit.schedules import Schedule, as_schedule, every

if TYPE_CHECKING:  # pragma: no cover
    from debugkit.step_context import StepContext

# Ingredients an instrument can ask the monitor for.  The monitor computes each one at
# most once per step, only on steps where some instrument needs it.
LOSS = "loss"  #: the batch loss value
PER_SAMPLE_LOSS = "per_sample_loss"  #: one loss per sample (spread of the loss)
GRAD_SAMPLE = "grad_sample"  #: statistics of all per-sample gradients
GRAD_SUBSAMPLE = "grad_subsample"  #: per-sample gradients of a random subsample
ACTIVATIONS = "activations"  #: forward-hook statistics of layer outputs
IO = "io"  #: statistics of the input batch and the network output
SNAPSHOT = "snapshot"  #: parameters before the optimizer step
GRAPH = "graph"  #: the loss recomputed with a second-order graph (Hessian-vector products)
ACT_HIST = "act_hist"  #: histograms of layer outputs
ALL_NEEDS = frozenset({LOSS, PER_SAMPLE_LOSS, GRAD_SAMPLE, GRAD_SUBSAMPLE, ACTIVATIONS, IO, SNAPSHOT, GRAPH, ACT_HIST})


class Instrument:
    """One measured quantity (or a few that share their maths).

    Subclasses set ``requires`` and ``phase`` and implement :meth:`compute`.  ``phase``
    is ``"pre"`` (after backward, parameters θₜ, before the optimizer step) or
    ``"post"`` (after the optimizer step, parameters θₜ₊₁).

    Args:
        schedule: When to run: a :class:`~debugkit.schedules.Schedule`, an int ``k``
            (every k steps) or a callable ``step -> bool``. Defaults to the class's
            ``default_schedule``.
        name: Unique name; defaults to the class's ``name``. A second instance of the
            same class needs its own name; its outputs are then prefixed ``name/``.

    Example:
        >>> from debugkit.instruments import HessMaxEV
        >>> HessMaxEV(schedule=50).schedule(100)
        True
    """

    name: ClassVar[str] = "instrument"
    requires: ClassVar[frozenset[str]] = frozenset()
    phase: ClassVar[str] = "pre"
    default_schedule: ClassVar[Schedule] = every(1)

    def __init__(self, schedule: Schedule | int | None = None, *, name: str | None = None):
        self.schedule = as_schedule(schedule, self.default_schedule)
        self.instance_name = name or type(self).name
        self._warned: set[str] = set()

    # -- scheduling ---------------------------------------------------------------
    def active(self, step: int) -> bool:
        """Whether :meth:`compute` runs at ``step``."""
        return self.schedule(step)

    def due(self, step: int) -> bool:
        """Whether :meth:`compute` is called at ``step`` (two-step quantities also finish
        the step after a scheduled one)."""
        return self.active(step)

    def needs(self, step: int) -> frozenset[str]:
        """Ingredients required at ``step``."""
        return self.requires if self.due(step) else frozenset()

    # -- computation --------------------------------------------------------------
    def compute(self, ctx: "StepContext") -> None:
        """Measure and record via ``ctx.scalar`` / ``ctx.layer`` / ``ctx.hist``."""
        raise NotImplementedError

    def key(self, quantity: str) -> str:
        """Record key for ``quantity``, prefixed when this is a renamed instance."""
        return quantity if self.instance_name == type(self).name else f"{self.instance_name}/{quantity}"

    def describe(self) -> dict:
        return {"name": self.instance_name, "class": type(self).__name__, "schedule": repr(self.schedule)}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(schedule={self.schedule!r}, name={self.instance_name!r})"
