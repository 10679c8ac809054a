"""Training and scoring character language models (chapter 9 and ``benchmarks/charlm.py``).

The score is the held-out cross-entropy per character,

    L = -(1/N) sum_t ln p(x_{t+1} | x_1 .. x_t)      in nats per character,

and L / ln 2 in bits per character. A model that knows nothing (uniform over V characters)
scores ln V; a model that always put probability 1 on the right character would score 0.

Training is truncated backpropagation through time over contiguous streams
(:func:`rnnlab.data.stream_batches`): the hidden state is carried from one chunk of
``seq_len`` characters to the next and detached, so the model sees context far beyond one
chunk while gradients flow back only ``seq_len`` steps. The run stops after ``steps``
updates or ``seconds`` of wall-clock time, with linear warm-up and cosine decay of the
learning rate over that budget, and clips the global gradient norm.
"""
import math
import time
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from rnnlab import device as rnn_device
from rnnlab.data import stream_batches

LN2 = math.log(2.0)


def bits(nats: float) -> float:
    """Nats per character to bits per character (divide by ln 2)."""
    return nats / LN2


@dataclass
class CharRun:
    """What a training run measured."""

    steps: list[int] = field(default_factory=list)        # update index of each logged point
    train_loss: list[float] = field(default_factory=list)  # mean training loss since last log
    val_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)   # held-out nats/char
    seconds: float = 0.0
    chars: int = 0                                         # training characters processed

    @property
    def chars_per_second(self) -> float:
        return self.chars / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        parts = [f"{self.steps[-1] if self.steps else 0} steps",
                 f"{self.chars / 1e6:.2f} M chars", f"{self.seconds:.1f} s",
                 f"{self.chars_per_second / 1e3:.0f} k chars/s"]
        if self.train_loss:
            parts.append(f"train {self.train_loss[-1]:.3f} nats/char")
        if self.val_loss:
            parts.append(f"held-out {self.val_loss[-1]:.3f} nats/char "
                         f"({bits(self.val_loss[-1]):.3f} bits/char)")
        return ", ".join(parts)


def nats_per_char(model, ids, batch_size: int = 32, seq_len: int = 256, dev=None) -> float:
    """Held-out cross-entropy of a :class:`rnnlab.torch_models.CharRNN` in nats/char.

    The text is cut into ``batch_size`` streams and read chunk by chunk with the state
    carried across chunks, so every character is predicted from everything before it in its
    stream (the first character of each stream is only a context, and the last
    ``len(ids) % batch_size`` ids are dropped).
    """
    import torch
    from torch.nn import functional as F

    dev = dev or next(model.parameters()).device
    ids = np.asarray(ids)
    per_stream = (len(ids) - 1) // batch_size
    seq_len = max(1, min(seq_len, per_stream))
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for x, y in _all_chunks(ids, batch_size, per_stream, seq_len):
            x = torch.as_tensor(x, device=dev)
            y = torch.as_tensor(y, device=dev)
            logits, state = model(x, state)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                           y.reshape(-1), reduction="sum"))
            count += y.numel()
    model.train(was_training)
    return total / count


def _all_chunks(ids, batch_size, per_stream, seq_len):
    """Like stream_batches, but keeps the final shorter chunk (evaluation scores them all)."""
    inputs = ids[: per_stream * batch_size].reshape(batch_size, per_stream)
    targets = ids[1: per_stream * batch_size + 1].reshape(batch_size, per_stream)
    for start in range(0, per_stream, seq_len):
        yield inputs[:, start:start + seq_len], targets[:, start:start + seq_len]


def lr_at(fraction: float, peak: float, warmup: float = 0.02, final: float = 0.02) -> float:
    """Learning rate after ``fraction`` of the budget: linear warm-up to ``peak`` over the
    first ``warmup`` share, then cosine decay to ``final * peak`` at the end."""
    fraction = min(max(fraction, 0.0), 1.0)
    if fraction < warmup:
        return peak * fraction / warmup
    progress = (fraction - warmup) / max(1e-12, 1.0 - warmup)
    return peak * (final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def train_stream(model, train_ids, *, batch_size: int = 64, seq_len: int = 128,
                 steps: int | None = None, seconds: float | None = None, lr: float = 3e-3,
                 weight_decay: float = 0.01, clip_norm: float = 1.0, warmup: float = 0.02,
                 val_ids=None, evals: int = 5, log_every: int = 20, dev=None,
                 progress: bool = True, desc: str = "training",
                 bf16: bool = False) -> CharRun:
    """Train a CharRNN by truncated BPTT with the hidden state carried across batches.

    Stops after ``steps`` updates or ``seconds`` of training (time spent scoring
    ``val_ids`` is not counted), whichever is given (both: the first reached). AdamW with
    warm-up and cosine decay over that budget (:func:`lr_at`), global-norm clipping at
    ``clip_norm``. ``val_ids`` is scored ``evals`` times, evenly over the budget.
    """
    import torch
    from torch.nn import functional as F

    from rnnlab.torch_models import detach_state

    if steps is None and seconds is None:
        raise ValueError("give steps or seconds (or both)")
    dev = dev or rnn_device.torch_device()
    model.to(dev).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    run, state, step, trained = CharRun(), None, 0, 0.0
    since, since_n, next_eval = 0.0, 0, 1
    bar = tqdm(total=steps if steps else int(seconds), desc=desc, disable=not progress,
               mininterval=5.0, leave=False, unit="step" if steps else "s")
    epoch_batches = iter(())
    while True:
        fraction = max(step / steps if steps else 0.0, trained / seconds if seconds else 0.0)
        if fraction >= 1.0:
            break
        tick = time.perf_counter()
        try:
            x, y = next(epoch_batches)
        except StopIteration:  # a new pass over the text: streams restart, so does the state
            offset = int(np.random.default_rng(step).integers(seq_len))
            epoch_batches, state = stream_batches(train_ids[offset:], batch_size, seq_len), None
            x, y = next(epoch_batches)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(fraction, lr, warmup)
        x, y = torch.as_tensor(x, device=dev), torch.as_tensor(y, device=dev)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            logits, state = model(x, detach_state(state))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        step += 1
        since += loss.item()
        since_n += 1
        run.chars += x.numel()
        elapsed = time.perf_counter() - tick
        trained += elapsed
        bar.update(1 if steps else 0) if steps else bar.update(int(trained) - bar.n)
        if since_n == log_every:
            run.steps.append(step)
            run.train_loss.append(since / since_n)
            bar.set_postfix(loss=f"{since / since_n:.3f}")
            since, since_n = 0.0, 0
        fraction = max(step / steps if steps else 0.0, trained / seconds if seconds else 0.0)
        if val_ids is not None and evals and fraction >= next_eval / evals:
            run.val_steps.append(step)
            run.val_loss.append(nats_per_char(model, val_ids, dev=dev))
            model.train()
            next_eval += 1
    if since_n:
        run.steps.append(step)
        run.train_loss.append(since / since_n)
    bar.close()
    run.seconds = trained
    return run
