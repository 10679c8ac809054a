"""NumPy BPTT against torch.nn.RNN on the CPU: forward + backward, milliseconds per step.

    .venv/bin/python benchmarks/numpy_vs_torch.py [--repeats 30] [--threads N]

Both sides do the same work in float32 with the same number of BLAS/OpenMP threads: the
forward pass of a one-layer tanh RNN over a batch (B=32, T=50, D=64) and the backward pass
from a fixed upstream gradient dL/dh_t to W_xh, W_hh, b_h (and dL/dh_0). NumPy runs
``rnnlab.numpy_nets.rnn_forward`` and ``rnn_backward``; PyTorch runs ``torch.nn.RNN`` and
autograd. A "step" is one forward + backward over the batch; the table shows the median
over ``--repeats`` runs after warm-up, and the ratio NumPy / torch (goal: <= 1.25).

Thread counts: threadpoolctl (installed with scikit-learn) reads NumPy's BLAS thread
count and torch.set_num_threads is set to the same number; ``--threads N`` sets both to N
(on a small or busy machine, 1 thread is faster for these small matrices and far steadier:
idle BLAS threads spin while waiting). The environment is left alone:
on some ARM/x86 machines OpenBLAS picks its kernels by CPU type (OPENBLAS_CORETYPE), which
changes NumPy's times; set such variables yourself before running, never inside tests.
"""
import argparse
import statistics
import time

import numpy as np

import rnnlab
from rnnlab import numpy_nets

B, T, D = 32, 50, 64
HIDDEN_SIZES = (128, 256)


def blas_threads() -> int:
    """NumPy's BLAS thread count (threadpoolctl), or torch's current count without it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        import torch
        return torch.get_num_threads()
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts) if counts else 1


def median_ms(step, repeats: int) -> float:
    for _ in range(3):   # warm-up: first calls allocate and load kernels
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def numpy_step(X, params, dhs):
    def step():
        hs, _ = numpy_nets.rnn_forward(X, params)
        return numpy_nets.rnn_backward(X, params, hs, dhs=dhs)[0]
    return step


def torch_step(X, params, dhs):
    import torch

    from rnnlab import transfer

    rnn = torch.nn.RNN(D, params["W_hh"].shape[0], batch_first=True)
    transfer.rnn_params_to_torch(params, rnn)
    x, g = torch.from_numpy(X), torch.from_numpy(dhs)

    def step():
        rnn.zero_grad(set_to_none=True)
        out, _ = rnn(x)
        out.backward(g)
        return rnn
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads (default: NumPy's current count)")
    args = parser.parse_args()
    import torch

    threads = args.threads or blas_threads()
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    torch.set_num_threads(threads)
    rng = rnnlab.seed_everything(0)
    print(f"B={B} T={T} D={D}, float32, {threads} thread(s) for NumPy and torch "
          f"(numpy {np.__version__}, torch {torch.__version__}), median of {args.repeats}")
    print(f"{'H':>5} | {'NumPy ms/step':>13} | {'torch ms/step':>13} | {'NumPy/torch':>11}")
    print(f"{'-' * 5}-+-{'-' * 13}-+-{'-' * 13}-+-{'-' * 11}")
    for H in HIDDEN_SIZES:
        params = numpy_nets.init_rnn_params(D, H, 1, rng, dtype=np.float32)
        params = {name: params[name] for name in ("W_xh", "W_hh", "b_h")}
        X = rng.normal(size=(B, T, D)).astype(np.float32)
        dhs = rng.normal(size=(B, T, H)).astype(np.float32)
        np_step, torch_step_ = numpy_step(X, params, dhs), torch_step(X, params, dhs)
        same = np.allclose(np_step()["W_hh"], torch_step_().weight_hh_l0.grad.numpy(),
                           rtol=1e-3, atol=1e-3)
        if not same:   # time only what computes the same gradient
            raise SystemExit(f"H={H}: NumPy and torch gradients differ")
        t_np = median_ms(np_step, args.repeats)
        t_torch = median_ms(torch_step_, args.repeats)
        print(f"{H:>5} | {t_np:>13.2f} | {t_torch:>13.2f} | {t_np / t_torch:>11.2f}")


if __name__ == "__main__":
    main()
