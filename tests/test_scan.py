"""Chapter 12: linear recurrences as scans (rnnlab.scan, rnnlab.mingru, rnnlab.figures.scan).

The scans agree with the loop, the backward pass (a reverse scan) agrees with finite
differences and with torch autograd, the PyTorch layers agree with NumPy and with themselves
run step by step, the character model plugs into rnnlab.charlm, and wrong shapes are refused
with messages that name both shapes. All fast.
"""
import numpy as np
import pytest
import torch
from course import ROOT

from rnnlab import charlm, gradcheck, mingru, scan

SCANS = {"hillis-steele": scan.scan_hillis_steele, "blelloch": scan.scan_blelloch}


def scan_loop(a, b, h0=None):
    """Equation (1), h_t = a_t h_{t-1} + b_t, one step after another (h0 = 0 if omitted): the
    reference every scan must equal (chapter 12 writes the same loop)."""
    h = np.zeros_like(b[:, 0]) if h0 is None else h0
    hs = np.empty(b.shape, dtype=np.result_type(a, b, h))
    for t in range(b.shape[1]):
        h = a[:, t] * h + b[:, t]
        hs[:, t] = h
    return hs


def random_recurrence(rng, B=3, T=11, H=4, positive=False):
    a = rng.uniform(0.05, 0.99, size=(B, T, H))
    b = rng.normal(size=(B, T, H))
    h0 = rng.normal(size=(B, H))
    return (a, np.abs(b), np.abs(h0)) if positive else (a, b, h0)


@pytest.mark.parametrize("T", [1, 2, 5, 8, 33])
@pytest.mark.parametrize("name", SCANS)
def test_parallel_scans_agree_with_the_loop(name, T):
    rng = np.random.default_rng(T)
    a, b, h0 = random_recurrence(rng, T=T)
    loop = scan_loop(a, b, h0)
    assert gradcheck.relative_error(SCANS[name](a, b, h0), loop) < 1e-10
    assert gradcheck.relative_error(SCANS[name](a, b), scan_loop(a, b)) < 1e-10


@pytest.mark.parametrize("T", [1, 7, 64])
def test_log_space_scan_agrees_for_positive_coefficients(T):
    rng = np.random.default_rng(100 + T)
    a, b, h0 = random_recurrence(rng, T=T, positive=True)
    loop = scan_loop(a, b, h0)
    assert gradcheck.relative_error(scan.scan_log(np.log(a), np.log(b), np.log(h0)), loop) < 1e-10
    no_h0 = scan.scan_log(np.log(a), np.log(b))        # None means h0 = 0, not ln h0 = 0
    assert gradcheck.relative_error(no_h0, scan_loop(a, b)) < 1e-10


def test_closed_form_is_unstable_where_the_log_space_scan_is_not():
    a, b = np.full((1, 2000, 1), 0.5), np.ones((1, 2000, 1))
    assert not np.isfinite(scan.scan_closed_form(a, b)).all()
    assert np.allclose(scan.scan_log(np.log(a), np.log(b))[0, -1], 2.0)   # h -> b / (1 - a)


def test_combine_is_associative_but_not_commutative():
    rng = np.random.default_rng(0)
    p, q, r = [(rng.uniform(size=3), rng.normal(size=3)) for _ in range(3)]
    left, right = scan.combine(scan.combine(p, q), r), scan.combine(p, scan.combine(q, r))
    assert np.allclose(left, right)
    assert not np.allclose(scan.combine(p, q), scan.combine(q, p))


@pytest.mark.parametrize("name", SCANS)
def test_reverse_scan_gradients_match_finite_differences(name):
    rng = np.random.default_rng(1)
    P = dict(zip(("a", "b", "h0"), random_recurrence(rng, B=2, T=7, H=3)))
    W = rng.normal(size=P["b"].shape)

    def loss():
        hs = scan_loop(P["a"], P["b"], P["h0"])
        return float((W * hs).sum() + 0.5 * (hs ** 2).sum())

    hs = scan_loop(P["a"], P["b"], P["h0"])
    grads = scan.scan_backward(P["a"], hs, W + hs, P["h0"], scan=SCANS[name])
    # the loss is quadratic in each single entry, so central differences err only by rounding,
    # which a step of 1e-4 keeps smaller than 1e-5 does
    errors = gradcheck.check_gradients(loss, P, grads, eps=1e-4)
    assert max(errors.values()) < 1e-7, errors


def test_the_gradient_check_catches_a_wrong_reverse_scan():
    """delta_t must receive a_{t+1} delta_{t+1}; using a_t instead is caught."""
    rng = np.random.default_rng(2)
    P = dict(zip(("a", "b", "h0"), random_recurrence(rng, B=2, T=6, H=3)))

    def loss():
        return float((scan_loop(P["a"], P["b"], P["h0"]) ** 2).sum() / 2)

    hs = scan_loop(P["a"], P["b"], P["h0"])
    delta = scan.scan_hillis_steele(P["a"][:, ::-1], hs[:, ::-1])[:, ::-1]   # wrong: a_t
    wrong = {"b": delta}
    assert gradcheck.check_gradients(loss, P, wrong)["b"] > 1e-2


def test_reverse_scan_matches_torch_autograd():
    rng = np.random.default_rng(3)
    a, b, h0 = random_recurrence(rng, B=2, T=9, H=3)
    W = rng.normal(size=b.shape)
    ta, tb, th0 = (torch.tensor(v, requires_grad=True) for v in (a, b, h0))
    h, hs = th0, []
    for t in range(a.shape[1]):
        h = ta[:, t] * h + tb[:, t]
        hs.append(h)
    hs_t = torch.stack(hs, dim=1)
    ((torch.tensor(W) * hs_t).sum() + 0.5 * (hs_t ** 2).sum()).backward()
    hs_np = hs_t.detach().numpy()
    ours = scan.scan_backward(a, hs_np, W + hs_np, h0)
    for name, tensor in (("a", ta), ("b", tb), ("h0", th0)):
        assert gradcheck.relative_error(ours[name], tensor.grad.numpy()) < 1e-10, name


def test_mingru_backward_matches_finite_differences():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2, 6, 3))
    P = scan.init_mingru_params(3, 4, rng)
    P["h0"] = np.abs(rng.normal(size=(2, 4)))
    W = rng.normal(size=(2, 6, 4))

    def loss():
        return float((W * scan.mingru_forward(X, P, P["h0"])).sum())

    hs = scan.mingru_forward(X, P, P["h0"])
    errors = gradcheck.check_gradients(loss, P, scan.mingru_backward(X, P, hs, W, P["h0"]))
    assert max(errors.values()) < 1e-6, errors       # g has a kink at 0: 1e-7..1e-5 is fine


def torch_mingru_from(params, cls=mingru.MinGRU, scan_name="log"):
    H, D = params["W_xz"].shape
    layer = cls(D, H, scan=scan_name).double()
    with torch.no_grad():
        layer.linear.weight.copy_(torch.tensor(np.concatenate([params["W_xz"], params["W_xh"]])))
        layer.linear.bias.copy_(torch.tensor(np.concatenate([params["b_z"], params["b_h"]])))
    return layer


@pytest.mark.parametrize("scan_name", mingru.SCANS)
def test_torch_mingru_matches_numpy_scan_and_steps(scan_name):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(3, 20, 4))
    P = scan.init_mingru_params(4, 5, rng)
    h0 = np.abs(rng.normal(size=(3, 5)))
    reference = scan.mingru_forward(X, P, h0, scan=scan_loop)
    layer = torch_mingru_from(P, scan_name=scan_name)
    X_t, h0_t = torch.tensor(X), torch.tensor(h0)
    with torch.no_grad():
        for hs in (layer(X_t, h0_t), layer.forward_sequential(X_t, h0_t)):
            assert gradcheck.relative_error(hs.numpy(), reference) < 1e-10
        assert gradcheck.relative_error(layer(X_t).numpy(), scan.mingru_forward(X, P)) < 1e-10
    k, u = X @ P["W_xz"].T + P["b_z"], X @ P["W_xh"].T + P["b_h"]   # ln z, ln(1 - z) + ln h~
    la, lb = -np.logaddexp(0, -k), -np.logaddexp(0, k) + scan.log_g(u)
    assert gradcheck.relative_error(scan.scan_log(la, lb, np.log(h0)), reference) < 1e-10


def test_torch_mingru_gradients_match_numpy():
    rng = np.random.default_rng(6)
    X, W = rng.normal(size=(2, 8, 3)), rng.normal(size=(2, 8, 4))
    P = scan.init_mingru_params(3, 4, rng)
    layer = torch_mingru_from(P)
    (torch.tensor(W) * layer(torch.tensor(X))).sum().backward()
    ours = scan.mingru_backward(X, P, scan.mingru_forward(X, P), W)
    weight, bias = layer.linear.weight.grad.numpy(), layer.linear.bias.grad.numpy()
    assert gradcheck.relative_error(ours["W_xz"], weight[:4]) < 1e-8
    assert gradcheck.relative_error(ours["W_xh"], weight[4:]) < 1e-8
    assert gradcheck.relative_error(np.concatenate([ours["b_z"], ours["b_h"]]), bias) < 1e-8


def test_hillis_steele_autograd_function_passes_torch_gradcheck():
    torch.manual_seed(0)
    a = torch.rand(2, 7, 3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 7, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(mingru.scan_hillis_steele, (a, b, h0))
    assert torch.autograd.gradcheck(mingru.scan_hillis_steele, (a, b, None))


@pytest.mark.parametrize("cls", [mingru.MinGRU, mingru.MinLSTM])
@pytest.mark.parametrize("scan_name", mingru.SCANS)
def test_float32_layers_scan_and_step_agree(cls, scan_name):
    torch.manual_seed(1)
    layer = cls(6, 8, scan=scan_name)
    x = torch.randn(4, 64, 6)
    with torch.no_grad():
        by_scan, by_steps = layer(x), layer.forward_sequential(x)
    assert (by_scan > 0).all()
    assert ((by_scan - by_steps).abs() / by_steps.abs()).max() < 1e-5


def test_char_model_generates_step_by_step_what_the_scan_computes():
    torch.manual_seed(2)
    model = mingru.CharMinGRU(30, 16, embed_size=8, num_layers=2, ffn=2).eval()
    ids = torch.randint(0, 30, (2, 12))
    with torch.no_grad():
        logits, state = model(ids)
        assert logits.shape == (2, 12, 30) and state.shape == (2, 2, 16)
        stepped, s = [], None
        for t in range(12):
            out, s = model(ids[:, t:t + 1], s)
            stepped.append(out)
        assert (torch.cat(stepped, dim=1) - logits).abs().max() < 1e-5
        second, _ = model(ids[:, 6:], model(ids[:, :6])[1])     # a carried state
        assert (second - logits[:, 6:]).abs().max() < 1e-5


def test_char_model_trains_and_scores_with_the_chapter_9_machinery():
    rng = np.random.default_rng(7)
    ids = np.tile(np.arange(10), 400) + 0 * rng.integers(0, 1, 4000)   # a cycle: learnable
    torch.manual_seed(3)
    model = mingru.CharMinGRU(10, 16, num_layers=1)
    before = charlm.nats_per_char(model, ids[:500])
    config = charlm.StreamConfig(batch_size=8, seq_len=16, lr=1e-2)
    charlm.train_stream(model, ids, config, steps=30, progress=False, dev=torch.device("cpu"))
    after = charlm.nats_per_char(model, ids[:500])
    assert after < 0.5 * before, (before, after)


def test_shape_errors_name_both_shapes():
    a = np.ones((2, 5, 3))
    with pytest.raises(ValueError, match=r"b must have shape .*\(2, 5, 3\), got \(2, 5, 4\)"):
        scan.scan_hillis_steele(a, np.ones((2, 5, 4)))
    with pytest.raises(ValueError, match=r"h0 must have shape \(batch, hidden\) = \(2, 3\), got \(3,\)"):
        scan.scan_log(a, a, np.ones(3))
    with pytest.raises(ValueError, match=r"a must have shape \(batch, time, hidden\).*got \(5, 3\)"):
        scan.scan_blelloch(np.ones((5, 3)), np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"dhs must have shape .*\(2, 5, 3\), got \(2, 4, 3\)"):
        scan.scan_backward(a, a, np.ones((2, 4, 3)))
    P = scan.init_mingru_params(4, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"X must have shape \(batch, time, input\) = "
                                         r"\(any, any, 4\), got \(2, 5, 3\)"):
        scan.mingru_forward(np.ones((2, 5, 3)), P)
    with pytest.raises(ValueError, match=r"x must have shape .*got \(2, 5, 3\)"):
        mingru.MinGRU(4, 3)(torch.ones(2, 5, 3))
    with pytest.raises(ValueError, match=r"h0 must have shape \(batch, hidden\) = \(2, 3\), got \(2, 4\)"):
        mingru.MinGRU(4, 3)(torch.ones(2, 5, 4), torch.ones(2, 4))
    with pytest.raises(ValueError, match="scan must be one of"):
        mingru.MinGRU(4, 3, scan="blelloch")


def test_the_diagram_draws_one_combine_per_pair_the_scan_combines():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.patches import Circle

    from rnnlab.figures import scan as scan_figure

    for T in (8, 5):
        fig = scan_figure.draw_scan(T)
        tree = fig.axes[1]
        combines = [p for p in tree.patches if isinstance(p, Circle) and p.get_radius() > 0.1]
        rounds = (T - 1).bit_length()
        assert len(combines) == sum(T - 2 ** r for r in range(rounds))
        labels = [t.get_text() for t in tree.texts if t.get_text().startswith("$d = ")]
        assert labels == [f"$d = {2 ** r}$" for r in range(rounds)]
        matplotlib.pyplot.close(fig)


def test_benchmark_script_measures_every_layer(tmp_path):
    import importlib.util

    path = ROOT / "benchmarks" / "scan.py"
    spec = importlib.util.spec_from_file_location("scan_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entry = module.main(["--lengths", "4", "8", "--batch", "2", "--hidden", "3", "--repeats", "1",
                         "--device", "cpu", "--out", str(tmp_path / "scan.json")])
    assert len(entry["ms_per_step"]) == 5
    assert all(set(row) == {"4", "8"} for row in entry["ms_per_step"].values())
    assert (tmp_path / "scan.json").exists() and str(tmp_path) not in entry["command"]


def test_the_torch_log_scan_takes_the_numpy_one_s_arguments():
    """mingru.scan_log and scan.scan_log: one name, one meaning (ln h0, not h0), one answer; the
    minGRU's log-space forward from a given state agrees with its parallel scan."""
    import torch

    from rnnlab import mingru

    a, b, h0 = random_recurrence(np.random.default_rng(7), T=9, positive=True)
    expected = scan.scan_log(np.log(a), np.log(b), np.log(h0))
    got = mingru.scan_log(*(torch.from_numpy(np.log(v)) for v in (a, b, h0)))
    assert gradcheck.relative_error(got.numpy(), expected) < 1e-10
    torch.manual_seed(0)
    log_space, parallel = mingru.MinGRU(3, 4, scan="log"), mingru.MinGRU(3, 4)
    parallel.load_state_dict(log_space.state_dict())
    x, state = torch.randn(2, 6, 3, dtype=torch.float64), torch.rand(2, 4, dtype=torch.float64)
    log_space.double(), parallel.double()
    assert torch.allclose(log_space(x, state), parallel(x, state), atol=1e-12)
