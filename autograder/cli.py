"""The `course` command (also `python -m autograder`).

    course grade ASSIGNMENT SUBMISSION_DIR --results PATH   every check; Gradescope's results.json
    course check ASSIGNMENT [DIR] [FUNCTION ...]            the student's local check: public checks
    course stubs ASSIGNMENT [--check]                       regenerate (or verify) the stubs
    course release ASSIGNMENT OUT_DIR                       the folder students receive
    course nbgrader ASSIGNMENT COURSE_DIR                   an nbgrader course folder
    course gradescope ASSIGNMENT OUT.zip [--torch cpu|auto]  the Gradescope autograder zip
    course grade-all ASSIGNMENT SUBMISSIONS_DIR --csv grades.csv [--jobs N] [--fresh] [--no-report]   a whole class
    course report ASSIGNMENT SOURCE --out DIR [--per assignment|function]   what the class got wrong (report.py)
    course prepare ASSIGNMENT [--device D]                  prepare the hidden checks once, for later gradings
    course new ASSIGNMENT [--title T]                       a minimal working assignment to start from
    course docs                                             write the generated parts of docs/authoring.md
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import batch, config, engine, gradescope, release, report, results, stubs
from .checks import AuthoringError, properties


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
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error in course.yml, "
                        "checks.py, properties.py, mistakes.py or a reference, instead of one line")
    verbs = parser.add_subparsers(dest="verb", required=True)
    grade = verbs.add_parser("grade", help="run every check and write Gradescope's results.json")
    grade.add_argument("assignment")
    grade.add_argument("submission", type=Path)
    grade.add_argument("--results", type=Path, required=True, help="where to write results.json")
    grade.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    check = verbs.add_parser("check", help="run the public checks on your files (local feedback)")
    check.add_argument("assignment")
    check.add_argument("targets", nargs="*", metavar="[DIR] [FUNCTION ...]",
                       help="the folder with your files (default: here), then the functions to check (default: all)")
    stub = verbs.add_parser("stubs", help="generate the student stubs and public-check data")
    stub.add_argument("assignment")
    stub.add_argument("--check", action="store_true", help="only report what is out of date (numbers within the checks' tolerance are not)")
    out = verbs.add_parser("release", help="write the folder students receive (stubs, README, check.py)")
    out.add_argument("assignment")
    out.add_argument("out_dir", type=Path)
    nbgrader_course = verbs.add_parser("nbgrader", help="write an nbgrader course folder for the assignment")
    nbgrader_course.add_argument("assignment")
    nbgrader_course.add_argument("course_dir", type=Path)
    zipped = verbs.add_parser("gradescope", help="build the Gradescope autograder zip")
    zipped.add_argument("assignment")
    zipped.add_argument("out_zip", type=Path)
    zipped.add_argument("--torch", choices=gradescope.TORCH_BUILDS, default="cpu",
                        help="the torch build setup.sh installs: cpu (default; fits Gradescope's default "
                        "768 MB container) or auto (CUDA where the machine has a GPU; give it 2 GB)")
    many = verbs.add_parser("grade-all", help="grade a folder of submissions into a gradebook CSV")
    many.add_argument("assignment")
    many.add_argument("submissions", type=Path, help="one folder per student, or a Gradescope export")
    many.add_argument("--csv", type=Path, required=True, help="the gradebook to write")
    many.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    many.add_argument("--results-dir", type=Path, help="results.json per submission (default: results/ "
                      "next to the CSV)")
    many.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    many.add_argument("--fresh", action="store_true", help="grade every submission again (by default a "
                      "submission graded before with the same files, checks and solutions is re-scored "
                      "from its recorded verdicts with today's points)")
    many.add_argument("--no-report", action="store_true", help="do not write the class report (report/ "
                      "next to the CSV)")
    summary = verbs.add_parser("report", help="the class report: score distribution, pass rate per check, "
                               "likely causes counted, item analysis, gradebook CSVs")
    summary.add_argument("assignment")
    summary.add_argument("source", type=Path, help="grade-all's results folder, or a Gradescope export "
                         "(its zip or folder)")
    summary.add_argument("--out", type=Path, required=True, help="the report's folder (index.html, CSVs)")
    summary.add_argument("--per", choices=report.PER, default="assignment",
                         help="the gradebook's columns: one per assignment (default) or per function")
    summary.add_argument("--submissions", type=Path, help="with a results folder: the folder that was "
                         "graded (a Gradescope export's metadata names the students)")
    summary.add_argument("--jobs", type=int, default=1, help="an export without results is graded first: "
                         "submissions graded at once (default 1)")
    summary.add_argument("--device", help="cpu or cuda, for an export graded first")
    ready = verbs.add_parser("prepare", help="prepare every check's hidden data once (solutions/.prepared), "
                             "so that each later grading starts without running the references")
    ready.add_argument("assignment")
    ready.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    start = verbs.add_parser("new", help="a minimal working assignment: solutions/ID, assignments/ID, its "
                             "course.yml entry and stubs")
    start.add_argument("assignment")
    start.add_argument("--title", help="its title in course.yml")
    verbs.add_parser("docs", help="write the generated parts of docs/authoring.md (the check kinds' parameters)")
    args = parser.parse_args(argv)
    root = args.root or find_root()
    try:
        return {"grade": _grade, "check": _check, "stubs": _stubs, "release": _release,
                "nbgrader": _nbgrader, "gradescope": _gradescope, "grade-all": _grade_all, "prepare": _prepare,
                "report": _report, "new": _new, "docs": _docs}[args.verb](root, args)
    except (config.ConfigError, stubs.StubError, release.ReleaseError, engine.UnknownFunction, AuthoringError) as error:
        if args.debug:
            raise
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
    # The course's frozen data and properties where there is a course: the properties are code, and
    # a folder checked by an instructor may be a student's. Without one (a student's own machine),
    # the folder's own copies, as they came with the assignment.
    targets = list(args.targets)
    folder = Path(targets.pop(0)) if targets and Path(targets[0]).is_dir() else Path(".")
    source = root / "assignments" / args.assignment
    if not (source / engine.PUBLIC_CHECKS_FILE).is_file():
        source = folder
    if not (source / engine.PUBLIC_CHECKS_FILE).is_file():
        print(f"error: no {engine.PUBLIC_CHECKS_FILE} for {args.assignment} in {folder} or {root}",
              file=sys.stderr)
        return 2
    report = engine.check_public(source / engine.PUBLIC_CHECKS_FILE, folder, source / properties.PROPERTIES_FILE,
                                 only=set(targets) or None)
    print(results.text(report))
    return 0 if results.all_passed(report) else 1


def _stubs(root: Path, args) -> int:
    if args.check:
        stale = stubs.drift(root, args.assignment)
        for line in stale:
            print(f"out of date: assignments/{args.assignment}/{line}")
        if stale:
            print(f"run `course stubs {args.assignment}` and commit (floats within tolerance are no drift)")
        return 1 if stale else 0
    for name in stubs.generate(root, args.assignment):
        print(f"wrote assignments/{args.assignment}/{name}")
    return 0


def _release(root: Path, args) -> int:
    files = release.release(root, args.assignment, args.out_dir)
    print(f"wrote {len(files)} files to {args.out_dir}; students run `python check.py` there")
    return 0


def _nbgrader(root: Path, args) -> int:
    from . import nbgrader   # needs nbformat, which grading (on Gradescope, say) does not install

    try:
        nbgrader.build(root, args.assignment, args.course_dir)
    except nbgrader.NbgraderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.course_dir}/source/{args.assignment}; next, in {args.course_dir}: "
          f"nbgrader generate_assignment {args.assignment}")
    return 0


def _gradescope(root: Path, args) -> int:
    gradescope.build(root, args.assignment, args.out_zip, args.torch)
    print(f"wrote {args.out_zip}: upload it on Gradescope (Configure Autograder, Ubuntu 22.04 base image)")
    return 0


def _grade_all(root: Path, args) -> int:
    results_dir = args.results_dir or args.csv.parent / "results"
    graded = batch.grade_all(root, args.assignment, args.submissions, args.csv, results_dir,
                             max(1, args.jobs), args.device, args.fresh)
    failed = [g for g in graded if g.problem]
    reused = sum(g.reused for g in graded)
    print(f"graded {len(graded) - len(failed)} of {len(graded)} submissions: {args.csv}, {results_dir}/")
    if reused:
        print(f"  {reused} of them re-scored from an earlier grading (same files, checks and solutions; "
              "only points changed, or none)")
    for g in failed:
        print(f"  not graded: {g.folder.name} ({', '.join(g.students)}): {g.problem}", file=sys.stderr)
    if not args.no_report:
        try:
            page = report.build(root, args.assignment, results_dir, args.csv.parent / "report",
                                submissions=args.submissions)
            print(f"report: {page}")
        except (report.ReportError, OSError, ImportError) as error:
            print(f"report not written: {error}", file=sys.stderr)
    return 1 if failed else 0


def _report(root: Path, args) -> int:
    try:
        page = report.build(root, args.assignment, args.source, args.out, args.per, args.submissions,
                            max(1, args.jobs), args.device)
    except report.ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"report: {page}")
    return 0


def _new(root: Path, args) -> int:
    from . import scaffold

    for name in scaffold.new(root, args.assignment, args.title):
        print(f"wrote {name}")
    print(f"next: course grade {args.assignment} solutions/{args.assignment} --results reference.json (full marks), "
          f"then make it yours (docs/authoring.md)")
    return 0


def _docs(root: Path, args) -> int:
    from . import docs

    for path in docs.write(root):
        print(f"wrote {path}")
    return 0


def _prepare(root: Path, args) -> int:
    kept = engine.prepare(root, args.assignment, args.device)
    if kept is None:
        print("nothing kept: without bubblewrap, student code could change the file; each grading "
              "prepares its checks itself")
    elif not kept.is_file():
        print(f"could not write {kept}; each grading prepares its checks itself", file=sys.stderr)
    else:
        print(f"kept in {kept}: gradings of {args.assignment} on this machine start from it")
    return 0
