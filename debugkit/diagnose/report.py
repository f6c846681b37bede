"""A ranked diagnosis report: text for people, JSON for programs."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from debugkit.diagnose.findings import Finding

_BADGE = {"error": "ERROR", "warning": "WARN ", "info": "info "}


@dataclass
class Report:
    """Findings ranked most likely first."""

    run_dir: str
    steps: int
    findings: list[Finding] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def top(self) -> Finding | None:
        return self.findings[0] if self.findings else None

    def ids(self, min_severity: str = "info") -> list[str]:
        from debugkit.diagnose.findings import SEVERITIES

        lvl = SEVERITIES.index(min_severity)
        return [f.id for f in self.findings if SEVERITIES.index(f.severity) >= lvl]

    def to_dict(self) -> dict:
        return {"run_dir": self.run_dir, "steps": self.steps, "summary": self.meta,
                "findings": [_clean(f.to_dict()) for f in self.findings]}

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        return path

    def format(self, width: int = 100) -> str:
        lines = [f"debugkit diagnosis of {self.run_dir} ({self.steps} steps)"]
        m = self.meta
        if "loss_start" in m and "loss_end" in m:
            lines.append(f"  loss {m['loss_start']:.4g} → {m['loss_end']:.4g}"
                         + (f", validation accuracy {m['val_acc']:.1%}" if "val_acc" in m else ""))
        if not self.findings:
            lines.append("\nNo findings: nothing in the recorded signals looks wrong.")
            return "\n".join(lines)
        lines.append("")
        for i, f in enumerate(self.findings, 1):
            when = f" (from step {f.first_step})" if f.first_step is not None else ""
            lines.append(f"{i}. [{_BADGE[f.severity]}] {f.title} — {f.id}, confidence {f.confidence:.0%}{when}")
            for label, text in (("why", f.hypothesis), ("try", f.suggestion)):
                wrapped = textwrap.wrap(text, width=width - 10)
                for j, w in enumerate(wrapped):
                    lines.append(f"     {label + ':' if j == 0 else '    '} {w}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _clean(d: dict) -> dict:
    """JSON-friendly: NaN → None, nested numpy values → floats."""
    import math

    def fix(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [fix(x) for x in v]
        if hasattr(v, "item"):
            return fix(v.item())
        return v

    return fix(d)
