"""Synthetic speech: vowel glides made by a source-filter model, and their log-spectrograms.

No recorded speech ships with the course's packages, so this module *synthesises* it, and
says so. The model is the classic source-filter one (Fant 1960; Klatt 1980):

- source: a glottal pulse train at the speaker's pitch f0 (with a slow fall and jitter),
  softened by a low-pass filter, plus breath noise;
- filter: three formant resonators in cascade, each the second-order recursion
  ``v[i] = a0 e[i] + a1 v[i-1] + a2 v[i-2]`` with ``a2 = -exp(-2 pi BW / fs)``,
  ``a1 = 2 exp(-pi BW / fs) cos(2 pi F / fs)``, ``a0 = 1 - a1 - a2`` (Klatt 1980, eq. 2,
  where they are called A, B, C; B is the batch size in this book).

Formant frequencies F1-F3 and mean pitch come from Peterson and Barney's (1952) table of
American English vowels spoken by men, women and children. One "word" glides from one vowel
to another (``i`` as in *heed*, ``a`` as in *hod*, ``u`` as in *who'd*), so "a-i" and
"i-a" hold the same sounds in a different order: only a model that reads the frames in
order can tell them apart.
"""
import itertools

import numpy as np

FS = 10_000  # samples per second: Nyquist 5 kHz lies above every F3 in the table
DURATION = 0.4  # seconds per utterance

# Peterson & Barney (1952), mean F1, F2, F3 in Hz, for the vowels of heed, hod, who'd.
FORMANTS = {
    "men": {"i": (270, 2290, 3010), "a": (730, 1090, 2440), "u": (300, 870, 2240)},
    "women": {"i": (310, 2790, 3310), "a": (850, 1220, 2810), "u": (370, 950, 2670)},
    "children": {"i": (370, 3200, 3730), "a": (1030, 1370, 3170), "u": (430, 1170, 3260)},
}
PITCH = {"men": 132.0, "women": 223.0, "children": 264.0}  # mean f0 in Hz, same source
BANDWIDTHS = (60.0, 90.0, 120.0)  # formant bandwidths in Hz (typical values, Klatt 1980)
VOWELS = ("i", "a", "u")
WORDS = tuple(f"{a}-{b}" for a, b in itertools.permutations(VOWELS, 2))  # 6 ordered glides


def resonate(e: np.ndarray, F: np.ndarray, BW: float, fs: int = FS) -> np.ndarray:
    """Pass signals ``e`` (N, samples) through a formant resonator whose centre frequency
    ``F`` (N, samples) may change every sample: v[i] = a0 e[i] + a1 v[i-1] + a2 v[i-2]
    (Klatt 1980). Returns v, the same shape as ``e``."""
    a2 = -np.exp(-2 * np.pi * BW / fs)
    a1 = 2 * np.exp(-np.pi * BW / fs) * np.cos(2 * np.pi * F / fs)
    a0 = 1 - a1 - a2
    v = np.zeros_like(e)
    v1 = v2 = np.zeros(len(e))
    for i in range(e.shape[1]):  # a loop over samples, vectorised over the N utterances
        v[:, i] = a0[:, i] * e[:, i] + a1[:, i] * v1 + a2 * v2
        v1, v2 = v[:, i], v1
    return v


def glottal_source(f0: np.ndarray, rng: np.random.Generator, fs: int = FS) -> np.ndarray:
    """A pulse train at pitch ``f0`` (N, T) Hz: one unit pulse each time the phase wraps,
    then a one-pole low-pass: the glottal pulse's -12 dB/octave slope plus the +6 dB/octave
    of radiation at the lips leave -6 dB/octave."""
    phase = np.cumsum(f0 / fs, axis=1) + rng.random((len(f0), 1))
    pulses = np.diff(np.floor(phase), axis=1, prepend=np.floor(phase[:, :1])).astype(float)
    prev = np.zeros(len(pulses))
    for n in range(pulses.shape[1]):
        prev = pulses[:, n] + 0.94 * prev
        pulses[:, n] = prev
    return pulses - pulses.mean(axis=1, keepdims=True)  # no DC: the resonators pass it


def synthesise(words: np.ndarray, speakers: np.ndarray, rng: np.random.Generator,
               fs: int = FS, duration: float = DURATION) -> np.ndarray:
    """Audio (N, fs * duration) for word ids ``words`` (indices into ``WORDS``) spoken by
    ``speakers`` ("men", "women", "children"), with random pitch, vocal-tract length,
    timing, breath noise and background noise per utterance. Peak amplitude is 1."""
    words, speakers = np.asarray(words), np.asarray(speakers)
    N, T = len(words), int(fs * duration)
    t = np.arange(T) / fs
    start = rng.uniform(0.01, 0.06, (N, 1))
    length = rng.uniform(0.25, 0.33, (N, 1))
    glide_at = start + length * rng.uniform(0.35, 0.65, (N, 1))
    glide_len = rng.uniform(0.04, 0.10, (N, 1))
    mix = np.clip((t - glide_at) / glide_len + 0.5, 0, 1)  # 0 = first vowel, 1 = second
    tract = rng.lognormal(0.0, 0.05, (N, 1))  # one speaker's vocal-tract scaling
    f0 = np.array([PITCH[s] for s in speakers])[:, None] * rng.lognormal(0, 0.1, (N, 1))
    f0 = f0 * (1.05 - 0.1 * t / duration) * (1 + 0.01 * rng.standard_normal((N, T)))
    x = glottal_source(f0, rng, fs)
    x = x + rng.uniform(0.005, 0.03, (N, 1)) * rng.standard_normal((N, T))  # breath
    for k, bw in enumerate(BANDWIDTHS):
        first, second = (np.array([FORMANTS[s][WORDS[w].split("-")[j]][k]
                                   for w, s in zip(words, speakers)])[:, None]
                         for j in (0, 1))
        jitter = rng.lognormal(0.0, 0.03, (N, 1))
        F = np.minimum(tract * jitter * ((1 - mix) * first + mix * second), 0.45 * fs)
        x = resonate(x, F, bw, fs)
    ramp = np.clip(np.minimum(t - start, start + length - t) / 0.02, 0, 1)
    audio = x * np.sin(0.5 * np.pi * ramp) ** 2
    audio /= np.abs(audio).max(axis=1, keepdims=True)
    noise = 10 ** (-rng.uniform(15, 30, (N, 1)) / 20)  # background at 15 to 30 dB SNR
    return audio + noise * rng.standard_normal((N, T)) * audio.std(axis=1, keepdims=True)


def make_dataset(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` utterances with balanced words and speakers drawn at random: returns
    ``(audio (n, T), word ids (n,), speaker group names (n,))``."""
    words = rng.permutation(np.arange(n) % len(WORDS))
    speakers = rng.choice(list(PITCH), size=n)
    return synthesise(words, speakers, rng), words, speakers


def log_spectrogram(audio: np.ndarray, fs: int = FS, frame_s: float = 0.025,
                    hop_s: float = 0.010, bands: int = 40) -> np.ndarray:
    """Short-time log power spectra: (N, samples) -> (N, frames, bands).

    Each frame is ``frame_s`` seconds under a Hann window, frames start every ``hop_s``
    seconds; ``log(|FFT|^2 + 1e-10)`` is averaged into ``bands`` equal frequency bands
    from 0 to fs/2 (a crude filter bank). The frames are the RNN's time steps.
    """
    audio = np.atleast_2d(np.asarray(audio, dtype=float))
    frame, hop = int(frame_s * fs), int(hop_s * fs)
    if audio.shape[1] < frame:
        raise ValueError(f"audio must have at least {frame} samples, got shape {audio.shape}")
    frames = np.lib.stride_tricks.sliding_window_view(audio, frame, axis=1)[:, ::hop]
    power = np.abs(np.fft.rfft(frames * np.hanning(frame), axis=-1)) ** 2
    log_power = np.log(power[..., 1:] + 1e-10)  # drop the DC bin: bins divide evenly
    edges = np.linspace(0, log_power.shape[-1], bands + 1).astype(int)
    return np.stack([log_power[..., a:b].mean(axis=-1) for a, b in itertools.pairwise(edges)],
                    axis=-1)
