"""The count-based character n-gram model (rnnlab.ngram) against answers known by hand."""
from collections import Counter

import numpy as np
import pytest

from rnnlab import ngram
from rnnlab.ngram import CharNGram


def conditional_entropy_bits(train_ids, test_ids, context, vocab_size, add=0.1):
    """Held-out cross-entropy in bits of the next character given ``context`` before it: an
    upper bound on the conditional entropy H(X_t | X_{t-k} .. X_{t-1})."""
    model = CharNGram(context, vocab_size, add=add).fit(train_ids)
    return model.nats_per_char(test_ids) / np.log(2.0)


def reference_log_probs(train, test, k, V, add):
    """The add-a formula written with Python dictionaries, one character at a time."""
    pairs, totals = Counter(), Counter()
    for i in range(k, len(train)):
        ctx = tuple(train[i - k:i])
        pairs[ctx, train[i]] += 1
        totals[ctx] += 1
    return np.array([np.log((pairs[tuple(test[i - k:i]), test[i]] + add)
                            / (totals[tuple(test[i - k:i])] + add * V))
                     for i in range(k, len(test))])


def test_uniform_stream_costs_log_v():
    V = 7
    ids = np.tile(np.arange(V), 50)
    for add in (0.1, 1.0):
        assert CharNGram(0, V, add=add).fit(ids).nats_per_char(ids) == pytest.approx(np.log(V))
    assert conditional_entropy_bits(ids, ids, 0, V) == pytest.approx(np.log2(V))


def test_a_context_that_covers_the_period_is_certain():
    V = 3
    ids = np.tile([0, 1, 0, 2], 500)  # after "0" comes 1 or 2; after "1 0" always 2
    one = conditional_entropy_bits(ids, ids, 1, V, add=0.01)
    two = conditional_entropy_bits(ids, ids, 2, V, add=0.01)
    # context 1: half of the steps follow "0", a fair coin: 0.5 bits on average
    assert one == pytest.approx(0.5, abs=0.01)
    assert two < 1e-3
    model = CharNGram(2, V).fit(ids)
    assert model.contexts_seen() == 4 and model.contexts_seen(1) == 3 and model.contexts_seen(0) == 1
    # positions 2..1999 (1998 of them) share out among the four contexts of length 2
    assert sorted(model.context_counts()) == [499, 499, 500, 500]
    assert model.context_counts(0).tolist() == [1998]


def test_unseen_contexts_stay_finite():
    V = 4
    train = np.tile([0, 1], 100)
    test = np.array([2, 3, 2, 3, 0, 1])  # contexts 2 and 3 never occur in training
    add = CharNGram(1, V).fit(train)
    logp = add.log_probs(test)
    assert np.all(np.isfinite(logp))
    np.testing.assert_allclose(logp[:3], np.log(1 / V))   # unseen context: uniform
    assert add.seen_fraction(test) == pytest.approx(1 / 5)  # contexts 2 3 2 3 0: only 0 seen
    wb = CharNGram(1, V, smoothing="witten-bell").fit(train)
    logp_wb = wb.log_probs(test)
    assert np.all(np.isfinite(logp_wb))
    # an unseen context falls back on the unigram model, which never saw 2 or 3 either
    np.testing.assert_allclose(logp_wb[0], wb.log_probs(test, order=0)[0])


@pytest.mark.parametrize("k", [0, 1, 3])
def test_matches_the_dictionary_reference(k):
    rng = np.random.default_rng(k)
    V = 5
    train, test = rng.integers(0, V, 3000), rng.integers(0, V, 500)
    train[::7] = 0  # some structure, so contexts differ
    got = CharNGram(k, V, add=0.3).fit(train).log_probs(test)
    np.testing.assert_allclose(got, reference_log_probs(train, test, k, V, 0.3), rtol=1e-12)


def test_the_reference_check_catches_a_shifted_context(monkeypatch):
    """The comparison above bites: a context off by one position fails it."""
    original = ngram._context_codes

    def shifted(ids, order, vocab_size, start):  # reads ids[i - m + 1]: includes the target
        return original(np.concatenate((ids[1:], ids[:1])), order, vocab_size, start)

    monkeypatch.setattr(ngram, "_context_codes", shifted)
    rng = np.random.default_rng(0)
    train, test = rng.integers(0, 5, 3000), rng.integers(0, 5, 500)
    got = CharNGram(2, 5, add=0.3).fit(train).log_probs(test)
    assert not np.allclose(got, reference_log_probs(train, test, 2, 5, 0.3), rtol=1e-6)


def test_lower_orders_are_scored_on_the_same_positions():
    rng = np.random.default_rng(4)
    train, test = rng.integers(0, 4, 2000), rng.integers(0, 4, 300)
    model = CharNGram(3, 4, add=0.5).fit(train)
    # order 1 of a context-3 model: counts and scores positions 3, 4, ... only
    expected = reference_log_probs(train[2:], test[2:], 1, 4, 0.5)
    np.testing.assert_allclose(model.log_probs(test, order=1), expected, rtol=1e-12)
    by_order = model.nats_per_char_by_order(test)
    assert by_order.shape == (4,)
    assert by_order[1] == pytest.approx(-expected.mean())
    assert by_order[3] == pytest.approx(model.nats_per_char(test))
    wb = model.nats_per_char_by_order(test, smoothing="witten-bell")
    for j in range(4):
        assert wb[j] == pytest.approx(model.nats_per_char(test, j, "witten-bell"))


def test_witten_bell_by_hand():
    V = 3
    train = np.array([0, 1, 0, 1, 0, 2])
    wb = CharNGram(1, V, smoothing="witten-bell").fit(train)
    # trained on positions 1..5: targets 1 0 1 0 2; unigram counts 0:2 1:2 2:1, N=5, T=3
    p0 = {c: (n + 3 / V) / (5 + 3) for c, n in {0: 2, 1: 2, 2: 1}.items()}
    # after 0: 1, 1, 2 (n=3, T=2); after 1: 0, 0 (n=2, T=1)
    test = np.array([0, 2, 1, 0])  # pairs (0->2), (2->1, unseen context), (1->0)
    expected = [(1 + 2 * p0[2]) / (3 + 2), p0[1], (2 + 1 * p0[0]) / (2 + 1)]
    np.testing.assert_allclose(np.exp(wb.log_probs(test)), expected, rtol=1e-12)
    probs = [np.exp(wb.log_probs(np.array([0, c]))[0]) for c in range(V)]
    assert sum(probs) == pytest.approx(1.0)  # a distribution over the next character


def test_add_smoothing_sums_to_one():
    rng = np.random.default_rng(3)
    model = CharNGram(2, 4).fit(rng.integers(0, 4, 400))
    for ctx in ([0, 1], [3, 3]):
        total = sum(np.exp(model.log_probs(np.array(ctx + [c]))[0]) for c in range(4))
        assert total == pytest.approx(1.0)


def test_markov_chain_entropy_rate_is_recovered():
    """On a first-order Markov source, context 1 reaches the entropy rate; 0 stays above."""
    rng = np.random.default_rng(5)
    P = np.array([[0.8, 0.1, 0.1], [0.2, 0.2, 0.6], [0.5, 0.5, 0.0]])
    ids = np.empty(60_000, dtype=np.int64)
    ids[0] = 0
    u = rng.random(len(ids))
    cum = P.cumsum(axis=1)
    for t in range(1, len(ids)):
        ids[t] = np.searchsorted(cum[ids[t - 1]], u[t])
    pi = np.linalg.matrix_power(P.T, 200)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = -np.nansum(pi[:, None] * P * np.log2(P))
    train, test = ids[:40_000], ids[40_000:]
    h1 = conditional_entropy_bits(train, test, 1, 3, add=0.01)
    h0 = conditional_entropy_bits(train, test, 0, 3, add=0.01)
    assert h1 == pytest.approx(rate, abs=0.02)
    assert h0 > rate + 0.2


def test_clear_errors():
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\)"):
        CharNGram(1, 3).fit(np.array([0, 1, 5]))
    with pytest.raises(ValueError, match="64-bit"):
        CharNGram(20, 80)
    with pytest.raises(ValueError, match=r"order must lie in 0..2"):
        CharNGram(2, 3).fit(np.tile([0, 1, 2], 5)).log_probs(np.arange(3), order=3)
    with pytest.raises(ValueError, match="smoothing must be one of"):
        CharNGram(1, 3).fit(np.arange(3)).log_probs(np.arange(3), smoothing="kneser-ney")
    with pytest.raises(RuntimeError, match="fit"):
        CharNGram(1, 3).contexts_seen()
