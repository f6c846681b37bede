"""``python -m debugkit.diagnose.child [options] -- script.py ARGS``: run a script with monitors attached.

Used by ``debugkit diagnose`` and ``debugkit run`` (which start it as a subprocess so a
crashing or hanging script cannot take the report down with it).
"""

from __future__ import annotations

import argparse
import runpy
import sys
import traceback


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="debugkit-child")
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--preset", default="standard")
    ap.add_argument("--max-steps", type=int)
    ap.add_argument("--max-time", type=float)
    ap.add_argument("--lr-range-test", action="store_true")
    ap.add_argument("--no-probes", action="store_true")
    ap.add_argument("--name", help="run name (default: the run directory's name)")
    ap.add_argument("--module", action="store_true", help="the target is a module name (python -m)")
    ap.add_argument("target")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)

    from debugkit.diagnose.attach import AutoAttach
    from debugkit.monitor import StopTraining

    attach = AutoAttach(a.run_dir, {
        "preset": a.preset, "capture_eval": True, "probes": not a.no_probes, "lr_range_test": a.lr_range_test,
        "max_steps": a.max_steps, "max_time": a.max_time, "name": a.name,
        "meta": {"script": a.target, "script_args": a.args},
    }).install()
    sys.argv = [a.target, *a.args]
    status, code = "finished", 0
    try:
        if a.module:
            runpy.run_module(a.target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, str(__import__("pathlib").Path(a.target).resolve().parent))
            runpy.run_path(a.target, run_name="__main__")
    except StopTraining as stop:
        print(f"\n[debugkit] {stop}", file=sys.stderr)
        status = "stopped"
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        status = "finished" if code == 0 else "crashed"
    except KeyboardInterrupt:
        status, code = "interrupted", 130
    except BaseException:  # the user's script crashed: show it, keep the data
        traceback.print_exc()
        status, code = "crashed", 1
    finally:
        try:
            attach.close(status)
        finally:
            attach.uninstall()
    if not attach.monitors:
        print("[debugkit] no optimizer was created: nothing was monitored. debugkit attaches to the model "
              "trained by a torch.optim optimizer.", file=sys.stderr)
        return 3
    return code


if __name__ == "__main__":
    sys.exit(main())
