"""`course grade-all`: a class of submissions, some of them broken or hostile, becomes a gradebook
CSV and a results.json per submission; no submission stops or corrupts the batch."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, make_submission, read_results

ASSIGNMENT = "hw3_gans"


def with_gans(folder: Path, body: str) -> Path:
    """The reference, with generator_loss's body replaced."""
    return make_submission(folder, ASSIGNMENT, gans={"generator_loss": f"def generator_loss(fake_logits):\n{body}"})


@pytest.fixture
def course(course_copy):
    """The course with a 3-second limit per call, so that the hanging submission is quick to grade."""
    path = course_copy / "course.yml"
    data = yaml.safe_load(path.read_text())
    next(a for a in data["assignments"] if a["id"] == ASSIGNMENT)["timeout"] = 3
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return course_copy


def grade_all(course: Path, submissions: Path, out: Path, *options) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "--root", str(course), "grade-all", ASSIGNMENT,
                           str(submissions), "--csv", str(out / "grades.csv"), *options],
                          capture_output=True, text=True, timeout=900)


def read_csv(path: Path) -> dict[str, dict]:
    with path.open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def test_a_class_with_crashes_hangs_and_cheats(course, tmp_path):
    class_dir = tmp_path / "class"
    make_submission(class_dir / "alice", ASSIGNMENT)
    shutil.copytree(ROOT / "assignments" / ASSIGNMENT, class_dir / "bob")
    with_gans(class_dir / "carol", "    return -F.softplus(fake_logits).mean()\n")        # saturating loss
    with_gans(class_dir / "dave", "    while True:\n        pass\n")                         # hangs
    with_gans(class_dir / "eve", "    import ctypes\n    return ctypes.string_at(0)\n")   # segfaults
    shutil.copytree(ROOT / "assignments" / ASSIGNMENT, class_dir / "frank")                  # a link to the key
    (class_dir / "frank" / "gans.py").unlink()
    (class_dir / "frank" / "gans.py").symlink_to(course / "solutions" / ASSIGNMENT / "gans.py")

    run = grade_all(course, class_dir, tmp_path, "--jobs", "2")

    assert run.returncode == 0, run.stderr
    assert "grading hw3_gans" in run.stderr   # the progress bar
    rows = read_csv(tmp_path / "grades.csv")
    assert list(rows) == ["alice", "bob", "carol", "dave", "eve", "frank"]
    maximum = float(rows["alice"]["max"])
    score = {name: float(row["score"]) for name, row in rows.items()}
    assert score["alice"] == maximum and score["bob"] == 0 and score["frank"] == 0
    for name in ("carol", "dave", "eve"):   # only generator_loss's checks are lost
        assert float(rows[name]["generator_loss: values and gradients"]) == 0
        assert float(rows[name]["discriminator_loss: values and gradients"]) > 0
        assert 0 < score[name] < maximum
    for name in rows:
        results = read_results(tmp_path / "results" / name / "results.json")
        assert results["score"] == score[name]
    outputs = {t["name"]: t["output"] for t in json.loads((tmp_path / "results" / "dave" / "results.json")
                                                            .read_text())["tests"]}
    assert "did not finish within 3 s" in outputs["generator_loss: values and gradients"]
    # a judge that graded others before gives carol what a grading of her own gives her
    single = subprocess.run([sys.executable, "-m", "autograder", "--root", str(course), "grade", ASSIGNMENT,
                             str(class_dir / "carol"), "--results", str(tmp_path / "carol.json")],
                            capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr
    verdicts = [{k: t[k] for k in ("name", "score", "output")} for t in read_results(tmp_path / "carol.json")["tests"]]
    assert verdicts == [{k: t[k] for k in ("name", "score", "output")}
                        for t in read_results(tmp_path / "results" / "carol" / "results.json")["tests"]]


def test_gradescope_export_layout_with_a_group(course, tmp_path):
    export = tmp_path / "assignment_1234_export"
    make_submission(export / "submission_111", ASSIGNMENT)
    shutil.copytree(ROOT / "assignments" / ASSIGNMENT, export / "submission_222")
    (export / "submission_metadata.yml").write_text(yaml.safe_dump({
        "submission_111": {":submitters": [{":name": "Ann", ":email": "ann@uni.edu", ":sid": "1"},
                                           {":name": "Ben", ":email": "ben@uni.edu", ":sid": "2"}]},
        "submission_222": {":submitters": [{":name": "Cy", ":email": "cy@uni.edu", ":sid": "3"}]}}))

    run = grade_all(course, export, tmp_path / "out")

    assert run.returncode == 0, run.stderr
    rows = read_csv(tmp_path / "out" / "grades.csv")
    assert list(rows) == ["ann@uni.edu", "ben@uni.edu", "cy@uni.edu"]
    assert rows["ann@uni.edu"]["score"] == rows["ben@uni.edu"]["score"] == rows["ann@uni.edu"]["max"]
    assert float(rows["cy@uni.edu"]["score"]) == 0
    assert (tmp_path / "out" / "results" / "submission_222" / "results.json").is_file()


def test_a_submission_the_grader_cannot_grade_is_reported_not_scored(course, tmp_path):
    class_dir = tmp_path / "class"
    make_submission(class_dir / "alice", ASSIGNMENT)
    shutil.rmtree(course / "solutions" / ASSIGNMENT)   # the grader itself breaks

    run = grade_all(course, class_dir, tmp_path)

    assert run.returncode == 1
    assert "not graded: alice" in run.stderr
    assert read_csv(tmp_path / "grades.csv")["alice"]["score"] == ""
    results = read_results(tmp_path / "results" / "alice" / "results.json")
    assert "could not grade" in results["output"]


def test_a_regrade_after_a_points_change_rescores_the_recorded_verdicts(course, tmp_path):
    class_dir = tmp_path / "class"
    make_submission(class_dir / "alice", ASSIGNMENT)
    with_gans(class_dir / "carol", "    return -F.softplus(fake_logits).mean()\n")   # saturating loss
    first = grade_all(course, class_dir, tmp_path, "--jobs", "2")
    assert first.returncode == 0 and "re-scored" not in first.stdout
    check = "generator_loss: values and gradients"
    before = read_csv(tmp_path / "grades.csv")

    path = course / "course.yml"
    data = yaml.safe_load(path.read_text())
    setting = next(a for a in data["assignments"] if a["id"] == ASSIGNMENT)["checks"]["discriminator_loss"]
    old = setting["values and gradients"]["points"]
    setting["values and gradients"]["points"] = old * 2
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    again = grade_all(course, class_dir, tmp_path)

    assert again.returncode == 0 and "2 of them re-scored from an earlier grading" in again.stdout
    after = read_csv(tmp_path / "grades.csv")
    for name in ("alice", "carol"):
        assert float(after[name]["score"]) == float(before[name]["score"]) + old
        assert float(after[name]["max"]) == float(before[name]["max"]) + old
        assert read_results(tmp_path / "results" / name / "results.json")["score"] == float(after[name]["score"])
    assert float(after["carol"][check]) == 0

    with_gans(class_dir / "carol", "    return F.softplus(-fake_logits).mean()\n")   # carol fixes it
    fixed = grade_all(course, class_dir, tmp_path)
    assert "1 of them re-scored" in fixed.stdout
    assert read_csv(tmp_path / "grades.csv")["carol"]["score"] == after["alice"]["score"]
    assert "re-scored" not in grade_all(course, class_dir, tmp_path, "--fresh").stdout
