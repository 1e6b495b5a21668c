"""Points for what is right, nothing for what is trivial: a submission whose every graded function
returns zeros of the right shape, its first argument, or noise of the right shape scores 0 on every
assignment, although such functions pass shape, device, format and some property checks; and such
checks say why they were not counted. A tensor subclass that claims to equal anything gains nothing
either: the worker sends plain bytes. (Searching the call stack finds only the inputs: expected
values never reach the worker.)"""
from __future__ import annotations

import pytest

from autograder import engine, results
from conftest import ASSIGNMENTS, ROOT, make_submission

# Answers whose key is the trivial answer itself: they earn their points, and nothing else does.
KEY_IS_TRIVIAL = {("hw3_gans", "_zeros"): {"gda_stationary_point"}}   # V(d, g) = dg: (0, 0)

# Appended to each reference file: every graded function is replaced by one that calls the
# reference only to learn the shape, dtype and device (or the form) of the right answer.
TRIVIAL = '''

import random as _random
import sympy as _sympy
import torch as _torch


def _zeros(value, args):
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, _torch.Tensor) for v in value):
        return type(value)(_torch.zeros_like(v) for v in value)   # a flow layer's (output, log-det), masks
    if isinstance(value, _torch.Tensor):
        return _torch.zeros_like(value)
    if isinstance(value, _sympy.MatrixBase):
        return _sympy.zeros(*value.shape)
    if isinstance(value, (list, tuple)):
        return [0] * len(value)
    return 0


def _noise(value, args):
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, _torch.Tensor) for v in value):
        return type(value)(_torch.randn_like(v) for v in value)
    if isinstance(value, _torch.Tensor):
        return _torch.randn_like(value)
    if isinstance(value, _sympy.MatrixBase):
        return _sympy.Matrix(*value.shape, lambda i, j: _sympy.Float(_random.random()))
    if isinstance(value, (list, tuple)):
        return [_sympy.Float(_random.random()) for _ in value]
    return _sympy.Float(_random.random())


def _first(value, args):
    return args[0] if args else None


class _Liar(_torch.Tensor):
    """Claims to equal anything (the grader compares the bytes the worker sends, not this)."""

    def __eq__(self, other):
        return True

    __hash__ = _torch.Tensor.__hash__

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func.__name__ in ("allclose", "equal", "isclose"):
            return True
        return super().__torch_function__(func, types, args, kwargs or dict())


def _liar(value, args):
    return _zeros(value, args).as_subclass(_Liar) if isinstance(value, _torch.Tensor) else _zeros(value, args)


def _trivial(name, reference):
    def function(*args, **kwargs):
        return {kind}(reference(*args, **kwargs), args)
    function.__name__ = name
    return function


for _name in {functions}:
    globals()[_name] = _trivial(_name, globals()[_name])
'''


def trivial_submission(folder, assignment, kind):
    folder.mkdir(parents=True)
    suite = engine.load_suite(ROOT / "solutions" / assignment)
    for name in suite.files:
        module = name.removesuffix(".py")
        functions = sorted({c.function for c in suite.checks if c.module == module})
        source = (ROOT / "solutions" / assignment / name).read_text()
        (folder / name).write_text(source + TRIVIAL.format(kind=kind, functions=functions))
    return folder


CASES = [(a, k) for a in ASSIGNMENTS for k in ("_zeros", "_first", "_noise")] + [("hw1_vae", "_liar")]


@pytest.mark.parametrize("assignment,kind", CASES)
def test_trivial_functions_score_nothing(tmp_path, assignment, kind):
    report = engine.grade(ROOT, assignment, trivial_submission(tmp_path / "s", assignment, kind), device="cpu")
    exempt = KEY_IS_TRIVIAL.get((assignment, kind), set())
    earned = {r.name: r.message for r in report.results if r.score > 0 and r.name.split(":")[0] not in exempt}
    assert not earned, earned
    gated = [r for r in report.results if r.message.startswith("passes, but counted only once the values are right")]
    if kind != "_first":
        assert gated, "no check of a trivial function passed: this test would not see a gate that let it through"


def test_a_public_check_decided_by_a_hidden_key_never_reveals_it_early(tmp_path):
    """A well-formed answer counts only if the hidden key says it is right; so that its score does
    not tell the key before the due date, Gradescope shows it after the due date too. A malformed
    answer's failure reveals nothing and stays visible; the local check, which cannot know, holds its
    points back and says so, so that its total is never above grading's."""
    function = "mc_marginal_likelihood"
    answers = {"right": None, "wrong": '"c"', "malformed": '"e"'}
    seen = {}
    for label, answer in answers.items():
        replaced = {function: f"def {function}():\n    return {answer}\n"} if answer else {}
        folder = make_submission(tmp_path / label, answers=replaced)
        report = engine.grade(ROOT, "hw1_vae", folder, device="cpu", only={function})
        seen[label] = next(r for r in report.results if r.name == f"{function}: well-formed")
    assert (seen["right"].score, seen["right"].visibility) == (0.5, "hidden")
    assert (seen["wrong"].score, seen["wrong"].visibility) == (0, "hidden")
    assert "counted only once the values are right (checked by 'answer key')" in seen["wrong"].message
    assert (seen["malformed"].score, seen["malformed"].visibility) == (0, "public")
    course = ROOT / "assignments" / "hw1_vae"
    local = engine.check_public(course / "public_checks.json", tmp_path / "wrong", course / "properties.py",
                                only={function})
    assert (local.results[0].score, local.results[0].held, local.score) == (0, True, 0)
    assert f"PASS  {function}: well-formed  0/0.5  ({results.HELD})" in results.text(local)
