"""Generated video: short clips of a square moving in one of four directions.

Each clip is ``frames`` grey images of ``size`` x ``size`` pixels: a bright square starts at
a random place and moves ``speed`` pixels per frame to the right, left, down or up, over
Gaussian pixel noise, next to a still square of the same brightness (a distractor that a
model must learn to ignore). The label is the direction. A single frame, or the average of
all frames, cannot tell "left" from "right": the direction lives in the order of the frames.
"""
import numpy as np

DIRECTIONS = ("right", "left", "down", "up")
_STEP = {0: (0, 1), 1: (0, -1), 2: (1, 0), 3: (-1, 0)}  # (row, column) change per frame


def make_clips(n: int, rng: np.random.Generator, frames: int = 8, size: int = 16,
               square: int = 3, speed: int = 1, noise: float = 0.3
               ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` clips, float32 of shape (n, frames, size, size), and their direction ids (n,).

    Directions are balanced and shuffled; the path of the moving square always stays
    inside the frame.
    """
    travel = speed * (frames - 1)
    if size < square + travel:
        raise ValueError(f"size={size} is too small for a square of {square} moving "
                         f"{travel} pixels; need size >= {square + travel}")
    labels = rng.permutation(np.arange(n) % len(DIRECTIONS))
    clips = noise * rng.standard_normal((n, frames, size, size)).astype(np.float32)
    for i, label in enumerate(labels):
        d_row, d_col = _STEP[int(label)]
        # start so that start + step * travel stays in [0, size - square]
        rows = np.arange(size - square + 1)
        row0 = rng.choice(rows[(rows + d_row * travel >= 0)
                               & (rows + d_row * travel <= size - square)])
        col0 = rng.choice(rows[(rows + d_col * travel >= 0)
                               & (rows + d_col * travel <= size - square)])
        still_r, still_c = rng.integers(0, size - square + 1, size=2)
        for f in range(frames):
            r, c = row0 + d_row * speed * f, col0 + d_col * speed * f
            clips[i, f, still_r:still_r + square, still_c:still_c + square] += 1.0
            clips[i, f, r:r + square, c:c + square] += 1.0
    return clips, labels
