"""Batch grading: `course grade-all ASSIGNMENT SUBMISSIONS_DIR --csv grades.csv [--jobs N]`.

SUBMISSIONS_DIR holds one folder per student (named after the student), or is Gradescope's
"Export Submissions" folder (submission_metadata.yml and a submission_ID folder per submission).
Each submission is graded by its own `course grade` process, so a submission that crashes,
hangs or attacks the grader costs only its own row; its results.json goes to RESULTS_DIR/<folder>/.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from . import config, results

EXPORT_METADATA = "submission_metadata.yml"


@dataclass
class Graded:
    folder: Path
    students: list[str]          # one, or the group members of a Gradescope group submission
    data: dict | None = None     # results.json; None when grading failed
    problem: str = ""


def find_submissions(submissions_dir: Path) -> dict[Path, list[str]]:
    """Each submission folder and the student(s) it belongs to, in a stable order."""
    submissions_dir = Path(submissions_dir)
    metadata = submissions_dir / EXPORT_METADATA
    if metadata.is_file():
        return {submissions_dir / folder: _submitters(folder, entry)
                for folder, entry in sorted((yaml.safe_load(metadata.read_text()) or {}).items())
                if (submissions_dir / folder).is_dir()}
    return {folder: [folder.name] for folder in sorted(submissions_dir.iterdir())
            if folder.is_dir() and not folder.name.startswith(".")}


def _submitters(folder: str, entry: dict) -> list[str]:
    people = (entry or {}).get(":submitters") or []
    names = [p.get(":email") or p.get(":sid") or p.get(":name") for p in people if isinstance(p, dict)]
    return [str(n) for n in names if n] or [folder]


def grade_all(root: Path, assignment_id: str, submissions_dir: Path, csv_path: Path,
              results_dir: Path, jobs: int = 1, device: str | None = None) -> list[Graded]:
    """Grade every submission, write results_dir/<folder>/results.json and the gradebook CSV."""
    assignment = config.load(Path(root) / "course.yml").assignment(assignment_id)
    # a backstop for a grader that hangs: the engine already keeps to the assignment's time budget
    budget = assignment.time_budget + 300
    submissions = find_submissions(submissions_dir)
    if not submissions:
        raise config.ConfigError(f"{submissions_dir} holds no submission folders")

    def grade(item) -> Graded:
        folder, students = item
        out = Path(results_dir) / folder.name / "results.json"
        return _grade_one(root, assignment_id, folder, students, out, budget, device)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        graded = list(tqdm(pool.map(grade, submissions.items()), total=len(submissions),
                           desc=f"grading {assignment_id}", unit="submission"))
    write_csv(csv_path, assignment, graded)
    return graded


def _grade_one(root, assignment_id, folder, students, out: Path, budget, device) -> Graded:
    command = [sys.executable, "-m", "autograder", "--root", str(root), "grade", assignment_id,
               str(folder), "--results", str(out)]
    if device:
        command += ["--device", device]
    out.unlink(missing_ok=True)
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=budget)
        problem = "" if run.returncode == 0 else _last_line(run.stderr) or f"exit code {run.returncode}"
    except subprocess.TimeoutExpired:
        problem = f"grading took longer than {budget:g} s"
    if problem:
        results.write_json(results.failure(assignment_id, problem), out)
        return Graded(folder, students, None, problem)
    return Graded(folder, students, results.read_json(out))


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def write_csv(path: Path, assignment, graded: list[Graded]) -> None:
    """One row per student: score, max and every check's score (empty where grading failed)."""
    names = list(assignment.settings())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["student", "score", "max", *names])
        for item in graded:
            scores = {t["name"]: t["score"] for t in item.data["tests"]} if item.data else {}
            total = item.data["score"] if item.data else ""
            for student in item.students:
                writer.writerow([student, total, assignment.max_points, *[scores.get(n, "") for n in names]])
