# %% [markdown]
# # A CIFAR-10-style CNN on upsampled digits
#
# The digits as 3x32x32 8-bit RGB images and a small three-block CNN, as one would train on
# CIFAR-10. Convolutions get weight decay, the classifier does not.
#
# Run it with `python train.py [--epochs N] [--seed S]`.

# %%
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
sys.path.insert(0, str(HERE.parent))  # utils.py sits one folder up
from utils import accuracy, load_raw_digits, print_epoch, report_result  # noqa: E402

parser = argparse.ArgumentParser(description="Train a small CNN on 32x32 digits.")
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--seed", type=int, default=0)
args, _ = parser.parse_known_args()  # parse_known_args: Jupyter passes arguments of its own

torch.manual_seed(args.seed)
np.random.seed(args.seed)

# %% [markdown]
# ## Data
# The 8x8 digits, upsampled to 32x32 RGB images with 8-bit values (like CIFAR-10):
# 360 for testing, 360 for validation, the rest for training.

# %%
X, y = load_raw_digits()
images = torch.tensor(X).view(-1, 1, 8, 8) * (255 / 16)
images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
images = images.repeat(1, 3, 1, 1).round().to(torch.uint8)  # N x 3 x 32 x 32, values 0..255

X = images.float()
X = (X - 0.5) / 0.5  # like transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
y = torch.tensor(y)

perm = torch.randperm(len(X))
test_idx = perm[:360]
val_idx = perm[360:720]
train_idx = perm[720:]
X_train, y_train = X[train_idx], y[train_idx]
X_val, y_val = X[val_idx], y[val_idx]
X_test, y_test = X[test_idx], y[test_idx]
train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)

# %% [markdown]
# ## Model
# Three conv blocks (conv 3x3, ReLU, 2x2 max pooling) and a linear classifier.

# %%
model = nn.Sequential(
    nn.Conv2d(3, 8, kernel_size=3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 16, kernel_size=3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(16, 16, kernel_size=3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(16 * 4 * 4, 10),
    nn.Softmax(dim=1),
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(
    [
        {"params": model[0].parameters()},
        {"params": model[10].parameters(), "weight_decay": 0.0},
    ],
    lr=0.02,
    momentum=0.9,
    weight_decay=5e-1,
)

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
