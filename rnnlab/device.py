"""Where training runs (CPU or CUDA) and how big it is (the quick or the full scale).

One code path serves both: a training cell asks ``pick(quick=..., full=...)`` for its
sizes and prints ``describe()``. The scale comes from the ``RNNLAB_SCALE`` environment
variable; unset, it is "full" when a GPU is present and "quick" otherwise, so that every
chapter runs in about a minute on a 2-core laptop CPU.
"""
import os
from typing import TypeVar

T = TypeVar("T")
SCALES = ("quick", "full")


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


def describe() -> str:
    """One line for the top of every training cell: device and scale."""
    where = "cpu"
    if cuda_available():
        import torch

        where = f"cuda ({torch.cuda.get_device_name(0)})"
    return f"device: {where} | scale: {scale()} (set RNNLAB_SCALE=quick|full to change)"
