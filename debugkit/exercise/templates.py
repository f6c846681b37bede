"""Texts and code cells an exercise notebook adds around the training script.

Every added cell carries a tag in its cell metadata (``metadata.tags``), so checking can tell
the student's training code from debugkit's instrumentation and the hand-in templates.
"""

from __future__ import annotations

import re

#: Cell tags (``cell.metadata.tags``) of the cells an exercise notebook adds.
TAG_TASK = "debugkit-task"
TAG_INSTRUMENTATION = "debugkit-instrumentation"
TAG_LOGBOOK = "debugkit-logbook"

#: Redraw the live cockpit every this many optimizer steps.
LIVE_EVERY = 100

#: Placeholders of the logbook template; checking treats a section that still holds one as empty.
PLACEHOLDERS = {
    "title": "_A short title: what did you notice?_",
    "observation": "_What did you see? Which plot, instrument or number, at which step or epoch?_",
    "hypothesis": "_What could explain it? Why would that produce what you saw?_",
    "experiment": "_What did you change or measure to test the hypothesis (one change at a time)?_",
    "result": "_What happened? Give numbers (loss, accuracy) before and after._",
    "verdict": "_confirmed, refuted or inconclusive, and one sentence why_",
}


def task_text(title: str, symptom: str, *, multi: bool, randomized: bool) -> str:
    """The notebook's first cell: what to do and how to hand it in. Names no bug."""
    how_many = ("There are several artificially introduced problems in this code (and perhaps a few we introduced "
                "by accident)." if multi else "Something in this code keeps the network from training properly.")
    symptom_line = (f"Your colleague reports: *{symptom}*.\n\n" if symptom and not randomized else "")
    title = re.sub(r"^\s*exercise\s*:\s*", "", title, flags=re.IGNORECASE)
    return f"""# Debugging exercise: {title}

A colleague trained the network below, but it does not reach the accuracy they think is achievable
(as measured on data it was not trained on). They hand their notebook over to you.

{symptom_line}**Your task.** Debug the training, improve the network's performance, and keep a logbook of your
process. {how_many} Find them first, before you tune anything else. You may assume that the helpers in
`utils.py` (next to this notebook) are correct.

**Tools.** The cells marked *debugkit* attach a monitor to the model and optimizer, draw a live
cockpit (loss, gradient norms, update sizes, curvature, activations, ...) while the training cell
runs, and print an automatic diagnosis at the end. Use them as a starting point: look at the plots,
form a hypothesis, test it with one change at a time. You may keep, move or delete these cells.

**Training time.** Every change means a new training run. Lower the number of epochs while you
explore (the defaults are in the first code cell), and restore it for your final run.

**Logbook.** Fill in the logbook cells at the end of this notebook: one entry per
observation → hypothesis → experiment → result → verdict cycle. Copy the entry cell for every new
entry. Be honest: refuted and inconclusive hypotheses belong in the logbook too; we want to see how
you debug, not only what worked.

**Hand-in.** Submit this notebook (`notebook.ipynb`) with your final training code and your logbook.
Run it from top to bottom once before you hand it in (*Restart & Run All*): it must run without
errors. Do not edit the notebook's metadata."""


def monitor_cell(model: str = "model", optimizer: str = "optimizer", every: int = LIVE_EVERY) -> str:
    """Code that attaches a :class:`debugkit.Monitor` and a live cockpit (between model and training cells)."""
    return f'''# debugkit: record the next training run and draw a live cockpit above the training output.
# Re-run this cell whenever you re-create the model or the optimizer (run the cells in order).
import time
from pathlib import Path

from IPython.display import Image, Markdown, display

import debugkit
from debugkit.plot import LiveCockpit

if "monitor" in globals():
    monitor.close()  # the previous run stops recording
run_dir = Path("runs") / time.strftime("%Y%m%d-%H%M%S")
monitor = debugkit.Monitor({model}, {optimizer}, preset="standard", run_dir=run_dir, capture_eval=True)
cockpit = LiveCockpit(run_dir, every={every}, notebook=False)  # draws run_dir/cockpit.png
cockpit_view = display(Markdown("*The live cockpit appears here while the training cell runs.*"), display_id=True)


def redraw_cockpit(step):
    try:
        cockpit.update(step, force=True)
        cockpit_view.update(Image(filename=str(cockpit.path)))
    except Exception as exc:  # a drawing problem must never stop the training
        cockpit_view.update(Markdown(f"*The live cockpit could not be drawn: {{type(exc).__name__}}: {{exc}}*"))


monitor.add_callback(redraw_cockpit, every={every})
print(f"debugkit records this run in {{run_dir}}")'''


def dashboard_cell() -> str:
    """Code that finishes the recorded run, shows its cockpit and prints the automatic diagnosis."""
    return '''# debugkit: the finished run's cockpit and the automatic diagnosis (ranked findings, with what to try).
from debugkit.plot import plot_cockpit

monitor.close()
plot_cockpit(monitor.run, run_dir / "cockpit.png")
display(Image(filename=str(run_dir / "cockpit.png")))
print(monitor.diagnose())'''


def logbook_intro() -> str:
    return """# Logbook

One entry per cycle: **Observation** (what you saw, with numbers or a plot) → **Hypothesis** (what
could explain it) → **Experiment** (one change that tests it) → **Result** (what happened, with
numbers) → **Verdict** (`confirmed`, `refuted` or `inconclusive`, then a sentence).

Copy the entry cell below for every new entry (keep the `**Observation.**`, `**Hypothesis.**`, ...
markers at the start of their lines, and start the verdict with one of the three words). Paste
screenshots of plots where they help."""


def logbook_entry(number: int) -> str:
    """An empty logbook entry in the format :func:`debugkit.logbook.parse_logbook` reads."""
    p = PLACEHOLDERS
    return f"""## {number}. {p['title']}

**Observation.** {p['observation']}

**Hypothesis.** {p['hypothesis']}

**Experiment.** {p['experiment']}

**Result.** {p['result']}

**Verdict.** {p['verdict']}"""
