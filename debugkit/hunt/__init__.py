"""Automatic bug hunts: diagnose, edit a copy of the script, re-run, judge, repeat, write the logbook."""

from debugkit.hunt.fixers import FIXERS, apply_experiment
from debugkit.hunt.hunt import HuntResult, hunt

__all__ = ["FIXERS", "HuntResult", "apply_experiment", "hunt"]
