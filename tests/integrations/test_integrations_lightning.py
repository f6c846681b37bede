"""DebugkitCallback: a tiny LightningModule trained on CPU, compared with what Lightning itself logged."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import debugkit

try:
    import lightning.pytorch as L
    from lightning.pytorch.loggers import CSVLogger
    from lightning.pytorch.utilities import grad_norm
except ImportError:  # pragma: no cover - older package name
    L = pytest.importorskip("pytorch_lightning", reason="needs `pip install lightning`")
    from pytorch_lightning.loggers import CSVLogger
    from pytorch_lightning.utilities import grad_norm

from debugkit.integrations.lightning import ClosureFirst, DebugkitCallback

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers.*"),
    pytest.mark.filterwarnings("ignore:.*LeafSpec.*"),
    pytest.mark.filterwarnings("ignore:.*number of training batches.*"),
    pytest.mark.filterwarnings("ignore:.*cannot run.*:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:.*no `val_dataloader`.*"),
]

BATCHES, BATCH_SIZE, FEATURES, CLASSES = 4, 16, 10, 3


class TinyModule(L.LightningModule):
    """Logs its loss per step and Lightning's own total gradient norm before each optimizer step."""

    def __init__(self, lr: float = 0.1, call_self: bool = True, fail_at: int | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, CLASSES))
        self.loss_fn = nn.CrossEntropyLoss()
        self.batch_losses: list[float] = []
        self.step_grad_norms: list[float] = []

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        if self.hparams.fail_at is not None and self.global_step == self.hparams.fail_at:
            raise RuntimeError("boom")
        x, y = batch
        loss = self.loss_fn(self(x) if self.hparams.call_self else self.net(x), y)
        self.batch_losses.append(loss.item())
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def on_before_optimizer_step(self, optimizer):
        total = grad_norm(self, norm_type=2)["grad_2.0_norm_total"]
        self.step_grad_norms.append(float(total))
        self.log("lightning_grad_norm", total, on_step=True, on_epoch=False)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        out = self(x)
        self.log("val_loss", self.loss_fn(out, y))
        self.log("val_acc", (out.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)


def loader(seed: int = 0, batches: int = BATCHES):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batches * BATCH_SIZE, FEATURES, generator=g)
    y = torch.randint(0, CLASSES, (batches * BATCH_SIZE,), generator=g)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=BATCH_SIZE)


def trainer(tmp_path, callback, **kw):
    opts = {"max_epochs": 2, "accelerator": "cpu", "devices": 1, "log_every_n_steps": 1,
            "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False,
            "default_root_dir": tmp_path, "logger": CSVLogger(tmp_path / "logs", name="tiny"),
            "callbacks": [callback]}
    opts.update(kw)
    return L.Trainer(**opts)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Two epochs of four batches, validated each epoch; the run and Lightning's CSV log."""
    tmp = tmp_path_factory.mktemp("lightning")
    torch.manual_seed(0)
    backward_before = torch.Tensor.backward
    cb = DebugkitCallback(preset="economy", run_dir=tmp / "run")
    module = TinyModule()
    tr = trainer(tmp, cb)
    tr.fit(module, loader(0), loader(1))
    csv = pd.read_csv(f"{tr.logger.log_dir}/metrics.csv")
    return {"cb": cb, "module": module, "trainer": tr, "run": debugkit.load_run(tmp / "run"), "csv": csv,
            "backward_before": backward_before}


def test_run_directory_loads_and_is_finished(fitted):
    run = fitted["run"]
    assert run.meta["status"] == "finished"
    assert run.meta["integration"] == "lightning"
    assert run.meta["config"] == {"lr": 0.1, "call_self": True, "fail_at": None}  # the module's hparams
    assert run.meta["optimizer"]["class"] == "SGD"
    assert run.meta["trainer"]["max_epochs"] == 2
    assert fitted["cb"].run.path == run.path


def test_per_step_loss_matches_lightnings_log(fitted):
    run, csv = fitted["run"], fitted["csv"]
    steps = run.scalars.index.tolist()
    assert steps == list(range(fitted["trainer"].global_step)) == list(range(2 * BATCHES))
    logged = csv.dropna(subset=["train_loss_step"])
    assert logged["step"].tolist() == steps
    np.testing.assert_allclose(run.scalars["loss"].to_numpy(float), logged["train_loss_step"].to_numpy(float),
                               rtol=1e-6)
    np.testing.assert_allclose(run.scalars["loss"].to_numpy(float), fitted["module"].batch_losses, rtol=1e-12)


def test_gradient_norm_is_this_steps(fitted):
    """Equal to Lightning's grad_norm() just before each update (not the previous step's)."""
    run, csv = fitted["run"], fitted["csv"]
    logged = csv.dropna(subset=["lightning_grad_norm"])
    assert logged["step"].tolist() == run.scalars.index.tolist()
    np.testing.assert_allclose(run.scalars["grad_norm"].to_numpy(float),
                               logged["lightning_grad_norm"].to_numpy(float), rtol=1e-5)
    assert (run.scalars["update_size"] > 0).all()
    assert (run.scalars["lr"] == 0.1).all()
    layers = run.layer_table("grad_norm")
    assert list(layers.columns) == ["net.0", "net.2"]
    np.testing.assert_allclose(np.sqrt((layers**2).sum(axis=1)), run.scalars["grad_norm"], rtol=1e-6)


def test_epoch_metrics_come_from_callback_metrics(fitted):
    run, csv = fitted["run"], fitted["csv"]
    ep = run.epochs
    assert ep["epoch"].tolist() == [0, 1]
    assert ep["step"].tolist() == [BATCHES, 2 * BATCHES]
    val = csv.dropna(subset=["val_loss"])
    np.testing.assert_allclose(ep["val_loss"].to_numpy(float), val["val_loss"].to_numpy(float), rtol=1e-6)
    np.testing.assert_allclose(ep["val_acc"].to_numpy(float), val["val_acc"].to_numpy(float), rtol=1e-6)
    train = csv.dropna(subset=["train_loss_epoch"])
    np.testing.assert_allclose(ep["train_loss_epoch"].to_numpy(float), train["train_loss_epoch"].to_numpy(float),
                               rtol=1e-6)
    # the epoch mean of the per-step losses
    losses = np.array(fitted["module"].batch_losses).reshape(2, BATCHES).mean(axis=1)
    np.testing.assert_allclose(ep["train_loss_epoch"].to_numpy(float), losses, rtol=1e-5)


def test_everything_is_detached_after_fit(fitted):
    assert torch.Tensor.backward is fitted["backward_before"]
    opt = fitted["trainer"].optimizers[0]
    assert "step" not in vars(opt)  # ClosureFirst removed
    assert not opt._optimizer_step_pre_hooks and not opt._optimizer_step_post_hooks
    assert not fitted["module"]._forward_hooks and not fitted["module"]._forward_pre_hooks


def test_gradient_accumulation(tmp_path):
    torch.manual_seed(1)
    cb = DebugkitCallback(run_dir=tmp_path / "run")
    module = TinyModule()
    tr = trainer(tmp_path, cb, max_epochs=1, accumulate_grad_batches=2, logger=False)
    tr.fit(module, loader(0))
    run = debugkit.load_run(tmp_path / "run")
    assert run.scalars.index.tolist() == list(range(tr.global_step)) == [0, 1]
    expected = np.array(module.batch_losses).reshape(2, 2).mean(axis=1)  # both micro-batches of each step
    np.testing.assert_allclose(run.scalars["loss"].to_numpy(float), expected, rtol=1e-12)
    np.testing.assert_allclose(run.scalars["grad_norm"].to_numpy(float), module.step_grad_norms, rtol=1e-5)


def test_submodule_named_by_model(tmp_path):
    torch.manual_seed(2)
    cb = DebugkitCallback(run_dir=tmp_path / "run", model="net")
    module = TinyModule(call_self=False)  # training_step calls self.net(x)
    trainer(tmp_path, cb, max_epochs=1, logger=False).fit(module, loader(0))
    run = debugkit.load_run(tmp_path / "run")
    assert run.meta["model"]["class"] == "Sequential"
    np.testing.assert_allclose(run.scalars["loss"].to_numpy(float), module.batch_losses, rtol=1e-12)
    assert run.scalars["output_entropy"].notna().all()  # the monitor saw the forward pass


def test_manual_optimization(tmp_path):
    class Manual(TinyModule):
        def __init__(self):
            super().__init__()
            self.automatic_optimization = False

        def training_step(self, batch, batch_idx):
            opt = self.optimizers()
            opt.zero_grad()
            loss = self.loss_fn(self(batch[0]), batch[1])
            self.batch_losses.append(loss.item())
            self.manual_backward(loss)
            opt.step()  # Lightning calls on_before_optimizer_step (the grad norm) in here

    torch.manual_seed(6)
    module = Manual()
    trainer(tmp_path, DebugkitCallback(run_dir=tmp_path / "run"), max_epochs=1, logger=False).fit(module, loader(0))
    run = debugkit.load_run(tmp_path / "run")
    np.testing.assert_allclose(run.scalars["loss"].to_numpy(float), module.batch_losses, rtol=1e-12)
    np.testing.assert_allclose(run.scalars["grad_norm"].to_numpy(float), module.step_grad_norms, rtol=1e-5)


def test_unknown_submodule(tmp_path):
    cb = DebugkitCallback(run_dir=tmp_path / "run", model="encoder")
    with pytest.raises(ValueError, match="no submodule 'encoder'"):
        trainer(tmp_path, cb, max_epochs=1, logger=False).fit(TinyModule(), loader(0))


def test_crash_marks_the_run_and_detaches(tmp_path):
    backward_before = torch.Tensor.backward
    cb = DebugkitCallback(run_dir=tmp_path / "run")
    tr = trainer(tmp_path, cb, max_epochs=1, logger=False)
    with pytest.raises(RuntimeError, match="boom"):
        tr.fit(TinyModule(fail_at=2), loader(0))
    run = debugkit.load_run(tmp_path / "run")
    assert run.meta["status"] == "crashed"
    assert run.scalars.index.tolist() == [0, 1]
    assert torch.Tensor.backward is backward_before
    assert "step" not in vars(tr.optimizers[0])


def test_default_run_dir_is_under_default_root_dir_and_new_per_fit(tmp_path):
    cb = DebugkitCallback()
    trainer(tmp_path, cb, max_epochs=1, logger=False, limit_train_batches=2).fit(TinyModule(), loader(0))
    first = cb.run_dir
    assert first.parent == tmp_path / "debugkit"
    assert first.name.endswith("-tinymodule")
    assert len(cb.run.scalars) == 2
    trainer(tmp_path, cb, max_epochs=1, logger=False, limit_train_batches=3).fit(TinyModule(), loader(0))
    assert cb.run_dir != first and cb.run_dir.parent == first.parent
    assert len(cb.run.scalars) == 3 and len(debugkit.load_run(first).scalars) == 2


@pytest.mark.filterwarnings("ignore:.*callbacks used to create the checkpoint.*")
def test_resumed_fit_continues_the_step_axis(tmp_path):
    torch.manual_seed(5)
    first = TinyModule()
    tr = trainer(tmp_path, DebugkitCallback(run_dir=tmp_path / "run"), max_epochs=1, logger=False,
                 enable_checkpointing=True)
    tr.fit(first, loader(0))
    ckpt = tr.checkpoint_callback.best_model_path
    second = TinyModule()
    tr2 = trainer(tmp_path, DebugkitCallback(run_dir=tmp_path / "run"), max_epochs=2, logger=False)
    tr2.fit(second, loader(0), ckpt_path=ckpt)
    run = debugkit.load_run(tmp_path / "run")
    assert run.scalars.index.tolist() == list(range(tr2.global_step)) == list(range(2 * BATCHES))
    np.testing.assert_allclose(run.scalars["loss"].to_numpy(float), first.batch_losses + second.batch_losses,
                               rtol=1e-12)
    assert run.epochs["epoch"].tolist() == [0, 1] and run.meta["status"] == "finished"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"preset": "nope"}, ValueError, "unknown preset"),
    ({"max_steps": 3}, ValueError, r"Trainer\(max_steps=...\)"),
    ({"max_time": 3.0}, ValueError, r"Trainer\(max_time=...\)"),
    ({"optimizer": None}, TypeError, "first optimizer"),
])
def test_arguments_are_checked_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        DebugkitCallback(**kwargs)


def test_run_before_fit_says_so():
    with pytest.raises(RuntimeError, match="trainer.fit"):
        _ = DebugkitCallback().run


def test_lbfgs_is_refused_with_a_warning(tmp_path):
    class LBFGSModule(TinyModule):
        def configure_optimizers(self):
            return torch.optim.LBFGS(self.parameters(), lr=0.1, max_iter=2)

    cb = DebugkitCallback(run_dir=tmp_path / "run")
    with pytest.warns(RuntimeWarning, match="LBFGS evaluates the closure several times"):
        trainer(tmp_path, cb, max_epochs=1, logger=False, limit_train_batches=1).fit(LBFGSModule(), loader(0))
    assert not (tmp_path / "run").exists()


def test_closure_first_with_a_plain_loop(tmp_path):
    """optimizer.step(closure): the monitor sees this step's batch and gradients; remove() restores."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(FEATURES, 8), nn.ReLU(), nn.Linear(8, CLASSES))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)  # wraps opt.step itself
    scheduler_step = vars(opt)["step"]
    loss_fn = nn.CrossEntropyLoss()
    wrapper = ClosureFirst(opt)
    losses, norms = [], []
    with warnings.catch_warnings():
        # the scheduler warns if opt.step lost its mark, i.e. if the wrapper hid it
        warnings.filterwarnings("error", message=".*optimizer.step.*")
        train_with_closures(model, opt, sched, loss_fn, tmp_path / "run", losses, norms)
    wrapper.remove()
    assert vars(opt)["step"] is scheduler_step
    run = debugkit.load_run(tmp_path / "run")
    np.testing.assert_allclose(run.scalars["loss"].to_numpy(float), losses, rtol=1e-12)
    np.testing.assert_allclose(run.scalars["grad_norm"].to_numpy(float), norms, rtol=1e-5)
    np.testing.assert_allclose(run.scalars["lr"].to_numpy(float), 0.01 * 0.1 ** np.arange(BATCHES), rtol=1e-9)


def train_with_closures(model, opt, sched, loss_fn, run_dir, losses, norms):
    with debugkit.Monitor(model, opt, loss_fn=loss_fn, run_dir=run_dir) as mon:
        for x, y in loader(4):
            def closure(x=x, y=y):
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                losses.append(loss.item())
                norms.append(float(torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))))
                return loss

            assert opt.step(closure).item() == losses[-1]
            sched.step()
        mon.log(0, val_loss=1.0)

