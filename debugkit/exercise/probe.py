"""What a training script fed its model, seen from inside the process, for judging exercise fixes.

The monitor sees model inputs after any augmentation; judging some fixes needs the data *before*
the training loop touches them. :class:`DataProbe` (installed by the script that
:func:`~debugkit.exercise.convert.check_script` writes, inside the process ``debugkit diagnose``
runs) records:

* the rows every ``DataLoader`` yields (fingerprints and a sample with labels), and which
  loaders feed optimizer steps (the training data);
* for every optimizer step, the input the model actually got for that batch, with the batch's
  labels (a sample): the augmented training data;
* the inputs of evaluation passes (model calls under ``torch.no_grad()``), grouped into blocks
  between optimizer steps, so the set evaluated every epoch (validation) can be compared with
  the training rows.

At exit it writes ``<path>.json`` (overlaps, counts) and ``<path>.pt`` (the samples).
"""

from __future__ import annotations

import atexit
import json
import random
from pathlib import Path

import torch
from torch import Tensor

from debugkit.eval_capture import fingerprints

#: At most this many values (rows × features) are kept per sample.
MAX_VALUES = 3_000_000


def _xy(batch) -> tuple[Tensor, Tensor] | None:
    """``(inputs, integer labels)`` of a batch, if it is one."""
    if isinstance(batch, (list, tuple)) and len(batch) >= 2:
        x, y = batch[0], batch[1]
        if (isinstance(x, Tensor) and x.is_floating_point() and x.dim() > 0 and isinstance(y, Tensor)
                and not y.is_floating_point() and y.dim() == 1 and len(y) == len(x)):
            return x, y
    return None


class _Reservoir:
    """A uniform sample of rows (reservoir sampling with a fixed seed)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.x: list[Tensor] = []
        self.y: list[int] = []
        self.seen = 0
        self.cap: int | None = None

    def add(self, x: Tensor, y: Tensor) -> None:
        flat = x.detach().reshape(len(x), -1).float().cpu()
        if self.cap is None:
            self.cap = max(100, min(5000, MAX_VALUES // max(flat.shape[1], 1)))
        if self.x and flat.shape[1] != self.x[0].shape[0]:
            return  # another input shape (a second model input): keep the first kind
        for row, label in zip(flat, y.tolist()):
            self.seen += 1
            if len(self.x) < self.cap:
                self.x.append(row.clone())
                self.y.append(int(label))
            else:
                k = self.rng.randrange(self.seen)
                if k < self.cap:
                    self.x[k], self.y[k] = row.clone(), int(label)

    def tensors(self) -> tuple[Tensor, Tensor] | None:
        if not self.x:
            return None
        return torch.stack(self.x), torch.tensor(self.y)


class DataProbe:
    """Record training data, model inputs and evaluation inputs; write them at exit."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.proj: dict = {}
        self.loader_fps: dict[int, set] = {}
        self.loader_rows: dict[int, _Reservoir] = {}
        self.training_loaders: set[int] = set()
        self.model_inputs = _Reservoir(1)
        self.batch: tuple[int, Tensor, Tensor] | None = None  # (loader id, x, y) of the last batch fetched
        self.pending: tuple[Tensor, Tensor] | None = None  # model input + labels of that batch, until a step
        self.block: dict[str, list] | None = None  # evaluation inputs since the last step, by call
        self.eval_calls: dict[str, dict] = {}  # evaluated inputs (one model call) → in how many blocks
        self.steps = 0
        self.hooked: set[int] = set()
        self._orig: list = []

    # -- installation -----------------------------------------------------------------
    def install(self, *, save_at_exit: bool = True) -> DataProbe:
        """Patch ``DataLoader.__iter__`` and ``Optimizer.__init__`` (undo with :meth:`uninstall`)."""
        from torch.utils.data import DataLoader

        probe = self
        orig_iter = DataLoader.__iter__

        def loader_iter(loader):
            it = orig_iter(loader)

            def gen():
                for batch in it:
                    probe._seen_batch(loader, batch)
                    yield batch

            return gen()

        DataLoader.__iter__ = loader_iter
        self._orig.append((DataLoader, "__iter__", orig_iter))

        orig_init = torch.optim.Optimizer.__init__

        def opt_init(opt, *args, **kwargs):
            orig_init(opt, *args, **kwargs)
            probe._seen_optimizer(opt)

        torch.optim.Optimizer.__init__ = opt_init
        self._orig.append((torch.optim.Optimizer, "__init__", orig_init))
        if save_at_exit:
            atexit.register(self.save)
        return self

    def uninstall(self) -> None:
        for owner, name, fn in reversed(self._orig):
            setattr(owner, name, fn)
        self._orig.clear()

    # -- events -----------------------------------------------------------------------
    def _seen_batch(self, loader, batch) -> None:
        xy = _xy(batch)
        if xy is None:
            return
        x, y = xy
        key = id(loader)
        seen = self.loader_fps.setdefault(key, set())
        fps = fingerprints(x, self.proj)
        new = [i for i, f in enumerate(fps) if f not in seen]  # each row once (epochs repeat them)
        if new and len(seen) < 2_000_000:
            seen.update(fps[i] for i in new)
            idx = torch.tensor(new)
            self.loader_rows.setdefault(key, _Reservoir(2 + len(self.loader_rows))).add(x[idx], y[idx])
        self.batch = (key, x, y)
        self.pending = None

    def _seen_optimizer(self, opt) -> None:
        from debugkit.diagnose.attach import (
            _owner_model,  # the same owner search debugkit diagnose uses
        )
        from debugkit.diagnose.probes import paused

        if paused():
            return
        model = _owner_model([p for g in opt.param_groups for p in g["params"]])
        if model is None:
            return
        probe = self

        def on_step(optimizer, args, kwargs):
            probe._seen_step()

        opt.register_step_post_hook(on_step)
        if id(model) in self.hooked:
            return
        self.hooked.add(id(model))

        def on_forward(module, args):  # a plain function: deep copies of the model share it
            probe._seen_forward(args)

        model.register_forward_pre_hook(on_forward)

    def _seen_forward(self, args) -> None:
        x = next((a for a in args if isinstance(a, Tensor)), None)
        if x is None or not x.is_floating_point() or x.dim() == 0:
            return
        if torch.is_grad_enabled():
            if self.batch is not None and self.pending is None and len(x) == len(self.batch[2]):
                self.pending = (x.detach(), self.batch[2])
            return
        fps = fingerprints(x, self.proj)
        key = f"{len(fps)}:{sum(fps):.3f}"
        self.block = self.block or {}
        self.block.setdefault(key, fps)

    def _seen_step(self) -> None:
        self.steps += 1
        self._close_block()
        if self.batch is not None:
            self.training_loaders.add(self.batch[0])
        if self.pending is not None:
            self.model_inputs.add(*self.pending)
            self.pending = (self.pending[0][:0], self.pending[1][:0])  # once per batch

    def _close_block(self) -> None:
        """An evaluation block (the model calls between two optimizer steps) is over."""
        block, self.block = self.block, None
        for key, fps in (block or {}).items():
            rec = self.eval_calls.setdefault(key, {"n": len(fps), "blocks": 0, "fps": fps})
            rec["blocks"] += 1

    # -- results ----------------------------------------------------------------------
    def summary(self) -> dict:
        """Overlaps and counts (what :meth:`save` writes as JSON).

        The validation set is made of the evaluated inputs that recur in the most evaluation blocks
        (every epoch); inputs evaluated less often (a test set at the end) are reported apart.
        """
        self._close_block()
        train_fps: set = set()
        for key in self.training_loaders:
            train_fps |= self.loader_fps.get(key, set())
        most = max((r["blocks"] for r in self.eval_calls.values()), default=0)
        sets = []
        for label, recs in (("validation", [r for r in self.eval_calls.values() if r["blocks"] == most]),
                            ("other", [r for r in self.eval_calls.values() if r["blocks"] < most])):
            n = sum(r["n"] for r in recs)
            if not n:
                continue
            hits = sum(1 for r in recs for f in r["fps"] if f in train_fps)
            sets.append({"set": label, "n": n, "count": max(r["blocks"] for r in recs),
                         "overlap": hits / n if train_fps else None})
        return {"steps": self.steps, "training_rows": len(train_fps), "training_loaders": len(self.training_loaders),
                "loaders": len(self.loader_fps), "eval_sets": sets,
                "val_overlap": sets[0]["overlap"] if sets else None,
                "model_inputs": self.model_inputs.seen}

    def save(self) -> None:
        summary = self.summary()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {}
        raw = [self.loader_rows[k].tensors() for k in self.training_loaders if k in self.loader_rows]
        raw = [r for r in raw if r is not None]
        if raw:
            dims = raw[0][0].shape[1]
            raw = [r for r in raw if r[0].shape[1] == dims]
            data["raw_x"] = torch.cat([r[0] for r in raw])
            data["raw_y"] = torch.cat([r[1] for r in raw])
        aug = self.model_inputs.tensors()
        if aug is not None:
            data["aug_x"], data["aug_y"] = aug
        torch.save(data, self.path.with_suffix(".pt"))
        self.path.with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")


def install_probe(path: str | Path) -> DataProbe:
    """Install a :class:`DataProbe` writing ``path.json`` / ``path.pt`` at exit (used by check scripts)."""
    return DataProbe(path).install()
