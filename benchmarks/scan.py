"""Time per training step against sequence length: minGRU by a scan, minGRU by a loop,
torch.nn.GRU and torch.nn.LSTM (chapter 12).

    .venv/bin/python benchmarks/scan.py                        # CPU (or CUDA when present)
    .venv/bin/python benchmarks/scan.py --lengths 64 256 1024 --repeats 3 --dry-run
    python3 benchmarks/scan.py --device cuda --lengths 64 128 256 512 1024 2048 4096

A "step" is the forward pass of one recurrent layer over a batch x (B, T, D) and the
backward pass of the loss mean(h_t ** 2) over every state, as training would run it; the
table holds the median over ``--repeats`` runs after two warm-up runs, in milliseconds.
The five layers, all with D = H = ``--hidden``:

* ``minGRU, log-space scan``: :class:`rnnlab.mingru.MinGRU` as Feng et al. train it
  (a cumulative sum and ``torch.logcumsumexp``);
* ``minGRU, Hillis-Steele scan``: the same layer with ``scan="hillis-steele"``
  (ceil(log2 T) rounds forward, the reverse scan backward);
* ``minGRU, loop of steps``: the same layer, one ``step`` per time step (T steps deep);
* ``nn.GRU`` and ``nn.LSTM``: PyTorch's recurrent layers, which walk the T steps in order
  in compiled code (on an NVIDIA GPU, inside cuDNN).

The rows are written to ``benchmarks/results/scan.json`` (one entry per device kind,
replacing an earlier one), with the date, command, device, threads, load average and library
versions; chapter 12 plots the CUDA entry beside its own CPU measurement. On a CPU the
thread count is set to ``--threads`` (1 by default: steadier on a small, shared machine).
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import sys
import time

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from rnnlab import mingru

RESULTS_FILE = pathlib.Path(__file__).resolve().parent / "results" / "scan.json"
LENGTHS = (64, 128, 256, 512, 1024)


def layers(hidden: int, device) -> dict:
    """The five layers, each a function x (B, T, D) -> all states (B, T, H)."""
    torch.manual_seed(0)
    log_scan = mingru.MinGRU(hidden, hidden).to(device)
    tree_scan = mingru.MinGRU(hidden, hidden, scan="hillis-steele").to(device)
    gru = torch.nn.GRU(hidden, hidden, batch_first=True).to(device)
    lstm = torch.nn.LSTM(hidden, hidden, batch_first=True).to(device)
    return {"minGRU, log-space scan": log_scan,
            "minGRU, Hillis-Steele scan": tree_scan,
            "minGRU, loop of steps": log_scan.forward_sequential,
            "nn.GRU": lambda x: gru(x)[0],
            "nn.LSTM": lambda x: lstm(x)[0]}


def step_ms(layer, x, repeats: int) -> float:
    """Median milliseconds of forward + backward of mean(h ** 2), after two warm-up runs."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    times = []
    for index in range(repeats + 2):
        sync()
        start = time.perf_counter()
        layer(x).square().mean().backward()
        sync()
        if index >= 2:
            times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def measure(lengths, batch: int, hidden: int, repeats: int, device) -> dict:
    """{layer name: {T: milliseconds}} for every length."""
    table = {name: {} for name in layers(hidden, device)}
    for T in lengths:
        x = torch.randn(batch, T, hidden, device=device)
        for name, layer in layers(hidden, device).items():
            table[name][T] = step_ms(layer, x, repeats)
    return table


def describe(device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def command(argv) -> str:
    """The command line that made a run, without ``--out PATH`` (a machine's own path)."""
    words = list(argv)
    if "--out" in words:
        del words[words.index("--out"):words.index("--out") + 2]
    return " ".join(["benchmarks/scan.py", *words])


def save(entry: dict, path: pathlib.Path = RESULTS_FILE) -> None:
    """Write ``entry`` into the results file, replacing an entry of the same device kind."""
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    runs = [run for run in runs if run["device"] != entry["device"]] + [entry]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"runs": sorted(runs, key=lambda r: r["device"])}, indent=1) + "\n")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS_FILE)
    parser.add_argument("--dry-run", action="store_true", help="print, write nothing")
    args = parser.parse_args(argv)
    kind = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(kind)
    if kind == "cpu":
        torch.set_num_threads(args.threads)
    table = measure(args.lengths, args.batch, args.hidden, args.repeats, device)
    print(f"ms per training step (forward + backward), B={args.batch}, D=H={args.hidden}, "
          f"median of {args.repeats}, {describe(device)}")
    print(f"{'layer':>28} | " + " | ".join(f"T={T:>5}" for T in args.lengths))
    for name, row in table.items():
        print(f"{name:>28} | " + " | ".join(f"{row[T]:7.2f}" for T in args.lengths))
    entry = {"device": kind, "device_name": describe(device),
             "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
             "command": command(argv if argv is not None else sys.argv[1:]),
             "threads": torch.get_num_threads() if kind == "cpu" else None,
             "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
             "torch": torch.__version__, "python": platform.python_version(),
             "batch": args.batch, "hidden": args.hidden, "repeats": args.repeats,
             "ms_per_step": {name: {str(T): ms for T, ms in row.items()}
                             for name, row in table.items()}}
    if not args.dry_run:
        save(entry, args.out)
        print(f"written to {args.out}")
    return entry


if __name__ == "__main__":
    main()
