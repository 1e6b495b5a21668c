"""`course nbgrader ASSIGNMENT COURSE_DIR`: an nbgrader course folder for an assignment.

    COURSE_DIR/
      nbgrader_config.py                   the course id and the settings our notebooks need
      source/ASSIGNMENT/                   the student folder (`course release`), plus
        0_ASSIGNMENT_code.ipynb            the graded files as `%%writefile` cells, and a test
                                           cell per graded function or answer

The code cells hold the references with nbgrader's solution regions, which `nbgrader
generate_assignment` turns into our stubs. Each test cell shows students the public checks of one
function; at autograde (nbgrader's NBGRADER_EXECUTION) it grades every check with the references
(`autograder.cells`) and its value, the points earned, is nbgrader's partial credit.
nbgrader runs a submission's notebooks in sorted order: the "0_" prefix makes this one write the
graded files before the practical notebooks import them.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from . import config, engine, release, runner, stubs

COURSE_ID = "dgm-course"
# nbgrader writes this in place of a region; the `# FIXME: hint` line above it is ours, so that the
# released cells read exactly like the .py stubs (stubs.make_stub).
CODE_STUB = "raise NotImplementedError"
MIN_CELL_TIMEOUT = 600   # seconds: the practical notebooks train models on the grader's CPU
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

INTRO = """# {title}: the graded code

Your answers and code for {files} live in the code cells below; the questions are in `README.md`.
Replace each `raise NotImplementedError` that follows a `# FIXME`, then run the cell: its first
line, `%%writefile`, writes the file next to this notebook, where `check.py` and the other
notebooks import it from. **These cells are what is graded**: edit the code here, not in the `.py`
files, which running a cell overwrites.

The test cells at the end give feedback: each runs the public checks of one function or answer and
shows the points they earned. Hidden checks run only when your submission is graded."""

TESTS = """## Tests

Run the code cells above first. Each test cell is worth the points of its function or answer."""

# The same in the source and the released notebook, with no `### BEGIN HIDDEN TESTS` region:
# generate_assignment records a locked cell's checksum before cutting such a region out
# (GenerateAssignment.preprocessors: SaveCells, then ClearHiddenTests), so autograde would find
# every untouched test cell "changed" and warn (OverwriteCells.preprocess_cell). A region would
# hide nothing anyway: the grading call is no secret, and feedback shows the restored cell.
TEST_CELL = """import os
import check
earned = check.points("{function}")   # the public checks, on your files
if os.environ.get("NBGRADER_EXECUTION") == "autograde":   # nbgrader grading your submission
    from autograder import cells
    earned = cells.points("{assignment}", "{function}")   # every check, hidden ones too
earned"""

CONFIG = '''"""nbgrader settings of {course}, written by `course nbgrader` (which expects it unchanged)."""
import os

c = get_config()  # noqa: F821 - defined by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = {course_id}
# The hidden tests in the autograde kernel grade with the references of this checkout.
os.environ.setdefault("DGM_COURSE_ROOT", {root})
# The first test cell grades every check (course.yml: a time budget of up to {budget:g} s, plus starting
# the worker) and practical notebooks train models on the CPU: nbgrader's 30 s would zero them.
c.Execute.timeout = {cell_timeout}
# nbgrader's default, on purpose: a cell past the timeout is interrupted and scores 0, and the rest of
# the notebook still runs, as after any error (nbgrader always goes on after one).
c.Execute.interrupt_on_timeout = True
# What replaces a solution region (below our "# FIXME: hint" line): as in the course's .py stubs.
c.ClearSolutions.code_stub = {{"python": {stub}}}
'''


class NbgraderError(ValueError):
    """The nbgrader course folder cannot be written (a target that is not empty, a name clash)."""


def notebook_name(assignment_id: str) -> str:
    return f"0_{assignment_id}_code.ipynb"


def build(root: Path, assignment_id: str, course_dir: Path) -> list[Path]:
    """Write the nbgrader course folder of the assignment; return the files written."""
    root, course_dir = Path(root).resolve(), Path(course_dir)
    source = course_dir / "source" / assignment_id
    if source.exists() and any(source.iterdir()):
        raise NbgraderError(f"{source} is not empty: build each assignment once, into a new or empty folder")
    name = notebook_name(assignment_id)
    if (root / "assignments" / assignment_id / name).exists():
        raise NbgraderError(f"assignments/{assignment_id}/{name} has the generated notebook's name")
    settings_file, settings = course_dir / "nbgrader_config.py", nbgrader_config(root)
    if settings_file.exists() and settings_file.read_text() != settings:
        raise NbgraderError(f"{settings_file} differs from the one this course writes (edited, or another "
                            "checkout or course.yml): remove it, or build into a new folder")
    notebook = code_notebook(root, assignment_id)
    files = release.release(root, assignment_id, source, extra={name: as_released(notebook)})
    nbformat.write(notebook, source / name)
    settings_file.write_text(settings)
    return sorted([*files, source / name, settings_file])


def nbgrader_config(root: Path) -> str:
    course = config.load(Path(root) / "course.yml")
    budget = max(a.time_budget for a in course.assignments)
    cell_timeout = max(MIN_CELL_TIMEOUT, round(budget + runner.STARTUP_TIMEOUT))
    return CONFIG.format(course=COURSE_ID, course_id=json.dumps(COURSE_ID), root=json.dumps(str(root)),
                         budget=budget, cell_timeout=cell_timeout,
                         stub=json.dumps(CODE_STUB))


def code_notebook(root: Path, assignment_id: str) -> nbformat.NotebookNode:
    """The graded files as solution cells, then one autograded test cell per function or answer."""
    assignment = config.load(Path(root) / "course.yml").assignment(assignment_id)
    solutions = Path(root) / "solutions" / assignment_id
    files = engine.load_suite(solutions).files
    cells = [nbformat.v4.new_markdown_cell(INTRO.format(
        title=assignment.title, files=", ".join(f"`{name}`" for name in files)))]
    for name in files:
        source = f"%%writefile {name}\n" + solution_regions((solutions / name).read_text(), name)
        cells.append(_marked(nbformat.v4.new_code_cell(source.rstrip("\n")),
                             grade_id=Path(name).stem + "_py", solution=True))
    cells.append(nbformat.v4.new_markdown_cell(TESTS))
    for function, checks in assignment.checks.items():
        source = TEST_CELL.format(assignment=assignment_id, function=function)
        cells.append(_marked(nbformat.v4.new_code_cell(source), grade_id=function, grade=True, locked=True,
                             points=sum(setting.points for setting in checks.values())))
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC,
                                                               "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    return notebook


def as_released(notebook) -> str:
    """The code notebook's text as `nbgrader generate_assignment` releases it: solution regions cut
    out (for the audit, release.audit); the test cells are released as they are."""
    regions = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.S)
    return "\n".join(regions.sub("", cell.source) for cell in notebook.cells)


def solution_regions(source: str, filename: str) -> str:
    """Our regions (`### BEGIN SOLUTION hint`) as nbgrader's: the hint becomes a `# FIXME` line
    above the region, which nbgrader replaces by CODE_STUB at the region's indentation."""
    stubs.make_stub(source, filename)   # unbalanced markers: a StubError naming the line
    out = []
    for line in source.splitlines(keepends=True):
        begin = stubs.BEGIN.match(line.rstrip("\n"))
        if begin:
            out.append(f"{begin['indent']}# FIXME: {begin['hint'].strip() or stubs.DEFAULT_HINT}\n")
        out.append(f"{begin['indent']}### BEGIN SOLUTION\n" if begin else line)
    return "".join(out)


def _marked(cell, grade_id: str, grade: bool = False, solution: bool = False, locked: bool = False,
            points: float | None = None):
    cell.metadata["nbgrader"] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                                 "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        cell.metadata["nbgrader"]["points"] = points
    return cell
