"""The CLI end to end: the reference gets full marks, the stub 0 with a message per check, the
results file follows Gradescope's schema, the local check runs without the references."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from autograder import config, engine
from conftest import ASSIGNMENTS, ROOT, read_results

def course(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600, env=env)




def grade_folder(tmp_path, assignment, folder):
    path = tmp_path / "r.json"
    run = course("grade", assignment, ROOT / folder / assignment, "--results", path)
    assert run.returncode == 0, run.stderr
    return run, read_results(path)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_gets_full_marks(tmp_path, assignment):
    run, data = grade_folder(tmp_path, assignment, "solutions")
    settings = config.load(ROOT / "course.yml").assignment(assignment)
    assert data["score"] == settings.max_points == sum(t["max_score"] for t in data["tests"])
    assert all(t["status"] == "passed" for t in data["tests"])
    assert f"Score: {settings.max_points:g} / {settings.max_points:g} points" in run.stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_stub_gets_zero_with_one_failing_entry_per_check(tmp_path, assignment):
    settings = config.load(ROOT / "course.yml").assignment(assignment).settings()
    _, stub_results = grade_folder(tmp_path, assignment, "assignments")
    tests = stub_results["tests"]
    assert stub_results["score"] == 0
    assert [t["name"] for t in tests] == list(settings)
    for t in tests:
        function = t["name"].split(":")[0]
        assert t["status"] == "failed" and t["score"] == 0
        assert f"{function}() is not implemented yet" in t["output"], t
        expected = "visible" if settings[t["name"]].visibility == "public" else "after_due_date"
        assert t["visibility"] == expected and t["tags"][0] == function


def test_grading_is_deterministic(tmp_path):
    """Same submission, same results (a mutant whose failures involve random draws)."""
    from conftest import make_submission

    folder = make_submission(tmp_path / "m", vae={"reparameterize": (
        "def reparameterize(mu, logvar):\n    return mu + torch.exp(logvar) * torch.randn_like(mu)\n")})
    runs = []
    for i in range(2):
        path = tmp_path / f"r{i}.json"
        assert course("grade", "hw1_vae", folder, "--results", path).returncode == 0
        data = read_results(path)
        data.pop("execution_time")
        runs.append(data)
    assert runs[0] == runs[1]
    assert 0 < runs[0]["score"] < 38


def test_failure_of_the_grader_still_writes_valid_results(tmp_path):
    path = tmp_path / "r.json"
    run = course("grade", "no_such_assignment", ROOT / "solutions" / "hw1_vae", "--results", path)
    assert run.returncode == 2
    assert "no assignment 'no_such_assignment'" in run.stderr
    data = read_results(path)
    assert data["score"] == 0 and "could not grade" in data["output"]


def test_local_check_needs_no_reference(tmp_path):
    """A student's folder: the stubs and the frozen public data, no solutions/, no course.yml."""
    student = tmp_path / "student"
    shutil.copytree(ROOT / "assignments" / "hw1_vae", student)
    env = {**os.environ, "DGM_COURSE_ROOT": str(tmp_path / "nothing-here")}
    run = course("check", "hw1_vae", cwd=student, env=env)
    assert run.returncode == 1
    assert "FAIL  reparameterize: gradient path" in run.stdout
    assert "not implemented yet" in run.stdout and "Score: 0 / 25.5 points" in run.stdout
    for name in ("vae.py", "answers.py"):
        shutil.copyfile(ROOT / "solutions" / "hw1_vae" / name, student / name)
    run = course("check", "hw1_vae", cwd=student, env=env)
    assert run.returncode == 0, run.stdout
    # the form of the answers judged by hidden keys passes, its points held back as grading decides them
    assert "Score: 23 / 25.5 points (2.5 held back until your answers are checked after the due date)" in run.stdout
    assert "Hidden checks run only when your submission is graded." in run.stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_public_data_holds_no_answer_and_no_hidden_check(assignment):
    frozen = (ROOT / "assignments" / assignment / engine.PUBLIC_CHECKS_FILE).read_text()
    settings = config.load(ROOT / "course.yml").assignment(assignment).settings()
    data = json.loads(frozen)
    names = [c["spec"]["name"] for c in data["checks"]]
    assert names == [n for n, s in settings.items() if s.visibility == "public"]
    assert all(c["spec"]["kind"] not in ("symbolic_equals", "multiple_choice", "choice_table") for c in data["checks"])
    for reference in (ROOT / "solutions" / assignment).glob("*.py"):
        for line in reference.read_text().splitlines():
            if line.strip().startswith("return") and len(line.strip()) > 12:
                assert line.strip() not in frozen, line


def test_python_dash_m_and_console_script_agree():
    script = shutil.which("course", path=os.path.dirname(sys.executable))
    assert script, "the console script `course` is installed next to the interpreter"
    a = subprocess.run([script, "--help"], capture_output=True, text=True)
    b = course("--help")
    assert a.returncode == b.returncode == 0 and a.stdout.replace("course", "") == b.stdout.replace("course", "")


def test_course_check_never_runs_the_checked_folders_properties(tmp_path):
    """In a course, `course check` takes the properties (code) from the course, not from the folder
    it checks, which may be a student's: their properties.py neither runs nor passes anything."""
    folder = tmp_path / "student"
    shutil.copytree(ROOT / "assignments" / "hw1_vae", folder)
    marker = tmp_path / "ran"
    (folder / "properties.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nPROPERTIES = {{}}\n")
    run = course("--root", ROOT, "check", "hw1_vae", folder)
    assert run.returncode == 1 and "not implemented yet" in run.stdout, run.stderr
    assert not marker.exists()
