"""solutions/ is the single source: committed stubs and public-check data must not drift."""
from __future__ import annotations

import re

import pytest

from autograder import stubs
from conftest import ROOT


ASSIGNMENTS = ["hw1_vae", "hw2_contrastive", "hw3_gans"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_stubs_match_the_solutions(assignment):
    stale = stubs.drift(ROOT, assignment)
    assert not stale, f"run `course stubs {assignment}`: {stale} are out of date"


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


@pytest.mark.parametrize("assignment,names", [("hw1_vae", ("vae.py", "answers.py")),
                                              ("hw2_contrastive", ("losses.py", "answers.py")),
                                              ("hw3_gans", ("gans.py", "answers.py"))])
def test_stubs_hold_no_solution_code(assignment, names):
    for name in names:
        stub = (ROOT / "assignments" / assignment / name).read_text()
        solution = (ROOT / "solutions" / assignment / name).read_text()
        regions = re.findall(r"### BEGIN SOLUTION.*?\n(.*?)### END SOLUTION", solution, re.S)
        assert regions and "SOLUTION" not in stub
        stub_lines = {line.strip() for line in stub.splitlines()}
        for line in "".join(regions).splitlines():
            assert not line.strip() or line.strip() not in stub_lines, line
        assert stub.count("raise NotImplementedError") == stub.count("# FIXME") == len(regions)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_assignment_readme_lists_every_check_with_its_points(assignment):
    from autograder import config

    readme = (ROOT / "assignments" / assignment / "README.md").read_text().replace("\\|", "|")
    for name, setting in config.load(ROOT / "course.yml").assignment(assignment).settings().items():
        row = re.search(r"^\|\s*`?" + re.escape(name) + r"`?\s*\|\s*([\d.]+)\s*\|\s*(\w+)", readme, re.MULTILINE)
        assert row and (float(row[1]), row[2]) == (setting.points, setting.visibility), name
