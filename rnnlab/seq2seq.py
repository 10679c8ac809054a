"""An encoder-decoder in PyTorch, with or without additive attention (chapter 13).

Encoder: the letters' embeddings read by a bidirectional GRU, through
``pack_padded_sequence`` so that padding never enters a word's states; h_j (B, T, 2H) is
the forward and backward state at letter j. Decoder: a GRU cell with state s_t that reads
the previous phoneme's embedding and a context vector c_t,

    c_t = attend(s_{t-1}, h_1..h_T)          with attention (``attention=True``)
    c_t = c = [forward h_T ; backward h_1]   without: the same vector at every step
    s_t = GRUCell([embed(y_{t-1}) ; c_t], s_{t-1}),    logits_t = W_o [s_t ; c_t] + b_o

and s_0 = tanh(W_init c), from the encoder's summary c. The two models differ only in
c_t, so the comparison measures what attention adds. ``AdditiveAttention`` holds W_s, W_h
and v in the shapes of rnnlab.attention (Linear's weight is (out, in)).

Training is teacher forcing: the decoder reads the true previous phoneme (``forward``),
and the loss (``masked_cross_entropy``) counts real phonemes only, never padding.
Decoding runs free, on the model's own guesses: ``greedy`` and ``beam_search``.
"""
import math

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab.pronunciations import END, PAD, START


class AdditiveAttention(nn.Module):
    """e_j = v . tanh(W_s s + W_h h_j), alpha = softmax over real j, c = sum_j alpha_j h_j."""

    def __init__(self, state_size: int, encoder_size: int, attention_size: int):
        super().__init__()
        self.W_s = nn.Linear(state_size, attention_size, bias=False)
        self.W_h = nn.Linear(encoder_size, attention_size, bias=False)
        self.v = nn.Parameter(torch.empty(attention_size).uniform_(-1, 1)
                              / attention_size**0.5)

    def keys(self, H):
        """W_h h_j for every j: computed once per word, reused at every decoder step."""
        return self.W_h(H)

    def forward(self, s, H, mask, keys=None):
        keys = self.keys(H) if keys is None else keys
        e = torch.tanh(self.W_s(s)[:, None, :] + keys) @ self.v       # (B, T)
        alpha = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)
        return (alpha[:, :, None] * H).sum(dim=1), alpha


class Seq2Seq(nn.Module):
    """Letters in, phonemes out; ``attention`` chooses c_t (see the module's docstring)."""

    def __init__(self, n_letters: int, n_phonemes: int, hidden: int = 64, embed: int = 32,
                 attention: bool = True, attention_size: int = 64):
        super().__init__()
        self.hidden, self.attention = hidden, attention
        self.letter_embed = nn.Embedding(n_letters, embed, padding_idx=PAD)
        self.encoder = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
        self.init = nn.Linear(2 * hidden, hidden)
        self.phoneme_embed = nn.Embedding(n_phonemes, embed, padding_idx=PAD)
        self.cell = nn.GRUCell(embed + 2 * hidden, hidden)
        self.attend = AdditiveAttention(hidden, 2 * hidden, attention_size) if attention else None
        self.out = nn.Linear(3 * hidden, n_phonemes)

    def encode(self, letters, lengths):
        """Encoder states H (B, T, 2H), the summary c (B, 2H) and the mask (B, T)."""
        packed = pack_padded_sequence(self.letter_embed(letters), lengths.cpu(),
                                      batch_first=True, enforce_sorted=False)
        out, last = self.encoder(packed)
        H, _ = pad_packed_sequence(out, batch_first=True, total_length=letters.shape[1])
        summary = torch.cat([last[0], last[1]], dim=1)   # forward at T, backward at 1
        return H, summary, letters != PAD

    def start(self, letters, lengths):
        """What decoding needs: (s_0, H, summary, mask, keys)."""
        H, summary, mask = self.encode(letters, lengths)
        keys = self.attend.keys(H) if self.attention else None
        return torch.tanh(self.init(summary)), H, summary, mask, keys

    def step(self, previous, s, H, summary, mask, keys):
        """One decoder step: (logits (B, V), s_t, alpha (B, T) or None)."""
        alpha = None
        c = self.attend(s, H, mask, keys) if self.attention else summary
        if self.attention:
            c, alpha = c
        s = self.cell(torch.cat([self.phoneme_embed(previous), c], dim=1), s)
        return self.out(torch.cat([s, c], dim=1)), s, alpha

    def forward(self, letters, lengths, targets):
        """Teacher forcing: logits (B, T', V) for every target position, the decoder reading
        START and then the true phonemes."""
        s, H, summary, mask, keys = self.start(letters, lengths)
        previous = torch.full_like(targets[:, 0], START)
        logits = []
        for t in range(targets.shape[1]):
            step_logits, s, _ = self.step(previous, s, H, summary, mask, keys)
            logits.append(step_logits)
            previous = targets[:, t]
        return torch.stack(logits, dim=1)


class WordFeed:
    """Batches of words for :func:`rnnlab.train.train`: shuffled each pass, each batch cut to
    its own longest word and pronunciation (less padding, less work). A batch's input is
    one array, the letters and then the target phonemes side by side; ``forward`` splits it
    where this batch's letters end and runs the decoder by teacher forcing."""

    def __init__(self, arrays: dict, batch_size: int = 64, seed: int = 0):
        self.arrays, self.batch_size = arrays, batch_size
        self.rng = np.random.default_rng(seed)
        self.split = 0

    def __len__(self) -> int:   # batches per pass
        return math.ceil(len(self.arrays["letters"]) / self.batch_size)

    def epoch(self, index: int):
        order = self.rng.permutation(len(self.arrays["letters"]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            self.split = int(self.arrays["letter_lengths"][rows].max())
            targets = self.arrays["phonemes"][rows, :self.arrays["phoneme_lengths"][rows].max()]
            yield np.concatenate([self.arrays["letters"][rows, :self.split], targets], 1), targets

    def forward(self, model, x):
        letters, targets = x[:, :self.split], x[:, self.split:]
        return model(letters, (letters != PAD).sum(dim=1), targets)


def masked_cross_entropy(logits, targets):
    """Mean cross-entropy over the real target positions (PAD excluded): each phoneme of
    the batch counts once, however the batch is padded."""
    return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(),
                                       ignore_index=PAD)


@torch.no_grad()
def greedy(model, letters, lengths, max_len: int = 20):
    """Free-running decoding of a batch, taking the likeliest phoneme at every step.
    Returns (ids (B, max_len), attention weights (B, max_len, T) or None)."""
    model.eval()
    s, H, summary, mask, keys = model.start(letters, lengths)
    previous = torch.full((len(letters),), START, dtype=torch.long, device=letters.device)
    out, maps = [], []
    for _ in range(max_len):
        logits, s, alpha = model.step(previous, s, H, summary, mask, keys)
        previous = logits.argmax(dim=1)
        out.append(previous)
        maps.append(alpha)
    ids = torch.stack(out, dim=1).cpu().numpy()
    return ids, (torch.stack(maps, dim=1).cpu().numpy() if model.attention else None)


@torch.no_grad()
def beam_search(model, letters, lengths, width: int = 4, max_len: int = 20):
    """For each word, the phoneme ids of highest log-probability found by keeping the
    ``width`` best partial sequences at every step (one word's beams run as one batch).
    A finished sequence (it chose END) competes by its total log-probability; the search
    stops when the best finished one beats every open one, since adding a step only
    lowers a score. Width 1 is greedy decoding."""
    model.eval()
    results = []
    for b in range(len(letters)):
        s, H, summary, mask, keys = model.start(letters[b:b + 1], lengths[b:b + 1])
        beams, finished = [(0.0, [START])], []          # (log-probability, ids)
        for _ in range(max_len):
            k = len(beams)
            previous = torch.tensor([ids[-1] for _, ids in beams]).to(letters.device)
            logits, s_next, _ = model.step(
                previous, s, H.expand(k, -1, -1), summary.expand(k, -1),
                mask.expand(k, -1), None if keys is None else keys.expand(k, -1, -1))
            logp = torch.log_softmax(logits, dim=1).cpu().numpy()
            scores = np.array([score for score, _ in beams])[:, None] + logp
            best = np.argsort(scores, axis=None)[::-1][:width]   # the k best extensions
            rows, phonemes = np.divmod(best, scores.shape[1])
            extended = [(float(scores[r, p]), beams[r][1] + [int(p)])
                        for r, p in zip(rows, phonemes)]
            finished += [c for c in extended if c[1][-1] == END]
            keep = [i for i, c in enumerate(extended) if c[1][-1] != END]
            beams, s = [extended[i] for i in keep], s_next[rows[keep]]
            best_done = max((score for score, _ in finished), default=-np.inf)
            if not beams or best_done >= max(score for score, _ in beams):
                break
        winner = max(finished or beams, key=lambda c: c[0])
        results.append(winner[1][1:])
    return results
