"""The automatic bug hunt: diagnose → hypothesis → experiment → result, until nothing is left.

Every step is an ordinary run of an edited copy of the training script under
``debugkit diagnose``, so the logbook rests on real runs that anyone can re-plot.
Refuted hypotheses stay in the log (and their edit is reverted).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from debugkit.diagnose.engine import diagnose_run
from debugkit.diagnose.findings import FINDING_TYPES, SEVERITIES, Finding, make_finding
from debugkit.diagnose.runner import run_script
from debugkit.diagnose.signals import Signals
from debugkit.hunt.fixers import apply_experiment
from debugkit.store import load_run

#: Which figure shows a finding best (observation figures of the log).
FIGURE_FOR = {
    "lr_too_high": "alpha", "lr_too_low": "alpha", "loss_diverged": "loss", "loss_stalled": "loss",
    "loss_oscillating": "loss", "missing_zero_grad": "grad_norm", "double_softmax": "inputs_outputs",
    "unnormalized_inputs": "inputs_outputs", "bad_init_scale": "inputs_outputs", "symmetric_init": "grad_norm",
    "dead_relu": "activations", "saturated_activations": "activations", "exploding_gradients": "grad_norm",
    "vanishing_gradients": "grad_norm", "frozen_params": "distance", "detached_graph": "grad_norm",
    "clip_too_aggressive": "distance", "weight_decay_too_high": "distance", "lr_schedule_increasing": "loss",
    "unshuffled_data": "loss", "label_noise": "learning_curves", "eval_mode_training": "learning_curves",
    "val_from_train_split": "learning_curves", "val_own_normalization": "learning_curves",
    "bad_augmentation": "learning_curves", "batch_too_noisy": "gradient_tests",
    "wrong_initial_loss": "loss", "overfitting": "learning_curves", "underfitting": "learning_curves",
    "batch_mixing": "loss",
}


def fmt_loss(v: float | None) -> str:
    """Three decimals for ordinary losses, scientific notation for blown-up ones (2.77e+29)."""
    if v is None:
        return "–"
    return f"{v:.3f}" if abs(v) < 1e4 else f"{v:.3g}"


@dataclass
class Metrics:
    """What a run achieved: the numbers a result is judged by."""

    val_acc: float | None
    val_loss: float | None
    train_loss: float | None
    diverged: bool

    @classmethod
    def of(cls, run_dir: Path) -> "Metrics":
        sig = Signals(load_run(run_dir))
        v = sig.val_epochs
        acc = float(v["val_acc"].dropna().iloc[-1]) if "val_acc" in v.columns and v["val_acc"].notna().any() else None
        vl = float(v["val_loss"].dropna().iloc[-1]) if "val_loss" in v.columns and v["val_loss"].notna().any() else None
        tl = sig.loss_end
        diverged = sig.first_nonfinite_step is not None
        if vl is not None and not math.isfinite(vl):
            vl, diverged = None, True
        return cls(acc, vl, tl if math.isfinite(tl) else None, diverged)

    def score(self) -> float:
        """Higher is better: validation accuracy, else minus validation/training loss."""
        if self.diverged:
            return -math.inf
        if self.val_acc is not None:
            return self.val_acc
        if self.val_loss is not None:
            return -self.val_loss
        return -(self.train_loss if self.train_loss is not None else math.inf)

    def describe(self) -> str:
        parts = []
        if self.diverged:
            parts.append("diverged")
        if self.val_acc is not None:
            parts.append(f"validation accuracy {self.val_acc:.1%}")
        if self.val_loss is not None:
            parts.append(f"validation loss {fmt_loss(self.val_loss)}")
        if self.train_loss is not None:
            parts.append(f"final training loss {fmt_loss(self.train_loss)}")
        return ", ".join(parts) or "no metrics recorded"


@dataclass
class Step:
    """One hypothesis tested (or, for tuning, one tuning stage)."""

    finding: Finding | None
    title: str
    diff: str = ""
    before: str | None = None  # run dir
    after: str | None = None
    metrics_before: Metrics | None = None
    metrics_after: Metrics | None = None
    verdict: str = "inconclusive"
    note: str = ""
    remaining: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass
class HuntResult:
    name: str
    script: Path
    final_script: Path
    steps: list[Step]
    baseline_run: str
    final_runs: list[str]
    seconds: float
    fixed: list[str]

    @property
    def confirmed(self) -> list[str]:
        return [s.finding.id for s in self.steps if s.finding is not None and s.verdict == "confirmed"]


def _diff(a: str, b: str, name: str) -> str:
    return "".join(difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}", n=1))


class Hunter:
    """Runs the hunt for one script. Use :func:`hunt` for the whole pipeline."""

    def __init__(self, script: Path, work_dir: Path, *, preset: str = "economy", script_args: list[str] | None = None,
                 max_rounds: int = 10, time_budget: float = 540.0, progress: Callable[[str], None] | None = None,
                 hypotheses: list[str] | None = None):
        self.script = Path(script).resolve()
        self.work = Path(work_dir)
        self.preset = preset
        self.args = list(script_args or [])
        self.max_rounds = max_rounds
        self.deadline = time.monotonic() + time_budget
        self.progress = progress or (lambda msg: None)
        self._n = 0
        _check_hypotheses(hypotheses)
        #: finding ids a person wants tested first, whether or not the diagnosis raises them
        self.hypotheses = list(hypotheses or [])
        # scripts may import helpers next to them (e.g. buggy_baselines/utils.py)
        self.env_path = os.pathsep.join([str(self.script.parent), str(self.script.parent.parent)])

    # -- running ---------------------------------------------------------------------
    def run(self, source: str, label: str, *, preset: str | None = None, probes: bool = True,
            args: list[str] | None = None) -> Path:
        self._n += 1
        folder = self.work / f"{self._n:02d}-{label}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.script.name
        path.write_text(source)
        old = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = self.env_path + (os.pathsep + old if old else "")
        try:
            run_script(["python", str(path), *(args if args is not None else self.args)], run_dir=folder / "run",
                       preset=preset or self.preset, probes=probes, quiet=True, name=label)
        finally:
            if old is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = old
        return folder / "run"

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    # -- the hunt --------------------------------------------------------------------
    def bugs(self) -> tuple[str, list[Step], str]:
        """Fix findings one at a time; return the final source, the steps and the last run."""
        source = self.script.read_text()
        self.progress("diagnosing the original script")
        run = self.run(source, "original")
        report = diagnose_run(run)
        steps: list[Step] = []
        tried: set[str] = set()
        forced = list(self.hypotheses)
        for _ in range(self.max_rounds + len(forced)):
            if self.out_of_time():
                break
            if forced:
                fid = forced.pop(0)
                raised = [f for f in report.findings if f.id == fid]
                f = raised[0] if raised else make_finding(fid, 0.0, {"source": "hypothesis given by the user"})
            else:
                cand = [f for f in report.findings if SEVERITIES.index(f.severity) >= 1 and f.id not in tried]
                if not cand:
                    break
                f = cand[0]
            was_raised = f.id in report.ids("warning")
            tried.add(f.id)
            new = apply_experiment(source, f)
            before = Metrics.of(run)
            if new is None:
                steps.append(Step(f, f.title, before=str(run), metrics_before=before, verdict="inconclusive",
                                  note="No automatic experiment applies to this script; the suggestion above is "
                                       "left for a person to try."))
                continue
            self.progress(f"testing: {f.title}")
            new_run = self.run(new, f.id)
            new_report = diagnose_run(new_run)
            after = Metrics.of(new_run)
            gone = f.id not in new_report.ids("warning")
            gain = after.score() - before.score()
            note = ""
            if not was_raised:
                # a hypothesis the diagnosis did not raise is judged by its effect alone
                # beyond the run-to-run noise of validation accuracy on a few hundred samples
                verdict = "confirmed" if gain > 0.03 else "refuted" if gain < -0.03 else "inconclusive"
                note = ("The diagnosis had not raised this; it was tested on request. "
                        + ("The change helped." if verdict == "confirmed" else
                           "The change made things worse." if verdict == "refuted" else
                           "The change made no difference beyond noise."))
            elif gone and gain >= -0.02:
                verdict = "confirmed"
            elif gone and f.kind == "cause":
                # the mistake is gone, but it had been masking another problem (e.g. accumulated
                # gradients acting as a larger learning rate): keep the fix, look again
                verdict = "confirmed"
                note = ("The finding is gone, but validation accuracy dropped: the mistake was hiding another "
                        "problem, which the next diagnosis addresses.")
            elif not gone and gain > 0.02 and f.experiment.get("action") == "scale_lr":
                # the direction was right, the step not large enough: keep it and take another
                verdict = "confirmed"
                note = ("The change helped, but the finding remains: the learning rate gets another step of the "
                        "same kind.")
            elif not gone and gain <= 0.01:
                verdict = "refuted"
            else:
                verdict = "inconclusive"
            step = Step(f, f.title, diff=_diff(source, new, self.script.name), before=str(run), after=str(new_run),
                        metrics_before=before, metrics_after=after, verdict=verdict,
                        remaining=new_report.ids("warning"), note=note)
            if verdict == "refuted" or (verdict == "inconclusive" and (gain < 0 or not was_raised)):
                step.note = (note + " The change was reverted.").strip()
            else:
                source, run, report = new, new_run, new_report
                if f.experiment.get("action") == "scale_lr":
                    tried.discard(f.id)  # the learning rate may need a second step of the same kind
            steps.append(step)
        return source, steps, str(run)

    def tune(self, source: str, base_run: str, lr_factors=(0.3, 1.0, 3.0), seeds: int = 3) -> tuple[str, list[Step], list[str]]:
        """Learning-rate (× batch size, where the script exposes it) grid, then seeds of the best."""
        from debugkit.hunt.fixers import _optimizer_block, _set_keyword_number

        steps: list[Step] = []
        grid = []
        bs_values = [None]
        m = re.search(r"batch_size\s*=\s*(\d+)", source)
        if m:
            b = int(m.group(1))
            bs_values = sorted({b, max(8, b // 2), b * 2})
        for bs in bs_values:
            for fac in lr_factors:
                if self.out_of_time():
                    break
                src = source if fac == 1.0 else _set_keyword_number(source, "lr", lambda v: v * fac,
                                                                    _optimizer_block(source))
                if src is None:
                    continue
                if bs is not None:
                    src = re.sub(r"batch_size\s*=\s*\d+", f"batch_size={bs}", src, count=1)
                self.progress(f"tuning: lr ×{fac:g}" + (f", batch size {bs}" if bs else ""))
                run = self.run(src, f"tune-lr{fac:g}" + (f"-bs{bs}" if bs else ""), preset="economy", probes=False)
                grid.append((fac, bs, src, str(run), Metrics.of(run)))
        if not grid:
            return source, steps, [base_run]
        best = max(grid, key=lambda g: g[4].score())
        steps.append(Step(None, "Tuning the learning rate" + (" and batch size" if len(bs_values) > 1 else ""),
                          diff=_diff(source, best[2], self.script.name), before=base_run, after=best[3],
                          metrics_before=Metrics.of(Path(base_run)), metrics_after=best[4],
                          verdict="confirmed" if best[4].score() > Metrics.of(Path(base_run)).score() + 0.005
                          else "inconclusive",
                          extra={"grid": [(g[0], g[1], g[3], g[4]) for g in grid]}))
        source = best[2]
        final_runs = [best[3]]
        if "--seed" in source and seeds > 1 and not self.out_of_time():
            for s in range(1, seeds):
                if self.out_of_time():
                    break
                self.progress(f"seed {s + 1}/{seeds}")
                final_runs.append(str(self.run(source, f"seed{s}", preset="economy", probes=False,
                                               args=[*self.args, "--seed", str(s)])))
        return source, steps, final_runs


def hunt(target: str | os.PathLike, out: str | os.PathLike | None = None, *, work_dir: str | os.PathLike | None = None,
         tuning: bool = True, seeds: int = 3, time_budget: float = 540.0, progress: bool = True,
         script_args: list[str] | None = None, formats=("pdf", "md"),
         hypotheses: list[str] | None = None) -> HuntResult:
    """Hunt the bugs of a baseline (by name) or a training script, and write the logbook.

    Args:
        target: A baseline name from ``buggy_baselines/`` or a path to a training script.
        out: Logbook file (``.pdf``; a ``.md`` is written next to it). None: no logbook.
        work_dir: Where the edited scripts and their runs go (default ``hunts/<name>``).
        tuning: After the bugs, tune the learning rate (and batch size) and run seeds.
        seeds: Seeds for the final configuration (mean ± std), if the script has ``--seed``.
        time_budget: Seconds after which no new experiment is started.
        hypotheses: Finding ids to test first, whether or not the diagnosis raises them (their
            experiment is run and judged by its effect; refuted ones are reverted and kept in the log).

    Returns:
        The steps taken; ``result.confirmed`` lists the findings fixed.
    """
    from tqdm.auto import tqdm

    script, name, title = _resolve(target)
    work = Path(work_dir) if work_dir else Path("hunts") / name

    def tick(msg: str) -> None:
        bar.set_postfix_str(msg[:60])
        bar.update(1)

    # checks the hypotheses before anything in the work folder is touched
    hunter = Hunter(script, work, time_budget=time_budget, progress=tick, script_args=script_args,
                    hypotheses=hypotheses)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    t0 = time.monotonic()
    bar = tqdm(total=None, desc=f"bug hunt {name}", unit="run", disable=not progress, leave=True)
    source, steps, last = hunter.bugs()
    final_runs = [last]
    if tuning and not hunter.out_of_time():
        source, tsteps, final_runs = hunter.tune(source, last, seeds=seeds)
        steps += tsteps
    bar.close()
    final_script = work / f"fixed_{script.name}"
    final_script.write_text(source)
    result = HuntResult(name=name, script=script, final_script=final_script, steps=steps,
                        baseline_run=str(sorted(work.glob("01-*"))[0] / "run"), final_runs=final_runs,
                        seconds=time.monotonic() - t0,
                        fixed=list(dict.fromkeys(s.finding.id for s in steps
                                                 if s.finding is not None and s.verdict == "confirmed")))
    if out is not None:
        from debugkit.hunt.logbook import hunt_logbook
        from debugkit.logbook import build_logbook

        lb = hunt_logbook(result, title=title)
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        build_logbook(lb, out, formats=list(formats))
    return result


def _check_hypotheses(hypotheses: list[str] | None) -> None:
    unknown = [h for h in hypotheses or [] if h not in FINDING_TYPES]
    if unknown:
        raise ValueError(f"unknown hypothesis {', '.join(unknown)}; finding ids are: {', '.join(sorted(FINDING_TYPES))}")


def _resolve(target) -> tuple[Path, str, str]:
    p = Path(target)
    if p.suffix == ".py" or p.is_file():
        if not p.is_file():
            raise FileNotFoundError(f"training script {str(p)!r} not found")
        return p, p.stem if p.stem != "train" else p.parent.name, f"Bug hunt: {p.name}"
    from debugkit.baselines import get_baseline

    b = get_baseline(str(target))
    return Path(b.script), b.name, f"Bug hunt: {b.title}"


def mean_std(values: list[float]) -> tuple[float, float | None]:
    if not values:
        return math.nan, None
    if len(values) == 1:
        return values[0], None
    return statistics.mean(values), statistics.stdev(values)
