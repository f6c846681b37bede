# %% [markdown]
# # Handwritten digits: a 16-d embedding
#
# An MLP with a 16-dimensional embedding layer and a linear classifier on top, trained with SGD
# and momentum.
#
# Run it with `python train.py [--epochs N] [--seed S]`.

# %%
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
sys.path.insert(0, str(HERE.parent))  # utils.py sits one folder up
from utils import accuracy, load_raw_digits, print_epoch, report_result  # noqa: E402

parser = argparse.ArgumentParser(description="Train an embedding MLP on 8x8 digits.")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--seed", type=int, default=0)
args, _ = parser.parse_known_args()  # parse_known_args: Jupyter passes arguments of its own

torch.manual_seed(args.seed)
np.random.seed(args.seed)

# %% [markdown]
# ## Data
# 1797 grey-scale images of 8x8 pixels with values 0..16: 360 for testing, 360 for validation,
# the rest for training.

# %%
X, y = load_raw_digits()
X = X / 16.0

perm = np.random.permutation(len(X))
test_idx = perm[:360]
val_idx = perm[360:720]
train_idx = perm[720:]
X_train, y_train = X[train_idx], y[train_idx]
X_val, y_val = X[val_idx], y[val_idx]
X_test, y_test = X[test_idx], y[test_idx]

mean, std = X_train.mean(), X_train.std()
X_train = (X_train - mean) / std
X_val = (X_val - mean) / std
X_test = (X_test - mean) / std

X_train, y_train = torch.tensor(X_train), torch.tensor(y_train)
X_val, y_val = torch.tensor(X_val), torch.tensor(y_val)
X_test, y_test = torch.tensor(X_test), torch.tensor(y_test)
train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)

# %% [markdown]
# ## Model
# A 16-dimensional embedding (to plot later) followed by a linear classifier.

# %%
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Linear(64, 128),
            nn.ReLU(),
            nn.Linear(128, 16),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(16, 10)

    def forward(self, x):
        embedding = self.features(x)
        self.embedding = embedding.detach()  # keep the last embedding for plotting
        return self.classifier(self.embedding)


model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

# %% [markdown]
# ## Training

# %%
def evaluate(X, y):
    model.eval()
    with torch.no_grad():
        logits = model(X)
        loss = criterion(logits, y).item()
    return loss, accuracy(logits, y)


for epoch in range(1, args.epochs + 1):
    model.train()
    total_loss, total_correct, total_seen = 0.0, 0, 0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        output = model(xb)
        loss = criterion(output, yb)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(yb)
        total_correct += (output.argmax(dim=1) == yb).sum().item()
        total_seen += len(yb)
    train_loss = total_loss / total_seen
    train_acc = total_correct / total_seen
    val_loss, val_acc = evaluate(X_val, y_val)
    print_epoch(epoch, train_loss, train_acc, val_loss, val_acc)

# %% [markdown]
# ## Test set
# Evaluated once, at the very end.

# %%
test_loss, test_acc = evaluate(X_test, y_test)
print(f"test_loss {test_loss:.4f} test_acc {test_acc:.4f}")
report_result(train_loss, train_acc, val_loss, val_acc, test_loss, test_acc)
