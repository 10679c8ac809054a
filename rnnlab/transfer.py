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
    simple_rnn.set_weights(torch_to_keras(_torch_tensors("rnn", params), "rnn"))
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


# ----------------------------------------------------------------------------------------
# LSTM, GRU and bidirectional layers (chapter 7). What the loading has to handle:
#   gate order   PyTorch LSTM i, f, g, o      Keras LSTM i, f, c, o   (the same order; g = c)
#                PyTorch GRU  r, z, n         Keras GRU  z, r, h      (r and z swap places)
#   kernels      PyTorch stacks the gates' W_x<g> as rows, (k*H, D); Keras stacks the
#                transposes as columns, (D, k*H)
#   biases       PyTorch has bias_ih and bias_hh; for the LSTM and the GRU's r and z only
#                their sum matters, but the GRU's candidate keeps b_hn inside r * (...),
#                so b_xn goes to bias_ih and b_hn to bias_hh. Keras' GRU with
#                reset_after=True (its default) has the same two rows, bias shape (2, 3H).
# ----------------------------------------------------------------------------------------

LSTM_ORDER = ("i", "f", "c", "o")   # PyTorch and Keras stack the LSTM's gates alike
TORCH_GRU_ORDER = ("r", "z", "n")
KERAS_GRU_ORDER = ("z", "r", "n")


TORCH_TENSORS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def reorder_gates(stacked: np.ndarray, source: tuple[str, ...], target: tuple[str, ...]
                  ) -> np.ndarray:
    """Blocks of gates stacked along axis 0 in ``source`` order, restacked in ``target``
    order, e.g. a PyTorch GRU's (r, z, n) rows into Keras' (z, r, n):
    ``reorder_gates(W, TORCH_GRU_ORDER, KERAS_GRU_ORDER)``."""
    blocks = dict(zip(source, np.split(stacked, len(source), axis=0)))
    return np.concatenate([blocks[gate] for gate in target], axis=0)


def torch_to_keras(tensors: dict[str, np.ndarray], cell: str, *, reset_after: bool = True,
                   gru_order: tuple[str, ...] = KERAS_GRU_ORDER) -> list[np.ndarray]:
    """The weights of a Keras SimpleRNN, LSTM or GRU layer (``cell``: "rnn", "lstm", "gru")
    from the four tensors of the same PyTorch layer (:data:`TORCH_TENSORS`, gates in PyTorch's
    order): kernels transposed; the GRU's gates restacked in ``gru_order`` (Keras' z, r, h)
    and its two biases kept as the rows of a (2, 3H) bias (``reset_after=True``) or summed;
    the other cells' two biases summed into Keras' one. The one mapping between the two
    frameworks: :func:`keras_to_torch` undoes it."""
    W_ih, W_hh, b_ih, b_hh = (np.asarray(tensors[name]) for name in TORCH_TENSORS)
    if cell == "gru":
        W_ih, W_hh, b_ih, b_hh = (reorder_gates(v, TORCH_GRU_ORDER, gru_order)
                                  for v in (W_ih, W_hh, b_ih, b_hh))
        return [W_ih.T, W_hh.T, np.stack([b_ih, b_hh]) if reset_after else b_ih + b_hh]
    if cell not in ("rnn", "lstm"):
        raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")
    return [W_ih.T, W_hh.T, b_ih + b_hh]


def keras_to_torch(weights: list[np.ndarray], cell: str) -> dict[str, np.ndarray]:
    """The four PyTorch tensors of a layer from a Keras layer's weights (kernel, recurrent
    kernel, bias): the inverse of :func:`torch_to_keras`. Keras' one bias goes into
    ``bias_ih`` and ``bias_hh`` is zero, except for the GRU (reset_after=True), which has
    the two biases in both frameworks."""
    kernel, recurrent, bias = (np.asarray(w) for w in weights)
    W_ih, W_hh = kernel.T, recurrent.T
    if cell == "gru":
        if bias.ndim != 2:
            raise ValueError("a Keras GRU with reset_after=False has no PyTorch twin")
        W_ih, W_hh, b_ih, b_hh = (reorder_gates(v, KERAS_GRU_ORDER, TORCH_GRU_ORDER)
                                  for v in (W_ih, W_hh, bias[0], bias[1]))
    else:
        b_ih, b_hh = bias, np.zeros_like(bias)
    return dict(zip(TORCH_TENSORS, (np.ascontiguousarray(v) for v in (W_ih, W_hh, b_ih, b_hh))))


def _stack(params, prefix, order):
    """The gates' matrices (or vectors) stacked along the first axis in ``order``."""
    return np.concatenate([params[f"{prefix}{g}"] for g in order], axis=0)


def _copy_into_torch(module, tensors: dict[str, np.ndarray], suffix: str = "_l0") -> None:
    import torch

    with torch.no_grad():
        for name, value in tensors.items():
            target = getattr(module, name + suffix)
            if tuple(target.shape) != value.shape:
                raise ValueError(f"{name + suffix} has shape {tuple(target.shape)}, the NumPy "
                                 f"weight has {value.shape}")
            target.copy_(torch.as_tensor(value))


def _lstm_torch_tensors(params, order=LSTM_ORDER):
    return {"weight_ih": _stack(params, "W_x", order), "weight_hh": _stack(params, "W_h", order),
            "bias_ih": _stack(params, "b_", order),
            "bias_hh": np.zeros_like(_stack(params, "b_", order))}


def _gru_torch_tensors(params, order=TORCH_GRU_ORDER):
    zeros = np.zeros_like(params["b_hn"])
    input_bias = {"r": params["b_r"], "z": params["b_z"], "n": params["b_xn"]}
    hidden_bias = {"r": zeros, "z": zeros, "n": params["b_hn"]}
    return {"weight_ih": _stack(params, "W_x", order), "weight_hh": _stack(params, "W_h", order),
            "bias_ih": np.concatenate([input_bias[g] for g in order]),
            "bias_hh": np.concatenate([hidden_bias[g] for g in order])}


def lstm_params_to_torch(params: dict[str, np.ndarray], lstm, order=LSTM_ORDER) -> None:
    """Copy NumPy LSTM weights (``numpy_nets.init_lstm_params`` keys) into a one-layer
    ``torch.nn.LSTM``: gates stacked i, f, g(=c), o; b_<g> in bias_ih, zeros in bias_hh.
    ``order`` exists so a test can show that a wrong order is caught."""
    _copy_into_torch(lstm, _lstm_torch_tensors(params, order))


def lstm_params_to_keras(params: dict[str, np.ndarray], layer, order=LSTM_ORDER) -> None:
    """Copy NumPy LSTM weights into a built ``keras.layers.LSTM``: kernel (D, 4H) and
    recurrent_kernel (H, 4H) are the transposed stacks in order i, f, c, o; one bias."""
    layer.set_weights(torch_to_keras(_lstm_torch_tensors(params, order), "lstm"))


def gru_params_to_torch(params: dict[str, np.ndarray], gru, order=TORCH_GRU_ORDER) -> None:
    """Copy NumPy GRU weights (``numpy_nets.init_gru_params`` keys) into a one-layer
    ``torch.nn.GRU``: gates stacked r, z, n; bias_ih = [b_r, b_z, b_xn],
    bias_hh = [0, 0, b_hn] (PyTorch puts r_t in front of W_hn h + b_hn, as the NumPy
    ``gru_step`` with reset_after=True does)."""
    _copy_into_torch(gru, _gru_torch_tensors(params, order))


def gru_params_to_keras(params: dict[str, np.ndarray], layer, order=KERAS_GRU_ORDER) -> None:
    """Copy NumPy GRU weights into a built ``keras.layers.GRU``. Keras orders the gates
    z, r, h (h is the candidate n). With ``reset_after=True`` (the default) the bias is
    (2, 3H): row 0 the input biases [b_z, b_r, b_xn], row 1 the recurrent ones [0, 0, b_hn].
    With ``reset_after=False`` it is one (3H,) vector and b_xn + b_hn is loaded."""
    layer.set_weights(torch_to_keras(_gru_torch_tensors(params), "gru", gru_order=order,
                                     reset_after=getattr(layer, "reset_after", True)))


def _torch_tensors(cell, params):
    if cell == "rnn":
        return {"weight_ih": params["W_xh"], "weight_hh": params["W_hh"],
                "bias_ih": params["b_h"], "bias_hh": np.zeros_like(params["b_h"])}
    if cell == "lstm":
        return _lstm_torch_tensors(params)
    if cell == "gru":
        return _gru_torch_tensors(params)
    raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")


def bidirectional_params_to_torch(params_forward: dict[str, np.ndarray],
                                  params_backward: dict[str, np.ndarray], module,
                                  cell: str = "rnn") -> None:
    """Copy two NumPy parameter dicts into a one-layer ``torch.nn.RNN/LSTM/GRU`` built with
    ``bidirectional=True``: the forward direction's tensors end in ``_l0``, the backward
    direction's in ``_l0_reverse``."""
    _copy_into_torch(module, _torch_tensors(cell, params_forward), "_l0")
    _copy_into_torch(module, _torch_tensors(cell, params_backward), "_l0_reverse")


def bidirectional_params_to_keras(params_forward: dict[str, np.ndarray],
                                  params_backward: dict[str, np.ndarray], layer,
                                  cell: str = "rnn") -> None:
    """Copy two NumPy parameter dicts into a built ``keras.layers.Bidirectional`` wrapping a
    SimpleRNN, LSTM or GRU; each direction is loaded like the plain layer."""
    loaders = {"rnn": rnn_params_to_keras, "lstm": lstm_params_to_keras,
               "gru": gru_params_to_keras}
    if cell not in loaders:
        raise ValueError(f"cell must be 'rnn', 'lstm' or 'gru', got {cell!r}")
    loaders[cell](params_forward, layer.forward_layer)
    loaders[cell](params_backward, layer.backward_layer)
