"""The data of chapter 11: series windows and time-ordered splits, baselines, synthetic
speech and spectrograms, generated video clips."""
import numpy as np
import pytest

from rnnlab import series, speech, video


def test_datasets_load_offline_with_their_shapes():
    years, sun = series.sunspots()
    assert sun.shape == years.shape == (309,)
    assert years[0] == 1700 and years[-1] == 2008 and np.all(np.diff(years) == 1)
    dates, co2 = series.co2()
    assert co2.shape == dates.shape == (2284,)
    assert np.isfinite(co2).all(), "the missing weeks must be interpolated"
    assert np.all(np.diff(dates).astype("timedelta64[D]") == np.timedelta64(7, "D"))
    assert 310 < co2.min() < co2.max() < 380


def test_windows_line_up_with_the_series():
    values = np.arange(20.0)
    X, Y, t = series.windows(values, length=5, horizon=3)
    assert X.shape == (13, 5) and Y.shape == (13, 3) and t.shape == (13,)
    np.testing.assert_array_equal(Y[:, 0], values[t])
    np.testing.assert_array_equal(X[:, -1], values[t - 1])
    np.testing.assert_array_equal(Y[-1], [17, 18, 19])
    with pytest.raises(ValueError, match="at least length"):
        series.windows(values, length=18, horizon=3)


@pytest.mark.parametrize("horizon", [1, 4])
def test_split_is_in_time_order_without_overlap(horizon):
    values = np.arange(100.0)  # value == time index, so the targets name their times
    split = series.split_windows(values, length=10, cut=70, horizon=horizon)
    assert split.Y_train.max() < 70 <= split.Y_test.min(), "a test target leaked into training"
    assert split.X_train.max() < 70, "training inputs must come from before the cut"
    assert np.all(np.diff(split.t_train) > 0) and np.all(np.diff(split.t_test) > 0)
    assert split.t_train.max() + horizon - 1 < split.t_test.min()
    assert not set(split.Y_train.ravel()) & set(split.Y_test.ravel())
    # every window whose targets lie wholly on one side is used: none is lost at the cut
    assert len(split.t_train) == 70 - 10 - horizon + 1
    assert len(split.t_test) == 100 - 70 - horizon + 1
    assert split.X_test.shape == (len(split.t_test), 10)
    with pytest.raises(ValueError, match="cut must lie"):
        series.split_windows(values, length=10, cut=5)


def test_an_overlapping_split_would_be_caught():
    """The leak check above bites: a split cut one step late overlaps."""
    values = np.arange(100.0)
    late = series.split_windows(values, length=10, cut=71)
    early = series.split_windows(values, length=10, cut=70)
    assert set(late.Y_train.ravel()) & set(early.Y_test.ravel())


def test_baselines_and_relative_windows():
    values = np.arange(30.0) % 5  # a season of 5
    X, Y, _ = series.windows(values, length=10, horizon=3)
    np.testing.assert_array_equal(series.seasonal_naive(X, period=5, horizon=3), Y)
    np.testing.assert_array_equal(series.last_value(X, 3), np.repeat(X[:, -1:], 3, axis=1))
    Xr, Yr = series.relative(X, Y, scale=2.0)
    np.testing.assert_allclose(X[:, -1:] + 2.0 * Yr, Y)
    assert np.all(Xr[:, -1] == 0)
    with pytest.raises(ValueError, match="period"):
        series.seasonal_naive(X, period=12)


def test_autoregression_recovers_a_linear_recursion_and_iterates_it():
    rng = np.random.default_rng(0)
    x = np.zeros(400)
    for t in range(2, 400):
        x[t] = 0.6 * x[t - 1] - 0.3 * x[t - 2] + 1.0 + rng.normal()
    X, Y, _ = series.windows(x, length=2)
    coef = series.fit_autoregression(X, Y)
    np.testing.assert_allclose(coef, [-0.3, 0.6, 1.0], atol=0.1)
    exact = np.array([-0.3, 0.6, 1.0])
    multi = series.iterate(lambda W: series.predict_autoregression(exact, W), X[:1], 3)
    a, b = X[0]
    first = 0.6 * b - 0.3 * a + 1
    second = 0.6 * first - 0.3 * b + 1
    np.testing.assert_allclose(multi[0, :2], [first, second])
    assert series.mae([1, 2], [2, 4]) == 1.5 and series.rmse([0, 0], [3, 4]) == pytest.approx(
        np.sqrt(12.5))


def test_resonator_peaks_at_its_formant():
    impulse = np.zeros((1, 4096))
    impulse[0, 0] = 1.0
    F = np.full_like(impulse, 1000.0)
    response = speech.resonate(impulse, F, BW=80.0)
    spectrum = np.abs(np.fft.rfft(response[0]))
    peak_hz = np.argmax(spectrum) * speech.FS / 4096
    assert abs(peak_hz - 1000) < 10
    assert abs(spectrum[0] - 1.0) < 1e-6, "a0 = 1 - a1 - a2 gives unit gain at 0 Hz"


def test_synthetic_speech_shapes_pitch_and_spectrogram():
    rng = np.random.default_rng(0)
    audio, words, speakers = speech.make_dataset(12, rng)
    assert audio.shape == (12, int(speech.FS * speech.DURATION))
    assert np.bincount(words, minlength=6).tolist() == [2] * 6
    assert set(speakers) <= set(speech.PITCH)
    assert np.isfinite(audio).all()
    spec = speech.log_spectrogram(audio)
    assert spec.shape == (12, 38, 40)
    # F2 of /i/ (2.3 kHz for men) against F1-F2 of /a/ (0.7-1.1 kHz): the contrast rises
    # along "a-i" and falls along "i-a", although both hold the same two vowels
    for word, sign in (("a-i", 1), ("i-a", -1)):
        clip = speech.synthesise(np.array([speech.WORDS.index(word)] * 6),
                                 np.array(["men"] * 6), rng)
        spec = speech.log_spectrogram(clip)
        contrast = spec[:, :, 16:20].mean(axis=2) - spec[:, :, 5:9].mean(axis=2)
        change = contrast[:, 20:24].mean(axis=1) - contrast[:, 7:11].mean(axis=1)
        assert sign * change.mean() > 3.0, f"{word}: formants move the wrong way {change}"
    with pytest.raises(ValueError, match="at least 250 samples"):
        speech.log_spectrogram(np.zeros((1, 100)))


def test_clips_move_the_way_their_label_says():
    rng = np.random.default_rng(1)
    clips, labels = video.make_clips(8, rng, frames=6, size=12, noise=0.0)
    assert clips.shape == (8, 6, 12, 12) and clips.dtype == np.float32
    assert np.bincount(labels, minlength=4).tolist() == [2, 2, 2, 2]
    want = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}
    grid_r, grid_c = np.mgrid[0:12, 0:12]
    for clip, label in zip(clips, labels):
        moving = clip - clip[0] > 0  # the still square cancels; the moving one's new pixels
        mass = moving[1:].sum(axis=(1, 2))
        centre_r = (moving[1:] * grid_r).sum(axis=(1, 2)) / mass
        centre_c = (moving[1:] * grid_c).sum(axis=(1, 2)) / mass
        step = (np.sign(np.diff(centre_r).mean()), np.sign(np.diff(centre_c).mean()))
        assert step == want[video.DIRECTIONS[label]], f"label {label} but moved {step}"
    with pytest.raises(ValueError, match="too small"):
        video.make_clips(2, rng, frames=10, size=8)


def test_a_linear_model_on_relative_windows_is_an_ar_whose_level_weights_sum_to_one():
    """Chapter 11a's statement of the fitted model: on windows relative to their last value
    the linear model forecasts x_t + sum_j w_j (x_{t-j} - x_t) + s c, an AR on the levels
    whose weights sum to 1; the AR fitted on the levels themselves has no such constraint."""
    rng = np.random.default_rng(2)
    x = np.zeros(600)
    for t in range(2, 600):
        x[t] = 0.6 * x[t - 1] - 0.3 * x[t - 2] + 1.0 + rng.normal()
    X, Y, _ = series.windows(x, length=5)
    s = 2.0
    Xr, Yr = series.relative(X, Y, scale=s)
    assert np.all(Xr[:, -1] == 0), "the newest relative value is always 0"
    w_c = series.fit_autoregression(Xr[:, :-1], Yr)

    def relative_step(W):
        return W[:, -1] + s * series.predict_autoregression(w_c, series.relative(W, scale=s)[:, :-1])

    drift = relative_step(np.zeros((1, 5)))[0]
    level_weights = np.array([relative_step(np.eye(5)[[j]])[0] - drift for j in range(5)])
    np.testing.assert_allclose(level_weights.sum(), 1.0, atol=1e-9)
    np.testing.assert_allclose(drift, s * w_c[-1])
    np.testing.assert_allclose(relative_step(X[:3] + 7.0), relative_step(X[:3]) + 7.0)
    a_c = series.fit_autoregression(X, Y)
    assert abs(a_c[:-1].sum() - 0.3) < 0.1, "the AR on levels finds the process's 0.6 - 0.3"
