"""Grading: run an assignment's checks against a submission and collect scored results.

`grade` runs every check, preparing hidden ones with the reference in this (trusted) process;
`check_public` runs only the public checks from the data frozen next to the stubs, so it works
in a student's folder that has no reference at all.
"""
from __future__ import annotations

import importlib.util
import json
import sys
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import checks as check_kinds
from . import config
from .runner import GraderError, Reference, Submission
from .sandbox import Limits, Sandbox

PUBLIC_CHECKS_FILE = "public_checks.json"


@dataclass
class CheckResult:
    name: str
    score: float
    max_score: float
    message: str
    visibility: str
    kind: str

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass
class Report:
    assignment: str
    results: list[CheckResult] = field(default_factory=list)
    execution_time: float = 0.0
    public_only: bool = False
    notes: list[str] = field(default_factory=list)   # protections that were not in force

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)

    def of(self, function: str) -> Report:
        """This report narrowed to the checks of one function or answer."""
        return replace(self, results=[r for r in self.results if r.name.startswith(f"{function}: ")])


@dataclass
class Suite:
    """An assignment's checks: the submitted file names and the check objects, in order."""
    files: list[str]
    checks: list


def load_suite(solution_folder: Path) -> Suite:
    spec = importlib.util.spec_from_file_location("_suite", Path(solution_folder) / "checks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Suite(list(module.FILES), list(module.CHECKS))


def _load(root: Path, assignment_id: str):
    """The assignment's settings, its solution folder and its suite, checked against each other."""
    assignment = config.load(Path(root) / "course.yml").assignment(assignment_id)
    folder = Path(root) / "solutions" / assignment_id
    suite = load_suite(folder)
    config.reconcile(assignment, suite.checks)
    return assignment, folder, suite


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def grade(root: Path, assignment_id: str, submission: Path, device: str | None = None,
          only: set[str] | None = None) -> Report:
    """Every check of the assignment, hidden ones included; needs solutions/ under root.
    `only` restricts grading to the checks of these functions and answers."""
    started = time.monotonic()
    assignment, folder, suite = _load(root, assignment_id)
    settings = assignment.settings()
    # every assignment's references and hidden checks, not only this one's
    sandbox = Sandbox(hidden=[Path(root) / "solutions"], limits=Limits(memory_mb=assignment.memory_mb))
    student = Submission(submission, suite.files, assignment.timeout, sandbox)
    student.start()  # the worker imports torch while the judge loads the reference
    try:
        reference = Reference(folder, suite.files)
        device = device or default_device()
        report = Report(assignment_id, notes=sandbox.missing())
        for check in suite.checks:
            if only is not None and check.function not in only:
                continue
            setting = settings[check.name]
            report.results.append(_run_one(check, setting.points, setting.visibility,
                                           lambda c=check: c.prepare(reference, device), student, device))
    finally:
        student.close()
    report.execution_time = time.monotonic() - started
    return report


def check_public(frozen: Path, submission: Path, only: set[str] | None = None) -> Report:
    """The public checks only, from frozen data: no reference, no course.yml needed. `only` as
    in `grade`."""
    started = time.monotonic()
    data = json.loads(Path(frozen).read_text())
    sandbox = Sandbox(limits=Limits(memory_mb=data["memory_mb"]))
    student = Submission(submission, data["files"], data["timeout"], sandbox)
    student.start()
    try:
        report = Report(data["assignment"], public_only=True)
        for entry in data["checks"]:
            check = check_kinds.from_spec(entry["spec"])
            if only is not None and check.function not in only:
                continue
            report.results.append(_run_one(check, entry["points"], "public",
                                           lambda e=entry: e["prepared"], student, "cpu"))
    finally:
        student.close()
    report.execution_time = time.monotonic() - started
    return report


def freeze_public(root: Path, assignment_id: str) -> dict:
    """The data that lets `check_public` run the public checks without the reference."""
    assignment, folder, suite = _load(root, assignment_id)
    reference = Reference(folder, suite.files)
    settings = assignment.settings()
    public = [(c, settings[c.name]) for c in suite.checks if settings[c.name].visibility == "public"]
    return {"assignment": assignment_id, "files": suite.files, "timeout": assignment.timeout,
            "memory_mb": assignment.memory_mb,
            "checks": [{"spec": c.spec(), "points": s.points, "prepared": c.prepare(reference, "cpu")}
                       for c, s in public]}


def _run_one(check, points, visibility, prepare, student, device) -> CheckResult:
    try:
        verdict = check.run(student, prepare(), device)
        score, message = points * verdict.credit, verdict.message
    except GraderError:
        raise
    except Exception:  # noqa: BLE001 - a grader bug must cost this check only, and be visible
        traceback.print_exc(file=sys.stderr)
        score, message = 0.0, "the grader itself failed on this check; please tell your instructor"
    return CheckResult(check.name, score, points, message, visibility, check.kind)
