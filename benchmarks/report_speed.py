"""The class report: wall seconds of `course report` over a class of 500, nothing graded.

    python benchmarks/report_speed.py [--repeat 5] [--assignment hw1_vae] [--class-size 500]

Synthesizes a class in a temporary folder, in the real schema (results.gradescope of engine
reports with the checks and points of course.yml): each function of each student is right, or wrong
with a likely cause (a generic id of checks/diagnoses.py, or a known mistake), or stopped (a timeout,
an import failure, a missing file...), its failing checks carrying messages of a realistic length.
Then times the whole command, interleaved, on the two SOURCE layouts: grade-all's results folder
and a Gradescope export zip whose metadata holds every results.json. Medians; goal: under 10 s on
a 2-core machine.
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import config, engine, results  # noqa: E402
from autograder.checks.diagnoses import LABELS  # noqa: E402

STOPS = ["timeout", "crash", "import", "missing", "not_implemented", "exception"]
MESSAGE = ("the result is 0.739663 at index (0,), expected 2.21899\n  likely cause: your values are 1/3 of the "
           "expected ones, and 3 is the size of the last dimension of mu: did you average where a sum is asked "
           "for?\n  in case 1 of 4 (float32 inputs: mu of shape (7, 3), logvar of shape (7, 3))\n") * 3


def student_report(assignment: config.Assignment, rng: random.Random) -> engine.Report:
    """One student's grading: per function right (70%), wrong with a cause (20%) or stopped (10%)."""
    report = engine.Report(assignment.id, execution_time=rng.uniform(1, 5))
    for function, checks in assignment.checks.items():
        fate = rng.random()
        cause = rng.choice([*LABELS, "known: the mean of the log-weights, which is the ELBO"])
        stopped = rng.choice(STOPS)
        for check, setting in checks.items():
            right = fate < 0.7 or (fate < 0.9 and rng.random() < 0.5)
            wrong_cause = 0.7 <= fate < 0.9 and not right
            report.results.append(engine.CheckResult(
                f"{function}: {check}", setting.points if right else 0.0, setting.points,
                "" if right else MESSAGE, setting.visibility, "matches_reference",
                cause=cause if wrong_cause else None,
                cause_label=LABELS.get(cause, cause.removeprefix("known: ")) if wrong_cause else None,
                stopped=stopped if fate >= 0.9 else None))
    return report


def make_class(folder: Path, assignment: config.Assignment, size: int) -> tuple[Path, Path]:
    """grade-all's results folder and a Gradescope export zip of the same class."""
    rng = random.Random(0)
    metadata = {}
    for student in range(size):
        data = results.gradescope(student_report(assignment, rng))
        results.write_json(data, folder / "results" / f"student{student:03d}" / "results.json")
        metadata[f"submission_{1000 + student}"] = {
            ":submitters": [{":name": f"Student {student}", ":sid": str(student), ":email": f"s{student}@uni.edu"}],
            ":created_at": "2026-12-04 22:00:00.000000000 +00:00", ":score": data["score"], ":results": data}
    export = folder / "assignment_1_export.zip"
    with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("assignment_1_export/submission_metadata.yml", yaml.safe_dump(metadata, allow_unicode=True))
    return folder / "results", export


def report(assignment: str, source: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "report", assignment, str(source), "--out", str(out)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--assignment", default="hw1_vae")
    parser.add_argument("--class-size", type=int, default=500)
    args = parser.parse_args()
    assignment = config.load(ROOT / "course.yml").assignment(args.assignment)
    folder = Path(tempfile.mkdtemp(prefix="dgm-report-bench-"))
    try:
        results_dir, export = make_class(folder, assignment, args.class_size)
        times: dict[str, list[float]] = {"results folder": [], "Gradescope export zip": []}
        for _ in range(args.repeat):
            times["results folder"].append(report(args.assignment, results_dir, folder / "report-a"))
            times["Gradescope export zip"].append(report(args.assignment, export, folder / "report-b"))
        print(f"course report {args.assignment}, {args.class_size} submissions, "
              f"{sum(len(c) for c in assignment.checks.values())} checks each; medians of {args.repeat}:")
        for source, seconds in times.items():
            runs = ", ".join(f"{s:.2f}" for s in seconds)
            print(f"  {source:<22} {statistics.median(seconds):6.2f} s   (runs: {runs})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
