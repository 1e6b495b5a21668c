"""solutions/ is the single source: committed stubs and public-check data must not drift."""
from __future__ import annotations

import pytest

from autograder import stubs
from conftest import ROOT


def test_committed_stubs_match_the_solutions():
    stale = stubs.drift(ROOT, "hw1_vae")
    assert not stale, f"run `course stubs hw1_vae`: {stale} are out of date"


def test_stub_keeps_signatures_and_replaces_regions():
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    ### BEGIN SOLUTION add one\n"
        "    return x + 1\n"
        "    ### END SOLUTION\n"
        "\n"
        "def g():\n"
        "    ### BEGIN SOLUTION\n"
        "    return 2\n"
        "    ### END SOLUTION\n")
    assert stubs.make_stub(source) == (
        "def f(x):\n"
        '    """Doc."""\n'
        "    # FIXME: add one\n"
        "    raise NotImplementedError\n"
        "\n"
        "def g():\n"
        "    # FIXME: your code here\n"
        "    raise NotImplementedError\n")


@pytest.mark.parametrize("source,problem", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "END SOLUTION without BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another region"),
])
def test_unbalanced_markers_are_reported_with_their_line(source, problem):
    with pytest.raises(stubs.StubError, match=problem):
        stubs.make_stub(source, "vae.py")


def test_stubs_hold_no_solution_code():
    for name in ("vae.py", "answers.py"):
        stub = (ROOT / "assignments" / "hw1_vae" / name).read_text()
        assert "BEGIN SOLUTION" not in stub and "logsumexp" not in stub and "Rational" not in stub
        assert stub.count("raise NotImplementedError") == stub.count("# FIXME")
