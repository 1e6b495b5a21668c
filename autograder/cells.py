"""The autograde part of the test cells of `course nbgrader` notebooks: grade with the references.

At autograde (where nbgrader sets NBGRADER_EXECUTION to "autograde"), each test cell calls
`points(ASSIGNMENT, FUNCTION)` in the kernel, whose folder holds the files the notebook's code
cells wrote. The whole assignment is graded once per kernel and submission (a grading worker
imports torch: one per cell would cost minutes), each cell
prints its own checks and returns the points they earned, which nbgrader reads as partial credit.
nbgrader gives 0 to a cell that writes to stderr, so nothing here may; a grading failure raises,
which costs the cell its points visibly instead of granting them silently.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path

from . import engine, results
from .cli import find_root

_outcomes: dict[tuple, engine.Report | str] = {}   # per submission: its report, or why grading failed


class GradingFailed(RuntimeError):
    """Grading this submission failed in an earlier cell of the same kernel."""


def points(assignment_id: str, function: str) -> float:
    """Print the checks of `function` on the files in the current folder; return its points."""
    with _stdout_only():
        report = _report(find_root(), assignment_id, Path.cwd())
        part = report.of(function)
        if not part.results:
            raise ValueError(f"{assignment_id} has no checks of {function!r}")
        print(results.text(part))
    return min(part.score, part.max_score)   # nbgrader rejects a cell scoring above its points


def _report(root: Path, assignment_id: str, folder: Path) -> engine.Report:
    files = engine.load_suite(root / "solutions" / assignment_id).files
    key = (str(root), assignment_id, str(folder), tuple(_digest(folder / name) for name in files))
    if key not in _outcomes:
        try:
            _outcomes[key] = engine.grade(root, assignment_id, folder)
        except BaseException as error:   # a timed-out (interrupted) cell too: the next must not wait again
            _outcomes[key] = f"{type(error).__name__}: {error}"
            raise
    outcome = _outcomes[key]
    if isinstance(outcome, str):
        raise GradingFailed(f"grading {assignment_id} failed in an earlier cell ({outcome}); "
                            "restart the kernel to grade again")
    return outcome


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@contextlib.contextmanager
def _stdout_only():
    """Send stderr to stdout: Python's (warnings, the engine's tracebacks) and file descriptor 2,
    which native code writes to and ipykernel forwards as stderr."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(1, 2)
    try:
        with contextlib.redirect_stderr(sys.stdout):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 2)
        os.close(saved)
