"""Seconds to autograde one submission, per assignment, with `nbgrader autograde`.

Each assignment is graded alone, as a fresh `nbgrader autograde <assignment> --student bench`
command, so the time includes starting nbgrader, the sandboxed kernel (bubblewrap) and every
cell. The submission is the instructor's solution (the test cells are restored from the
gradebook, as for a student). Goal: at most 5 s for a NumPy assignment.

    .venv/bin/python benchmarks/grading.py                 # sandboxed, as `make grade`
    .venv/bin/python benchmarks/grading.py --unsandboxed   # the same without bwrap
"""
import argparse
import os
import pathlib
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent
NUMPY_ONLY = {"ex01_rnn_forward", "ex02_unfolding", "ex03_bptt",
              "ex04_truncated_bptt_clipping", "ex06_sampling", "ex10_parallel_scan",
              "ex11_masked_attention"}


def nbgrader(course, *args, env=None):
    result = subprocess.run([str(BIN / "nbgrader"), *args, "--log-level=WARN"], cwd=course,
                            capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


def _children_cpu() -> float:
    """CPU seconds used so far by finished child processes (and the descendants they reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unsandboxed", action="store_true", help="grade without bwrap")
    parser.add_argument("--repeat", type=int, default=1, help="runs per assignment (best kept)")
    args = parser.parse_args()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    if args.unsandboxed:
        env["GRADE_UNSANDBOXED"] = "1"
    assignments = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        course = pathlib.Path(tmp)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions", course / "solutions")
        nbgrader(course, "generate_assignment", "*", "--force", env=env)
        rows = []
        for slug in assignments:
            target = course / "submitted" / "bench" / slug
            target.mkdir(parents=True)
            shutil.copy(course / "solutions" / slug / f"{slug}.ipynb", target)
            best, best_cpu = float("inf"), float("inf")
            for _ in range(args.repeat):
                shutil.rmtree(course / "autograded" / "bench" / slug, ignore_errors=True)
                cpu_before, start = _children_cpu(), time.perf_counter()
                nbgrader(course, "autograde", slug, "--student", "bench", "--create", "--force",
                         env=env)
                best = min(best, time.perf_counter() - start)
                best_cpu = min(best_cpu, _children_cpu() - cpu_before)
            rows.append((slug, best, best_cpu))
        # the same eight submissions in one batch, as `make grade` runs them
        start = time.perf_counter()
        nbgrader(course, "autograde", "*", "--force", env=env)
        batch = time.perf_counter() - start
    mode = "without sandbox" if args.unsandboxed else "sandboxed (bwrap)"
    load = os.getloadavg()[0]
    print(f"autograde one submission, {mode}, {os.cpu_count()} CPU cores "
          f"({platform.machine()}), load average {load:.1f} at the end")
    print("seconds: wall clock of the whole command. CPU s: user + system time of the nbgrader "
          "process as counted by getrusage (the sandboxed kernel, reaped inside its own pid "
          "namespace, is not counted): nbgrader's own floor, which no idle machine removes")
    print(f"| {'assignment':30} | kind  | seconds | CPU s | goal |")
    print(f"|{'-' * 32}|-------|---------|-------|------|")
    for slug, seconds, cpu in rows:
        kind = "NumPy" if slug in NUMPY_ONLY else "torch" if slug in (
            "ex05_gated_cells", "ex07_many_to_one", "ex09_frame_sequences") else "stats"
        goal = ("ok" if seconds <= 5 else "SLOW") if kind == "NumPy" else ""
        print(f"| {slug:30} | {kind:5} | {seconds:7.1f} | {cpu:5.1f} | {goal:4} |")
    print(f"one batch of all {len(rows)} (as make grade): {batch:.1f} s, "
          f"{batch / len(rows):.1f} s per submission")


if __name__ == "__main__":
    main()
