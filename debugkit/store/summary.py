"""Text summaries of runs for the command line (``debugkit runs ls|show``)."""

from __future__ import annotations

import math
from typing import Any

from debugkit.store.reader import Run

# Scalars worth a line in a summary, in this order.
SUMMARY_SCALARS = ["loss", "grad_norm", "alpha", "update_ratio", "distance", "hess_max_ev", "hess_trace", "tic",
                   "norm_test", "inner_test", "ortho_test", "mean_gsnr", "step_time"]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.4g}"
    return str(v)


def run_summary(run: Run) -> dict:
    """Key facts of a run: identity, status, size, last values and epoch metrics."""
    s = run.scalars
    meta = run.meta
    out: dict[str, Any] = {
        "path": str(run.path),
        "name": run.name,
        "status": meta.get("status", "?"),
        "created": meta.get("created"),
        "model": (meta.get("model") or {}).get("class"),
        "parameters": (meta.get("model") or {}).get("num_params"),
        "optimizer": (meta.get("optimizer") or {}).get("class"),
        "preset": meta.get("preset"),
        "steps": int(s.index.max()) + 1 if len(s) else 0,
        "last": {},
        "epochs": len(run.epochs),
    }
    for col in SUMMARY_SCALARS:
        if col in s.columns:
            vals = s[col].dropna()
            if len(vals):
                out["last"][col] = float(vals.iloc[-1])
    if "loss" in s.columns and len(s.loss.dropna()):
        out["first_loss"] = float(s.loss.dropna().iloc[0])
    if len(run.epochs):
        last = run.epochs.iloc[-1].to_dict()
        out["last_epoch"] = {k: v for k, v in last.items() if v == v and v is not None}
    ev = run.events
    if len(ev):
        out["events"] = [f"step {r.step}: [{r.kind}] {r.message}" for r in ev.itertuples()][:20]
    return out


def format_summary(summary: dict) -> str:
    lines = [f"{summary['name']}  ({summary['path']})",
             f"  status {summary['status']}, {summary['steps']} steps, {summary['epochs']} epochs, "
             f"created {summary.get('created')}",
             f"  model {summary.get('model')} ({summary.get('parameters')} parameters), optimizer "
             f"{summary.get('optimizer')}, preset {summary.get('preset')}"]
    if "first_loss" in summary:
        lines.append(f"  loss {summary['first_loss']:.4g} → {_fmt(summary['last'].get('loss', float('nan')))}")
    if summary["last"]:
        lines.append("  last values: " + ", ".join(f"{k}={_fmt(v)}" for k, v in summary["last"].items()))
    if "last_epoch" in summary:
        lines.append("  last epoch: " + ", ".join(f"{k}={_fmt(v)}" for k, v in summary["last_epoch"].items()))
    for e in summary.get("events", []):
        lines.append(f"  {e}")
    return "\n".join(lines)


def runs_table(runs: list[Run]) -> str:
    """One line per run: name, status, steps, final loss, path."""
    rows = [("run", "status", "steps", "loss", "val_acc", "path")]
    for r in runs:
        s = run_summary(r)
        val = s.get("last_epoch", {}).get("val_acc")
        rows.append((s["name"], s["status"], str(s["steps"]), _fmt(s["last"].get("loss", float("nan"))),
                     _fmt(val) if val is not None else "-", s["path"]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)
