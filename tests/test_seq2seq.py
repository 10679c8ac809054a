"""Chapter 13's data and model: the CMU dictionary from the installed wheel, edit distance
and PER, the nearest-neighbour baseline, padded batches that change nothing, and decoding
(rnnlab.pronunciations, rnnlab.seq2seq, rnnlab.figures.seq2seq)."""
import copy

import matplotlib
import numpy as np
import pytest
import torch

from rnnlab import data, seq2seq
from rnnlab import pronunciations as pr
from rnnlab.figures import seq2seq as seq2seq_figures

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def entries():
    return pr.load()


def test_the_dictionary_ships_in_the_wheel(entries):
    assert pr.dictionary_path().is_file()
    assert len(entries) > 100_000
    assert entries["thought"] == (("TH", "AO", "T"),)
    assert entries["read"] == (("R", "EH", "D"), ("R", "IY", "D"))     # read, read(2)
    assert all(w.isalpha() and w.islower() for w in entries)
    phonemes = {p for prons in entries.values() for pron in prons for p in pron}
    assert phonemes == set(pr.PHONEMES[3:])                          # 39, no stress digits


def test_split_by_word_is_disjoint(entries):
    train, val, test = pr.split_words(list(entries)[:5000], (4000, 500, 500), seed=1)
    assert (len(train), len(val), len(test)) == (4000, 500, 500)
    data.assert_disjoint(train, test, "words")
    data.assert_disjoint(train, val, "words")
    with pytest.raises(AssertionError):
        data.assert_disjoint(train, train[:3], "words")


def test_edit_distance_and_per():
    assert pr.edit_distance("kitten", "sitting") == 3
    assert pr.edit_distance([], ["A", "B"]) == 2
    assert pr.edit_distance(("TH", "AO", "T"), ("TH", "AO", "T")) == 0
    # the nearest reference counts: 1 error in 3, then 0 in 3
    per = pr.phoneme_error_rate([("R", "AA", "D"), ("R", "IY", "D")],
                                [(("R", "EH", "D"), ("R", "IY", "D"))] * 2)
    assert per == pytest.approx(1 / 6)


def test_vectorised_spelling_distance_equals_the_loop(entries):
    words = sorted(entries)[::97][:400]
    candidates, lengths = pr.pad([pr.encode(w, pr.LETTERS) for w in words])
    for word in ("thought", "a", "queueing", "zzzzzzzzzzzzzz"):
        got = pr.spelling_distances(word, candidates, lengths)
        assert list(got) == [pr.edit_distance(word, w) for w in words], word


def test_nearest_neighbour_returns_a_training_word_pronunciation(entries):
    train = ["cat", "cattle", "dog"]
    guesses = pr.nearest_neighbour(["bat", "doge"], train, entries)
    assert guesses == [entries["cat"][0], entries["dog"][0]]


def test_batch_pads_and_ends(entries):
    arrays = pr.batch(["cat", "thought"], entries)
    assert arrays["letters"].shape == (2, 7)
    assert list(arrays["letter_lengths"]) == [3, 7]
    assert list(arrays["letters"][0, 3:]) == [pr.PAD] * 4
    assert list(arrays["phoneme_lengths"]) == [4, 4]                 # K AE T </s>
    assert pr.decode(arrays["phonemes"][1], pr.PHONEMES) == ["TH", "AO", "T"]


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {att: seq2seq.Seq2Seq(len(pr.LETTERS), len(pr.PHONEMES), hidden=12,
                                 attention=att).double().eval() for att in (False, True)}


@pytest.mark.parametrize("att", [False, True])
def test_padding_changes_neither_states_nor_loss(entries, models, att):
    model = models[att]
    words = ["cat", "thought", "strengths"]
    arrays = {k: torch.as_tensor(v) for k, v in pr.batch(words, entries).items()}
    letters, lengths, targets = arrays["letters"], arrays["letter_lengths"], arrays["phonemes"]
    with torch.no_grad():
        batch_loss = seq2seq.masked_cross_entropy(model(letters, lengths, targets), targets)
        H, _, _ = model.encode(letters, lengths)
        total = count = 0.0
        for i in range(len(words)):
            n, m = int(lengths[i]), int(arrays["phoneme_lengths"][i])
            H_alone, _, _ = model.encode(letters[i:i + 1, :n], lengths[i:i + 1])
            assert torch.allclose(H[i, :n], H_alone[0], atol=1e-12)
            one = model(letters[i:i + 1, :n], lengths[i:i + 1], targets[i:i + 1, :m])
            total += seq2seq.masked_cross_entropy(one, targets[i:i + 1, :m]).item() * m
            count += m
    assert batch_loss.item() == pytest.approx(total / count, abs=1e-12)


def _log_probability(model, letters, lengths, ids):
    target = torch.tensor([list(ids) + [pr.END]])
    with torch.no_grad():
        logp = torch.log_softmax(model(letters, lengths, target), dim=-1)
    return float(logp[0, torch.arange(target.shape[1]), target[0]].sum())


@pytest.mark.parametrize("att", [False, True])
def test_beam_search_width_one_is_greedy_and_wider_is_no_less_likely(entries, models, att):
    model = copy.deepcopy(models[att])
    with torch.no_grad():
        model.out.bias[pr.END] += 2.5          # an untrained model that does finish words
    arrays = {k: torch.as_tensor(v) for k, v in pr.batch(["cat", "phone", "xylophone"],
                                                         entries).items()}
    letters, lengths = arrays["letters"], arrays["letter_lengths"]
    greedy_ids, maps = seq2seq.greedy(model, letters, lengths, max_len=8)
    assert (maps is not None) == att
    ones = seq2seq.beam_search(model, letters, lengths, width=1, max_len=8)
    fours = seq2seq.beam_search(model, letters, lengths, width=4, max_len=8)
    compared = 0
    for b in range(3):
        greedy = list(greedy_ids[b])
        greedy = greedy[:greedy.index(pr.END) + 1] if pr.END in greedy else greedy
        assert ones[b] == greedy, b
        if fours[b][-1:] == [pr.END] and greedy[-1:] == [pr.END]:
            one = _log_probability(model, letters[b:b + 1], lengths[b:b + 1], greedy[:-1])
            four = _log_probability(model, letters[b:b + 1], lengths[b:b + 1], fours[b][:-1])
            assert four >= one - 1e-9
            compared += 1
    assert compared >= 2


def test_word_feed_covers_every_word_once_per_pass(entries):
    words = sorted(entries)[:150]
    feed = seq2seq.WordFeed(pr.batch(words, entries), batch_size=64)
    seen = []
    for x, y in feed.epoch(0):
        letters = x[:, :feed.split]
        assert letters[:, -1].any() and (y[:, -1] != pr.PAD).any()   # cut to the longest
        seen += ["".join(pr.decode(row, pr.LETTERS)) for row in letters]
    assert len(feed) == 3 and sorted(seen) == words


def test_figures_draw_and_check_shapes():
    ax = seq2seq_figures.draw_attention_model()
    assert ax.patches
    fig = seq2seq_figures.attention_maps([(np.eye(3, 4), "cats", ["K", "AE", "T"])])
    assert fig.axes
    with pytest.raises(ValueError, match=r"\(phonemes, letters\) = \(3, 4\), got \(4, 3\)"):
        seq2seq_figures.attention_map(fig.axes[0], np.ones((4, 3)), "cats", ["K", "AE", "T"])
