"""Character language models in Keras 3 (TensorFlow backend), twins of
:class:`rnnlab.torch_models.CharRNN` (chapter 9).

``char_model`` maps character ids (B, T) to next-character logits: (B, V) for the last step
only (the article's many-to-one window model) or (B, T, V) for every step. Inputs are
one-hot vectors (``embed_size=None``, as in the article) or a learned embedding. With
``carry_state=True`` the state is explicit: the model takes ``[ids, *state]`` and returns
``[logits, *state]`` (``return_state=True`` and ``initial_state=`` on the recurrent layer),
so that text can be read chunk by chunk (:func:`nats_per_char`) or generated one character
at a time (:func:`next_logits_fn`) exactly as the PyTorch twin does.

Keras multiplies row vectors by its kernels, ``x @ kernel``, so every Keras kernel is the
transpose of the PyTorch weight (``kernel`` = W_xh.T). :func:`copy_torch_weights` moves a
trained PyTorch model into its Keras twin, reordering the GRU's gates (PyTorch stacks
r, z, n; Keras z, r, h) and summing the LSTM's two biases; with the same weights the two
give the same loss (``tests/test_charlm.py``).

Import :mod:`rnnlab` before this module: it quietens TensorFlow's C++ logging.
"""
import keras
import numpy as np

from rnnlab import transfer
from rnnlab.train import static_output

CELLS = {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}


class OneHot(keras.layers.Layer):
    """Character ids (B, T) -> one-hot vectors (B, T, V), inside the model (so the data
    stays as small integer arrays)."""

    def __init__(self, vocab_size: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size

    def call(self, ids):
        return keras.ops.one_hot(ids, self.vocab_size)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size}


def fit_verbosity() -> int | str:
    """``verbose=`` for ``model.fit``: Keras' own progress bar in a live session, none
    when output is recorded for a static page (``RNNLAB_STATIC_OUTPUT=1``, see
    :func:`rnnlab.train.static_output`); print one summary line after the fit instead."""
    return 0 if static_output() else "auto"


def char_model(vocab_size: int, hidden_size: int, *, seq_length: int | None = None,
               embed_size: int | None = None, cell: str = "rnn", activation: str = "tanh",
               all_steps: bool = False, carry_state: bool = False,
               name: str = "char_model") -> keras.Model:
    """ids (B, T) -> logits, (B, V) for the last step or (B, T, V) with ``all_steps``.

    ``cell`` is "rnn" (SimpleRNN, with ``activation``), "gru" or "lstm". The output is
    logits: train with ``SparseCategoricalCrossentropy(from_logits=True)``, whose value is
    the cross-entropy in nats per character. ``carry_state=True`` (implies ``all_steps``)
    makes the state an input and an output: ``[ids, h]`` -> ``[logits, h]`` (an LSTM:
    ``[ids, h, c]`` -> ``[logits, h, c]``), each state (B, H).
    """
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    ids = keras.Input(shape=(seq_length,), dtype="int32", name="ids")
    if embed_size:
        x = keras.layers.Embedding(vocab_size, embed_size, name="embedding")(ids)
    else:
        x = OneHot(vocab_size, name="one_hot")(ids)
    extra = {"activation": activation} if cell == "rnn" else {}
    if not carry_state:
        x = CELLS[cell](hidden_size, return_sequences=all_steps, name="rnn", **extra)(x)
        return keras.Model(ids, keras.layers.Dense(vocab_size, name="head")(x), name=name)
    state_in = [keras.Input(shape=(hidden_size,), name=f"state_{s}")
                for s in (("h", "c") if cell == "lstm" else ("h",))]
    x, *state_out = CELLS[cell](hidden_size, return_sequences=True, return_state=True,
                                name="rnn", **extra)(x, initial_state=state_in)
    logits = keras.layers.Dense(vocab_size, name="head")(x)
    return keras.Model([ids, *state_in], [logits, *state_out], name=name)


def zero_state(keras_model: keras.Model, batch_size: int) -> list[np.ndarray]:
    """The initial (zero) state of a ``carry_state`` model for ``batch_size`` sequences."""
    return [np.zeros((batch_size, tensor.shape[-1]), dtype=keras.backend.floatx())
            for tensor in keras_model.inputs[1:]]


def nats_per_char(keras_model: keras.Model, ids, batch_size: int = 32,
                  seq_len: int = 256) -> float:
    """Held-out nats/char of a ``carry_state`` model, read exactly as
    :func:`rnnlab.charlm.nats_per_char` reads a PyTorch model: ``batch_size`` streams,
    chunks of ``seq_len``, the state carried from chunk to chunk."""
    from rnnlab.charlm import stream_chunks

    total, count, state = 0.0, 0, None
    for x, y in stream_chunks(ids, batch_size, seq_len):
        state = state if state is not None else zero_state(keras_model, len(x))
        logits, *state = keras_model([x.astype("int32"), *state], training=False)
        state = [np.asarray(s) for s in state]
        losses = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
        total += float(keras.ops.sum(losses))
        count += y.size
    return total / count


def next_logits_fn(keras_model: keras.Model):
    """Like :func:`rnnlab.torch_models.next_logits_fn`, for a ``carry_state`` model: a
    function ``ids -> logits of the next character`` that keeps the state between calls
    and feeds the model only the ids it has not seen yet."""
    memory = {"seen": 0, "state": zero_state(keras_model, 1), "logits": None}

    def next_logits(ids) -> np.ndarray:
        new = list(ids)[memory["seen"]:]
        if new:
            logits, *state = keras_model([np.asarray([new], dtype="int32"), *memory["state"]],
                                         training=False)
            memory["state"] = [np.asarray(s) for s in state]
            memory["seen"] += len(new)
            memory["logits"] = np.asarray(logits[0, -1], dtype=np.float64)
        return memory["logits"]

    return next_logits


def copy_torch_weights(torch_model, keras_model: keras.Model) -> None:
    """Copy a one-layer :class:`rnnlab.torch_models.CharRNN` into a :func:`char_model`
    of the same sizes (embedding, recurrent cell and output layer)."""
    if torch_model.rnn.num_layers != 1:
        raise ValueError("only one-layer models have a Keras twin here")
    tensors = {name: getattr(torch_model.rnn, f"{name}_l0").detach().cpu().double().numpy()
               for name in transfer.TORCH_TENSORS}
    keras_model.get_layer("rnn").set_weights(transfer.torch_to_keras(tensors, torch_model.cell))
    head = torch_model.head
    keras_model.get_layer("head").set_weights(
        [head.weight.detach().cpu().double().numpy().T, head.bias.detach().cpu().double().numpy()])
    if torch_model.embedding is not None:
        keras_model.get_layer("embedding").set_weights(
            [torch_model.embedding.weight.detach().cpu().double().numpy()])


def copy_keras_weights(keras_model: keras.Model, torch_model) -> None:
    """The inverse of :func:`copy_torch_weights`: Keras weights into a one-layer CharRNN
    (the Keras bias goes into ``bias_ih``, ``bias_hh`` is zero, except for the GRU, which
    has two biases in both frameworks)."""
    import torch

    tensors = transfer.keras_to_torch(keras_model.get_layer("rnn").get_weights(), torch_model.cell)
    W_hy, b_y = keras_model.get_layer("head").get_weights()
    values = {f"rnn.{name}_l0": value for name, value in tensors.items()}
    values.update({"head.weight": W_hy.T, "head.bias": b_y})
    if torch_model.embedding is not None:
        values["embedding.weight"] = keras_model.get_layer("embedding").get_weights()[0]
    params = dict(torch_model.named_parameters())
    with torch.no_grad():
        for name, value in values.items():
            if tuple(params[name].shape) != value.shape:
                raise ValueError(f"{name}: PyTorch has shape {tuple(params[name].shape)}, "
                                 f"Keras gives {value.shape}")
            params[name].copy_(torch.as_tensor(np.ascontiguousarray(value)))
