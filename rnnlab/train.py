"""The training loop of the book: one loop, fed in different ways.

Every PyTorch model of the course is trained by :func:`train`: take a batch, run the model,
compute the loss, backpropagate, clip the global gradient norm, take an AdamW step; keep the
time, show a progress bar, log the training loss and score held-out data at chosen points.
What differs between chapters is only *how batches are made and how the model is called*,
and a small **feed** object says that:

- :class:`ArrayFeed`: shuffled mini-batches of in-memory arrays; one pass is an epoch.
  :func:`fit` (chapters 4, 6, 7, 8, 11a, 11b) is :func:`train` with this feed.
- :class:`StreamFeed`: one long sequence of ids laid out as ``batch_size`` parallel streams and
  read chunk by chunk, the hidden state carried from one chunk to the next and detached at the
  border: truncated BPTT (chapter 5), used by :func:`rnnlab.charlm.train_stream` (chapters 9, 12).
- :class:`WindowFeed`: windows of a fixed length cut at random places of a sequence, one
  target per window (the article's many-to-one model, trained on a whole corpus).

A :class:`Budget` says when to stop (updates, seconds of training, or epochs) and how far
the run has gone; a :class:`Recipe` holds the optimiser settings, and its learning rate may
follow the budget (linear warm-up, then cosine decay: :func:`lr_at`).

Progress: a tqdm bar while training in a terminal or a live notebook. When the environment
variable ``RNNLAB_STATIC_OUTPUT=1`` is set (the book build and the notebook tests set it) no
bar is drawn, so that a built page shows only the one summary line a chapter prints after
each run.
"""
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from rnnlab import device as rnn_device

STATIC_OUTPUT_VARIABLE = "RNNLAB_STATIC_OUTPUT"


def static_output() -> bool:
    """True when output is being recorded for a static page (``RNNLAB_STATIC_OUTPUT=1``):
    progress bars are then left out."""
    return os.environ.get(STATIC_OUTPUT_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def progress_bar(total, *, progress: bool = True, desc: str = "training", unit: str = "step"):
    """A tqdm bar, disabled when ``progress`` is False or output is static
    (:func:`static_output`)."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not progress or static_output(),
                mininterval=2.0, leave=False)


@dataclass
class History:
    """What a training run measured.

    ``steps[i]`` is the update after which ``train_loss[i]`` (the mean training loss since the
    previous logged point) and ``grad_norm[i]`` (the mean global gradient norm before
    clipping) were logged: once per epoch for :func:`fit`, every ``log_every`` updates
    otherwise. ``val_*`` hold the held-out scores and the update they were taken after.
    ``seconds`` is the time spent training, scoring excluded; ``targets`` counts the
    training targets seen (characters, for a character model).
    """

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    seconds: float = 0.0
    targets: int = 0

    @property
    def targets_per_second(self) -> float:
        return self.targets / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        parts = [f"train loss {self.train_loss[-1]:.4f}"] if self.train_loss else []
        if self.val_loss:
            parts.append(f"validation loss {self.val_loss[-1]:.4f}")
        if self.val_metric:
            parts.append(f"validation metric {self.val_metric[-1]:.4f}")
        parts.append(f"{self.seconds:.1f} s")
        return ", ".join(parts)


@dataclass(frozen=True)
class Budget:
    """When a run stops: after ``steps`` updates, ``seconds`` of training or ``epochs``
    passes over the data, whichever comes first of those given."""

    steps: int | None = None
    seconds: float | None = None
    epochs: float | None = None

    def __post_init__(self):
        if self.steps is None and self.seconds is None and self.epochs is None:
            raise ValueError("a budget needs steps, seconds or epochs")

    def fraction(self, steps: int, seconds: float, epochs: float) -> float:
        """How much of the budget is spent (1 or more: stop)."""
        spent = [done / total if total else math.inf
                 for done, total in ((steps, self.steps), (seconds, self.seconds),
                                     (epochs, self.epochs)) if total is not None]
        return max(spent)

    def bar_total(self) -> tuple[int, str]:
        """What the progress bar counts: updates, seconds or epochs."""
        if self.steps is not None:
            return self.steps, "step"
        if self.seconds is not None:
            return math.ceil(self.seconds), "s"
        return math.ceil(self.epochs), "epoch"

    def bar_position(self, steps: int, seconds: float, epochs: float) -> int:
        if self.steps is not None:
            return steps
        return int(seconds) if self.seconds is not None else int(epochs)


def lr_at(fraction: float, peak: float, warmup: float = 0.02, final: float = 0.02) -> float:
    """Learning rate after ``fraction`` of the budget: linear warm-up to ``peak`` over the
    first ``warmup`` share, then cosine decay to ``final * peak`` at the end."""
    fraction = min(max(fraction, 0.0), 1.0)
    if fraction < warmup:
        return peak * fraction / warmup
    progress = (fraction - warmup) / max(1e-12, 1.0 - warmup)
    return peak * (final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * progress)))


@dataclass(frozen=True)
class Recipe:
    """How the weights are updated: AdamW with ``lr`` and ``weight_decay``; the global
    gradient norm clipped at ``clip_norm`` (None: never); ``warmup`` None keeps the learning
    rate constant, a share such as 0.02 gives warm-up and cosine decay over the budget
    (:func:`lr_at`); ``bf16`` runs the forward pass under bfloat16 autocast (weights,
    optimiser and loss stay float32)."""

    lr: float = 1e-3
    weight_decay: float = 0.0
    clip_norm: float | None = None
    warmup: float | None = None
    bf16: bool = False

    def lr_at(self, fraction: float) -> float:
        return self.lr if self.warmup is None else lr_at(fraction, self.lr, self.warmup)


def _as_tensor(array, dev):
    import torch

    if isinstance(array, torch.Tensor):
        return array.to(dev)
    tensor = torch.from_numpy(np.asarray(array))
    if tensor.dtype == torch.float64:
        tensor = tensor.float()
    return tensor.to(dev)


class ArrayFeed:
    """Shuffled mini-batches of ``(inputs, targets)`` arrays; ``model(x)`` gives the output.
    Pass ``k`` is the ``k``-th permutation drawn from ``seed``."""

    def __init__(self, inputs, targets, batch_size: int = 64, seed: int = 0):
        if len(inputs) != len(targets):
            raise ValueError(f"inputs and targets differ in length: {len(inputs)} and "
                             f"{len(targets)}")
        self.inputs, self.targets, self.batch_size = inputs, targets, batch_size
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:  # batches per pass
        return math.ceil(len(self.inputs) / self.batch_size)

    def epoch(self, index: int) -> Iterator:
        order = self.rng.permutation(len(self.inputs))
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            yield self.inputs[batch], self.targets[batch]

    def forward(self, model, x):
        return model(x)


class StreamFeed:
    """Truncated BPTT over ``ids``: ``batch_size`` parallel streams read in chunks of
    ``seq_len`` (:func:`rnnlab.data.stream_batches`). The state returned by
    ``model(x, state)`` is carried to the next chunk and detached, so gradients stop at
    the chunk border; the output is the logits of every step, (B, T, V). Each pass starts at
    a random offset below ``seq_len`` and with a fresh (zero) state."""

    def __init__(self, ids, batch_size: int = 64, seq_len: int = 128, seed: int = 0):
        self.ids, self.batch_size, self.seq_len, self.seed = np.asarray(ids), batch_size, seq_len, seed
        self.state, self.offset = None, 0
        if (len(self.ids) - seq_len) // batch_size < seq_len:
            raise ValueError(f"{len(self.ids)} ids are too few for {batch_size} streams of "
                             f"{seq_len} (and an offset of up to {seq_len - 1})")

    def __len__(self) -> int:  # chunks in the current pass
        return (len(self.ids) - self.offset - 1) // self.batch_size // self.seq_len

    def epoch(self, index: int) -> Iterator:
        from rnnlab.data import stream_batches

        self.offset = int(np.random.default_rng([self.seed, index]).integers(self.seq_len))
        self.state = None
        return stream_batches(self.ids[self.offset:], self.batch_size, self.seq_len)

    def forward(self, model, x):
        from rnnlab.torch_models import detach_state

        logits, self.state = model(x, detach_state(self.state))
        return logits


class WindowFeed:
    """Windows of ``length`` ids cut at random places of ``ids``, the id after each as its
    target (the article's training pairs, drawn from a whole corpus): ``passes`` of
    ``len(ids) // batch_size`` batches. The model returns (logits of every step, state);
    only the last step's logits are scored."""

    def __init__(self, ids, length: int, batch_size: int = 256, seed: int = 0):
        self.ids, self.length, self.batch_size = np.asarray(ids), length, batch_size
        if len(self.ids) <= length:
            raise ValueError(f"{len(self.ids)} ids are too few for windows of {length}")
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return max(1, len(self.ids) // self.batch_size)

    def epoch(self, index: int) -> Iterator:
        for _ in range(len(self)):
            starts = self.rng.integers(0, len(self.ids) - self.length, size=self.batch_size)
            yield self.ids[starts[:, None] + np.arange(self.length)], self.ids[starts + self.length]

    def forward(self, model, x):
        logits, _ = model(x)
        return logits[:, -1]


def train(model, feed, loss_fn: Callable, budget: Budget, recipe: Recipe = Recipe(), *,
          validate: Callable | None = None, evals: int | None = None,
          log_every: int | None = None, dev=None, progress: bool = True,
          desc: str = "training") -> History:
    """Train ``model`` on the batches of ``feed`` until ``budget`` is spent.

    ``loss_fn(output, targets)`` is a scalar, ``output`` what ``feed.forward`` returns.
    ``validate(model)`` returns ``(loss, metric or None)`` on held-out data: called after
    every pass when ``evals`` is None, else ``evals`` times evenly over the budget.
    ``log_every`` updates between logged training losses (None: once per pass).
    """
    import torch

    dev = dev or rnn_device.torch_device()
    cap = rnn_device.max_steps()   # RNNLAB_MAX_STEPS: the test suite's short full-scale runs
    model.to(dev).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr,
                                  weight_decay=recipe.weight_decay)
    max_norm = recipe.clip_norm if recipe.clip_norm is not None else math.inf
    history = History()
    losses, norms = [], []
    step, passes, trained, next_eval = 0, 0, 0.0, 1
    fraction = budget.fraction(0, 0.0, 0.0)
    total, unit = budget.bar_total()
    bar = progress_bar(total, progress=progress, desc=desc, unit=unit)

    def log():
        history.steps.append(step)
        history.train_loss.append(float(np.mean(losses)))
        history.grad_norm.append(float(np.mean(norms)))
        bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
        losses.clear()
        norms.clear()

    def score():
        loss, metric = validate(model)
        model.train()
        history.val_steps.append(step)
        history.val_loss.append(float(loss))
        if metric is not None:
            history.val_metric.append(float(metric))

    while fraction < 1.0:
        batches = feed.epoch(passes)
        per_pass = len(feed)
        for index, (x, y) in enumerate(batches):
            tick = time.perf_counter()
            for group in optimizer.param_groups:
                group["lr"] = recipe.lr_at(fraction)
            x, y = _as_tensor(x, dev), _as_tensor(y, dev)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=recipe.bf16):
                out = feed.forward(model, x)
            loss = loss_fn(out.float() if recipe.bf16 else out, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)))
            optimizer.step()
            losses.append(loss.item())
            step += 1
            history.targets += y.numel()
            trained += time.perf_counter() - tick
            fraction = budget.fraction(step, trained, passes + (index + 1) / per_pass)
            if cap is not None and step >= cap:
                fraction = 1.0
            bar.update(budget.bar_position(step, trained, passes) - bar.n)
            if log_every and step % log_every == 0:
                log()
            if validate is not None and evals and fraction >= next_eval / evals:
                score()
                next_eval += 1
            if fraction >= 1.0:
                break
        passes += 1
        if log_every is None and losses:
            log()
        if validate is not None and evals is None:
            score()
        fraction = max(fraction, budget.fraction(step, trained, passes))
    if losses:
        log()
    bar.close()
    history.seconds = trained
    return history


def evaluate(model, inputs, targets, loss_fn: Callable, batch_size: int = 256,
             metric: Callable | None = None, dev=None) -> tuple[float, float | None]:
    """Mean loss (and metric, e.g. accuracy) of ``model`` over arrays, without gradients:
    each batch's value weighted by its number of rows."""
    import torch

    dev = dev or next(model.parameters()).device
    was_training = model.training
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
    model.train(was_training)
    if not counts:
        raise ValueError("evaluate needs at least one example")
    weights = np.asarray(counts) / sum(counts)
    return float(np.dot(losses, weights)), (float(np.dot(metrics, weights)) if metric else None)


def accuracy(outputs, targets) -> float:
    """Share of rows whose largest output is the target class (outputs (N, C), targets (N,))."""
    return float((outputs.argmax(dim=-1) == targets).float().mean())


def fit(model, inputs, targets, loss_fn: Callable, *, epochs: int, batch_size: int = 64,
        lr: float = 1e-3, weight_decay: float = 0.0, clip_norm: float | None = None,
        validation: tuple | None = None, metric: Callable | None = None, seed: int = 0,
        dev=None, progress: bool = True, desc: str = "training") -> History:
    """Train ``model`` with AdamW on shuffled mini-batches for ``epochs`` passes
    (:func:`train` with an :class:`ArrayFeed` and a constant learning rate).

    ``clip_norm`` rescales the gradient when its global L2 norm exceeds it (the cure for
    exploding gradients, chapter 10). ``validation`` is ``(inputs, targets)``, scored after
    every epoch with ``loss_fn`` and ``metric``. The History has one entry per epoch.
    """
    dev = dev or rnn_device.torch_device()
    validate = None
    if validation is not None:
        def validate(m):
            return evaluate(m, *validation, loss_fn, metric=metric, dev=dev)
    return train(model, ArrayFeed(inputs, targets, batch_size, seed), loss_fn,
                 Budget(epochs=epochs), Recipe(lr=lr, weight_decay=weight_decay,
                                               clip_norm=clip_norm),
                 validate=validate, dev=dev, progress=progress, desc=desc)
