"""Reproducibility: one call seeds every random number generator the course uses."""
import random
import sys

import numpy as np


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy, PyTorch and TensorFlow (those that are installed and imported).

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``, the generator the
    chapters pass around explicitly. On a CPU two runs then print the same numbers; on a
    GPU some kernels stay nondeterministic, which is why the book's checks use tolerances.

    Python's string hashing (the iteration order of a set of strings) is fixed only when the
    interpreter starts, by the ``PYTHONHASHSEED`` environment variable, so it cannot be seeded
    here; the course's runner starts every chapter's kernel with ``PYTHONHASHSEED=0``
    (``coursetools/execute.py``).
    """
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # torch is optional for the NumPy-only parts
        pass
    else:
        torch.manual_seed(seed)
    # Seed TensorFlow only when something already imported it: importing it here would
    # cost seconds in the chapters that never use it.
    if "tensorflow" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
    return np.random.default_rng(seed)
