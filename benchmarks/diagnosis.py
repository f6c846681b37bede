"""Diagnosis quality on the bugged baselines: planted bug vs top finding, run as a user would.

Every baseline (bugged and fixed) runs through ``debugkit diagnose --json`` in a fresh
process. Prints a confusion table (planted → top finding), the per-baseline results,
recall of planted bugs among all findings, false alarms on the fixed versions, and the
median number of steps until the planted bug's finding is first raised.

Usage::

    python benchmarks/diagnosis.py                  # all baselines
    python benchmarks/diagnosis.py lr_too_high dead_relu
    python benchmarks/diagnosis.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def diagnose(script: Path, out: Path, timeout: float = 600) -> dict:
    """Run ``debugkit diagnose --json`` on a script; return the parsed report (+ seconds)."""
    js = out / "report.json"
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "debugkit.cli", "diagnose", "--quiet", "--no-dashboard",
                           "--run-dir", str(out / "run"), "--json", str(js), "--", "python", str(script)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0 or not js.exists():
        return {"error": proc.stdout[-2000:], "seconds": seconds, "findings": []}
    report = json.loads(js.read_text())
    report["seconds"] = seconds
    return report


def evaluate(names: list[str] | None = None, workers: int = 1, out_dir: str | None = None) -> dict:
    from debugkit.baselines import list_baselines

    baselines = [b for b in list_baselines() if not names or b.name in names]
    root = Path(out_dir or tempfile.mkdtemp(prefix="debugkit-diag-"))
    jobs = [(b, fixed) for b in baselines for fixed in (False, True)]

    def one(job):
        b, fixed = job
        script = Path(b.fixed_script if fixed else b.script)
        return b.name, fixed, diagnose(script, root / b.name / ("fixed" if fixed else "bugged"))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, jobs))
    rows = []
    for b in baselines:
        bug = next(r for n, f, r in results if n == b.name and not f)
        fix = next(r for n, f, r in results if n == b.name and f)
        planted = [x.id for x in b.bugs]
        found = [f["id"] for f in bug["findings"]]
        top = found[0] if found else None
        first_steps = {f["id"]: f.get("first_step") for f in bug["findings"]}
        false_alarms = [f["id"] for f in fix["findings"] if f["severity"] in ("warning", "error")]
        rows.append({
            "baseline": b.name, "multi": b.multi, "planted": planted, "top": top, "found": found,
            "top_correct": (top in planted) if not b.multi else all(p in found for p in planted),
            "all_found": all(p in found for p in planted),
            "steps_to_finding": [first_steps.get(p) for p in planted],
            "fixed_false_alarms": false_alarms,
            "seconds": [round(bug["seconds"], 1), round(fix["seconds"], 1)],
            "errors": [r.get("error") for r in (bug, fix) if r.get("error")],
        })
    steps = [s for r in rows for s in r["steps_to_finding"] if s is not None]
    summary = {
        "baselines": len(rows),
        "top_correct": sum(r["top_correct"] for r in rows),
        "all_planted_found": sum(r["all_found"] for r in rows),
        "fixed_with_warnings": sum(bool(r["fixed_false_alarms"]) for r in rows),
        "median_steps_to_finding": statistics.median(steps) if steps else None,
        "recall": sum(p in r["found"] for r in rows for p in r["planted"]) / max(1, sum(len(r["planted"]) for r in rows)),
    }
    return {"rows": rows, "summary": summary, "out_dir": str(root)}


def format_tables(res: dict) -> str:
    rows = res["rows"]
    lines = ["| baseline | planted | top finding | all planted found | steps to finding | fixed: warnings |",
             "|---|---|---|:-:|---:|---|"]
    for r in rows:
        mark = "✓" if r["top_correct"] else "✗"
        lines.append(f"| {r['baseline']} | {', '.join(r['planted'])} | {r['top']} {mark} | "
                     f"{'✓' if r['all_found'] else '✗'} | {', '.join(str(s) for s in r['steps_to_finding'])} | "
                     f"{', '.join(r['fixed_false_alarms']) or 'none'} |")
    s = res["summary"]
    lines += ["", f"Top finding correct on {s['top_correct']}/{s['baselines']} baselines (multi-bug: every planted bug "
                  f"found); planted bugs found anywhere: {s['recall']:.0%}; fixed versions with a warning or error: "
                  f"{s['fixed_with_warnings']}/{s['baselines']}; median steps until the planted bug's finding: "
                  f"{s['median_steps_to_finding']}."]
    # confusion: planted (single-bug baselines) vs top finding
    single = [r for r in rows if not r["multi"]]
    labels = sorted({r["planted"][0] for r in single} | {r["top"] or "none" for r in single})
    lines += ["", "Confusion (single-bug baselines): rows planted, columns top finding", "",
              "| planted \\ top | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for p in sorted({r["planted"][0] for r in single}):
        counts = [sum(1 for r in single if r["planted"][0] == p and (r["top"] or "none") == t) for t in labels]
        lines.append(f"| {p} | " + " | ".join(str(c) if c else "·" for c in counts) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="baselines to run (default: all)")
    ap.add_argument("--workers", type=int, default=1, help="baselines diagnosed in parallel")
    ap.add_argument("--json", metavar="PATH")
    ap.add_argument("--out-dir", help="keep the runs here")
    args = ap.parse_args(argv)
    res = evaluate(args.names or None, workers=args.workers, out_dir=args.out_dir)
    print(format_tables(res))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
