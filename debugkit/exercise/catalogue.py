"""Which baselines can be handed out as exercises, and what students are told about them."""

from __future__ import annotations

from dataclasses import dataclass

from debugkit.baselines import Baseline, get_baseline, list_baselines


@dataclass(frozen=True)
class ExerciseInfo:
    """One baseline usable as an exercise, as students may see it (no bug ids, no fixes).

    Attributes:
        name: The baseline's name (``debugkit exercise new NAME``).
        title: Short title of the training script.
        symptom: What goes wrong, as a colleague would describe it.
        model: ``mlp``, ``cnn`` or ``softmax``.
        multi: Several bugs are planted (a randomised notebook plants a subset of them).
        num_bugs: How many bugs the full notebook plants.
    """

    name: str
    title: str
    symptom: str
    model: str
    multi: bool
    num_bugs: int

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "symptom": self.symptom, "model": self.model,
                "multi": self.multi, "num_bugs": self.num_bugs}


def usable(baseline: Baseline) -> bool:
    """A baseline is an exercise when it has bugs and both scripts (notebooks are built from them)."""
    return bool(baseline.bugs) and baseline.script.is_file() and baseline.fixed_script.is_file()


def list_exercises() -> list[ExerciseInfo]:
    """The baselines usable as exercises, by name, with their student-facing symptom.

    Example:
        >>> [e.name for e in list_exercises()][:2]   # doctest: +SKIP
        ['bad_init_scale', 'cifar_cnn']
    """
    return [ExerciseInfo(b.name, b.title, b.symptom, b.model, b.multi, len(b.bugs))
            for b in list_baselines() if usable(b)]


def format_exercises(exercises: list[ExerciseInfo] | None = None) -> str:
    """``debugkit exercise ls`` as text: one line per exercise, no spoilers."""
    exercises = list_exercises() if exercises is None else exercises
    width = max((len(e.name) for e in exercises), default=4)
    lines = []
    for e in exercises:
        kind = f"{e.num_bugs} bugs" if e.multi else "1 bug"
        lines.append(f"{e.name:<{width}}  {e.model:<7} {kind:<7} {e.title}: {e.symptom}")
    return "\n".join(lines)


def exercise_baseline(name: str) -> Baseline:
    """The baseline behind exercise ``name``.

    Raises:
        debugkit.baselines.UnknownBaselineError: no such baseline (the message lists the valid names).
        ValueError: the baseline cannot be handed out (no bugs or a missing script).
    """
    baseline = get_baseline(name)
    if not usable(baseline):
        raise ValueError(f"baseline {name!r} has no bugs or lacks train.py/train_fixed.py; it cannot be an exercise")
    return baseline
