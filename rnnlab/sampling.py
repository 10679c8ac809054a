"""Turning a model's next-character logits into text: greedy, temperature and top-k sampling.

A character model outputs logits y (one per character of the vocabulary). Sampling draws
the next character from

    p_i(tau) = exp(y_i / tau) / sum_j exp(y_j / tau)     (softmax with temperature tau)

restricted, with top-k, to the k largest logits (the others get probability 0 and the rest
is renormalised). tau = 1 is the model's own distribution; tau < 1 sharpens it, tau > 1
flattens it; tau -> 0 puts all the mass on the largest logit, which is greedy ``argmax``
decoding, the article's choice (``temperature=0`` means exactly that here). The temperature
is tau in the book's notation (T is a sequence length).
"""
from collections.abc import Callable

import numpy as np


def temperature_probs(logits, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """The sampling distribution p(tau) over the last axis, top-k filtered when ``top_k``.

    ``temperature=0`` gives the one-hot distribution of the argmax (greedy decoding).
    """
    logits = np.asarray(logits, dtype=np.float64)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and not 1 <= top_k <= logits.shape[-1]:
        raise ValueError(f"top_k must lie in [1, {logits.shape[-1]}], got {top_k}")
    if temperature == 0:
        return np.eye(logits.shape[-1])[logits.argmax(axis=-1)]
    scaled = logits / temperature
    if top_k is not None:
        kth = np.sort(scaled, axis=-1)[..., -top_k][..., None]
        scaled = np.where(scaled >= kth, scaled, -np.inf)
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    weights = np.exp(scaled)
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_next(logits, rng: np.random.Generator, temperature: float = 1.0,
                top_k: int | None = None) -> int:
    """One character id drawn from :func:`temperature_probs` of a (V,) logit vector."""
    logits = np.asarray(logits)
    if logits.ndim != 1:
        raise ValueError(f"logits must have shape (vocab,), got {logits.shape}")
    if temperature == 0:
        return int(logits.argmax())
    return int(rng.choice(len(logits), p=temperature_probs(logits, temperature, top_k)))


def generate(next_logits: Callable, prompt_ids, length: int, rng: np.random.Generator,
             temperature: float = 1.0, top_k: int | None = None) -> list[int]:
    """Extend ``prompt_ids`` by ``length`` ids, one at a time.

    ``next_logits(ids)`` returns the (V,) logits of the character after ``ids`` (a window
    model looks at the last few ids; :func:`rnnlab.torch_models.next_logits_fn` carries a
    hidden state). Returns prompt and continuation as one list of ids.
    """
    ids = [int(i) for i in prompt_ids]
    for _ in range(length):
        ids.append(sample_next(next_logits(ids), rng, temperature, top_k))
    return ids


def held_out_nats(logits, targets, temperature: float = 1.0, top_k: int | None = None) -> float:
    """Mean -ln p_target(tau) of the *sampling* distribution on held-out (N, V) logits:
    what a decoding rule costs in nats/char (infinite when a target gets probability 0)."""
    probs = temperature_probs(logits, temperature, top_k)
    picked = probs[np.arange(len(targets)), np.asarray(targets)]
    with np.errstate(divide="ignore"):
        return float(-np.log(picked).mean())
