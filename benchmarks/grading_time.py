"""How long grading takes, next to the floor every grader pays: starting Python and importing torch.

    python benchmarks/grading_time.py [--repeat 5] [--assignment hw1_vae]

Runs the baseline and the gradings interleaved (so that machine noise hits all of them alike)
and prints the medians and their ratio to the baseline. Goal: one grading <= 2x. The gradings
start from the checks kept by an earlier one (as Gradescope's do, after setup.sh's `course
prepare`), except the last, which removes them first and so prepares them itself (and keeps them).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    # exit codes are not checked: the local check of a stub exits 1 by design
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Seconds of each command, run in turn `repeat` times (machine noise hits all alike)."""
    times = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            times[name].append(seconds(command))
    return times


def print_medians(times: dict[str, list[float]], repeat: int) -> None:
    """Medians, and their ratio to the first command's (the baseline)."""
    baseline = statistics.median(next(iter(times.values())))
    print(f"{'what':<40} {'median s':>9} {'x baseline':>11}   (n={repeat})")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<40} {median:9.2f} {median / baseline:11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--assignment", default="hw1_vae")
    args = parser.parse_args()
    results = Path(tempfile.mkdtemp()) / "results.json"
    commands = {
        "python -c 'import torch' (baseline)": [sys.executable, "-c", "import torch"],
        "grade the reference": [sys.executable, "-m", "autograder", "grade", args.assignment,
                                f"solutions/{args.assignment}", "--results", str(results)],
        "grade the stub": [sys.executable, "-m", "autograder", "grade", args.assignment,
                           f"assignments/{args.assignment}", "--results", str(results)],
        "local check of the stub": [sys.executable, "-m", "autograder", "check", args.assignment,
                                    f"assignments/{args.assignment}"],
        "grade the reference, preparing": ["sh", "-c", f"rm -f solutions/.prepared/{args.assignment}-*.json && "
                                           f"exec {sys.executable} -m autograder grade {args.assignment} "
                                           f"solutions/{args.assignment} --results {results}"],
    }
    print_medians(interleaved(commands, args.repeat), args.repeat)


if __name__ == "__main__":
    main()
