"""Batch grading throughput: submissions per minute of `course grade-all` at --jobs 1 and 2.

    python benchmarks/batch_throughput.py [--repeat 3] [--assignment hw1_vae] [--class-size 4]

Two classes: every student hands in the reference, or every student hands in a mutant (the
stub of one file: its checks fail fast, the other file's run in full). The runs are interleaved
so that machine noise hits all of them alike; medians are printed, with the speed-up of --jobs 2.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import engine  # noqa: E402


def make_class(folder: Path, assignment: str, size: int, mutant: bool) -> Path:
    files = engine.load_suite(ROOT / "solutions" / assignment).files
    for student in range(size):
        target = folder / f"student{student:02d}"
        target.mkdir(parents=True)
        for index, name in enumerate(files):
            # mutants: student k hands in the stub of file k mod len(files), the reference of the rest
            stubbed = mutant and index == student % len(files)
            shutil.copy(ROOT / ("assignments" if stubbed else "solutions") / assignment / name, target / name)
    return folder


def minutes(assignment: str, submissions: Path, jobs: int) -> float:
    out = Path(tempfile.mkdtemp())
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade-all", assignment, str(submissions),
                    "--csv", str(out / "grades.csv"), "--jobs", str(jobs)],
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    shutil.rmtree(out)
    return elapsed / 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--assignment", default="hw1_vae")
    parser.add_argument("--class-size", type=int, default=4)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp())
    classes = {kind: make_class(base / kind, args.assignment, args.class_size, kind == "mutants")
               for kind in ("reference", "mutants")}
    runs = [(kind, jobs) for kind in classes for jobs in (1, 2)]
    rates = {run: [] for run in runs}
    for _ in range(args.repeat):
        for kind, jobs in runs:
            rates[(kind, jobs)].append(args.class_size / minutes(args.assignment, classes[kind], jobs))
    print(f"{args.assignment}, {args.class_size} submissions per class (n={args.repeat})")
    print(f"{'class':<10} {'jobs':>4} {'median submissions/min':>24} {'x jobs 1':>9}")
    for kind, jobs in runs:
        median = statistics.median(rates[(kind, jobs)])
        print(f"{kind:<10} {jobs:>4} {median:24.2f} {median / statistics.median(rates[(kind, 1)]):9.2f}")
    shutil.rmtree(base)


if __name__ == "__main__":
    main()
