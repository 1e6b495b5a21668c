"""`course nbgrader`: the real round trip through nbgrader, on hw3_gans. Build the course folder,
generate the student version, autograde three submitted notebooks (the reference, the untouched
stubs, one realistic mutant that also edits a locked test cell) and generate their feedback."""
from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.nbgraderformat import MetadataValidator

from autograder import cells, config, engine, nbgrader, stubs
from conftest import ROOT, with_functions

HW3 = "hw3_gans"
NOTEBOOK = nbgrader.notebook_name(HW3)
SOLUTIONS = ROOT / "solutions" / HW3
FILES = engine.load_suite(SOLUTIONS).files
SATURATING = "def generator_loss(fake_logits):\n    return -F.softplus(fake_logits).mean()"
FAILING = "generator_loss: values and gradients"
# The mutant also rewrites the locked test cell of its wrong function to claim the cell's points:
# nbgrader must notice, and grade with the cell as released.
TAMPERED = {"generator_loss": "earned = {points}   # full marks"}
AUTOGRADE_LOG = "autograde.log"   # nbgrader's output, in the course folder


def reference(name: str) -> str:
    """A solution file as a student would write it: without our region markers."""
    return "".join(line for line in (SOLUTIONS / name).read_text().splitlines(keepends=True)
                   if not (stubs.BEGIN.match(line.rstrip("\n")) or stubs.END.match(line.rstrip("\n"))))


SUBMISSIONS = {
    "reference": {name: reference(name) for name in FILES},
    "untouched": {},
    "mutant": {"answers.py": reference("answers.py"),
               "gans.py": with_functions(reference("gans.py"), {"generator_loss": SATURATING})},
}


def nbgrader_run(course_dir: Path, *args: str) -> str:
    # nbgrader runs `alembic` and its kernels by name: this environment's, first on PATH
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, f"nbgrader {' '.join(args)}:\n{done.stdout[-2000:]}{done.stderr[-5000:]}"
    return done.stdout + done.stderr


def code_cells(notebook) -> dict[str, nbformat.NotebookNode]:
    """The notebook's %%writefile cells, by the file they write."""
    return {match[1]: cell for cell in notebook.cells
            if (match := re.match(r"%%writefile (\S+)\n", cell.source))}


def graded_cells(notebook) -> dict[str, nbformat.NotebookNode]:
    """The notebook's autograded test cells, by grade id."""
    return {cell.metadata.nbgrader["grade_id"]: cell for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("grade")}


def submit(course_dir: Path, student: str, files: dict[str, str], tests: dict[str, str] | None = None) -> None:
    """The released folder, with the notebook's code cells holding `files` (and test cells `tests`)."""
    folder = course_dir / "submitted" / student / HW3
    shutil.copytree(course_dir / "release" / HW3, folder)
    notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
    for name, cell in code_cells(notebook).items():
        if name in files:
            cell.source = f"%%writefile {name}\n{files[name]}"
    for grade_id, cell in graded_cells(notebook).items():
        if grade_id in (tests or {}):
            cell.source = tests[grade_id].format(points=cell.metadata.nbgrader["points"])
    nbformat.write(notebook, folder / NOTEBOOK)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    course_dir = tmp_path_factory.mktemp("nbgrader") / "course"
    nbgrader.build(ROOT, HW3, course_dir)
    nbgrader_run(course_dir, "generate_assignment", HW3)
    for student, files in SUBMISSIONS.items():
        submit(course_dir, student, files, TAMPERED if student == "mutant" else None)
    (course_dir / AUTOGRADE_LOG).write_text(nbgrader_run(course_dir, "autograde", HW3))
    nbgrader_run(course_dir, "generate_feedback", HW3)
    return course_dir


@pytest.fixture(scope="module")
def mutant_report(tmp_path_factory) -> engine.Report:
    """The engine's own grade of the mutated function: what nbgrader's must agree with."""
    folder = tmp_path_factory.mktemp("mutant")
    for name in FILES:
        (folder / name).write_text(SUBMISSIONS["mutant"][name])
    return engine.grade(ROOT, HW3, folder, device="cpu", only={"generator_loss"})


def released_lines(folder: Path) -> set[str]:
    lines = set()
    for path in (p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".ipynb":
            text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
        else:
            text = path.read_text()
        lines.update(line.strip() for line in text.splitlines())
    return lines


def solution_lines(source: str) -> set[str]:
    inside, lines = False, set()
    for line in source.splitlines():
        if stubs.BEGIN.match(line) or stubs.END.match(line):
            inside = bool(stubs.BEGIN.match(line))
        elif inside and line.strip():
            lines.add(line.strip())
    return lines


def test_release_holds_the_stubs_and_no_solution_or_hidden_test(course):
    release = course / "release" / HW3
    solutions = set.union(*(solution_lines((SOLUTIONS / name).read_text()) for name in FILES))
    assert not solutions & released_lines(release)
    notebook = nbformat.read(release / NOTEBOOK, as_version=4)
    MetadataValidator().validate_nb(notebook)
    sources = "\n".join(cell.source for cell in notebook.cells)
    assert "HIDDEN TESTS" not in sources and "SOLUTION" not in sources
    # the test cells are released as they are: nbgrader's checksums of the two agree
    source = nbformat.read(course / "source" / HW3 / NOTEBOOK, as_version=4)
    released, written = graded_cells(notebook), graded_cells(source)
    assert len(released) == len(config.load(ROOT / "course.yml").assignment(HW3).checks)
    assert {grade_id: cell.source for grade_id, cell in released.items()} == \
        {grade_id: cell.source for grade_id, cell in written.items()}
    # nbgrader's stub keeps each region's indentation: the released cells are exactly our stubs
    for name, cell in code_cells(notebook).items():
        stub = stubs.make_stub((SOLUTIONS / name).read_text(), name)
        assert cell.source.split("\n", 1)[1] == stub.rstrip("\n")


def test_autograde_scores_reference_full_stubs_zero_and_the_mutant_in_between(course, mutant_report):
    total = config.load(ROOT / "course.yml").assignment(HW3).max_points
    expected = total - (mutant_report.max_score - mutant_report.score)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", nbgrader.COURSE_ID) as gradebook:
        scores = {student: gradebook.find_submission(HW3, student).score for student in SUBMISSIONS}
        assert gradebook.find_assignment(HW3).max_score == total
    assert scores == {"reference": total, "untouched": 0, "mutant": pytest.approx(expected)}
    assert 0 < expected < total


def test_autograde_warns_of_the_edited_test_cell_only_and_grades_it_as_released(course):
    """nbgrader checks each locked cell against the checksum it recorded at generate_assignment: the
    untouched cells (every student's) pass it, the mutant's edited one is reported and restored
    (and its score above proves it was graded as released)."""
    changed = re.findall(r"Attribute '(\w+)' for cell (\S+) has changed", (course / AUTOGRADE_LOG).read_text())
    assert changed == [("checksum", "generator_loss")]
    source = graded_cells(nbformat.read(course / "source" / HW3 / NOTEBOOK, as_version=4))
    for student in SUBMISSIONS:
        graded = graded_cells(nbformat.read(course / "autograded" / student / HW3 / NOTEBOOK, as_version=4))
        assert {grade_id: cell.source for grade_id, cell in graded.items()} == \
            {grade_id: cell.source for grade_id, cell in source.items()}, student


def test_reference_test_cells_write_nothing_to_stderr(course):
    notebook = nbformat.read(course / "autograded" / "reference" / HW3 / NOTEBOOK, as_version=4)
    tests = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert len(tests) == len(config.load(ROOT / "course.yml").assignment(HW3).checks)
    for cell in tests:
        kinds = [(output.output_type, output.get("name")) for output in cell.outputs]
        assert ("stream", "stderr") not in kinds and ("execute_result", None) in kinds, cell.source


def test_feedback_shows_each_student_the_checks_and_the_mutant_its_mistake(course, mutant_report):
    pages = {student: course / "feedback" / student / HW3 / NOTEBOOK.replace(".ipynb", ".html")
             for student in SUBMISSIONS}
    assert all(page.is_file() for page in pages.values())
    shown = html.unescape(pages["mutant"].read_text())
    failed = next(r for r in mutant_report.results if r.name == FAILING)
    assert not failed.passed and f"FAIL  {FAILING}" in shown
    assert all(line.strip() in shown for line in failed.message.splitlines())
    assert "likely cause: your values are those of a known mistake: the saturating loss" in shown


def test_build_refuses_a_used_source_folder_and_a_foreign_config(tmp_path):
    (tmp_path / "source" / HW3).mkdir(parents=True)
    (tmp_path / "source" / HW3 / "gans.py").write_text("")
    with pytest.raises(nbgrader.NbgraderError, match="not empty"):
        nbgrader.build(ROOT, HW3, tmp_path)
    (tmp_path / "source" / HW3 / "gans.py").unlink()
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    with pytest.raises(nbgrader.NbgraderError, match="differs"):
        nbgrader.build(ROOT, HW3, tmp_path)


def fake_grade(calls: list, outcome):
    def grade(root, assignment_id, submission, device=None, only=None):
        calls.append(submission)
        print("a warning from the judge", file=sys.stderr)
        os.write(2, b"a warning from native code\n")
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    return grade


@pytest.fixture
def kernel_folder(tmp_path, monkeypatch):
    """A fresh kernel's state, in a submission folder."""
    monkeypatch.setattr(cells, "_outcomes", {})
    monkeypatch.setenv("DGM_COURSE_ROOT", str(ROOT))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_cells_grade_once_per_submission_and_print_only_to_stdout(kernel_folder, monkeypatch, capfd):
    calls = []
    report = engine.Report(HW3, [
        engine.CheckResult("generator_loss: values", 1.5, 2, "expected 0.7, got -0.7", "public", "k"),
        engine.CheckResult("generator_loss: probe", 1, 1, "", "public", "k"),
        engine.CheckResult("jsd_estimate: values", 1, 1, "", "hidden", "k")])
    monkeypatch.setattr(cells.engine, "grade", fake_grade(calls, report))
    assert cells.points(HW3, "generator_loss") == 2.5
    assert cells.points(HW3, "jsd_estimate") == 1
    assert len(calls) == 1
    out, err = capfd.readouterr()
    assert err == ""
    assert "FAIL  generator_loss: values" in out and "expected 0.7, got -0.7" in out and "native code" in out
    assert "jsd_estimate: values" not in out.split("Score:")[0]
    (kernel_folder / "gans.py").write_text("# edited\n")
    cells.points(HW3, "jsd_estimate")
    assert len(calls) == 2
    with pytest.raises(ValueError, match="no checks of 'gans'"):
        cells.points(HW3, "gans")


def test_cells_raise_when_grading_fails_and_do_not_grade_again(kernel_folder, monkeypatch, capfd):
    calls = []
    monkeypatch.setattr(cells.engine, "grade", fake_grade(calls, RuntimeError("the worker did not start")))
    with pytest.raises(RuntimeError, match="did not start"):
        cells.points(HW3, "generator_loss")
    with pytest.raises(cells.GradingFailed, match="did not start"):
        cells.points(HW3, "jsd_estimate")
    assert len(calls) == 1 and capfd.readouterr().err == ""
