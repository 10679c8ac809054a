"""Training and scoring character language models (chapter 9 and ``benchmarks/charlm.py``).

The score is the held-out cross-entropy per character,

    L = -(1/N) sum_t ln p(x_{t+1} | x_1 .. x_t)      in nats per character,

and L / ln 2 in bits per character. A model that knows nothing (uniform over V characters)
scores ln V; a model that always put probability 1 on the right character would score 0.

Training is :func:`rnnlab.train.train` with a :class:`rnnlab.train.StreamFeed`: truncated
backpropagation through time over contiguous streams, the hidden state carried from one
chunk of ``seq_len`` characters to the next and detached, so the model sees context far
beyond one chunk while gradients flow back only ``seq_len`` steps. :class:`StreamConfig`
holds the settings of such a run (batch layout and :class:`rnnlab.train.Recipe`); the
budget is a number of updates or seconds.

:func:`save_model` and :func:`load_model` write and read a trained model with its
vocabulary and the settings that made it (chapter 9 loads the benchmark's best model).
"""
import json
import math
import pathlib
from dataclasses import dataclass

import numpy as np

from rnnlab import device as rnn_device
from rnnlab import train as rnn_train

LN2 = math.log(2.0)
SLICE_CHARS = 20_000          # chapter 9's quick held-out text: this many characters per play


def bits(nats: float) -> float:
    """Nats per character to bits per character (divide by ln 2)."""
    return nats / LN2


def held_out_slice(vocab, chars: int = SLICE_CHARS) -> np.ndarray:
    """The ids of the first ``chars`` characters of each held-out play
    (:data:`rnnlab.data.VALIDATION_PLAYS`), joined: the held-out text of chapter 9's quick
    scale, which the benchmark scores too."""
    from rnnlab import data

    return np.concatenate([vocab.encode(data.load_play(p)[:chars]) for p in data.VALIDATION_PLAYS])


def load_results(path) -> dict:
    """The character-model benchmark's results file, ``benchmarks/results/charlm.json`` of the
    course's repository (written by ``benchmarks/charlm.py``; the chapter passes its path):
    ``{"runs": {run id: circumstances}, "rows": [row, ...]}``."""
    return json.loads(pathlib.Path(path).read_text())


def summary(run: rnn_train.History) -> str:
    """One line about a character model's training run: updates, characters, time, speed,
    training and held-out nats/char."""
    parts = [f"{run.steps[-1] if run.steps else 0} steps", f"{run.targets / 1e6:.2f} M chars",
             f"{run.seconds:.1f} s", f"{run.targets_per_second / 1e3:.0f} k chars/s"]
    if run.train_loss:
        parts.append(f"train {run.train_loss[-1]:.3f}")
    if run.val_loss:
        parts.append(f"held-out {run.val_loss[-1]:.3f} nats/char")
    return ", ".join(parts)


def nats_per_char(model, ids, batch_size: int = 32, seq_len: int = 256, dev=None) -> float:
    """Held-out cross-entropy of a :class:`rnnlab.torch_models.CharRNN` in nats/char.

    The text is cut into ``batch_size`` streams and read chunk by chunk with the state
    carried across chunks, so every character is predicted from everything before it in its
    stream (the first character of each stream is only a context, and the last
    ``(len(ids) - 1) % batch_size`` targets are dropped). Text too short for ``batch_size``
    streams of ``seq_len`` is read as fewer streams (at least one).
    """
    import torch
    from torch.nn import functional as F

    dev = dev or next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for x, y in stream_chunks(ids, batch_size, seq_len):
            x = torch.as_tensor(x, device=dev)
            y = torch.as_tensor(y, device=dev)
            logits, state = model(x, state)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                           y.reshape(-1), reduction="sum"))
            count += y.numel()
    model.train(was_training)
    return total / count


def stream_chunks(ids, batch_size: int = 32, seq_len: int = 256):
    """The (inputs, targets) chunks in which :func:`nats_per_char` reads a text: like
    :func:`rnnlab.data.stream_batches`, but every target is kept, the last chunk may be
    shorter, and short text is read as fewer streams (at least one, each long enough for
    one chunk when the text allows)."""
    ids = np.asarray(ids)
    if len(ids) < 2:
        raise ValueError(f"scoring needs at least 2 ids (a context and a target), got {len(ids)}")
    batch_size = max(1, min(batch_size, (len(ids) - 1) // seq_len))
    per_stream = (len(ids) - 1) // batch_size
    seq_len = max(1, min(seq_len, per_stream))
    inputs = ids[: per_stream * batch_size].reshape(batch_size, per_stream)
    targets = ids[1: per_stream * batch_size + 1].reshape(batch_size, per_stream)
    for start in range(0, per_stream, seq_len):
        yield inputs[:, start:start + seq_len], targets[:, start:start + seq_len]


def char_loss(logits, targets):
    """Mean cross-entropy in nats/char of logits (B, T, V) against target ids (B, T)."""
    from torch.nn import functional as F

    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@dataclass(frozen=True)
class StreamConfig:
    """How a character model is trained by truncated BPTT: ``batch_size`` streams read in
    chunks of ``seq_len`` characters, and the update rule (AdamW, warm-up and cosine decay
    over the budget, global-norm clipping, optional bfloat16 autocast)."""

    batch_size: int = 64
    seq_len: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    warmup: float = 0.02
    bf16: bool = False

    def recipe(self) -> rnn_train.Recipe:
        return rnn_train.Recipe(lr=self.lr, weight_decay=self.weight_decay,
                                clip_norm=self.clip_norm, warmup=self.warmup, bf16=self.bf16)


def train_stream(model, train_ids, config: StreamConfig = StreamConfig(), *,
                 steps: int | None = None, seconds: float | None = None, val_ids=None,
                 evals: int = 5, dev=None, progress: bool = True,
                 desc: str = "training") -> rnn_train.History:
    """Train a CharRNN by truncated BPTT with the hidden state carried across batches.

    Stops after ``steps`` updates or ``seconds`` of training (time spent scoring
    ``val_ids`` is not counted), whichever is given (both: the first reached).
    ``val_ids`` is scored (:func:`nats_per_char`) ``evals`` times, evenly over the budget;
    the training loss is logged every 20 updates.
    """
    dev = dev or rnn_device.torch_device()
    validate = None
    if val_ids is not None:
        def validate(m):
            return nats_per_char(m, val_ids, dev=dev), None
    feed = rnn_train.StreamFeed(train_ids, config.batch_size, config.seq_len)
    return rnn_train.train(model, feed, char_loss, rnn_train.Budget(steps=steps, seconds=seconds),
                           config.recipe(), validate=validate, evals=evals, log_every=20,
                           dev=dev, progress=progress, desc=desc)


def save_model(path, model, vocab, **info) -> pathlib.Path:
    """Save a :class:`rnnlab.torch_models.CharRNN` in half precision (``path``, a ``.pt``
    file) and, beside it, a JSON file (same name, ``.json``) with its sizes, vocabulary and
    ``info`` (the command, seed and scores that made it). Returns the JSON path."""
    import torch

    path = pathlib.Path(path)
    state = {name: t.detach().cpu().half() for name, t in model.state_dict().items()}
    torch.save(state, path)
    meta = {"model": model.config(), "vocab": "".join(vocab.chars), **info}
    json_path = path.with_suffix(".json")
    json_path.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    return json_path


def load_model(path):
    """The model saved by :func:`save_model` (float32 weights, in eval mode), its
    :class:`rnnlab.data.Vocab` and the saved information (a dict)."""
    import torch

    from rnnlab.data import Vocab
    from rnnlab.torch_models import CharRNN

    path = pathlib.Path(path)
    meta = json.loads(path.with_suffix(".json").read_text())
    vocab = Vocab(meta["vocab"])
    model = CharRNN(len(vocab), **meta["model"])
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({name: t.float() for name, t in state.items()})
    return model.eval(), vocab, meta
