"""See every ``loss.backward()`` while a monitor is attached (for losses debugkit cannot hook).

``torch.Tensor.backward`` and ``torch.autograd.backward`` are wrapped once, while at
least one watcher is registered, and restored when the last one leaves.
"""

from __future__ import annotations

import threading
import warnings
from typing import Callable

import torch

_lock = threading.Lock()
_watchers: list[Callable] = []
_originals: dict[str, Callable] = {}


def _notify(tensors, kwargs: dict) -> None:
    """Call every watcher; a watcher may edit the keyword arguments of the backward call."""
    for fn in list(_watchers):
        fn(tensors, kwargs)


def _install() -> None:
    orig_tensor = torch.Tensor.backward
    orig_autograd = torch.autograd.backward
    _originals["tensor"] = orig_tensor
    _originals["autograd"] = orig_autograd

    def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        kwargs = {"retain_graph": retain_graph, "create_graph": create_graph}
        _notify(self, kwargs)
        with warnings.catch_warnings():
            # debugkit asks for create_graph on curvature steps and detaches .grad afterwards
            warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")
            return orig_tensor(self, gradient, inputs=inputs, **kwargs)

    def autograd_backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, *args, **kw):
        kwargs = {"retain_graph": retain_graph, "create_graph": create_graph}
        _notify(tensors, kwargs)
        return orig_autograd(tensors, grad_tensors, kwargs["retain_graph"], kwargs["create_graph"], *args, **kw)

    tensor_backward.__wrapped__ = orig_tensor
    autograd_backward.__wrapped__ = orig_autograd
    torch.Tensor.backward = tensor_backward
    torch.autograd.backward = autograd_backward


def _uninstall() -> None:
    torch.Tensor.backward = _originals.pop("tensor")
    torch.autograd.backward = _originals.pop("autograd")


class BackwardWatch:
    """Handle of a registered watcher; ``remove()`` unregisters it."""

    def __init__(self, fn: Callable):
        self.fn = fn
        with _lock:
            if not _watchers:
                _install()
            _watchers.append(fn)

    def remove(self) -> None:
        with _lock:
            if self.fn in _watchers:
                _watchers.remove(self.fn)
                if not _watchers:
                    _uninstall()
