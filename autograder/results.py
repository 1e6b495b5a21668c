"""Reports: Gradescope's results.json (always valid JSON, under 1 MB) and a readable text report."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .engine import Report

MAX_TEST_OUTPUT = 4000
VISIBILITY = {"public": "visible", "hidden": "after_due_date"}


def gradescope(report: Report) -> dict:
    tests, numbers = [], {}
    for result in report.results:
        function = result.name.split(":", 1)[0]
        group = numbers.setdefault(function, [len(numbers) + 1, 0])
        group[1] += 1
        tests.append({
            "name": result.name,
            "number": f"{group[0]}.{group[1]}",
            "score": result.score,
            "max_score": result.max_score,
            "status": "passed" if result.passed else "failed",
            "output": _cap(result.message),
            "visibility": VISIBILITY[result.visibility],
            "tags": [function, result.kind],
            "extra_data": extra_data(result),
        })
    notes = "".join(f"\nNot in force: {note}." for note in report.notes)
    shown = [r for r in report.results if r.visibility == "public"]
    # the checks shown at once only: a total with the hidden ones would tell their results early
    return {"score": report.score, "execution_time": round(report.execution_time, 3),
            "output": _cap(f"{report.assignment}: {sum(r.score for r in shown):g} / "
                           f"{sum(r.max_score for r in shown):g} points in the checks shown now; the "
                           f"others are shown after the due date{notes}"),
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def extra_data(result) -> dict:
    """What a class report counts per check, machine-readable (never parsed from the message): the
    function and check, the kind, the likely cause's stable id and label, what stopped the student's
    code, and the graded helpers that fail."""
    function, check = result.name.split(": ", 1)
    data = {"function": function, "check": check, "kind": result.kind}
    if result.cause:
        data.update(cause=result.cause, cause_label=result.cause_label)
    if result.stopped:
        data["stopped"] = result.stopped
    if result.failing_helpers:
        data["failing_helpers"] = list(result.failing_helpers)
    return data


def failure(assignment: str, why: str) -> dict:
    """What Gradescope gets when grading itself broke: a valid file that says so."""
    return {"score": 0, "execution_time": 0, "visibility": "visible", "tests": [],
            "output": _cap(f"{assignment}: the autograder could not grade this submission: {why}. "
                           "Please tell your instructor.")}


def write_json(data: dict, path: Path) -> None:
    """Atomic: readers see the old file or the whole new one, never half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".results-")
    with os.fdopen(handle, "w") as out:
        json.dump(data, out, indent=1, allow_nan=False)
    os.replace(temporary, path)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


HELD = "held back: counts once your answer is right, which is checked after the due date"


def text(report: Report) -> str:
    scope = "public checks" if report.public_only else "all checks"
    width = max((len(r.name) for r in report.results), default=20)
    lines = [f"{report.assignment}: {scope}"]
    for r in report.results:
        mark = "PASS" if r.passed or r.held else "FAIL"
        lines.append(f"  {mark}  {r.name:<{width}}  {r.score:g}/{r.max_score:g}" + (f"  ({HELD})" if r.held else ""))
        if not r.passed and not r.held:
            lines.extend("        " + line for line in r.message.splitlines())
    held = sum(r.max_score for r in report.results if r.held)
    lines.append(f"Score: {report.score:g} / {report.max_score:g} points" +
                 (f" ({held:g} held back until your answers are checked after the due date)" if held else ""))
    if report.public_only:
        lines.append("Hidden checks run only when your submission is graded.")
    if report.notes and not report.public_only:
        lines.extend(f"Not in force: {note}." for note in report.notes)
    return "\n".join(lines)


def all_passed(report: Report) -> bool:
    """Whether every check passed (points held back for the hidden checks to decide count as passed)."""
    return all(r.passed or r.held for r in report.results)


def _cap(message: str) -> str:
    message = message.encode("utf-8", "replace").decode("utf-8")
    return message if len(message) <= MAX_TEST_OUTPUT else message[:MAX_TEST_OUTPUT] + " [...]"
