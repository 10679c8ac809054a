"""Where training runs (CPU or CUDA) and how big it is (the quick or the full scale).

One code path serves both: a training cell asks ``pick(quick=..., full=...)`` for its
sizes and ``steps(quick=..., full=...)`` for how long it trains (updates or epochs), and
prints ``describe()``. The scale comes from the ``RNNLAB_SCALE`` environment variable; unset,
it is "full" when a GPU is present and "quick" otherwise, so that every chapter runs in about
a minute on a 2-core laptop CPU.

``RNNLAB_MAX_STEPS`` caps training, whatever the scale: ``steps()`` returns at most that many,
rnnlab's training loops stop after that many updates, and ``keras_callbacks()`` stops Keras'
``fit`` after that many batches. The test suite runs every chapter with ``RNNLAB_SCALE=full``
and ``RNNLAB_MAX_STEPS=2`` (tests/test_full_scale.py): the full scale's sizes and code paths,
executed in minutes on a CPU, so a mistake that only the full scale reaches fails CI. Such a
run proves that the code runs, not what it scores: ``capped()`` cuts what a chapter evaluates
on to a slice there, while the data, the models and their shapes keep the full scale's sizes.
"""
import os
from typing import TypeVar

T = TypeVar("T")
SCALES = ("quick", "full")
MAX_STEPS_VARIABLE = "RNNLAB_MAX_STEPS"
HELD_OUT_UNDER_CAP = 20_000   # items of held-out data that a capped run evaluates on


def cuda_available() -> bool:
    """True when PyTorch sees a CUDA GPU (False when torch is not installed)."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def torch_device():
    """The ``torch.device`` to train on: ``cuda`` when present, else ``cpu``."""
    import torch

    return torch.device("cuda" if cuda_available() else "cpu")


def scale() -> str:
    """The run's scale, "quick" or "full" (from ``RNNLAB_SCALE``, else by hardware)."""
    value = os.environ.get("RNNLAB_SCALE", "").strip().lower()
    if not value:
        return "full" if cuda_available() else "quick"
    if value not in SCALES:
        raise ValueError(f"RNNLAB_SCALE must be one of {SCALES}, got {value!r}")
    return value


def pick(quick: T, full: T) -> T:
    """Return ``quick`` or ``full`` according to :func:`scale`."""
    return full if scale() == "full" else quick


def max_steps() -> int | None:
    """The cap on training updates set by ``RNNLAB_MAX_STEPS`` (None when it is unset)."""
    value = os.environ.get(MAX_STEPS_VARIABLE, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{MAX_STEPS_VARIABLE} must be a positive whole number, got {value!r}")
    return int(value)


def steps(quick: int, full: int) -> int:
    """How long to train, a number of updates or epochs: :func:`pick`, capped by
    :func:`max_steps` when ``RNNLAB_MAX_STEPS`` is set."""
    chosen = pick(quick, full)
    cap = max_steps()
    return chosen if cap is None else min(chosen, cap)


def capped(held_out):
    """The held-out data to evaluate on: all of ``held_out``, or its first
    :data:`HELD_OUT_UNDER_CAP` items when ``RNNLAB_MAX_STEPS`` caps the run."""
    return held_out if max_steps() is None else held_out[:HELD_OUT_UNDER_CAP]


def keras_callbacks() -> list:
    """Callbacks for ``keras.Model.fit``: none, or under ``RNNLAB_MAX_STEPS`` one that stops
    training after that many batches (``fit(..., callbacks=device.keras_callbacks())``)."""
    cap = max_steps()
    if cap is None:
        return []
    import keras

    class StopAfterSteps(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1
            if self.batches >= cap:
                self.model.stop_training = True

    return [StopAfterSteps()]


def describe() -> str:
    """One line for the top of every training cell: device and scale."""
    where = "cpu"
    if cuda_available():
        import torch

        where = f"cuda ({torch.cuda.get_device_name(0)})"
    cap = max_steps()
    capped = "" if cap is None else f", at most {cap} updates ({MAX_STEPS_VARIABLE})"
    return f"device: {where} | scale: {scale()}{capped} (set RNNLAB_SCALE=quick|full to change)"
