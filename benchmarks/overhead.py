"""Per-step cost of debugkit's presets and of Cockpit's configurations, as ratios to plain training.

Setting (Cockpit's own benchmark problem): DeepOBS ``cifar10_3c3d`` (3 conv + 3 dense,
895,210 parameters) on 3×32×32 inputs, batch 128, SGD, ``torch.set_num_threads(2)``.
Every configuration trains its own copy of the model on the same batches; the
configurations are measured **interleaved, round by round**, so that a noisy machine
slows all of them alike, and each is reported relative to plain training measured in
the same rounds.  Cockpit keeps global state (a second Cockpit in one process fails),
so every group of configurations runs in its own fresh process: each Cockpit
configuration interleaved with plain training and with debugkit computing the same
quantities, and debugkit's own presets interleaved with plain training.

* ``every_step``: every instrument runs every step; the ratio of median step times.
* ``every_10``: instruments run every 10th step; the ratio of mean step times over whole
  10-step windows (the tracked step's cost is spread over the window).

``debugkit_cockpit_<cfg>`` computes the quantities of Cockpit's ``<cfg>`` configuration.

Usage::

    python benchmarks/overhead.py                    # full table (several minutes)
    python benchmarks/overhead.py --quick            # fewer rounds, no Cockpit full
    python benchmarks/overhead.py --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import torch
from torch import nn

warnings.filterwarnings("ignore")

import debugkit  # noqa: E402
from debugkit.models import ThreeCThreeD  # noqa: E402
from debugkit.schedules import every  # noqa: E402

BATCH = 128


class Runner:
    """One configuration: a model copy, its optimizer, and the tool watching it."""

    def __init__(self, key: str, base: nn.Module, interval: int, tmp: str):
        self.key = key
        self.model = copy.deepcopy(base)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01)
        self.loss_fn = nn.CrossEntropyLoss()
        self.step_no = 0
        self.monitor = None
        self.cockpit = None
        tool, _, preset = key.partition("_")
        if tool == "debugkit":
            preset = preset.replace("cockpit_", "cockpit:")
            self.monitor = debugkit.Monitor(self.model, self.opt, self.loss_fn, preset=preset,
                                            schedule=every(interval), run_dir=f"{tmp}/{key}")
        elif tool == "cockpit":
            from backpack import extend
            from cockpit import Cockpit
            from cockpit.utils.configuration import configuration
            from cockpit.utils.schedules import linear

            self.model = extend(self.model)
            self.loss_fn = extend(self.loss_fn)
            self.ind_loss = nn.CrossEntropyLoss(reduction="none")
            self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01)
            self.cockpit = Cockpit(self.model.parameters(),
                                   quantities=configuration(preset, track_schedule=linear(interval)))

    def step(self, x, y) -> float:
        t0 = time.perf_counter()
        self.opt.zero_grad()
        out = self.model(x)
        loss = self.loss_fn(out, y)
        if self.cockpit is not None:
            losses = self.ind_loss(out, y)
            info = {"batch_size": len(x), "individual_losses": losses, "loss": loss, "optimizer": self.opt}
            with self.cockpit(self.step_no, info=info):
                loss.backward(create_graph=self.cockpit.create_graph(self.step_no))
        else:
            loss.backward()
        self.opt.step()
        self.step_no += 1
        return time.perf_counter() - t0

    def close(self):
        if self.monitor is not None:
            self.monitor.close()


def measure(keys: list[str], interval: int, rounds: int, steps_per_round: int) -> dict[str, float]:
    """Interleaved timing; returns ratio to plain per key."""
    torch.manual_seed(0)
    net = ThreeCThreeD(10)
    # one flat Sequential: BackPACK's second-order extensions (Cockpit business/full) need it
    base = nn.Sequential(*net.features, *net.classifier)
    g = torch.Generator().manual_seed(0)
    batches = [(torch.randn(BATCH, 3, 32, 32, generator=g), torch.randint(0, 10, (BATCH,), generator=g))
               for _ in range(4)]
    times: dict[str, list[float]] = {k: [] for k in keys}
    with tempfile.TemporaryDirectory() as tmp:
        runners = {k: Runner(k, base, interval, tmp) for k in keys}
        for r in runners.values():  # warm-up: allocator, kernels, the tracked step 0
            for i in range(2 if interval == 1 else interval):
                r.step(*batches[i % 4])
        for rnd in range(rounds):
            for k, r in runners.items():
                window = [r.step(*batches[(rnd + i) % 4]) for i in range(steps_per_round)]
                times[k].append(statistics.median(window) if interval == 1 else sum(window) / len(window))
            print(f"  round {rnd + 1}/{rounds} ({interval=})", file=sys.stderr, flush=True)
        for r in runners.values():
            r.close()
    agg = statistics.median
    plain = agg(times["plain"])
    return {k: agg(v) / plain for k, v in times.items()} | {"plain_seconds": plain}


def _measure_in_subprocess(group: list[str], interval: int, rounds: int, spr: int) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--group", ",".join(group), "--interval", str(interval),
           "--rounds", str(rounds), "--steps-per-round", str(spr)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="2 rounds, no Cockpit/debugkit 'full' configurations")
    ap.add_argument("--no-cockpit", action="store_true", help="skip Cockpit (not installed, or too slow)")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers as JSON")
    ap.add_argument("--group", help=argparse.SUPPRESS)  # internal: measure one group in this process
    ap.add_argument("--interval", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--steps-per-round", type=int, default=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    if args.group:
        out = measure(args.group.split(","), args.interval, args.rounds, args.steps_per_round)
        print("RESULT " + json.dumps(out))
        return out
    rounds = 2 if args.quick else args.rounds

    ours = ["debugkit_economy", "debugkit_standard", "debugkit_full",
            "debugkit_cockpit_economy", "debugkit_cockpit_business", "debugkit_cockpit_full"]
    theirs = ["cockpit_economy", "cockpit_business", "cockpit_full"]
    if args.quick:
        ours = [k for k in ours if not k.endswith("full")]
        theirs = [k for k in theirs if not k.endswith("full")]
    if args.no_cockpit:
        theirs = []
    else:
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                import cockpit  # noqa: F401
        except ImportError:
            print("cockpit-for-pytorch is not installed: measuring debugkit only", file=sys.stderr)
            theirs = []
    groups = [["plain"] + [k for k in ours if not k.startswith("debugkit_cockpit_")]]
    for t in theirs:
        groups.append(["plain", "debugkit_cockpit_" + t.split("_", 1)[1], t])
    mirrored = {g[1] for g in groups[1:]}
    groups += [["plain", k] for k in ours if k.startswith("debugkit_cockpit_") and k not in mirrored]
    keys = ["plain"] + ours + theirs
    results = {}
    for label, interval, spr in [("every_step", 1, 3), ("every_10", 10, 10)]:
        results[label] = {}
        for group in groups:
            print(f"measuring {label}: {', '.join(group[1:])} ...", file=sys.stderr)
            out = _measure_in_subprocess(group, interval, rounds, spr)
            results[label].update({k: v for k, v in out.items() if k not in results[label]})

    print(f"\nStep time relative to plain training (3c3d, batch {BATCH}, 2 threads; "
          f"plain = {results['every_step']['plain_seconds'] * 1000:.0f} ms/step)\n")
    print(f"| configuration | every step | every 10 steps |")
    print(f"|---|---:|---:|")
    for k in keys:
        print(f"| {k} | {results['every_step'][k]:.2f}× | {results['every_10'][k]:.2f}× |")
    if theirs:
        print("\nCockpit ÷ debugkit on the same quantities:\n")
        print("| configuration | every step | every 10 steps |")
        print("|---|---:|---:|")
        for t in theirs:
            cfg = t.split("_", 1)[1]
            o = f"debugkit_cockpit_{cfg}"
            if o in results["every_step"]:
                print(f"| {cfg} | {results['every_step'][t] / results['every_step'][o]:.1f}× cheaper | "
                      f"{results['every_10'][t] / results['every_10'][o]:.1f}× cheaper |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return results


if __name__ == "__main__":
    main()
