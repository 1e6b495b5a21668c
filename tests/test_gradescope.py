"""`course gradescope`: the autograder zip, run the way Gradescope runs it. The zip is unpacked into
an /autograder layout (relocated by $DGM_AUTOGRADER_ROOT, and once at /autograder itself),
setup.sh protects the references, and run_autograder grades /autograder/submission as root."""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from autograder import cli, config, engine, sandbox
from conftest import ASSIGNMENTS, ROOT, make_submission, read_results

ASSIGNMENT = "hw3_gans"
MAX = config.load(ROOT / "course.yml").assignment(ASSIGNMENT).max_points
AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope runs its scripts as root")


def environment(autograder: Path, python: str = sys.executable) -> dict:
    return {"PATH": os.environ["PATH"], "DGM_AUTOGRADER_ROOT": str(autograder), "DGM_PYTHON": python}


def unpack(zip_path: Path, autograder: Path) -> None:
    """Lay the zip out as Gradescope does: its contents in AUTOGRADER/source, the two scripts also
    copied to AUTOGRADER itself, and empty submission/ and results/ folders."""
    shutil.unpack_archive(str(zip_path), str(autograder / "source"), "zip")
    for name in ("setup.sh", "run_autograder"):
        shutil.copyfile(autograder / "source" / name, autograder / name)
        (autograder / name).chmod(0o755)
    for folder in ("submission", "results"):
        (autograder / folder).mkdir(exist_ok=True)


def install(zip_path: Path, autograder: Path) -> Path:
    """Unpack as Gradescope does and run setup.sh (the packages are this interpreter's already)."""
    unpack(zip_path, autograder)
    subprocess.run([str(autograder / "setup.sh")], env=environment(autograder), check=True, timeout=120)
    return autograder


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("zip") / "autograder.zip"
    assert cli.main(["--root", str(ROOT), "gradescope", ASSIGNMENT, str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def autograder(autograder_zip):
    """/autograder, relocated: a folder that others may enter, as /autograder is."""
    folder = Path(tempfile.mkdtemp(prefix="autograder-", dir="/tmp"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        install(autograder_zip, folder)
    else:
        unpack(autograder_zip, folder)
    yield folder
    shutil.rmtree(folder)


def run_autograder(autograder: Path, submission: Path, python: str = sys.executable) -> dict:
    target = autograder / "submission"
    shutil.rmtree(target)
    shutil.copytree(submission, target)
    subprocess.run([str(autograder / "run_autograder")], env=environment(autograder, python),
                   capture_output=True, timeout=600)
    return read_results(autograder / "results" / "results.json")


def test_the_zip_holds_the_scripts_and_this_assignments_references_only(autograder_zip, tmp_path):
    shutil.unpack_archive(autograder_zip, tmp_path, "zip")
    names = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert {"setup.sh", "run_autograder", "course/course.yml", "course/pyproject.toml",
            "course/constraints.txt", f"course/solutions/{ASSIGNMENT}/checks.py"} <= names
    assert not [n for n in names if n.startswith("course/solutions/") and ASSIGNMENT not in n]
    assert not [n for n in names if "__pycache__" in n]


def test_the_reference_gets_full_marks(autograder):
    results = run_autograder(autograder, ROOT / "solutions" / ASSIGNMENT)
    assert results["score"] == MAX
    assert {t["visibility"] for t in results["tests"]} == {"visible", "after_due_date"}


def test_the_stub_gets_zero_with_a_message_per_check(autograder):
    results = run_autograder(autograder, ROOT / "assignments" / ASSIGNMENT)
    assert results["score"] == 0
    assert all(t["output"] for t in results["tests"])
    assert any("not implemented yet" in t["output"] for t in results["tests"])


def test_a_mutant_uploaded_in_a_folder_gets_partial_credit(autograder, tmp_path):
    upload = tmp_path / "upload"
    make_submission(upload / "my homework", ASSIGNMENT,
                    gans={"generator_loss": "def generator_loss(fake_logits):\n"
                                            "    return -F.softplus(fake_logits).mean()\n"})
    (upload / "notes.txt").write_text("extra files are ignored")
    results = run_autograder(autograder, upload)
    failed = [t["name"] for t in results["tests"] if t["status"] == "failed"]
    assert 0 < results["score"] < MAX
    assert "generator_loss: values and gradients" in failed
    output = next(t["output"] for t in results["tests"] if t["name"] == "generator_loss: values and gradients")
    assert "likely cause: your values are those of a known mistake: the saturating loss" in output


def test_a_grader_that_dies_still_leaves_a_valid_results_file(autograder, tmp_path):
    dying = tmp_path / "python"
    dying.write_text("#!/bin/sh\nprintf '{\"score\": ' > \"$DGM_AUTOGRADER_ROOT/results/results.json\"\nkill -9 $$\n")
    dying.chmod(0o755)
    results = run_autograder(autograder, ROOT / "solutions" / ASSIGNMENT, python=str(dying))
    assert results["score"] == 0
    assert "could not grade" in results["output"]


@AS_ROOT
def test_the_references_are_unreadable_to_the_student_user(autograder):
    drop = functools.partial(sandbox._confine, sandbox.Limits(), sandbox.worker_uid())
    kept = sorted((autograder / "source" / "course" / "solutions" / ".prepared").glob(f"{ASSIGNMENT}-*.json"))
    assert len(kept) == 1 or not sandbox.Sandbox().bubblewrap   # setup.sh prepared every check once
    for path in (autograder / "source" / "course" / "solutions" / ASSIGNMENT / "gans.py",
                 autograder / "source" / "course" / "course.yml", *kept):
        assert path.is_file()
        read = subprocess.run(["cat", str(path)], preexec_fn=drop, capture_output=True)
        assert read.returncode != 0 and b"Permission denied" in read.stderr


@AS_ROOT
@pytest.mark.skipif(Path("/autograder").exists(), reason="/autograder is in use on this machine")
def test_run_for_real_at_slash_autograder(autograder_zip):
    real = Path("/autograder")
    try:
        real.mkdir(mode=0o755)
        unpack(autograder_zip, real)
        env = {"PATH": os.environ["PATH"], "DGM_PYTHON": sys.executable}   # no relocation
        subprocess.run(["/autograder/setup.sh"], env=env, check=True, timeout=120)
        shutil.rmtree(real / "submission")
        shutil.copytree(ROOT / "solutions" / ASSIGNMENT, real / "submission")
        subprocess.run(["/autograder/run_autograder"], env=env, capture_output=True, timeout=600)
        assert read_results(real / "results" / "results.json")["score"] == MAX
    finally:
        shutil.rmtree(real, ignore_errors=True)


def test_grading_needs_only_the_packages_setup_sh_installs():
    """setup.sh installs the package's own dependencies, not the notebook or nbgrader extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = {re.match(r"[A-Za-z0-9_-]+", r)[0].replace("-", "_").lower()
              for group in project["optional-dependencies"].values() for r in group if "dgm-course" not in r}
    modules = {"pyyaml": "yaml", "ipykernel": "ipykernel", "jsonschema": "jsonschema"}
    block = "; ".join(f"sys.modules[{modules.get(name, name)!r}] = None" for name in sorted(extras))
    run = subprocess.run([sys.executable, "-c", f"import sys; {block}; from autograder import cli; "
                          f"sys.exit(cli.main(['--root', {str(ROOT)!r}, 'stubs', {ASSIGNMENT!r}, '--check']))"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr


def test_setup_installs_the_cpu_build_of_torch_unless_asked_otherwise(autograder_zip, tmp_path):
    """PyPI's CUDA build loads CUDA's libraries even without a GPU: a grading then needs about
    1.2 GB, past Gradescope's default container (benchmarks/memory.py)."""
    def setup(path: Path) -> str:
        with zipfile.ZipFile(path) as archive:
            return archive.read("setup.sh").decode()

    assert "--torch-backend cpu" in setup(autograder_zip)
    auto = tmp_path / "auto.zip"
    assert cli.main(["--root", str(ROOT), "gradescope", ASSIGNMENT, str(auto), "--torch", "auto"]) == 0
    assert "--torch-backend auto" in setup(auto)


def passes_modules(assignment: str) -> bool:
    """Whether a check of the assignment passes networks, layers or densities (module recipes)."""
    suite = engine.load_suite(ROOT / "solutions" / assignment)
    return any('{"module": ' in json.dumps(check.params) for check in suite.checks)


@AS_ROOT
@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS if passes_modules(a)])
def test_networks_through_the_zip_reference_full_stub_zero(tmp_path, assignment):
    """Networks, layers, densities (hw4) and noise predictors (hw5) cross the wire on Gradescope's
    layout too."""
    zip_path = tmp_path / f"{assignment}.zip"
    assert cli.main(["--root", str(ROOT), "gradescope", assignment, str(zip_path)]) == 0
    folder = Path(tempfile.mkdtemp(prefix="autograder-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        install(zip_path, folder)
        full = run_autograder(folder, ROOT / "solutions" / assignment)
        assert full["score"] == config.load(ROOT / "course.yml").assignment(assignment).max_points, \
            {t["name"]: t.get("output") for t in full["tests"] if t["status"] != "passed"}
        assert run_autograder(folder, ROOT / "assignments" / assignment)["score"] == 0
    finally:
        shutil.rmtree(folder)
