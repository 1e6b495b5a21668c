"""`course release`: the folder students receive holds what they need and nothing hidden, and its
check.py runs the public checks on its own, without the course package or the references."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from autograder import cli, config, engine, release, runner, stubs
from conftest import ASSIGNMENTS, ROOT, make_submission

PICKLE_SUFFIXES = {".pt", ".pth", ".pkl", ".pickle", ".npy", ".npz", ".joblib", ".bin", ".zip"}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    base = tmp_path_factory.mktemp("released")
    for assignment in ASSIGNMENTS:
        assert cli.main(["--root", str(ROOT), "release", assignment, str(base / assignment)]) == 0
    return base


def text_files(folder: Path) -> dict[Path, str]:
    return {p: p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file()}


def solution_lines(assignment: str) -> set[str]:
    """Every line of code inside the solution regions of the references (blank lines and short
    ones such as `return x` aside: they occur anywhere)."""
    lines = set()
    for path in (ROOT / "solutions" / assignment).glob("*.py"):
        inside = False
        for line in path.read_text().splitlines():
            if stubs.BEGIN.match(line):
                inside = True
            elif stubs.END.match(line):
                inside = False
            elif inside and len(line.strip()) >= 16:
                lines.add(line.strip())
    return lines


def hidden_prepared(assignment: str) -> tuple[list[str], set[str]]:
    """What the hidden checks prepare at grading (inputs, expected values, answer keys): each as
    canonical JSON, and the long strings in it (encoded tensors). The hints of known mistakes and
    the generic variants' ids and sentences are no hidden data: public checks have them too
    (unreviewed hints are audited elsewhere: tests/test_student_view.py)."""
    course_assignment, folder, suite = engine._load(ROOT, assignment)
    settings = course_assignment.settings()
    reference = runner.Reference(folder, suite.files)
    values, strings = [], set()

    def walk(node):
        if isinstance(node, str) and len(node) >= 16 and len(set(node)) > 4:   # not a run of zeros ("AAAA...")
            strings.add(node)
        children = [v for k, v in node.items() if k not in ("hint", "id", "sentence")] if isinstance(node, dict) else node
        for child in children if isinstance(node, (dict, list)) else ():
            walk(child)

    for check in suite.checks:
        if settings[check.name].visibility == "hidden":
            prepared = check.prepare(reference, "cpu")
            if prepared is not None:
                values.append(canonical(prepared))
                walk(prepared)
    return values, strings


def canonical(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_folder_has_the_stubs_readme_check_script_and_requirements(released, assignment):
    folder = released / assignment
    for name in engine.load_suite(ROOT / "solutions" / assignment).files:
        assert (folder / name).read_text() == (ROOT / "assignments" / assignment / name).read_text()
        assert "raise NotImplementedError" in (folder / name).read_text()
    for name in ("README.md", "check.py", "requirements.txt", engine.PUBLIC_CHECKS_FILE):
        assert (folder / name).is_file()
    tracked = subprocess.run(["git", "ls-files", f"assignments/{assignment}"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    committed = {Path(p).relative_to(f"assignments/{assignment}") for p in tracked}
    assert committed <= {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_solution_code_in_the_folder(released, assignment):
    references = {p.read_bytes() for p in (ROOT / "solutions" / assignment).glob("*")}
    solution = solution_lines(assignment)
    assert solution, "the references have solution regions"
    for path, content in text_files(released / assignment).items():
        assert path.read_bytes() not in references, f"{path} is a reference file"
        leaked = solution & {line.strip() for line in content.splitlines()}
        assert not leaked, f"{path} holds solution code: {sorted(leaked)[:3]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_hidden_check_data_in_the_folder(released, assignment):
    folder = released / assignment
    settings = config.load(ROOT / "course.yml").assignment(assignment).settings()
    frozen = json.loads((folder / engine.PUBLIC_CHECKS_FILE).read_text())
    assert {c["spec"]["name"] for c in frozen["checks"]} == {n for n, s in settings.items() if s.visibility == "public"}
    values, strings = hidden_prepared(assignment)
    assert values, "hidden checks prepare inputs and expected values"
    public = canonical(frozen)
    assert not [v for v in values if len(v) >= 12 and v in public], "public_checks.json holds hidden check data"
    for path, content in text_files(folder).items():
        leaked = {s for s in strings if s in content}
        assert not leaked, f"{path} holds hidden check data: {sorted(leaked)[:2]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_pickles_or_archives_in_the_folder(released, assignment):
    for path in (released / assignment).rglob("*"):
        if path.is_file():
            head = path.read_bytes()[:2]
            assert path.suffix not in PICKLE_SUFFIXES, path
            assert not re.fullmatch(rb"\x80[\x02-\x05]", head), f"{path} is a pickle"
            assert head != b"PK", f"{path} is a zip archive"


def test_requirements_pin_everything_students_import(released):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["notebooks"]
    names = {re.match(r"[A-Za-z0-9_.-]+", r)[0].lower() for r in wanted}
    pinned = {line.split("==")[0].lower() for line in (released / "hw1_vae" / "requirements.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    assert names <= pinned


def run_check_without_the_course_package(folder: Path) -> subprocess.CompletedProcess:
    """`python check.py` by an interpreter that has torch & co. but not our package: its site folder
    is added without running the .pth file through which the editable install is found."""
    site = sysconfig.get_paths()["purelib"]
    boot = (f"import sys, runpy; sys.path.append({site!r}); sys.argv = ['check.py']; "
            "runpy.run_path('check.py', run_name='__main__')")
    return subprocess.run([sys.executable, "-S", "-c", boot], cwd=folder, capture_output=True, text=True,
                          timeout=600, env={"PATH": "/usr/bin:/bin", "DGM_COURSE_ROOT": "/nonexistent"})


def test_the_local_check_fails_the_stub_with_helpful_messages(released):
    run = run_check_without_the_course_package(released / "hw3_gans")
    assert run.returncode == 1, run.stderr
    assert "is not implemented yet (it raises NotImplementedError)" in run.stdout
    assert "FAIL  generator_loss: values and gradients" in run.stdout
    assert "Hidden checks run only when your submission is graded." in run.stdout


def test_the_local_check_names_a_known_mistake(released, tmp_path):
    """The hints of solutions/<assignment>/mistakes.py reach students through the frozen data."""
    folder = tmp_path / "hw3_gans"
    shutil.copytree(released / "hw3_gans", folder)
    make_submission(folder, "hw3_gans", gans={"generator_loss": "def generator_loss(fake_logits):\n"
                                                                "    return -F.softplus(fake_logits).mean()\n"})
    run = run_check_without_the_course_package(folder)
    assert "FAIL  generator_loss: values and gradients" in run.stdout
    assert "likely cause: your values are those of a known mistake: the saturating loss" in run.stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_local_check_passes_the_reference_copied_in(released, assignment, tmp_path):
    folder = tmp_path / assignment
    shutil.copytree(released / assignment, folder)
    for name in engine.load_suite(ROOT / "solutions" / assignment).files:
        shutil.copy(ROOT / "solutions" / assignment / name, folder / name)
    run = run_check_without_the_course_package(folder)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "FAIL" not in run.stdout


def test_release_refuses_stale_stubs_and_a_folder_in_use(course_copy, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(release.ReleaseError, match="not empty"):
        release.release(course_copy, "hw3_gans", tmp_path / "used")
    answers = course_copy / "solutions" / "hw3_gans" / "gans.py"
    answers.write_text(answers.read_text().replace("### BEGIN SOLUTION", "### BEGIN SOLUTION (changed)", 1))
    with pytest.raises(release.ReleaseError, match=r"out of date \(gans\.py\): run `course stubs hw3_gans`"):
        release.release(course_copy, "hw3_gans", tmp_path / "new")
