"""Batch grading: `course grade-all ASSIGNMENT SUBMISSIONS_DIR --csv grades.csv [--jobs N]`.

SUBMISSIONS_DIR holds one folder per student (named after the student), or is Gradescope's
"Export Submissions" folder (submission_metadata.yml and a submission_ID folder per submission).
Each of the N jobs is a judge process (`serve`) that prepares every check once (or reads them as
an earlier grading kept them, prepared.py), then grades submissions one after another; each submission still runs in a worker
process of its own, sandboxed as in `course grade`, so one that crashes, hangs or attacks the
grader costs only its own row. Its results.json goes to RESULTS_DIR/<folder>/, with grading.json:
what it was graded from and its report, so that grading the class again after a change of points
only (course.yml) re-scores unchanged submissions from their recorded verdicts, running nothing.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import queue
import select
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml
from tqdm import tqdm

from . import config, engine, results, runner
from .checks import properties
from .sandbox import Sandbox, end_group

EXPORT_METADATA = "submission_metadata.yml"
RECORD = "grading.json"   # next to each results.json: {"key", "report"}


@dataclass
class Graded:
    folder: Path
    students: list[str]          # one, or the group members of a Gradescope group submission
    data: dict | None = None     # results.json; None when grading failed
    problem: str = ""
    reused: bool = False         # re-scored from an earlier grading's verdicts


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
    names = [p["email"] or p["sid"] or p["name"] for p in submitters(entry)]
    return [n for n in names if n] or [folder]


def submitters(entry) -> list[dict]:
    """The people of a Gradescope metadata entry (`:submitters`: `:name`, `:sid`, `:email`)."""
    people = (entry.get(":submitters") if isinstance(entry, dict) else None) or []
    people = [p for p in people if isinstance(p, dict)]
    return [{"name": str(p.get(":name") or ""), "sid": str(p.get(":sid") or ""),
             "email": str(p.get(":email") or ""), "login": ""} for p in people]


def grade_all(root: Path, assignment_id: str, submissions_dir: Path, csv_path: Path,
              results_dir: Path, jobs: int = 1, device: str | None = None, fresh: bool = False) -> list[Graded]:
    """Grade every submission, write results_dir/<folder>/results.json and the gradebook CSV.
    `fresh`: grade again even where an earlier grading's verdicts could be re-scored."""
    assignment = config.load(Path(root) / "course.yml").assignment(assignment_id)
    # a backstop for a grader that hangs: the engine already keeps to the assignment's time budget
    budget = assignment.time_budget + 300
    submissions = find_submissions(submissions_dir)
    if not submissions:
        raise config.ConfigError(f"{submissions_dir} holds no submission folders")

    try:
        files = engine.load_suite(Path(root) / "solutions" / assignment_id).files
        grading = grading_digest(root, assignment, device)
    except Exception:  # noqa: BLE001 - nothing to re-use: the judges say what is wrong, row by row
        files, grading = [], ""
    # the judges' temporary folders (submission copies, worker templates) go with the batch,
    # also where a judge had to be killed
    scratch = Path(tempfile.mkdtemp(prefix="dgm-batch-"))
    scratch.chmod(0o711)   # workers reach their own folders below it
    judges: queue.Queue = queue.Queue()
    for _ in range(jobs):
        judges.put(JudgeProcess(root, assignment_id, device, scratch))

    def grade(item) -> Graded:
        folder, students = item
        out = Path(results_dir) / folder.name / "results.json"
        key = submission_key(grading, folder, files) if grading else ""
        report = None if fresh or not key else reusable(out.with_name(RECORD), key, assignment)
        if report is not None:
            results.write_json(results.gradescope(report), out)
            return Graded(folder, students, results.read_json(out), reused=True)
        out.unlink(missing_ok=True)
        out.with_name(RECORD).unlink(missing_ok=True)
        judge = judges.get()
        try:
            problem = judge.grade(folder, out, key, budget)
        finally:
            judges.put(judge)
        if problem:
            results.write_json(results.failure(assignment_id, problem), out)
            return Graded(folder, students, None, problem)
        return Graded(folder, students, results.read_json(out))

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            graded = list(tqdm(pool.map(grade, submissions.items()), total=len(submissions),
                               desc=f"grading {assignment_id}", unit="submission"))
    finally:
        while not judges.empty():
            judges.get().close()
        shutil.rmtree(scratch, ignore_errors=True)
    write_csv(csv_path, assignment, graded)
    return graded


class JudgeProcess:
    """A `serve` process, started on first use and again after it died or overran a grading."""

    def __init__(self, root: Path, assignment_id: str, device: str | None, scratch: Path):
        self.command = [sys.executable, "-m", "autograder.batch", str(root), assignment_id, device or ""]
        self.environment = {**os.environ, "TMPDIR": str(scratch)}
        self.process: subprocess.Popen | None = None

    def grade(self, folder: Path, out: Path, key: str, budget: float) -> str:
        """Grade one submission into `out` (and its record, under `key`); what went wrong with
        grading itself, or ""."""
        if self.process is not None and self.process.poll() is not None:   # it died after its last answer
            self.close()
        if self.process is None:
            self.log = tempfile.TemporaryFile()
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=self.log, text=True, start_new_session=True,
                                            env=self.environment)
        try:
            self.process.stdin.write(json.dumps({"folder": str(folder), "out": str(out), "key": key}) + "\n")
            self.process.stdin.flush()
            ready, _, _ = select.select([self.process.stdout], [], [], budget)
            reply = self.process.stdout.readline() if ready else None
        except OSError:   # it had died: a broken pipe
            reply = ""
        if reply is None:
            self.close()
            return f"grading took longer than {budget:g} s"
        if not reply:
            self.close()
            return _last_line(self._log_tail()) or "the grading process ended"
        return json.loads(reply)["problem"]

    def _log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read()[-2000:].decode("utf-8", "replace")

    def close(self) -> None:
        if self.process is not None:
            end_group(self.process)
            self.process = None


def serve(root: Path, assignment_id: str, device: str | None) -> None:
    """A batch judge: reads {"folder", "out", "key"} lines on stdin, grades each folder into `out`
    (results.json, and the record beside it) and answers {"problem": ""}, or what went wrong with
    grading itself, on stdout.
    The references and prepared checks stay loaded from one submission to the next
    (`engine.judge_for`)."""
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)   # the channel carries replies only
    for line in sys.stdin:
        request = json.loads(line)
        try:
            report = engine.grade(root, assignment_id, Path(request["folder"]), device)
            out = Path(request["out"])
            results.write_json(results.gradescope(report), out)
            results.write_json({"key": request["key"], "report": dataclasses.asdict(report)}, out.with_name(RECORD))
            problem = ""
        except Exception as error:  # noqa: BLE001 - this submission's row says so; the next is graded
            problem = f"{type(error).__name__}: {error}"[:300]
        channel.write(json.dumps({"problem": problem}) + "\n")
        channel.flush()


def grading_digest(root: Path, assignment: config.Assignment, device: str | None) -> str:
    """What verdicts depend on besides the submission: the grader's code, the solution folder
    (references, checks, known mistakes), the assignment's public properties, Python, torch, numpy, sympy and hypothesis, the device, the protections
    in force (a weaker sandbox may have let a submission read the references), and the assignment's
    settings but points."""
    digest = hashlib.sha256()
    protections = Sandbox(hidden=[Path(root) / "solutions"]).missing()
    engine.add_grader(digest)
    engine.add_files(digest, Path(root) / "solutions" / assignment.id)
    engine.add_file(digest, Path(root) / "assignments" / assignment.id / properties.PROPERTIES_FILE)
    settings = {name: s.visibility for name, s in assignment.settings().items()}
    digest.update(json.dumps([settings, assignment.timeout, assignment.time_budget, assignment.memory_mb,
                              device or engine.default_device(), protections]).encode())
    return digest.hexdigest()


def submission_key(grading: str, folder: Path, files: list[str]) -> str:
    """The grading's digest and the submitted files' contents, as the grader would pick them."""
    digest = hashlib.sha256(grading.encode())
    for name in files:
        found = runner.find_file(folder, name)
        digest.update(name.encode() + (b"\0" + found.read_bytes() if found else b"\1"))
    return digest.hexdigest()


def reusable(record: Path, key: str, assignment: config.Assignment) -> engine.Report | None:
    """The recorded report of this very grading, re-scored with today's points; None if there is
    none, if a timeout, a worker's death or the spent budget decided something (another run may
    differ), or if a check had no points then (its credit is unknown)."""
    try:
        data = json.loads(record.read_text())
        if data.get("key") != key or data["report"].get("time_dependent", True):
            return None
        report = engine.Report(**{**data["report"], "results": [engine.CheckResult(**r) for r in data["report"]["results"]]})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):   # no record, or not one of ours
        return None
    points = assignment.settings()
    for result in report.results:
        if result.max_score <= 0 < points[result.name].points:
            return None
        credit = result.score / result.max_score if result.max_score > 0 else 0.0
        result.score, result.max_score = credit * points[result.name].points, points[result.name].points
    return report


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


if __name__ == "__main__":
    serve(Path(sys.argv[1]), sys.argv[2], sys.argv[3] or None)
