"""Batch grading: wall seconds per submission of `course grade-all`, next to the import-torch floor.

    python benchmarks/batch_throughput.py [--repeat 3] [--assignment hw1_vae] [--class-size 16] [--jobs 2]

Three commands, interleaved so that machine noise hits all of them alike: the floor
(`python -c "import torch"`), `course grade-all --fresh` (one judge per job, each loading the
references and preparing the checks once, a sandboxed worker per submission), and the old batch
path side by side: one `course grade` process per submission, `--jobs` of them at a time. Half the
class hands in the reference, half a mutant (the stub of one file: its checks fail fast). Medians;
goal: at most 1.0x the floor per submission at --jobs 2.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import engine  # noqa: E402


def make_class(folder: Path, assignment: str, size: int) -> Path:
    files = engine.load_suite(ROOT / "solutions" / assignment).files
    for student in range(size):
        target = folder / f"student{student:02d}"
        target.mkdir(parents=True)
        for index, name in enumerate(files):
            # odd students hand in the stub of one file (in turn), the reference of the rest
            stubbed = student % 2 == 1 and index == (student // 2) % len(files)
            shutil.copy(ROOT / ("assignments" if stubbed else "solutions") / assignment / name, target / name)
    return folder


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def floor() -> None:
    subprocess.run([sys.executable, "-c", "import torch"], check=True)


def grade_all(assignment: str, submissions: Path, jobs: int) -> None:
    out = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "autograder", "grade-all", assignment, str(submissions), "--fresh",
                    "--csv", str(out / "grades.csv"), "--jobs", str(jobs)],
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    shutil.rmtree(out)


def one_process_each(assignment: str, submissions: Path, jobs: int) -> None:
    """The batch path before the warm judge: a `course grade` process per submission."""
    out = Path(tempfile.mkdtemp())

    def grade(folder: Path) -> None:
        subprocess.run([sys.executable, "-m", "autograder", "grade", assignment, str(folder),
                        "--results", str(out / f"{folder.name}.json")],
                       cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(grade, sorted(submissions.iterdir())))
    shutil.rmtree(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--assignment", default="hw1_vae")
    parser.add_argument("--class-size", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp())
    submissions = make_class(base / "class", args.assignment, args.class_size)
    size = args.class_size
    runs = {
        "python -c 'import torch' (floor)": lambda: floor(),
        f"grade-all --jobs {args.jobs}, per submission": lambda: grade_all(args.assignment, submissions, args.jobs),
        f"a grade process each, {args.jobs} at a time, per submission":
            lambda: one_process_each(args.assignment, submissions, args.jobs),
    }
    per = {"python -c 'import torch' (floor)": 1}
    times = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, run in runs.items():
            times[name].append(timed(run) / per.get(name, size))
    print(f"{args.assignment}, {size} submissions (half references, half with one file stubbed), "
          f"n={args.repeat}")
    floor_median = statistics.median(times["python -c 'import torch' (floor)"])
    print(f"{'what':<52} {'median s':>9} {'x floor':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<52} {median:9.2f} {median / floor_median:8.2f}")
    shutil.rmtree(base)


if __name__ == "__main__":
    main()
