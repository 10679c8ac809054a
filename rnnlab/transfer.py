"""Moving the same weights between NumPy, PyTorch and Keras, so the versions can be compared.

The book keeps the math's shapes (W_xh is (H, D)). PyTorch stores them the same way
(``weight_ih_l0`` is (H, D)) but has two biases, ``bias_ih`` and ``bias_hh``, whose *sum*
plays the role of b_h: here b_h goes into ``bias_ih`` and ``bias_hh`` is zero. Keras
multiplies row vectors by its kernels, ``x @ kernel``, so every Keras kernel is the
transpose: ``kernel`` is W_xh.T, (D, H), and ``recurrent_kernel`` is W_hh.T.
"""
import numpy as np


def rnn_params_to_torch(params: dict[str, np.ndarray], rnn, linear=None) -> None:
    """Copy W_xh, W_hh, b_h into a one-layer ``torch.nn.RNN`` (and W_hy, b_y into a
    ``torch.nn.Linear`` when given). The module keeps its own dtype."""
    import torch

    with torch.no_grad():
        for name, value in (("weight_ih_l0", params["W_xh"]), ("weight_hh_l0", params["W_hh"]),
                            ("bias_ih_l0", params["b_h"])):
            target = getattr(rnn, name)
            if tuple(target.shape) != value.shape:
                raise ValueError(f"{name} has shape {tuple(target.shape)}, the NumPy "
                                 f"weight has {value.shape}")
            target.copy_(torch.as_tensor(value))
        rnn.bias_hh_l0.zero_()  # the two biases add up; one of them carries b_h
        if linear is not None:
            linear.weight.copy_(torch.as_tensor(params["W_hy"]))
            linear.bias.copy_(torch.as_tensor(params["b_y"]))


def rnn_params_to_keras(params: dict[str, np.ndarray], simple_rnn, dense=None) -> None:
    """Copy the weights into a built ``keras.layers.SimpleRNN`` (and ``Dense``): every
    kernel is transposed, because Keras computes ``x @ kernel``."""
    simple_rnn.set_weights([params["W_xh"].T, params["W_hh"].T, params["b_h"]])
    if dense is not None:
        dense.set_weights([params["W_hy"].T, params["b_y"]])


def rnn_params_from_torch(rnn, linear=None) -> dict[str, np.ndarray]:
    """The NumPy parameter dict of a one-layer ``torch.nn.RNN`` (biases summed into b_h)."""
    params = {
        "W_xh": rnn.weight_ih_l0.detach().cpu().numpy().copy(),
        "W_hh": rnn.weight_hh_l0.detach().cpu().numpy().copy(),
        "b_h": (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().cpu().numpy().copy(),
    }
    if linear is not None:
        params["W_hy"] = linear.weight.detach().cpu().numpy().copy()
        params["b_y"] = linear.bias.detach().cpu().numpy().copy()
    return params
