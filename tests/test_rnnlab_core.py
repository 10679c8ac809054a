"""Unit tests of rnnlab's first modules: seeding, device, shapes, the NumPy RNN, data.
(String hashing is fixed where kernels start: tests/test_execute.py.)"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import rnnlab
from rnnlab import data, device, numpy_nets, quiet
from rnnlab.shapes import expect_shape


def _draws(generator) -> list:
    """One number from each generator the chapters use after seeding: the returned Generator,
    Python's random, NumPy's global state and PyTorch's."""
    import random

    import torch

    return [generator.normal(), random.random(), np.random.rand(), float(torch.rand(1))]


def test_seed_everything_seeds_every_generator():
    first = _draws(rnnlab.seed_everything(3))
    second = _draws(rnnlab.seed_everything(3))
    assert first == second
    other = _draws(rnnlab.seed_everything(4))
    assert all(a != b for a, b in zip(first, other)), "a generator ignored the seed"


@pytest.mark.slow
def test_seed_everything_seeds_keras_once_imported_and_never_imports_it():
    """Keras' initial weights and TensorFlow's random numbers repeat under the same seed
    (Keras draws its seeds from Python's random, TensorFlow from its own global seed); seeding
    before TensorFlow is imported leaves it unimported (a NumPy chapter does not pay for it).
    In a fresh interpreter, since this suite may have imported TensorFlow already."""
    code = """if True:
        import sys, rnnlab
        rnnlab.seed_everything(0)
        print("tensorflow" in sys.modules)
        import keras
        import numpy as np
        import tensorflow as tf

        def weights(seed):   # Keras' initial weights, and TensorFlow's own generator
            rnnlab.seed_everything(seed)
            dense = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
            return np.append(dense.get_weights()[0], tf.random.uniform((3,)).numpy())

        print((weights(3) == weights(3)).all(), (weights(3) != weights(4)).all())"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    imported, same, different = result.stdout.split()
    assert imported == "False", "seed_everything imported TensorFlow"
    assert same == "True" and different == "True", "Keras or TensorFlow ignored the seed"


def test_scale_from_environment(monkeypatch):
    monkeypatch.setenv("RNNLAB_SCALE", "full")
    assert device.scale() == "full" and device.pick(1, 2) == 2
    monkeypatch.setenv("RNNLAB_SCALE", "quick")
    assert device.pick(1, 2) == 1
    assert "scale: quick" in device.describe()
    monkeypatch.setenv("RNNLAB_SCALE", "huge")
    with pytest.raises(ValueError, match="quick"):
        device.scale()


def test_expect_shape_names_both_shapes():
    expect_shape("h", np.zeros((2, 4)), (2, None))
    with pytest.raises(ValueError, match=r"h must have shape \(batch, hidden\) = \(2, 4\), "
                                         r"got \(4, 2\)"):
        expect_shape("h", np.zeros((4, 2)), (2, 4), "(batch, hidden)")


def _params(rng, D=3, H=4, O=2):
    return numpy_nets.init_rnn_params(D, H, O, rng)


def test_rnn_step_is_the_equation():
    rng = np.random.default_rng(0)
    p = _params(rng)
    x_t, h_prev = rng.normal(size=(1, 3)), rng.normal(size=(1, 4))
    # the column-vector equation of the chapters, for one sequence
    expected = np.tanh(p["W_hh"] @ h_prev[0] + p["W_xh"] @ x_t[0] + p["b_h"])
    got = numpy_nets.rnn_step(x_t, h_prev, p["W_xh"], p["W_hh"], p["b_h"])
    np.testing.assert_allclose(got[0], expected, rtol=1e-12)


def test_rnn_forward_loops_rnn_step_with_shared_weights():
    rng = np.random.default_rng(1)
    p = _params(rng)
    X = rng.normal(size=(2, 5, 3))
    hs, ys = numpy_nets.rnn_forward(X, p)
    assert hs.shape == (2, 5, 4) and ys.shape == (2, 5, 2)
    h = np.zeros((2, 4))
    for t in range(5):
        h = numpy_nets.rnn_step(X[:, t], h, p["W_xh"], p["W_hh"], p["b_h"])
        np.testing.assert_allclose(hs[:, t], h, rtol=1e-12)
    np.testing.assert_allclose(ys[:, -1], h @ p["W_hy"].T + p["b_y"], rtol=1e-12)


@pytest.mark.parametrize("bad, message", [
    ({"x_t": (2, 5)}, r"W_xh must have shape \(hidden, input\) = \(4, 5\), got \(4, 3\)"),
    ({"h_prev": (3, 4)}, r"h_prev must have shape \(batch, hidden\) = \(2, 4\), got \(3, 4\)"),
    ({"x_t": (3,)}, r"x_t must have shape \(batch, input\)"),
])
def test_rnn_step_shape_errors_name_expected_and_received(bad, message):
    rng = np.random.default_rng(2)
    p = _params(rng)
    shapes = {"x_t": (2, 3), "h_prev": (2, 4)} | bad
    with pytest.raises(ValueError, match=message):
        numpy_nets.rnn_step(np.zeros(shapes["x_t"]), np.zeros(shapes["h_prev"]),
                            p["W_xh"], p["W_hh"], p["b_h"])


def test_rnn_forward_rejects_unbatched_input():
    with pytest.raises(ValueError, match=r"X must have shape \(batch, time, input\), got \(5, 3\)"):
        numpy_nets.rnn_forward(np.zeros((5, 3)), _params(np.random.default_rng(0)))


def test_cross_entropy_of_uniform_logits_is_log_vocab():
    logits = np.zeros((2, 7, 11))
    targets = np.random.default_rng(0).integers(0, 11, size=(2, 7))
    assert numpy_nets.cross_entropy(logits, targets) == pytest.approx(np.log(11))


def test_plays_are_cleaned_to_speaker_and_lines():
    text = data.load_play("hamlet")
    assert text.startswith("BERNARDO:\nWho's there?\n\nFRANCISCO:\n")
    for junk in ("#", "_", "**", "\\", "["):
        assert junk not in text, f"{junk!r} left in the cleaned text"


def test_clean_play_drops_multiline_stage_directions():
    md = "# T\n\n_Enter A and\nB_\n\n**A**  \nHello,  \nworld. __\\[Aside]_\n\n_Exit_\n"
    assert data.clean_play(md) == "A:\nHello,\nworld.\n"


def test_split_is_by_whole_plays():
    plays = data.list_plays()
    assert len(plays) >= 30 and set(data.VALIDATION_PLAYS) <= set(plays)
    train, valid = data.shakespeare("train"), data.shakespeare("validation")
    assert data.load_play("hamlet") in valid and data.load_play("hamlet") not in train
    assert len(train) > 8 * len(valid) > 0
    with pytest.raises(ValueError, match="split"):
        data.shakespeare("test")


def test_vocab_round_trip_and_unknown_character():
    vocab = data.Vocab("hello world")
    assert len(vocab) == 8 and vocab.decode(vocab.encode("low")) == "low"
    with pytest.raises(KeyError, match="'z'"):
        vocab.encode("z")


def test_one_hot_and_windows_match_the_article():
    ids = np.array([0, 1, 2, 3, 4])
    X, y = data.windows(ids, 3)
    np.testing.assert_array_equal(X, [[0, 1, 2], [1, 2, 3]])
    np.testing.assert_array_equal(y, [3, 4])
    encoded = data.one_hot(X, 5)
    assert encoded.shape == (2, 3, 5) and encoded.sum() == 6 and encoded[1, 2, 3] == 1
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        data.one_hot(ids, 3)


def test_stream_batches_continue_across_batches():
    ids = np.arange(101)
    batches = list(data.stream_batches(ids, batch_size=4, seq_len=5))
    assert len(batches) == 5
    (x0, y0), (x1, _) = batches[0], batches[1]
    np.testing.assert_array_equal(y0, x0 + 1)
    np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)  # row b continues row b


def test_assert_disjoint_finds_a_shared_row_or_string():
    train = np.array([[0, 1, 1], [1, 0, 1]])
    assert data.assert_disjoint(train, np.array([[1, 1, 1]]), "strings") == 1
    with pytest.raises(AssertionError, match="1 of 2 held-out strings"):
        data.assert_disjoint(train, np.array([[1, 1, 1], [1, 0, 1]]), "strings")
    assert data.assert_disjoint(["hamlet"], ["macbeth", "othello"]) == 2
    with pytest.raises(AssertionError, match="plays"):
        data.assert_disjoint(["hamlet", "macbeth"], ["macbeth"], "plays")


def test_random_batches_draws_every_valid_start_and_only_those():
    """With seq_len + 2 ids there are two valid starts, 0 and 1; both must come up (the last
    valid start was never drawn when the upper bound excluded it)."""
    ids = np.arange(7)                       # seq_len 5: windows [0..4] -> [1..5], [1..5] -> [2..6]
    x, y = data.random_batches(ids, 400, 5, np.random.default_rng(0))
    assert set(x[:, 0].tolist()) == {0, 1}
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="at least seq_len \\+ 1 = 8"):
        data.random_batches(ids, 1, 7, np.random.default_rng(0))


def test_the_package_docstring_names_every_module():
    """rnnlab/__init__ is the reader's map of the library: every module is on it."""
    root = pathlib.Path(rnnlab.__file__).parent
    modules = [p.stem for p in root.glob("*.py") if p.stem != "__init__"]
    modules += [f"figures.{p.stem}" for p in (root / "figures").glob("*.py")
                if p.stem != "__init__"]
    missing = [name for name in modules if f"``{name}``" not in rnnlab.__doc__]
    assert not missing, f"rnnlab/__init__.py's docstring does not name {missing}"


def test_startup_noise_filter_drops_only_startup_lines():
    noise = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795651606.479005   17975 port.cc:153] oneDNN custom operations are on.\n"
        "I0000 00:00:1795651606.479348   17975 cudart_stub.cc:31] Could not find cuda drivers "
        "on your machine, GPU will not be used.\n"
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
        "TensorFlow with the appropriate compiler flags.\n")
    kept = ("E0000 00:00:1795651606.479348   17975 cuda_dnn.cc:8] Unable to register\n"
            "Traceback (most recent call last):\nUserWarning: something that teaches\n")
    assert quiet.drop_startup_noise(noise) == ""
    assert quiet.drop_startup_noise(noise + kept) == kept


@pytest.mark.slow
def test_importing_rnnlab_first_keeps_tensorflow_start_up_quiet():
    """The root of chapter 9's log noise: TensorFlow's C++ start-up lines go straight to file
    descriptor 2, which a notebook kernel forwards into the page. After `import rnnlab` an
    `import keras` writes nothing to stderr, and stderr works again afterwards."""
    # PyTorch's compiler looks TensorFlow up without importing it (chapter 13 trains in torch
    # before it imports Keras): a look-up must not use up the quiet import. Both at once.
    runs = {look_up: subprocess.Popen(
        [sys.executable, "-c", (f"import sys, importlib.util, rnnlab; {look_up}import keras; "
                                "print('after', file=sys.stderr)")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": ""})
        for look_up in ("", "importlib.util.find_spec('tensorflow'); ")}
    for look_up, run in runs.items():
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
        assert stderr == "after\n", (look_up, stderr[-500:])


def test_steps_are_capped_by_rnnlab_max_steps(monkeypatch):
    monkeypatch.setenv("RNNLAB_SCALE", "full")
    monkeypatch.delenv("RNNLAB_MAX_STEPS", raising=False)
    assert device.max_steps() is None and device.steps(10, 3000) == 3000
    assert device.keras_callbacks() == []
    assert len(device.capped(np.arange(10**6))) == 10**6     # uncapped: all of it
    monkeypatch.setenv("RNNLAB_MAX_STEPS", "2")
    assert device.steps(10, 3000) == 2 and device.steps(1, 1) == 1
    assert device.pick(10, 3000) == 3000                    # sizes keep the full scale
    held_out = np.arange(device.HELD_OUT_UNDER_CAP + 5)
    np.testing.assert_array_equal(device.capped(held_out), held_out[:-5])
    assert "at most 2 updates" in device.describe()
    for bad in ("0", "-3", "two"):
        monkeypatch.setenv("RNNLAB_MAX_STEPS", bad)
        with pytest.raises(ValueError, match="RNNLAB_MAX_STEPS"):
            device.max_steps()


@pytest.mark.slow
def test_keras_fit_stops_after_max_steps(monkeypatch):
    keras = pytest.importorskip("keras")
    monkeypatch.setenv("RNNLAB_MAX_STEPS", "3")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((64, 4), dtype=np.float32)
    seen = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    model.fit(x, x[:, :1], batch_size=4, epochs=5, verbose=0,
              callbacks=[*device.keras_callbacks(), counter])
    assert len(seen) == 3                                   # not 5 epochs x 16 batches
