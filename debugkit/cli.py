"""The ``debugkit`` command line: argument parsing only; every command calls the library.

User mistakes (a missing run, a bad option value) end with a one-line message and exit
status 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from debugkit.store.reader import RunNotFoundError

#: Exceptions that mean "the user asked for something that cannot be done" (not a bug).
USER_ERRORS = (RunNotFoundError, FileNotFoundError, FileExistsError, NotADirectoryError, ValueError, KeyError,
               ImportError)
# (debugkit.logbook.LogbookError is a ValueError: its messages name the file, line and entry)

COMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {}


def command(name: str):
    """Register a function that adds the sub-parser for ``name``."""

    def deco(fn):
        COMMANDS[name] = fn
        return fn

    return deco


# ---------------------------------------------------------------------------- runs / plot
@command("plot")
def _plot(sub):
    p = sub.add_parser("plot", help="draw the cockpit dashboard of one or more runs",
                       description="Draw a Cockpit-style dashboard from recorded run directories "
                                   "(several runs are overlaid for comparison).")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories to plot")
    p.add_argument("-o", "--output", default="cockpit.png", help="image file to write (.png, .svg, .pdf)")
    p.add_argument("--figure", default="cockpit",
                   help="figure to draw: cockpit (default) or one of the single-quantity figures "
                        "(loss, alpha, grad_norm, curvature, gradient_tests, activations, learning_curves, ...)")
    p.add_argument("--title", help="figure title")

    def run(args):
        from debugkit.plot import plot_cockpit, render_figure
        from debugkit.store import load_run

        runs = [load_run(r) for r in args.runs]
        if args.figure == "cockpit":
            plot_cockpit(runs, args.output, title=args.title)
        else:
            render_figure(args.figure, runs, args.output)
        print(f"wrote {args.output}")

    p.set_defaults(func=run)


@command("runs")
def _runs(sub):
    p = sub.add_parser("runs", help="list and inspect recorded runs", description="List and inspect recorded runs.")
    rs = p.add_subparsers(dest="runs_cmd", metavar="{ls,show}", required=True)
    ls = rs.add_parser("ls", help="list run directories below a folder",
                       description="List run directories below ROOT (default: ./runs).")
    ls.add_argument("root", nargs="?", default="runs")

    def do_ls(args):
        from debugkit.store import list_runs
        from debugkit.store.summary import runs_table

        runs = list_runs(args.root)
        if not runs:
            print(f"no runs below {args.root}")
            return
        print(runs_table(runs))

    ls.set_defaults(func=do_ls)
    show = rs.add_parser("show", help="summarise one run", description="Summarise one run: metadata, final values.")
    show.add_argument("run", metavar="RUN_DIR")
    show.add_argument("--json", action="store_true", help="print the summary as JSON")

    def do_show(args):
        from debugkit.store import load_run
        from debugkit.store.summary import run_summary, format_summary

        summary = run_summary(load_run(args.run))
        print(json.dumps(summary, indent=2, default=str) if args.json else format_summary(summary))

    show.set_defaults(func=do_show)


# ---------------------------------------------------------------------------- diagnose / run
def _script_options(p):
    p.add_argument("--run-dir", help="where to record the run (default: runs/<time>-<script>)")
    p.add_argument("--preset", default="standard", help="instrument preset (economy, standard, full, ...)")
    p.add_argument("--max-steps", type=int, help="stop the script after this many optimizer steps")
    p.add_argument("--max-time", type=float, help="stop the script after this many seconds")
    p.add_argument("--quiet", action="store_true", help="hide the script's own output")


@command("diagnose")
def _diagnose(sub):
    p = sub.add_parser(
        "diagnose", help="find what is wrong with a training run",
        description="Diagnose a training run: either run an unmodified script with debugkit attached "
                    "(`debugkit diagnose -- python train.py ARGS`) or read a recorded run "
                    "(`debugkit diagnose RUN_DIR`). Prints ranked findings; exit status 0 either way.",
    )
    _script_options(p)
    p.add_argument("--json", metavar="PATH", help="write the report as JSON (findings ranked most likely first)")
    p.add_argument("--png", metavar="PATH", help="dashboard image (default: RUN_DIR/cockpit.png)")
    p.add_argument("--no-dashboard", action="store_true", help="skip drawing the dashboard image")
    p.add_argument("--lr-range-test", action="store_true", help="also run an LR range test probe")
    p.add_argument("target", nargs=argparse.REMAINDER, metavar="-- COMMAND | RUN_DIR",
                   help="the training command after `--`, or a recorded run directory")

    def run(args):
        from debugkit.diagnose import diagnose_run
        from debugkit.diagnose.runner import diagnose_script

        if args.target[:1] == ["--"]:
            target = args.target[1:]
        else:  # `diagnose RUN_DIR --json X`: options may follow the run directory
            target = args.target[:1]
            if args.target[1:]:
                p.parse_args(args.target[1:] + ["--"], namespace=args)
        if len(target) == 1 and Path(target[0]).is_dir():
            report = diagnose_run(target[0])
            if args.json:
                report.write_json(args.json)
            if args.png and not args.no_dashboard:
                from debugkit.plot import plot_cockpit
                from debugkit.store import load_run

                plot_cockpit([load_run(target[0])], args.png)
        else:
            report, script = diagnose_script(
                target, json_path=args.json, png_path=args.png, run_dir=args.run_dir, preset=args.preset,
                max_steps=args.max_steps, max_time=args.max_time, lr_range_test=args.lr_range_test,
                quiet=args.quiet, dashboard=not args.no_dashboard)
            if script.returncode not in (0, None):
                print(f"\n[debugkit] the script exited with status {script.returncode}; "
                      "findings below cover the steps recorded before that.")
        print()
        print(report.format())
        print(f"\nrun: {report.run_dir}" + (f"   dashboard: {report.meta['dashboard']}" if "dashboard" in report.meta else "")
              + (f"   json: {args.json}" if args.json else ""))
        return 0

    p.set_defaults(func=run)


@command("run")
def _run(sub):
    p = sub.add_parser("run", help="record an unmodified training script with debugkit attached",
                       description="Run `debugkit run -- python train.py ARGS`: the script imports nothing of "
                                   "debugkit; every model trained by a torch.optim optimizer is recorded.")
    _script_options(p)
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND")

    def run(args):
        from debugkit.diagnose.runner import run_script

        res = run_script(args.command, run_dir=args.run_dir, preset=args.preset, max_steps=args.max_steps,
                         max_time=args.max_time, quiet=args.quiet)
        print(f"recorded {res.run_dir} in {res.seconds:.1f} s (script exit status {res.returncode}); "
              f"plot it with `debugkit plot {res.run_dir}`")
        return 0

    p.set_defaults(func=run)


# ---------------------------------------------------------------------------- logbook
@command("logbook")
def _logbook(sub):
    p = sub.add_parser("logbook", help="build logbooks by hand or by an automatic bug hunt",
                       description="Observation → hypothesis → result logbooks as PDF, Markdown, HTML or notebook.")
    ls = p.add_subparsers(dest="logbook_cmd", metavar="{hunt,build}", required=True)
    h = ls.add_parser("hunt", help="find and fix the bugs of a baseline or script; write the logbook",
                      description="Run the script under debugkit, turn the top finding into a hypothesis, test it "
                                  "as an edited copy of the script, record the result (refuted ones too), repeat "
                                  "until no finding is left, then tune the learning rate and run seeds.")
    h.add_argument("target", metavar="BASELINE|SCRIPT", help="a baseline name (debugkit baselines ls) or a .py file")
    h.add_argument("-o", "--output", required=True, help="logbook PDF to write (a .md is written next to it)")
    h.add_argument("--work-dir", help="where edited scripts and runs go (default hunts/<name>)")
    h.add_argument("--no-tuning", action="store_true", help="stop after the bugs")
    h.add_argument("--seeds", type=int, default=3, help="seeds for the final configuration (default 3)")
    h.add_argument("--time-budget", type=float, default=540.0, help="seconds after which no new run starts")
    h.add_argument("--try", dest="hypotheses", action="append", default=[], metavar="FINDING_ID",
                   help="test this hypothesis first (a finding id, e.g. lr_too_low), whether or not the diagnosis "
                        "raises it; repeatable")
    h.add_argument("--no-progress", action="store_true")

    def do_hunt(args):
        from debugkit.hunt import hunt

        res = hunt(args.target, args.output, work_dir=args.work_dir, tuning=not args.no_tuning, seeds=args.seeds,
                   time_budget=args.time_budget, progress=not args.no_progress, hypotheses=args.hypotheses)
        print(f"\nbug hunt of {res.name}: {len(res.steps)} steps in {res.seconds / 60:.1f} min")
        for st in res.steps:
            label = st.finding.id if st.finding is not None else "tuning"
            after = st.metrics_after.describe() if st.metrics_after else "not run"
            print(f"  [{st.verdict:>12}] {label}: {after}")
        print(f"fixed script: {res.final_script}\nlogbook: {args.output}")
        return 0

    h.set_defaults(func=do_hunt)
    b = ls.add_parser("build", help="render a hand-written Markdown logbook",
                      description="Render LOGBOOK.md (Markdown with front matter; figures as ![caption](run:RUN#name)"
                                  " are drawn from the runs) to PDF, HTML, Markdown or a notebook.")
    b.add_argument("source", metavar="LOGBOOK.md")
    b.add_argument("-o", "--output", required=True, help="output file; its suffix picks the format")
    b.add_argument("--format", action="append", dest="formats", metavar="FMT",
                   help="also write these formats (pdf, md, html, ipynb); repeatable")

    def do_build(args):
        from debugkit.logbook import build_logbook

        for path in build_logbook(args.source, args.output, formats=args.formats):
            print(f"wrote {path}")
        return 0

    b.set_defaults(func=do_build)


# ---------------------------------------------------------------------------- baselines
@command("baselines")
def _baselines(sub):
    p = sub.add_parser("baselines", help="intentionally bugged training programs for teaching",
                       description="The catalogue of bugged baselines in buggy_baselines/ (plain PyTorch scripts "
                                   "on the embedded digits data, each with a fixed counterpart).")
    bs = p.add_subparsers(dest="baselines_cmd", metavar="{ls,run,key}", required=True)
    ls = bs.add_parser("ls", help="list the baselines with one-line symptoms (no spoilers)")
    ls.add_argument("--key", action="store_true", help="instructor view: also the planted bugs and their fixes")
    ls.set_defaults(func=lambda a: print(__import__("debugkit.baselines", fromlist=["x"]).format_catalogue(key=a.key)))
    run = bs.add_parser("run", help="run a baseline (or its fix) and print its metrics")
    run.add_argument("name")
    run.add_argument("--fixed", action="store_true", help="run the fixed counterpart")
    run.add_argument("--epochs", type=int)
    run.add_argument("--seed", type=int)

    def do_run(args):
        from debugkit.baselines import run_baseline

        res = run_baseline(args.name, fixed=args.fixed, epochs=args.epochs, seed=args.seed, check=False)
        print(res.stdout.rstrip())
        if res.returncode != 0:
            print(res.stderr.rstrip(), file=sys.stderr)
        return res.returncode

    run.set_defaults(func=do_run)
    key = bs.add_parser("key", help="write the instructor key (buggy_baselines/KEY.md)")
    key.add_argument("-o", "--output", help="where to write it (default buggy_baselines/KEY.md)")
    key.set_defaults(func=lambda a: print(f"wrote {__import__('debugkit.baselines', fromlist=['x']).write_key(a.output)}"))


# ---------------------------------------------------------------------------- exercise
@command("exercise")
def _exercise(sub):
    p = sub.add_parser("exercise", help="debugging exercises: student notebooks, keys, checking fixes",
                       description="Prepare, hand out and check a debugging session: `exercise new` writes a "
                                   "student notebook from a bugged baseline, `exercise key` the instructor key, "
                                   "`exercise check` judges each planted bug by behaviour.")
    es = p.add_subparsers(dest="exercise_cmd", metavar="{ls,new,key,check}", required=True)
    ls = es.add_parser("ls", help="list the exercises (no spoilers)")
    ls.set_defaults(func=lambda a: print(__import__("debugkit.exercise", fromlist=["x"]).format_exercises()))
    new = es.add_parser("new", help="write a student notebook for a baseline")
    new.add_argument("baseline")
    new.add_argument("--out", required=True, help="folder for notebook.ipynb and utils.py")
    new.add_argument("--seed", type=int, help="per-student seed (with --randomize: which bugs)")
    new.add_argument("--randomize", action="store_true", help="plant a random subset/variant of the bugs")
    new.add_argument("--epochs", type=int, help="shorter or longer training than the baseline's default")
    new.add_argument("--bugs", help="comma-separated bug ids to plant (default: all)")
    new.add_argument("--force", action="store_true", help="overwrite an existing notebook")

    def do_new(args):
        from debugkit.exercise import new_exercise

        path = new_exercise(args.baseline, args.out, seed=args.seed, randomize=args.randomize, epochs=args.epochs,
                            bugs=args.bugs.split(",") if args.bugs else None, overwrite=args.force)
        print(f"wrote {path}")
        return 0

    new.set_defaults(func=do_new)
    key = es.add_parser("key", help="the instructor key for the bugs planted in a notebook")
    key.add_argument("path", metavar="DIR|NOTEBOOK")
    key.set_defaults(func=lambda a: print(__import__("debugkit.exercise", fromlist=["x"]).exercise_key(a.path)))
    chk = es.add_parser("check", help="execute a student notebook and judge each planted bug by behaviour")
    chk.add_argument("notebook")
    chk.add_argument("--json", metavar="PATH")
    chk.add_argument("--timeout", type=float, default=900)
    chk.add_argument("--no-execute", action="store_true", help="skip running the notebook itself")
    chk.add_argument("--reference-dir", help="cache for the fixed baseline's reference runs")

    def do_check(args):
        from debugkit.exercise import check_notebook

        report = check_notebook(args.notebook, json_path=args.json, timeout=args.timeout,
                                execute=not args.no_execute, reference_dir=args.reference_dir)
        print(report)
        return 0

    chk.set_defaults(func=do_check)


# ---------------------------------------------------------------------------- train / evaluate / study / sweep
@command("train")
def _train(sub):
    p = sub.add_parser("train", help="train a model from a TOML config with the reference trainer",
                       description="Train with debugkit's readable reference loop (monitored, checkpointed). "
                                   "Without CONFIG: an MLP on the embedded digits data.")
    p.add_argument("config", nargs="?", metavar="CONFIG.toml")
    p.add_argument("--run-dir", help="run directory (default runs/<time>-<name>)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set lr=0.01 --set model.hidden=[128] (repeatable)")
    p.add_argument("--resume", action="store_true", help="continue from the run directory's checkpoint")
    p.add_argument("--no-progress", action="store_true")

    def run(args):
        import ast

        from debugkit.train import TrainConfig, train

        cfg = TrainConfig.load(args.config) if args.config else TrainConfig()
        changes = {}
        for item in args.set:
            if "=" not in item:
                raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
            k, v = item.split("=", 1)
            try:
                changes[k.strip()] = ast.literal_eval(v)
            except (ValueError, SyntaxError):
                changes[k.strip()] = v
        if changes:
            cfg = cfg.with_changes(changes)
        res = train(cfg, args.run_dir, progress=not args.no_progress, resume=args.resume)
        print(f"{res.status}: {res.run_dir}  " + "  ".join(f"{k}={v:.4g}" for k, v in res.metrics.items()
                                                          if isinstance(v, float)))
        return 0

    p.set_defaults(func=run)


@command("evaluate")
def _evaluate(sub):
    p = sub.add_parser("evaluate", help="confusion matrix, per-class metrics, weights and predictions of a run",
                       description="Evaluate a run trained by `debugkit train` (or a study) on its validation split; "
                                   "the test split only with --split test, and every such use is recorded.")
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument("--split", default="val", choices=["val", "test", "train"])
    p.add_argument("--out", help="folder for the figures and report (default RUN_DIR/evaluation-<split>)")

    def run(args):
        from debugkit.evaluate import evaluate_run

        rep = evaluate_run(args.run, split=args.split, out_dir=args.out)
        print(rep.to_markdown())
        return 0

    p.set_defaults(func=run)


@command("study")
def _study(sub):
    p = sub.add_parser("study", help="lr×batch, seeds, cross-validation and ablation studies",
                       description="Run a study: every configuration with several seeds (or folds) in parallel "
                                   "worker processes; learning curves with mean ± std bands and a results table. "
                                   "CONFIG is a study TOML (see debugkit/study/examples/) or a training config.")
    p.add_argument("kind", choices=["lr-batch", "seeds", "cv", "ablation"])
    p.add_argument("config", nargs="?", metavar="CONFIG.toml")
    p.add_argument("--out", help="study folder (default studies/<kind>)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seeds", type=int, help="seeds per configuration")
    p.add_argument("--no-progress", action="store_true")

    def run(args):
        from debugkit.study import load_study, run_study

        from debugkit.train import TrainConfig

        definition = args.kind
        base = TrainConfig(epochs=5)  # default: an MLP on the embedded digits data
        if args.config:
            text = Path(args.config).read_text()
            if "[base" in text or "kind" in text.split("[", 1)[0]:
                definition = load_study(args.config)
                if definition.kind != args.kind:
                    raise ValueError(f"{args.config} defines a {definition.kind!r} study, not {args.kind!r}")
            else:
                base = TrainConfig.load(args.config)
        res = run_study(definition, None if not isinstance(definition, str) else base, out_dir=args.out or f"studies/{args.kind}", workers=args.workers,
                        seeds=args.seeds, progress=not args.no_progress)
        print(res.to_markdown())
        print(f"\nstudy folder: {res.out_dir}")
        return 0

    p.set_defaults(func=run)


@command("sweep")
def _sweep(sub):
    p = sub.add_parser("sweep", help="hyperparameter sweeps on Optuna (grid, random, TPE; successive halving)",
                       description="Run, resume or join an Optuna sweep described by a TOML file ([space], [base], "
                                   "sampler, pruner, n_trials). A killed sweep resumes where it stopped; several "
                                   "machines share one study through --storage postgresql://...")
    p.add_argument("config", metavar="SWEEP.toml")
    p.add_argument("--out", help="sweep folder (default sweeps/<study name>)")
    p.add_argument("--storage", help="database URL (default: SQLite in the sweep folder)")
    p.add_argument("--n-trials", type=int)
    p.add_argument("--workers", type=int)
    p.add_argument("--no-progress", action="store_true")

    def run(args):
        from debugkit.study import run_sweep
        from debugkit.study.sweep import load_sweep

        kw = load_sweep(args.config)
        for key in ("storage", "n_trials", "workers"):
            if getattr(args, key) is not None:
                kw[key] = getattr(args, key)
        kw.setdefault("out_dir", args.out or f"sweeps/{kw.get('study_name', 'sweep')}")
        if args.out:
            kw["out_dir"] = args.out
        res = run_sweep(**kw, progress=not args.no_progress)
        print(f"{len(res.trials)} trials; best config written to {res.out_dir}/best_config.toml; "
              f"figures: {', '.join(str(v) for v in res.figures.values())}")
        return 0

    p.set_defaults(func=run)


@command("export")
def _export(sub):
    p = sub.add_parser("export", help="export runs to TensorBoard or W&B (offline)")
    es = p.add_subparsers(dest="export_cmd", metavar="{tensorboard,wandb}", required=True)
    tb = es.add_parser("tensorboard", help="write TensorBoard event files")
    tb.add_argument("runs", nargs="+", metavar="RUN_DIR")
    tb.add_argument("--logdir", required=True)
    tb.add_argument("--overwrite", action="store_true")
    tb.set_defaults(func=lambda a: print(__import__("debugkit.export", fromlist=["x"]).tensorboard_command(
        a.runs, a.logdir, a.overwrite)))
    wb = es.add_parser("wandb", help="write an offline W&B run (upload later with `wandb sync`)")
    wb.add_argument("run", metavar="RUN_DIR")
    wb.add_argument("--project", required=True)
    wb.add_argument("--dir", default="wandb-export")
    wb.set_defaults(func=lambda a: print(__import__("debugkit.export", fromlist=["x"]).wandb_command(
        a.run, a.project, a.dir)))


# ---------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    from debugkit import __version__

    parser = argparse.ArgumentParser(
        prog="debugkit",
        description="See inside PyTorch training runs, find out what is wrong, and write it up.",
    )
    parser.add_argument("--version", action="version", version=f"debugkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS.values():
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        print("debugkit: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"debugkit {args.command}: error: {msg}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
