"""Time series for forecasting, from the datasets that statsmodels ships (no download).

``sunspots()`` is the yearly mean sunspot number 1700-2008 (309 values, a cycle of about
11 years); ``co2()`` is the weekly CO2 concentration at Mauna Loa 1958-2001 (2284 weeks,
a yearly season of 52 weeks on a rising trend; its 59 missing weeks are filled by linear
interpolation in time).

A forecaster sees a window of the T = ``length`` most recent values x_{t-T+1..t} and
predicts x_{t+1} (one step) or x_{t+1..t+Delta} (several steps, Delta = ``horizon``; the
book's notation). ``split_windows`` cuts a series at one
time index: every training window, inputs and targets, lies before it; every test target
lies at or after it. Test inputs may reach back before the cut, as they would in real use
(the past is known when one forecasts), but no test target is ever seen in training.
"""
from dataclasses import dataclass

import numpy as np

from rnnlab.shapes import expect_shape


def sunspots() -> tuple[np.ndarray, np.ndarray]:
    """Yearly sunspot numbers: ``(years, values)``, each of shape (309,), years 1700..2008."""
    import statsmodels.api as sm

    frame = sm.datasets.sunspots.load_pandas().data
    return frame["YEAR"].to_numpy(dtype=int), frame["SUNACTIVITY"].to_numpy(dtype=float)


def co2() -> tuple[np.ndarray, np.ndarray]:
    """Weekly Mauna Loa CO2 in ppm: ``(dates, values)``, shape (2284,), gaps interpolated."""
    import statsmodels.api as sm

    series = sm.datasets.co2.load_pandas().data["co2"].interpolate(method="time")
    return series.index.to_numpy(), series.to_numpy(dtype=float)


def windows(values: np.ndarray, length: int, horizon: int = 1
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every window of ``length`` values and the ``horizon`` values after it.

    Returns ``X`` (N, length), ``Y`` (N, horizon) and ``t`` (N,), the index of the first
    target of each row, so ``Y[i, 0] == values[t[i]]`` and ``X[i, -1] == values[t[i] - 1]``;
    N = len(values) - length - horizon + 1.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < length + horizon:
        raise ValueError(f"values must be 1-D with at least length + horizon = "
                         f"{length + horizon} entries, got shape {values.shape}")
    view = np.lib.stride_tricks.sliding_window_view(values, length + horizon)
    t = np.arange(length, length + len(view))
    return view[:, :length].copy(), view[:, length:].copy(), t


@dataclass
class Split:
    """Windows on both sides of a cut in time; ``t_*`` index each row's first target."""

    X_train: np.ndarray
    Y_train: np.ndarray
    t_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    t_test: np.ndarray


def split_windows(values: np.ndarray, length: int, cut: int, horizon: int = 1) -> Split:
    """Windows for training (all targets before index ``cut``) and testing (from ``cut`` on).

    A training row's last target is ``values[t + horizon - 1]`` with ``t + horizon - 1 < cut``;
    a test row's first target is ``values[t]`` with ``t >= cut``. Rows are in time order.
    """
    values = np.asarray(values, dtype=float)
    if not length <= cut <= len(values) - horizon:
        raise ValueError(f"cut must lie in [{length}, {len(values) - horizon}], got {cut}")
    X, Y, t = windows(values, length, horizon)
    train = t + horizon - 1 < cut
    test = t >= cut
    return Split(X[train], Y[train], t[train], X[test], Y[test], t[test])


def relative(X: np.ndarray, Y: np.ndarray | None = None, scale: float = 1.0):
    """Express a window relative to its last value, in units of ``scale``.

    (x - x_t) / s makes a rising series look the same in 1960 and in 2000, so a network
    trained on the early years is not asked to output levels it never saw. Returns the
    relative inputs (and targets when ``Y`` is given); undo with ``x_t + s * y``.
    """
    expect_shape("X", X, (None, None), "(windows, length)")
    last = X[:, -1:]
    if Y is None:
        return (X - last) / scale
    return (X - last) / scale, (Y - last) / scale


def last_value(X: np.ndarray, horizon: int = 1) -> np.ndarray:
    """The naive forecast: x_{t+h} = x_t for every h (shape (N, horizon))."""
    return np.repeat(X[:, -1:], horizon, axis=1)


def seasonal_naive(X: np.ndarray, period: int, horizon: int = 1) -> np.ndarray:
    """The seasonal naive forecast: x_{t+h} = x_{t+h-period} (needs period <= length and
    horizon <= period), i.e. "the same as one season ago"."""
    length = X.shape[1]
    if not horizon <= period <= length:
        raise ValueError(f"need horizon <= period <= window length, got horizon={horizon}, "
                         f"period={period}, length={length}")
    start = length - period
    return X[:, start:start + horizon].copy()


def fit_autoregression(X: np.ndarray, y: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    """Least-squares linear autoregression y = w . x + c on windows X (N, T): returns (w, c)
    stacked as one vector of length T + 1 (a tiny ridge keeps the normal equations well
    posed). On raw windows this is the AR on levels of chapter 11a; on windows relative to
    their last value (``relative``, without its last column, which is always 0) the weights
    on the levels are constrained to sum to 1."""
    A = np.hstack([X, np.ones((len(X), 1))])
    return np.linalg.solve(A.T @ A + ridge * np.eye(A.shape[1]), A.T @ np.ravel(y))


def predict_autoregression(coef: np.ndarray, X: np.ndarray) -> np.ndarray:
    """One-step forecasts w . x + c of a fitted autoregression, shape (N,)."""
    return X @ coef[:-1] + coef[-1]


def iterate(step, X: np.ndarray, horizon: int) -> np.ndarray:
    """Multi-step forecasts by feeding each one-step forecast back in as the newest value.

    ``step`` maps windows (N, L) to one-step forecasts (N,); returns (N, horizon).
    """
    window = np.array(X, dtype=float)
    out = np.empty((len(window), horizon))
    for h in range(horizon):
        out[:, h] = step(window)
        window = np.hstack([window[:, 1:], out[:, h:h + 1]])
    return out


def mae(forecast: np.ndarray, actual: np.ndarray) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(forecast) - np.asarray(actual))))


def rmse(forecast: np.ndarray, actual: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(forecast) - np.asarray(actual)) ** 2)))
