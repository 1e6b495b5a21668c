"""Prepared checks kept on disk (autograder/prepared.py), property checks replayed from the examples
stored with them, and the worker's start without torch._dynamo: what makes one grading in a fresh
process cheap, without changing any verdict."""
from __future__ import annotations

import contextlib
import json
import math
import re
import shutil
import subprocess
import sys

import pytest
from hypothesis import strategies as st

from autograder import cli, engine, prepared, runner
from autograder.checks.properties import Property, _restored, _stored, expect
from autograder.runner import Result, StudentError
from autograder.sandbox import Sandbox
from conftest import HW1, ROOT, make_submission

BUBBLEWRAP = pytest.mark.skipif(not Sandbox().bubblewrap, reason="prepared checks are kept only under bubblewrap")
WRONG_IWAE = {"iwae_bound": "def iwae_bound(log_w):\n    return torch.logsumexp(log_w, dim=0)\n"}   # no 1/K


@pytest.fixture
def course(course_copy):
    """A copy of the course without the checks kept by earlier gradings of the checkout."""
    shutil.rmtree(course_copy / "solutions" / prepared.FOLDER, ignore_errors=True)
    return course_copy


def kept_file(root):
    return root / "solutions" / prepared.FOLDER / f"{HW1}-cpu.json"


def fresh_judges(monkeypatch):
    """Forget this process's judges, as a new process (a Gradescope grading) starts without them."""
    monkeypatch.setattr(engine, "_judges", {})


def outcome(report):
    return [(r.name, r.score, r.message) for r in report.results]


@BUBBLEWRAP
def test_a_fresh_process_grades_from_the_kept_checks_without_the_references(course, tmp_path, monkeypatch):
    fresh_judges(monkeypatch)
    mutant = make_submission(tmp_path / "mutant", vae=WRONG_IWAE)
    prepared_now = [outcome(engine.grade(course, HW1, folder, device="cpu"))
                    for folder in (ROOT / "solutions" / HW1, mutant)]
    kept = kept_file(course)
    data = json.loads(kept.read_text())
    assert kept.stat().st_mode & 0o077 == 0   # root's alone, as the references
    assert set(data["checks"]) == {c.name for c in engine.load_suite(course / "solutions" / HW1).checks}

    fresh_judges(monkeypatch)
    from_disk = [outcome(engine.grade(course, HW1, folder, device="cpu"))
                 for folder in (ROOT / "solutions" / HW1, mutant)]
    assert "reference" not in engine.judge_for(course, HW1, "cpu").__dict__   # never loaded
    assert from_disk == prepared_now
    assert sum(score for _, score, _ in from_disk[0]) == 38 > sum(score for _, score, _ in from_disk[1])


@BUBBLEWRAP
@pytest.mark.parametrize("change", ["points in course.yml", "a damaged file"])
def test_kept_checks_of_another_key_or_damaged_are_prepared_again(course, monkeypatch, change):
    fresh_judges(monkeypatch)
    assert cli.main(["--root", str(course), "prepare", HW1, "--device", "cpu"]) == 0
    kept = kept_file(course)
    if change == "a damaged file":
        kept.write_text(kept.read_text()[:1000])
    else:
        yml = course / "course.yml"
        yml.write_text(yml.read_text().replace('"device probe": {points: 1,', '"device probe": {points: 2,', 1))
    before = kept.read_text()
    fresh_judges(monkeypatch)
    report = engine.grade(course, HW1, ROOT / "solutions" / HW1, device="cpu")
    assert report.score == report.max_score
    assert "reference" in engine.judge_for(course, HW1, "cpu").__dict__   # prepared again
    assert kept.read_text() != before and json.loads(kept.read_text())["key"]   # and kept anew


def test_without_bubblewrap_nothing_is_kept(course, monkeypatch, capsys):
    monkeypatch.setenv("DGM_BUBBLEWRAP", "0")
    fresh_judges(monkeypatch)
    assert cli.main(["--root", str(course), "prepare", HW1, "--device", "cpu"]) == 0
    assert "nothing kept" in capsys.readouterr().out
    assert not (course / "solutions" / prepared.FOLDER).exists()


# ---------------------------------------------------------------- replaying stored examples

class Runner:
    """A student in this process: `answer(x)` for every call; counts the calls."""

    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def call(self, module, function, args=(), kwargs=None, **options):
        self.calls += 1
        return Result(self.answer(*args), None)

    def untimed(self):
        return contextlib.nullcontext()


def integer_property(call, data):
    x = data.draw(st.integers(0, 10**9))
    expect(call(x) == 2 * x, f"f({x}) must be {2 * x}, got {call(x)}")


def check_of(prop):
    check = Property("f: doubles", "m", "f", property="doubles", returns="value")
    check.function_of_property = prop
    return check


def test_a_replayed_failure_is_shrunk_as_hypothesis_shrinks_it():
    check = check_of(integer_property)
    examples = check.prepare(Runner(lambda x: 2 * x), "cpu")
    assert len(examples["examples"]) >= 20
    wrong = lambda x: 2 * x + (x > 1000)   # noqa: E731 - wrong above 1000 only
    searched = check.run(Runner(wrong), None, "cpu")
    replayed = check.run(Runner(wrong), examples, "cpu")
    assert not replayed.passed and replayed.message == searched.message
    assert re.fullmatch(r"f\((\d+)\) must be \d+, got \d+", replayed.message)


def test_a_stored_example_that_hypothesis_does_not_meet_again_still_fails():
    check = check_of(integer_property)
    wrong = lambda x: 2 * x + (x == 123456789)   # noqa: E731
    assert check.run(Runner(wrong), None, "cpu").passed   # hypothesis's own examples miss it
    draw = {"strategy": repr(st.integers(0, 10**9))}
    stored = {"examples": [[{**draw, "value": {"t": "py", "v": v}}] for v in (5, 123456789)]}
    verdict = check.run(Runner(wrong), stored, "cpu")
    assert not verdict.passed and "f(123456789) must be 246913578" in verdict.message


def test_a_correct_answer_passes_on_the_stored_examples_alone():
    check = check_of(integer_property)
    examples = check.prepare(Runner(lambda x: 2 * x), "cpu")
    student = Runner(lambda x: x + x)
    assert check.run(student, examples, "cpu").passed
    assert student.calls == 2 * len(examples["examples"])   # no search after the replay


def test_a_crash_on_a_stored_example_is_the_verdict_at_once():
    def crash(x):
        raise StudentError("f() raised ZeroDivisionError: division by zero")

    check = check_of(integer_property)
    student = Runner(crash)
    verdict = check.run(student, check.prepare(Runner(lambda x: 2 * x), "cpu"), "cpu")
    assert not verdict.passed and "ZeroDivisionError" in verdict.message and student.calls == 1


def test_draws_without_a_stored_form_or_beyond_the_stored_example_leave_it_to_hypothesis():
    def set_property(call, data):
        values = data.draw(st.frozensets(st.integers(0, 9)))
        expect(call(len(values)) == 2 * len(values), "f must double")

    check = check_of(set_property)
    assert check.prepare(Runner(lambda x: 2 * x), "cpu") is None   # a frozenset has no stored form
    short = {"examples": [[]]}   # the property draws once; the stored example holds nothing
    assert check_of(integer_property).run(Runner(lambda x: 2 * x), short, "cpu").passed
    assert not check_of(integer_property).run(Runner(lambda x: 2 * x + 1), short, "cpu").passed


def test_stored_examples_are_not_frozen_into_the_public_data():
    data = engine.freeze_public(ROOT, HW1)
    frozen = [e["prepared"] for e in data["checks"] if e["spec"]["kind"] == "property"]
    assert len(frozen) == 5 and frozen == [None] * 5   # the students' check draws its own


def test_a_draw_of_another_strategy_or_a_missing_one_leaves_it_to_hypothesis():
    check = check_of(integer_property)
    stored = check.prepare(Runner(lambda x: 2 * x), "cpu")
    other = {"examples": [[{**stored["examples"][0][0], "strategy": "integers(min_value=0, max_value=9)"}]]}
    longer = {"examples": [stored["examples"][0] * 2]}
    for examples in (other, longer):
        assert check.run(Runner(lambda x: 2 * x), examples, "cpu").passed
        assert not check.run(Runner(lambda x: 2 * x + 1), examples, "cpu").passed


def test_a_reference_that_fails_its_property_is_the_graders_error():
    with pytest.raises(RuntimeError, match="the reference fails the property"):
        check_of(integer_property).prepare(Runner(lambda x: x), "cpu")

    def crash(x):
        raise StudentError("f() raised ValueError")

    with pytest.raises(RuntimeError, match="ValueError"):   # not _Abort, which no `except Exception` stops
        check_of(integer_property).prepare(Runner(crash), "cpu")


def test_stored_draws_come_back_as_they_were_drawn():
    import numpy as np

    values = [-0.0, float("nan"), float("inf"), 3, True, "A", None, (1, [2.5, -0.0]),
              np.array([[1.5, -0.0], [np.nan, 2.0]], dtype=np.float32), np.arange(3, dtype=np.int64)]
    back = [_restored(json.loads(json.dumps(_stored(st.none(), v)))["value"]) for v in values]
    for value, restored in zip(values, back):
        assert type(restored) is type(value) and repr(restored) == repr(value)
        if isinstance(value, np.ndarray):
            assert restored.dtype == value.dtype and np.array_equal(np.signbit(restored), np.signbit(value))
    assert math.copysign(1, back[0]) == -1


def test_a_template_that_cannot_start_workers_here_is_not_started(monkeypatch):
    monkeypatch.setattr(Sandbox, "uses_template", property(lambda self: True))
    monkeypatch.setattr(runner, "template_for", lambda hidden: None)   # broken: workers are exec'd
    runner.start_template([ROOT / "solutions"])


@pytest.mark.parametrize("skipped", [True, False])
def test_the_worker_starts_without_importing_torch_dynamo(skipped):
    probe = ("import sys, torch\n"
             "from autograder import worker\n"
             f"{'' if skipped else 'worker.skip_dynamo_import = lambda torch: None'}\n"
             "worker.warm_up('cpu')\n"
             "x = torch.ones(3, 2, device='meta')\n"
             "y = (x.exp() @ x.T).softmax(-1).log1p().sum(0)\n"
             "assert y.device.type == 'meta' and y.shape == (3,)\n"
             "print('torch._dynamo' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == [str(not skipped)]   # without the skip, the meta kernels import it

