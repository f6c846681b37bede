"""Debugging exercises: student notebooks built from bugged baselines, instructor keys, checking fixes.

Example:
    >>> from debugkit.exercise import new_exercise, exercise_key, check_notebook   # doctest: +SKIP
    >>> nb = new_exercise("numerics_exercise", "ex/ada", seed=7, randomize=True)      # doctest: +SKIP
    >>> print(exercise_key("ex/ada"))                                                 # doctest: +SKIP
    >>> report = check_notebook(nb, json_path="ada.json")                              # doctest: +SKIP
    >>> report.statuses                                                                # doctest: +SKIP
    {'missing_zero_grad': 'fixed', 'lr_too_low': 'not fixed'}
"""

from debugkit.exercise.catalogue import ExerciseInfo, format_exercises, list_exercises
from debugkit.exercise.check import (
    FIXED,
    NOT_FIXED,
    UNCLEAR,
    BugVerdict,
    CheckReport,
    check_notebook,
    judge_bugs,
)
from debugkit.exercise.evidence import Evidence
from debugkit.exercise.execute import CellError, Execution
from debugkit.exercise.judges import JUDGES, Signature
from debugkit.exercise.key import exercise_key
from debugkit.exercise.logbook_cells import LogbookEntryInfo, LogbookInfo, find_logbook
from debugkit.exercise.notebook import (
    METADATA_KEY,
    NOTEBOOK_NAME,
    new_exercise,
    read_exercise,
)

__all__ = [
    "FIXED",
    "JUDGES",
    "METADATA_KEY",
    "NOTEBOOK_NAME",
    "NOT_FIXED",
    "UNCLEAR",
    "BugVerdict",
    "CellError",
    "CheckReport",
    "Evidence",
    "Execution",
    "ExerciseInfo",
    "LogbookEntryInfo",
    "LogbookInfo",
    "Signature",
    "check_notebook",
    "exercise_key",
    "find_logbook",
    "format_exercises",
    "judge_bugs",
    "list_exercises",
    "new_exercise",
    "read_exercise",
]
