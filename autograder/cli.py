"""The `course` command (also `python -m autograder`).

    course grade ASSIGNMENT SUBMISSION_DIR --results PATH   every check; Gradescope's results.json
    course check ASSIGNMENT [DIR]                           the student's local check: public checks
    course stubs ASSIGNMENT [--check]                       regenerate (or verify) the stubs
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import config, engine, results, stubs


def find_root(start: Path | None = None) -> Path:
    """The course folder: $DGM_COURSE_ROOT, else the nearest folder up from here with course.yml,
    else the checkout this package lives in."""
    if os.environ.get("DGM_COURSE_ROOT"):
        return Path(os.environ["DGM_COURSE_ROOT"])
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "course.yml").is_file():
            return folder
    return Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course", description="dgm-course: assignments and autograder")
    parser.add_argument("--root", type=Path, help="course folder (with course.yml); found automatically")
    verbs = parser.add_subparsers(dest="verb", required=True)
    grade = verbs.add_parser("grade", help="run every check and write Gradescope's results.json")
    grade.add_argument("assignment")
    grade.add_argument("submission", type=Path)
    grade.add_argument("--results", type=Path, required=True, help="where to write results.json")
    grade.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    check = verbs.add_parser("check", help="run the public checks on your files (local feedback)")
    check.add_argument("assignment")
    check.add_argument("folder", type=Path, nargs="?", default=Path("."))
    stub = verbs.add_parser("stubs", help="generate the student stubs and public-check data")
    stub.add_argument("assignment")
    stub.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    root = args.root or find_root()
    try:
        return {"grade": _grade, "check": _check, "stubs": _stubs}[args.verb](root, args)
    except (config.ConfigError, stubs.StubError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _grade(root: Path, args) -> int:
    try:
        report = engine.grade(root, args.assignment, args.submission, args.device)
    except BaseException as error:
        results.write_json(results.failure(args.assignment, f"{type(error).__name__}: {error}"), args.results)
        raise
    results.write_json(results.gradescope(report), args.results)
    print(results.text(report))
    return 0


def _check(root: Path, args) -> int:
    frozen = args.folder / engine.PUBLIC_CHECKS_FILE
    if not frozen.is_file():
        frozen = root / "assignments" / args.assignment / engine.PUBLIC_CHECKS_FILE
    if not frozen.is_file():
        print(f"error: no {engine.PUBLIC_CHECKS_FILE} for {args.assignment} in {args.folder} or {root}",
              file=sys.stderr)
        return 2
    report = engine.check_public(frozen, args.folder)
    print(results.text(report))
    return 0 if all(r.passed for r in report.results) else 1


def _stubs(root: Path, args) -> int:
    if args.check:
        stale = stubs.drift(root, args.assignment)
        for name in stale:
            print(f"out of date: assignments/{args.assignment}/{name} (run: course stubs {args.assignment})")
        return 1 if stale else 0
    for name in stubs.generate(root, args.assignment):
        print(f"wrote assignments/{args.assignment}/{name}")
    return 0
