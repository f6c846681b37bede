"""The monitor under DistributedDataParallel (gloo, 2 CPU processes): global statistics over the global batch."""

import os
import socket

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

import debugkit
from debugkit import instruments as I

STEPS, B = 4, 16  # global batch 16 = 2 ranks × 8


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(STEPS * B, 6, generator=g), torch.randint(0, 3, (STEPS * B,), generator=g)


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))


def _instruments():
    return [I.Loss(), I.GradNorm(), I.NormTest(), I.InnerTest(), I.OrthoTest(), I.MeanGSNR(), I.Alpha(exact=True),
            I.HessMaxEV(1, rtol=1e-6, warm_start=False), I.HessTrace(1, method="exact"), I.UpdateSize()]


def _train(model, opt, x, y, lo, hi, run_dir):
    mon = debugkit.Monitor(model, opt, nn.CrossEntropyLoss(), preset=None, instruments=_instruments(),
                           run_dir=run_dir, subsample=None, strict=True)
    loss_fn = nn.CrossEntropyLoss()
    for s in range(STEPS):
        xb, yb = x[s * B:(s + 1) * B][lo:hi], y[s * B:(s + 1) * B][lo:hi]
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    mon.close()


def _worker(rank, port, run_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    torch.set_num_threads(1)
    try:
        model = nn.parallel.DistributedDataParallel(_model())
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = _data()
        half = B // 2
        _train(model, opt, x, y, rank * half, (rank + 1) * half, run_dir)
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ddp_matches_single_process_on_the_global_batch(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path / "ddp")), nprocs=2, join=True)
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = _data()
    _train(model, opt, x, y, 0, B, tmp_path / "single")
    ddp = debugkit.load_run(tmp_path / "ddp").scalars
    one = debugkit.load_run(tmp_path / "single").scalars
    assert debugkit.load_run(tmp_path / "ddp").meta["world_size"] == 2
    cols = ["loss", "grad_norm", "norm_test", "inner_test", "ortho_test", "mean_gsnr", "hess_max_ev", "hess_trace",
            "update_size"]
    np.testing.assert_allclose(ddp[cols].to_numpy(float), one[cols].to_numpy(float), rtol=2e-3, atol=1e-6)
    np.testing.assert_allclose(ddp["alpha"].to_numpy(float)[:STEPS - 1], one["alpha"].to_numpy(float)[:STEPS - 1],
                               rtol=2e-3, atol=1e-5)
