"""Read an offline W&B run back with W&B's own reader, for the export tests.

wandb >= 0.2x dropped the Python transaction-log reader (``wandb.sdk.internal.datastore``);
the reader now lives in ``wandb-core`` and is exposed as ``wandb leet inspect --json``
(one JSON object per record of the ``.wandb`` log; ``--summary --json`` gives the run's
final state: config, summary, exit code). Older wandb versions still have the Python
``DataStore``; it is used when ``leet`` is not there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


class ReaderUnavailable(RuntimeError):
    """No W&B reader for offline runs works here (the message says why)."""


@dataclass
class WandbRecords:
    history: list[dict] = field(default_factory=list)  # one dict per history row, "_step" included
    config: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    state: str | None = None
    exit_code: int | None = None
    types: list[str] = field(default_factory=list)  # record types in log order

    def series(self, key: str) -> dict[int, object]:
        """``{_step: value}`` of one history key."""
        return {int(r["_step"]): r[key] for r in self.history if key in r}


def _leet(args: list[str], env: dict) -> str:
    proc = subprocess.run([sys.executable, "-m", "wandb", "leet", "inspect", *args], capture_output=True,
                          text=True, timeout=120, env=env, check=False)
    if proc.returncode != 0:
        raise ReaderUnavailable(f"`wandb leet inspect {' '.join(args)}` failed ({proc.returncode}): "
                                f"{(proc.stderr or proc.stdout).strip()[-500:]}")
    return proc.stdout


def read_offline_run(run_dir: Path, env: dict) -> WandbRecords:
    """Records of the single ``run-*.wandb`` log in ``run_dir``."""
    logs = sorted(Path(run_dir).glob("run-*.wandb"))
    if len(logs) != 1:
        raise AssertionError(f"expected one run-*.wandb in {run_dir}, found {logs}")
    try:
        return _read_with_leet(logs[0], env)
    except ReaderUnavailable as leet_error:
        try:
            return _read_with_datastore(logs[0])
        except ImportError:
            raise ReaderUnavailable(
                f"{leet_error}; and this wandb has no wandb.sdk.internal.datastore either") from None


def _read_with_leet(log: Path, env: dict) -> WandbRecords:
    out = WandbRecords()
    for line in _leet(["--json", str(log)], env).splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        out.types.append(rec["type"])
        if rec["type"] == "history":
            out.history.append(rec["history"]["item"])
    summary = json.loads(_leet(["--summary", "--json", str(log)], env))
    out.config = summary.get("config", {})
    out.summary = summary.get("summary", {})
    out.state = summary.get("state")
    out.exit_code = summary.get("exit_code")
    return out


def _read_with_datastore(log: Path) -> WandbRecords:  # pragma: no cover - older wandb only
    from wandb.proto import wandb_internal_pb2 as pb
    from wandb.sdk.internal import datastore

    ds = datastore.DataStore()
    ds.open_for_scan(str(log))
    out = WandbRecords()
    while (data := ds.scan_data()) is not None:
        rec = pb.Record()
        rec.ParseFromString(data)
        kind = rec.WhichOneof("record_type")
        out.types.append(kind)
        if kind == "history":
            out.history.append({i.key or ".".join(i.nested_key): json.loads(i.value_json) for i in rec.history.item})
        elif kind == "run":
            out.config.update({i.key: json.loads(i.value_json) for i in rec.run.config.update})
        elif kind == "config":
            out.config.update({i.key: json.loads(i.value_json) for i in rec.config.update})
        elif kind == "summary":
            out.summary.update({i.key or ".".join(i.nested_key): json.loads(i.value_json) for i in rec.summary.update})
        elif kind == "exit":
            out.exit_code = rec.exit.exit_code
    out.config.pop("_wandb", None)
    return out
