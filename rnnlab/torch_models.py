"""Character language models in PyTorch: ids in, next-character logits out (chapter 9).

One class covers every model of the chapter and the benchmark. Per step t,

    e_t = one_hot(x_t)  or  E[x_t]            (one-hot input, or a learned embedding row)
    h_t = cell(e_t, h_{t-1})                  (RNN: tanh/relu(W_xh e_t + W_hh h_{t-1} + b_h);
                                               GRU, LSTM: chapter 7)
    y_t = W_hy h_t + b_y                      (logits; softmax(y_t) = P(x_{t+1} | x_1..x_t))

``forward(ids, state)`` takes ids of shape (B, T) and returns logits (B, T, V) and the final
state, which the caller may pass back in for the next chunk of the same streams (truncated
BPTT, :mod:`rnnlab.charlm`). Weight shapes are PyTorch's (W_xh is (H, D)); the Keras twin in
:mod:`rnnlab.tf_models` stores their transposes.
"""
import torch
from torch import nn
from torch.nn import functional as F

from rnnlab.shapes import expect_shape

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class CharRNN(nn.Module):
    """A character model: (one-hot or embedding) -> recurrent cell(s) -> linear logits.

    ``embed_size=None`` feeds one-hot vectors, as the article does; ``cell`` is "rnn",
    "gru" or "lstm"; ``nonlinearity`` ("tanh" or "relu") applies to the plain RNN only.
    ``tie_weights`` shares the embedding matrix with the output layer (needs
    embed_size == hidden_size), ``dropout`` acts between stacked layers and before the output.
    """

    def __init__(self, vocab_size: int, hidden_size: int, *, embed_size: int | None = None,
                 cell: str = "rnn", num_layers: int = 1, nonlinearity: str = "tanh",
                 dropout: float = 0.0, tie_weights: bool = False):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.vocab_size, self.hidden_size, self.cell = vocab_size, hidden_size, cell
        self._config = {"hidden_size": hidden_size, "embed_size": embed_size, "cell": cell,
                        "num_layers": num_layers, "nonlinearity": nonlinearity,
                        "dropout": dropout, "tie_weights": tie_weights}
        self.embedding = nn.Embedding(vocab_size, embed_size) if embed_size else None
        input_size = embed_size or vocab_size
        extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.rnn = CELLS[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0, **extra)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            if embed_size != hidden_size:
                raise ValueError(f"tie_weights needs embed_size == hidden_size, got "
                                 f"{embed_size} and {hidden_size}")
            self.head.weight = self.embedding.weight

    def config(self) -> dict:
        """The keyword arguments that rebuild this model: ``CharRNN(V, **model.config())``."""
        return dict(self._config)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """e_t for every id: a one-hot vector (V,) or an embedding row (E,)."""
        if self.embedding is None:
            return F.one_hot(ids, self.vocab_size).to(self.head.weight.dtype)
        return self.embedding(ids)

    def forward(self, ids: torch.Tensor, state=None):
        """Logits (B, T, V) for ids (B, T), and the final state (h, or (h, c) for an LSTM)."""
        if ids.ndim != 2:
            expect_shape("ids", ids, (None, None), "(batch, time)")
        out, state = self.rnn(self.embed(ids), state)
        return self.head(self.drop(out)), state


def detach_state(state):
    """Cut the graph behind a carried state, keeping its values (truncated BPTT)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers (shared tensors counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def next_logits_fn(model: nn.Module, dev=None):
    """A function ``ids -> logits of the next character`` (a NumPy (V,) array) that keeps the
    hidden state between calls and feeds the model only the ids it has not seen yet, so that
    generating n characters costs n steps, not n**2."""
    dev = dev or next(model.parameters()).device
    memory = {"seen": 0, "state": None, "logits": None}

    @torch.no_grad()
    def next_logits(ids) -> "torch.Tensor":
        new = list(ids)[memory["seen"]:]
        if new:
            was_training = model.training
            model.eval()
            x = torch.as_tensor([new], dtype=torch.long, device=dev)
            logits, memory["state"] = model(x, memory["state"])
            model.train(was_training)
            memory["seen"] += len(new)
            memory["logits"] = logits[0, -1].float().cpu().numpy()
        return memory["logits"]

    return next_logits
