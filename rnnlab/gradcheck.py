"""Gradient checking: compare an analytic gradient with central finite differences.

The derivative of a scalar function f at x, along coordinate i, is approximated by

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),

whose error shrinks like eps^2 (one-sided differences only like eps). The two gradients
are compared by the relative error that CS231n uses, elementwise

    |a - b| / max(|a|, |b|, floor)

and its maximum over all entries: about 1e-7 or less in float64 means the analytic
gradient is right; 1e-2 or more means a term is wrong or missing. The small ``floor``
keeps entries where both gradients are (nearly) zero from dividing by zero.
"""
from collections.abc import Callable

import numpy as np


def relative_error(a, b, floor: float = 1e-8) -> float:
    """The largest elementwise |a - b| / max(|a|, |b|, floor); a and b must match in shape."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare gradients of different shapes: the first has "
                         f"shape {a.shape}, the second {b.shape}")
    if a.size == 0:
        return 0.0
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    return float(np.max(np.abs(a - b) / scale))


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """dF/dx by central differences, where ``f()`` reads ``x`` (changed in place, one entry
    at a time, and restored). Use float64: in float32 the differences drown in rounding."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(f"x must be a float64 NumPy array, got "
                         f"{getattr(x, 'dtype', type(x).__name__)}")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        f_plus = f()
        x[i] = saved - eps
        f_minus = f()
        x[i] = saved
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def check_gradients(f: Callable[[], float], params: dict[str, np.ndarray],
                    grads: dict[str, np.ndarray], eps: float = 1e-5,
                    floor: float = 1e-8) -> dict[str, float]:
    """For every entry of ``params`` that ``grads`` also holds, the relative error between
    ``grads[name]`` and the finite-difference gradient of ``f()`` with respect to it.

    ``f`` must compute the loss from ``params`` (they are perturbed in place). Returns
    ``{name: max relative error}``; raises ValueError when a gradient's shape differs from
    its parameter's, naming both shapes.
    """
    errors = {}
    for name, value in params.items():
        if name not in grads:
            continue
        if np.shape(grads[name]) != value.shape:
            raise ValueError(f"gradient {name!r} has shape {np.shape(grads[name])}, but the "
                             f"parameter has shape {value.shape}")
        errors[name] = relative_error(grads[name], numerical_gradient(f, value, eps), floor)
    return errors
