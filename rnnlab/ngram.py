"""Count-based character n-gram models: how far counting the past can go without a hidden state.

A model of context ``k`` predicts the next character from the previous ``k`` characters by
looking them up in a table of counts,

    P(x_t = c | x_{t-k} ... x_{t-1}) = (n(context, c) + a) / (n(context) + a V),

(additive or "add-a" smoothing; ``context=0`` is the unigram model, the character
frequencies). The table has one row per distinct context seen in training, up to V**k rows:
it cannot grow with k, which is the motivation for a recurrent network's fixed-size hidden
state (chapter 1).

Everything is vectorised with NumPy. A context is encoded as one integer in base V whose
digits are its characters, the nearest one most significant; the pair (context, next
character) as ``next * V**k + context``. Sorting those codes once at the longest context
sorts them for every shorter one too, since dropping the farthest characters is an integer
division by a power of V, which keeps the order: two sorts (of the contexts and of the
pairs) give the tables of all orders 0..k, and held-out codes are looked up with
``np.searchsorted``. There is no Python loop over characters.
"""
import numpy as np

SMOOTHINGS = ("add", "witten-bell")


def _context_codes(ids: np.ndarray, order: int, vocab_size: int, start: int) -> np.ndarray:
    """The integer code of the ``order`` characters before each position ``start, ...``.

    The character m steps back is the digit of weight V**(order - m): the nearest character
    is the most significant digit, so the code of order j is the code of a longer context
    integer-divided by a power of V.
    """
    n = len(ids)
    codes = np.zeros(n - start, dtype=np.int64)
    for back in range(1, order + 1):
        codes = codes * vocab_size + ids[start - back:n - back]
    return codes


def _runs(sorted_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array and how often each occurs."""
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_codes)) + 1))
    return sorted_codes[starts], np.diff(np.concatenate((starts, [len(sorted_codes)])))


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values[keys == query] for each query (keys sorted), 0 where the query is absent."""
    index = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[index] == queries, values[index], 0)


class _CountTable:
    """Counts of one order j: the distinct contexts with n(ctx), the distinct pairs
    (coded ``next * V**j + ctx``) with n(ctx, next), and, on demand, the number of distinct
    characters seen after each context."""

    def __init__(self, sorted_contexts: np.ndarray, sorted_pairs: np.ndarray, order: int,
                 vocab_size: int):
        self.order, self.vocab_size = order, vocab_size
        self.contexts, self.context_counts = _runs(sorted_contexts)
        self.pairs, self.pair_counts = _runs(sorted_pairs)
        self._followers: np.ndarray | None = None

    @property
    def followers(self) -> np.ndarray:
        if self._followers is None:
            pair_contexts = self.pairs % self.vocab_size ** self.order
            rows = np.searchsorted(self.contexts, pair_contexts)   # every one is present
            self._followers = np.bincount(rows, minlength=len(self.contexts))
        return self._followers

    def counts(self, contexts: np.ndarray, targets: np.ndarray, followers: bool = False):
        """n(context, next), n(context) and (or None) the distinct followers of context."""
        pair = _lookup(self.pairs, self.pair_counts,
                       targets * self.vocab_size ** self.order + contexts)
        total = _lookup(self.contexts, self.context_counts, contexts)
        distinct = _lookup(self.contexts, self.followers, contexts) if followers else None
        return pair, total, distinct


class CharNGram:
    """Predict character t from the ``context`` characters before it by counting.

    ``smoothing="add"`` (the default) is additive smoothing with pseudo-count ``add``:
    P(c | ctx) = (n(ctx, c) + add) / (n(ctx) + add * V). A context never seen in training
    gets the uniform 1/V: the model's probability stays finite there but knows nothing.

    ``smoothing="witten-bell"`` interpolates every order with the one below it (Witten-Bell):
    P_k(c | ctx) = (n(ctx, c) + T(ctx) P_{k-1}(c | shorter ctx)) / (n(ctx) + T(ctx)), with
    T(ctx) the number of distinct characters seen after ctx and P_{-1} = 1/V. An unseen
    context falls back on the shorter one instead of on the uniform guess.

    Counts are taken on the positions ``context, context+1, ...`` of the training ids, and
    every order 0..context can be asked for (``order=``), with either smoothing
    (``smoothing=`` overrides the default for one call). ``fit`` sorts the codes once; the
    table of an order is read off the sorted codes the first time it is needed, then kept.
    """

    def __init__(self, context: int, vocab_size: int, add: float = 0.1,
                 smoothing: str = "add"):
        if context < 0:
            raise ValueError(f"context must be >= 0, got {context}")
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
        if float(vocab_size) ** (context + 1) >= 2.0 ** 63:
            raise ValueError(f"V**(context+1) = {vocab_size}**{context + 1} does not fit in "
                             f"a 64-bit code; use a shorter context")
        self._check_smoothing(smoothing)
        if add <= 0:
            raise ValueError(f"add must be > 0 to keep unseen pairs finite, got {add}")
        self.context = context
        self.vocab_size = vocab_size
        self.add = add
        self.smoothing = smoothing
        self._sorted_contexts: np.ndarray | None = None
        self._sorted_pairs: np.ndarray | None = None
        self._tables: dict[int, _CountTable] = {}

    def __repr__(self) -> str:
        return (f"CharNGram(context={self.context}, vocab_size={self.vocab_size}, "
                f"smoothing={self.smoothing!r})")

    @staticmethod
    def _check_smoothing(smoothing: str) -> None:
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {smoothing!r}")

    def _check_ids(self, ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError(f"ids must be 1-D (a stream of character ids), got shape {ids.shape}")
        if len(ids) <= self.context:
            raise ValueError(f"need more than context={self.context} ids, got {len(ids)}")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(f"ids must lie in [0, {self.vocab_size}), got range "
                             f"[{ids.min()}, {ids.max()}]")
        return ids

    def fit(self, ids) -> "CharNGram":
        """Count (previous ``context`` ids -> next id) over a stream of training ids."""
        ids = self._check_ids(ids)
        contexts = _context_codes(ids, self.context, self.vocab_size, self.context)
        pairs = ids[self.context:] * self.vocab_size ** self.context + contexts
        self._sorted_contexts, self._sorted_pairs = np.sort(contexts), np.sort(pairs)
        self._tables = {}
        return self

    def _table(self, order: int) -> _CountTable:
        if self._sorted_pairs is None:
            raise RuntimeError("call fit() first")
        if not 0 <= order <= self.context:
            raise ValueError(f"order must lie in 0..{self.context}, got {order}")
        if order not in self._tables:
            drop = self.vocab_size ** (self.context - order)   # the farthest characters
            self._tables[order] = _CountTable(self._sorted_contexts // drop,
                                              self._sorted_pairs // drop, order,
                                              self.vocab_size)
        return self._tables[order]

    def contexts_seen(self, order: int | None = None) -> int:
        """How many distinct contexts of length ``order`` (default ``context``) training saw."""
        return len(self.context_counts(order))

    def context_counts(self, order: int | None = None) -> np.ndarray:
        """How often each distinct context of length ``order`` (default ``context``) occurred
        in training: one count per row of the table, n(ctx) in the formulas above."""
        return self._table(self.context if order is None else order).context_counts.copy()

    def _log_probs_by_order(self, ids, order: int | None, smoothing: str | None):
        """ln P(ids[t] | previous j ids), t = context, ..., for j = 0..order (add: j = order
        only); Witten-Bell computes the orders in one chain, each from the one below."""
        order = self.context if order is None else order
        smoothing = self.smoothing if smoothing is None else smoothing
        self._check_smoothing(smoothing)
        self._table(order)  # checks the order
        ids = self._check_ids(ids)
        targets, V = ids[self.context:], self.vocab_size
        if smoothing == "add":
            pair, total, _ = self._table(order).counts(
                _context_codes(ids, order, V, self.context), targets)
            yield order, np.log((pair + self.add) / (total + self.add * V))
            return
        prob = np.full(len(targets), 1.0 / V)
        for j in range(order + 1):
            pair, total, followers = self._table(j).counts(
                _context_codes(ids, j, V, self.context), targets, followers=True)
            mixed = (pair + followers * prob) / np.maximum(total + followers, 1)
            prob = np.where(total > 0, mixed, prob)
            yield j, np.log(prob)

    def log_probs(self, ids, order: int | None = None, smoothing: str | None = None
                  ) -> np.ndarray:
        """ln P(ids[t] | the ``order`` ids before it) for t = context, context+1, ...

        ``order`` defaults to ``context``, ``smoothing`` to the model's. Returns an array of
        len(ids) - context natural logarithms.
        """
        for _, logp in self._log_probs_by_order(ids, order, smoothing):
            pass
        return logp

    def nats_per_char(self, ids, order: int | None = None, smoothing: str | None = None
                      ) -> float:
        """Mean negative log-likelihood in nats per character on (held-out) ``ids``."""
        return float(-self.log_probs(ids, order, smoothing).mean())

    def nats_per_char_by_order(self, ids, smoothing: str | None = None) -> np.ndarray:
        """``nats_per_char`` for every order 0..context, scored on the same positions
        (context, context+1, ...), so the orders can be compared one to one."""
        smoothing = self.smoothing if smoothing is None else smoothing
        if smoothing == "witten-bell":
            return np.array([-logp.mean() for _, logp in
                             self._log_probs_by_order(ids, self.context, smoothing)])
        return np.array([self.nats_per_char(ids, j, smoothing) for j in range(self.context + 1)])

    def seen_fraction(self, ids, order: int | None = None) -> float:
        """Share of the positions of ``ids`` whose context (of length ``order``, default
        ``context``) occurred in training: where it did not, add-a smoothing can only
        guess 1/V."""
        order = self.context if order is None else order
        table = self._table(order)
        codes = _context_codes(self._check_ids(ids), order, self.vocab_size, self.context)
        return float((_lookup(table.contexts, table.context_counts, codes) > 0).mean())
