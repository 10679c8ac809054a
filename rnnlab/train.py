"""Training loops shared by the chapters: progress bar, timing, device, gradient clipping.

``fit`` trains any PyTorch module on in-memory arrays: ``model(inputs)`` returns outputs and
``loss_fn(outputs, targets)`` a scalar. It moves data to the chosen device batch by batch,
so the same call runs on a CPU or a GPU, and returns a :class:`History` of per-epoch losses,
gradient norms and the wall-clock time.
"""
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from rnnlab import device as rnn_device


@dataclass
class History:
    """What a training run measured: one entry per epoch."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)  # mean pre-clipping global norm
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"train loss {self.train_loss[-1]:.4f}"] if self.train_loss else []
        if self.val_loss:
            parts.append(f"validation loss {self.val_loss[-1]:.4f}")
        if self.val_metric:
            parts.append(f"validation metric {self.val_metric[-1]:.4f}")
        parts.append(f"{self.seconds:.1f} s")
        return ", ".join(parts)


def _as_tensor(array, dev):
    import torch

    if isinstance(array, torch.Tensor):
        return array.to(dev)
    array = np.asarray(array)
    tensor = torch.from_numpy(array)
    if tensor.dtype == torch.float64:
        tensor = tensor.float()
    return tensor.to(dev)


def evaluate(model, inputs, targets, loss_fn: Callable, batch_size: int = 256,
             metric: Callable | None = None, dev=None) -> tuple[float, float | None]:
    """Mean loss (and metric, e.g. accuracy) of ``model`` over arrays, without gradients."""
    import torch

    dev = dev or next(model.parameters()).device
    model.eval()
    losses, metrics, counts = [], [], []
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            x = _as_tensor(inputs[start:start + batch_size], dev)
            y = _as_tensor(targets[start:start + batch_size], dev)
            out = model(x)
            losses.append(float(loss_fn(out, y)))
            metrics.append(float(metric(out, y)) if metric else 0.0)
            counts.append(len(x))
    model.train()
    weights = np.asarray(counts) / sum(counts)
    return float(np.dot(losses, weights)), (float(np.dot(metrics, weights)) if metric else None)


def accuracy(outputs, targets) -> float:
    """Share of rows whose largest output is the target class (outputs (N, C), targets (N,))."""
    return float((outputs.argmax(dim=-1) == targets).float().mean())


def fit(model, inputs, targets, loss_fn: Callable, *, epochs: int, batch_size: int = 64,
        lr: float = 1e-3, weight_decay: float = 0.0, clip_norm: float | None = None,
        validation: tuple | None = None, metric: Callable | None = None, seed: int = 0,
        dev=None, progress: bool = True, desc: str = "training") -> History:
    """Train ``model`` with Adam(W) on shuffled mini-batches and return its History.

    ``clip_norm`` rescales the gradient when its global L2 norm exceeds it (the cure for
    exploding gradients, chapter 10). ``validation`` is ``(inputs, targets)``, scored after
    every epoch with ``loss_fn`` and ``metric``.
    """
    import torch

    dev = dev or rnn_device.torch_device()
    model.to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(seed)
    history = History()
    start_time = time.perf_counter()
    bar = tqdm(range(epochs), desc=desc, disable=not progress, mininterval=2.0, leave=False)
    for _ in bar:
        order = rng.permutation(len(inputs))
        epoch_losses, epoch_norms = [], []
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            x, y = _as_tensor(inputs[index], dev), _as_tensor(targets[index], dev)
            loss = loss_fn(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            max_norm = clip_norm if clip_norm is not None else float("inf")
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            epoch_losses.append(loss.item())
            epoch_norms.append(float(norm))
        history.train_loss.append(float(np.mean(epoch_losses)))
        history.grad_norm.append(float(np.mean(epoch_norms)))
        if validation is not None:
            val_loss, val_metric = evaluate(model, *validation, loss_fn, metric=metric, dev=dev)
            history.val_loss.append(val_loss)
            if val_metric is not None:
                history.val_metric.append(val_metric)
        bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
    history.seconds = time.perf_counter() - start_time
    return history
