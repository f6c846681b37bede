"""Evaluation passes seen from outside: validation metrics, separate sets, leakage signals."""

import numpy as np
import pytest
import torch
from torch import nn

import debugkit


def _setup(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    mon = debugkit.Monitor(model, opt, nn.CrossEntropyLoss(), run_dir=tmp_path / "r", capture_eval=True, strict=True)
    return model, opt, mon


def test_val_and_test_evaluated_back_to_back_are_separate_records(tmp_path):
    model, opt, mon = _setup(tmp_path)
    g = torch.Generator().manual_seed(1)
    xt, yt = torch.randn(64, 4, generator=g), torch.randint(0, 3, (64,), generator=g)
    xv, yv = torch.randn(30, 4, generator=g), torch.randint(0, 3, (30,), generator=g)
    xs, ys = torch.randn(30, 4, generator=g), torch.randint(0, 3, (30,), generator=g)
    loss_fn = nn.CrossEntropyLoss()
    accs = []
    for epoch in range(3):
        for i in range(0, 64, 16):
            opt.zero_grad()
            loss_fn(model(xt[i:i + 16]), yt[i:i + 16]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for i in range(0, 30, 10):  # batched validation
                out = model(xv[i:i + 10])
                loss_fn(out, yv[i:i + 10])
            accs.append((model(xv).argmax(1) == yv).float().mean().item())
        model.train()
    model.eval()
    with torch.no_grad():
        test_acc = (model(xs).argmax(1) == ys).float().mean().item()
        loss_fn(model(xs), ys)
    mon.close()
    ep = debugkit.load_run(tmp_path / "r").epochs
    val = ep[ep.val_set == "set0"]
    assert len(val) == 3 and (val.val_n == 30).all()
    np.testing.assert_allclose(val.val_acc.to_numpy(), accs, atol=1e-6)
    test = ep[ep.val_set != "set0"]
    assert len(test) == 1 and test.val_acc.iloc[0] == pytest.approx(test_acc)
    assert (ep.val_train_mode == 0).all()


def test_overlap_and_own_normalisation_signals(tmp_path):
    model, opt, mon = _setup(tmp_path)
    g = torch.Generator().manual_seed(2)
    xt, yt = torch.randn(64, 4, generator=g) + 1.0, torch.randint(0, 3, (64,), generator=g)
    loss_fn = nn.CrossEntropyLoss()
    for i in range(0, 64, 16):
        opt.zero_grad()
        loss_fn(model(xt[i:i + 16]), yt[i:i + 16]).backward()
        opt.step()
    with torch.no_grad():
        leak = xt[:32]  # validation drawn from the training data
        loss_fn(model(leak), yt[:32])
    opt.zero_grad()
    loss_fn(model(xt[:16]), yt[:16]).backward()
    opt.step()
    with torch.no_grad():
        own = torch.randn(32, 4, generator=g)
        own = (own - own.mean(0)) / own.std(0)  # normalised with its own statistics
        loss_fn(model(own), yt[:32])
    mon.close()
    ep = debugkit.load_run(tmp_path / "r").epochs
    assert ep.val_overlap.iloc[0] == 1.0 and ep.val_overlap.iloc[1] == 0.0
    assert ep.val_feature_mean_abs.iloc[1] < 1e-6 < ep.val_feature_mean_abs.iloc[0]
