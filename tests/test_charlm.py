"""Chapter 9: the article's data preparation, sampling, the nats/char score, and the PyTorch
and Keras character models agreeing on the same weights."""
import math

import numpy as np
import pytest
import torch
from course import ROOT

import rnnlab  # noqa: F401  (quietens TensorFlow before it is imported)
from rnnlab import charlm, data, sampling
from rnnlab.torch_models import CharRNN, next_logits_fn

RESULTS = ROOT / "benchmarks" / "results"   # the benchmark's rows and the model it shipped

ARTICLE_TEXT = "This is GeeksforGeeks a software training institute"


def article_windows(text, seq_length):
    """The article's loop, verbatim in spirit: every window of seq_length characters and the
    character after it, as index arrays."""
    chars = sorted(set(text))
    char_to_index = {c: i for i, c in enumerate(chars)}
    X = [[char_to_index[c] for c in text[i:i + seq_length]]
         for i in range(len(text) - seq_length)]
    y = [char_to_index[text[i + seq_length]] for i in range(len(text) - seq_length)]
    return np.array(X), np.array(y), chars


def test_article_windows_match_rnnlab_windows():
    X, y, chars = article_windows(ARTICLE_TEXT, 3)
    vocab = data.Vocab(ARTICLE_TEXT)
    assert vocab.chars == chars
    X2, y2 = data.windows(vocab.encode(ARTICLE_TEXT), 3)
    assert X.shape == (len(ARTICLE_TEXT) - 3, 3) == X2.shape
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    # the first window is "Thi" and its label "s"; the last is "tut" -> "e"
    assert vocab.decode(X2[0]) == "Thi" and vocab.decode([y2[0]]) == "s"
    assert vocab.decode(X2[-1]) == "tut" and vocab.decode([y2[-1]]) == "e"


def test_article_one_hot():
    vocab = data.Vocab(ARTICLE_TEXT)
    X, _y = data.windows(vocab.encode(ARTICLE_TEXT), 3)
    X1 = data.one_hot(X, len(vocab))
    assert X1.shape == (len(X), 3, len(vocab))
    assert np.all(X1.sum(-1) == 1)
    np.testing.assert_array_equal(X1.argmax(-1), X)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\)"):
        data.one_hot(np.array([0, 3]), 3)


def test_temperature_zero_is_argmax():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 7))
    greedy = sampling.temperature_probs(logits, 0.0)
    np.testing.assert_array_equal(greedy.argmax(-1), logits.argmax(-1))
    # the limit tau -> 0 of the softmax is the same one-hot distribution
    np.testing.assert_allclose(sampling.temperature_probs(logits, 1e-3), greedy, atol=1e-8)
    for row in logits[:10]:
        assert sampling.sample_next(row, rng, temperature=0.0) == row.argmax()
        assert sampling.sample_next(row, rng, temperature=1e-4) == row.argmax()


def test_temperature_one_is_softmax_and_top_k_keeps_k():
    logits = np.array([2.0, 1.0, 0.5, -1.0])
    p = sampling.temperature_probs(logits, 1.0)
    np.testing.assert_allclose(p, np.exp(logits) / np.exp(logits).sum(), rtol=1e-12)
    p2 = sampling.temperature_probs(logits, 1.0, top_k=2)
    np.testing.assert_allclose(p2, [np.e / (np.e + 1), 1 / (np.e + 1), 0, 0], rtol=1e-12)
    flat = sampling.temperature_probs(logits, 1e6)
    np.testing.assert_allclose(flat, 0.25, atol=1e-5)
    # sampling follows the distribution
    rng = np.random.default_rng(1)
    draws = [sampling.sample_next(logits, rng, 1.0, top_k=2) for _ in range(4000)]
    assert set(draws) == {0, 1}
    assert abs(np.mean(np.array(draws) == 0) - p2[0]) < 0.03
    with pytest.raises(ValueError, match="top_k"):
        sampling.temperature_probs(logits, 1.0, top_k=5)


def test_held_out_nats_of_greedy_is_infinite_when_wrong():
    logits = np.array([[3.0, 0.0], [3.0, 0.0]])
    assert sampling.held_out_nats(logits, [0, 0], 0.0) == 0.0
    assert sampling.held_out_nats(logits, [0, 1], 0.0) == math.inf
    expected = -np.mean(np.log(np.exp([3.0, 0.0]) / (np.exp(3.0) + 1)))
    assert sampling.held_out_nats(logits, [0, 1], 1.0) == pytest.approx(expected, rel=1e-12)


class Uniform(torch.nn.Module):
    """A model that knows nothing: equal logits for every character."""

    def __init__(self, vocab_size):
        super().__init__()
        self.vocab_size = vocab_size
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, ids, state=None):
        return self.dummy + torch.zeros(*ids.shape, self.vocab_size), state


@pytest.mark.parametrize("vocab_size", [2, 30, 76])
def test_uniform_model_scores_ln_v(vocab_size):
    ids = np.random.default_rng(0).integers(0, vocab_size, 5000)
    nats = charlm.nats_per_char(Uniform(vocab_size), ids, batch_size=7, seq_len=50)
    assert nats == pytest.approx(math.log(vocab_size), rel=1e-6)
    assert charlm.bits(nats) == pytest.approx(math.log2(vocab_size), rel=1e-6)


def test_nats_per_char_carries_state_over_chunks():
    """Scored in chunks with the state carried, a model gives the loss of one long pass."""
    torch.manual_seed(0)
    model = CharRNN(11, 16, cell="gru", embed_size=5)
    ids = np.random.default_rng(0).integers(0, 11, 2 * 300 + 1)
    with torch.no_grad():
        x = torch.as_tensor(ids[:-1].reshape(2, 300))
        y = torch.as_tensor(ids[1:].reshape(2, 300))
        logits, _ = model(x)
        whole = float(torch.nn.functional.cross_entropy(logits.reshape(-1, 11), y.reshape(-1)))
    assert charlm.nats_per_char(model, ids, batch_size=2, seq_len=37) == pytest.approx(
        whole, rel=1e-5)
    # without carrying the state the chunked loss differs: the check above can fail
    chunked = []
    with torch.no_grad():
        for start in range(0, 300, 37):
            out, _ = model(x[:, start:start + 37])
            chunked.append(torch.nn.functional.cross_entropy(
                out.reshape(-1, 11), y[:, start:start + 37].reshape(-1), reduction="sum"))
    assert abs(float(sum(chunked)) / 600 - whole) > 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("cell,embed", [("rnn", None), ("rnn", 6), ("gru", 6), ("lstm", None)])
def test_torch_and_keras_models_give_the_same_loss(cell, embed):
    import keras

    from rnnlab.tf_models import char_model, copy_keras_weights, copy_torch_weights

    V, H, T = 13, 10, 9
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, V, (4, T)), rng.integers(0, V, (4, T))
    torch.manual_seed(0)
    tmodel = CharRNN(V, H, embed_size=embed, cell=cell, nonlinearity="tanh").double()
    with torch.no_grad():  # nonzero biases, so a bias mistake shows
        for p in tmodel.parameters():
            p.add_(0.1 * torch.randn_like(p))
        logits, _ = tmodel(torch.as_tensor(x))
        torch_loss = float(torch.nn.functional.cross_entropy(
            logits.reshape(-1, V), torch.as_tensor(y).reshape(-1)))
    keras.backend.set_floatx("float64")
    try:
        kmodel = char_model(V, H, seq_length=T, embed_size=embed, cell=cell, all_steps=True)
        copy_torch_weights(tmodel, kmodel)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        keras_loss = float(loss_fn(y, kmodel(x)))
        assert keras_loss == pytest.approx(torch_loss, rel=1e-5, abs=1e-7)
        # and back: a fresh PyTorch model loaded from Keras scores the same
        back = CharRNN(V, H, embed_size=embed, cell=cell).double()
        copy_keras_weights(kmodel, back)
        with torch.no_grad():
            logits2, _ = back(torch.as_tensor(x))
        np.testing.assert_allclose(logits2.numpy(), logits.numpy(), rtol=1e-5, atol=1e-7)
        if cell == "gru":  # the gate reordering matters: without it the loss differs
            W = kmodel.get_layer("rnn").get_weights()
            H3 = W[0].shape[1]
            swapped = [np.concatenate([w[..., H3 // 3:2 * H3 // 3], w[..., :H3 // 3],
                                       w[..., 2 * H3 // 3:]], axis=-1) for w in W]
            kmodel.get_layer("rnn").set_weights(swapped)
            assert abs(float(loss_fn(y, kmodel(x))) - torch_loss) > 1e-4
    finally:
        keras.backend.set_floatx("float32")


def test_generate_with_a_carried_state_equals_full_recompute():
    torch.manual_seed(0)
    model = CharRNN(9, 12, cell="lstm", embed_size=4)
    rng = np.random.default_rng(0)
    ids = sampling.generate(next_logits_fn(model), [1, 2, 3], 20, rng, temperature=0.0)
    assert len(ids) == 23 and ids[:3] == [1, 2, 3]
    with torch.no_grad():  # greedy: every next id is the argmax after the whole prefix
        logits, _ = model(torch.as_tensor([ids[:-1]]))
    np.testing.assert_array_equal(logits[0, 2:].argmax(-1).numpy(), ids[3:])


def test_train_stream_learns_a_repeating_text():
    torch.manual_seed(0)
    ids = np.tile(np.arange(7), 600)
    model = CharRNN(7, 16, embed_size=8, cell="gru")
    before = charlm.nats_per_char(model, ids[:500], batch_size=2)
    config = charlm.StreamConfig(batch_size=8, seq_len=16, lr=1e-2)
    run = charlm.train_stream(model, ids, config, steps=60, val_ids=ids[:500], evals=2,
                              progress=False)
    assert before > 1.5 and run.val_loss[-1] < 0.3
    assert len(run.val_loss) == 2 and run.targets == 60 * 8 * 16
    assert run.val_steps == [30, 60] and run.steps == [20, 40, 60]


def test_nats_per_char_on_short_text():
    """Fewer ids than streams: the text is read as fewer streams (no division by zero)."""
    torch.manual_seed(0)
    model = CharRNN(5, 4)
    ids = np.array([1, 2, 3])
    with torch.no_grad():
        logits, _ = model(torch.as_tensor(ids[None, :-1]))
        direct = float(torch.nn.functional.cross_entropy(logits[0], torch.as_tensor(ids[1:])))
    assert charlm.nats_per_char(model, ids, batch_size=32) == pytest.approx(direct, rel=1e-6)
    with pytest.raises(ValueError, match="at least 2 ids"):
        charlm.nats_per_char(model, ids[:1])


def test_saved_model_loads_with_its_vocabulary_and_scores_the_same(tmp_path):
    torch.manual_seed(0)
    vocab = data.Vocab("abcdefg\n")
    model = CharRNN(len(vocab), 12, embed_size=4, cell="lstm")
    ids = vocab.encode("abcabcgfed\n" * 40)
    json_path = charlm.save_model(tmp_path / "m.pt", model, vocab, seed=3, command="test")
    loaded, vocab2, meta = charlm.load_model(tmp_path / "m.pt")
    assert vocab2.chars == vocab.chars and meta["seed"] == 3 and json_path.exists()
    assert meta["model"]["cell"] == "lstm" and not loaded.training
    # float16 storage: the score moves by far less than the test's tolerance of 0.01
    before, after = charlm.nats_per_char(model, ids), charlm.nats_per_char(loaded, ids)
    assert abs(before - after) < 1e-3 and before != after




@pytest.mark.slow
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_keras_twin_with_carried_state_scores_and_generates_like_pytorch(cell):
    from rnnlab import tf_models

    V, H = 11, 8
    torch.manual_seed(0)
    tmodel = CharRNN(V, H, embed_size=5, cell=cell).eval()
    kmodel = tf_models.char_model(V, H, embed_size=5, cell=cell, carry_state=True)
    tf_models.copy_torch_weights(tmodel, kmodel)
    ids = np.random.default_rng(0).integers(0, V, 700)
    torch_nats = charlm.nats_per_char(tmodel, ids, batch_size=3, seq_len=50)
    keras_nats = tf_models.nats_per_char(kmodel, ids, batch_size=3, seq_len=50)
    assert keras_nats == pytest.approx(torch_nats, rel=1e-5)
    # reading in chunks with the state carried is reading in one go: the check can fail
    assert tf_models.nats_per_char(kmodel, ids, batch_size=3, seq_len=233) == pytest.approx(
        keras_nats, rel=1e-5)
    prompt = [1, 2, 3]
    torch_ids = sampling.generate(next_logits_fn(tmodel), prompt, 30,
                                  np.random.default_rng(5), temperature=1.0)
    keras_ids = sampling.generate(tf_models.next_logits_fn(kmodel), prompt, 30,
                                  np.random.default_rng(5), temperature=1.0)
    assert keras_ids == torch_ids


def shipped():
    """The model benchmarks/charlm.py --save shipped, its saved information, and the row of
    the results file that names it."""
    model, vocab, info = charlm.load_model(RESULTS / "charlm_best.pt")
    rows = [r for r in charlm.load_results(RESULTS / "charlm.json")["rows"] if "shipped" in r]
    assert len(rows) == 1, "the results file must name exactly one shipped model"
    return model, vocab, info, rows[0]


def test_shipped_model_is_small_and_matches_its_results_row():
    model, vocab, info, row = shipped()
    assert (RESULTS / "charlm_best.pt").stat().st_size < 5e6
    assert row["name"] == info["name"] and row["params"] == sum(
        p.numel() for p in model.parameters())
    assert row["shipped"]["slice_nats"] == info["slice_nats"]
    assert row["shipped"]["nats"] == info["nats"]
    assert vocab.chars == data.Vocab(data.shakespeare("all")).chars
    assert info["command"] and info["seed"] == 0
    assert model.rnn.num_layers == 1, "chapter 9 runs the shipped model in Keras too"


def test_shipped_model_rescored_on_the_held_out_slice():
    """Chapter 9's check, made by the test suite too: the shipped float16 weights score
    what the results file says (to 0.01 nats/char) on the held-out slice."""
    model, vocab, _, row = shipped()
    nats = charlm.nats_per_char(model, charlm.held_out_slice(vocab), batch_size=64, seq_len=512)
    assert abs(nats - row["shipped"]["slice_nats"]) <= 0.01, (nats, row["shipped"])
    assert abs(nats - row["slice_nats"]) <= 0.01   # float16 storage costs (almost) nothing


@pytest.mark.slow
def test_shipped_model_rescored_on_the_whole_held_out_plays():
    model, vocab, _, row = shipped()
    nats = charlm.nats_per_char(model, vocab.encode(data.shakespeare("validation")),
                                batch_size=64, seq_len=512)
    assert abs(nats - row["shipped"]["nats"]) <= 0.01, (nats, row["shipped"])


@pytest.mark.slow
def test_keras_progress_bar_only_when_output_is_live(monkeypatch):
    from rnnlab import tf_models, train

    monkeypatch.delenv(train.STATIC_OUTPUT_VARIABLE, raising=False)
    assert tf_models.fit_verbosity() == "auto"
    monkeypatch.setenv(train.STATIC_OUTPUT_VARIABLE, "1")
    assert tf_models.fit_verbosity() == 0
