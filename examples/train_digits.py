"""A plain PyTorch training script (it imports nothing of debugkit).

Try it under debugkit:

    debugkit diagnose -- python examples/train_digits.py --lr 3          # far too high
    debugkit diagnose -- python examples/train_digits.py --lr 1e-5       # far too low
    debugkit diagnose -- python examples/train_digits.py                 # healthy
"""

import argparse

import torch
from sklearn.datasets import load_digits
from torch import nn

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
torch.manual_seed(args.seed)

# scikit-learn's bundled 8×8 digits: 1797 real images, no download
X, y = load_digits(return_X_y=True)
X = torch.tensor(X, dtype=torch.float32)
y = torch.tensor(y)
perm = torch.randperm(len(X))
train, val = perm[:1400], perm[1400:]
mean, std = X[train].mean(0), X[train].std(0) + 1e-5
X = (X - mean) / std

model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
criterion = nn.CrossEntropyLoss()
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X[train], y[train]),
                                     batch_size=args.batch_size, shuffle=True)

for epoch in range(args.epochs):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(X[val])
        val_loss = criterion(out, y[val]).item()
        val_acc = (out.argmax(1) == y[val]).float().mean().item()
    print(f"epoch {epoch}  train_loss {loss.item():.3f}  val_loss {val_loss:.3f}  val_acc {val_acc:.3f}")
