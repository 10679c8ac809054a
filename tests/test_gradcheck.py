"""rnnlab.gradcheck: the relative error and the finite differences are right, and a wrong
gradient is caught."""
import numpy as np
import pytest

from rnnlab import gradcheck


def test_relative_error_is_the_cs231n_definition():
    a = np.array([1.0, -2.0, 0.0])
    b = np.array([1.1, -2.0, 0.0])
    # |1 - 1.1| / max(1, 1.1) = 0.1/1.1; the equal and the zero entries contribute 0
    assert gradcheck.relative_error(a, b) == pytest.approx(0.1 / 1.1)
    assert gradcheck.relative_error(b, a) == pytest.approx(0.1 / 1.1)
    assert gradcheck.relative_error(np.zeros(3), np.full(3, 1e-12)) == pytest.approx(1e-4)


def test_relative_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        gradcheck.relative_error(np.zeros((2, 3)), np.zeros((3, 2)))


def test_numerical_gradient_of_a_known_function():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    def f():
        return float(np.sum(np.sin(x) * x ** 2))
    expected = np.cos(x) * x ** 2 + 2 * x * np.sin(x)
    before = x.copy()
    numeric = gradcheck.numerical_gradient(f, x)
    assert gradcheck.relative_error(numeric, expected) < 1e-8
    np.testing.assert_array_equal(x, before)   # x is restored


def test_numerical_gradient_refuses_float32():
    with pytest.raises(ValueError, match="float64"):
        gradcheck.numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))


def test_check_gradients_catches_a_wrong_gradient():
    """The check bites: a gradient off by a factor of 2 in one entry is reported."""
    params = {"w": np.array([0.5, -1.0, 2.0])}
    def f():
        return float(np.sum(params["w"] ** 3))
    right = {"w": 3 * params["w"] ** 2}
    assert gradcheck.check_gradients(f, params, right)["w"] < 1e-7
    wrong = {"w": right["w"] * np.array([1.0, 2.0, 1.0])}
    assert gradcheck.check_gradients(f, params, wrong)["w"] > 0.4


def test_check_gradients_names_both_shapes():
    params = {"W": np.zeros((2, 3))}
    with pytest.raises(ValueError, match=r"'W'.*\(3, 2\).*\(2, 3\)"):
        gradcheck.check_gradients(lambda: 0.0, params, {"W": np.zeros((3, 2))})
