"""Shared helpers: build submissions from the reference with one function swapped out, and read
a results.json the way Gradescope would."""
from __future__ import annotations

import ast
import json
import shutil
import textwrap
from pathlib import Path

import jsonschema
import pytest

from autograder import config, engine
from autograder.checks.diagnoses import PREFIX

CAUSE = PREFIX.strip()

ROOT = Path(__file__).resolve().parent.parent
HW1 = "hw1_vae"
# every assignment of the course: adding one to course.yml adds it to every test over all of them
ASSIGNMENTS = [a.id for a in config.load(ROOT / "course.yml").assignments]
# Gradescope's results.json, as its autograder specification describes it.
GRADESCOPE_SCHEMA = json.loads((ROOT / "tests" / "gradescope_schema.json").read_text())


def read_results(path: Path) -> dict:
    """A results.json that Gradescope accepts: under 1 MB and valid against its schema."""
    assert path.stat().st_size < 2**20
    data = json.loads(path.read_text())
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    return data


def with_functions(source: str, replacements: dict[str, str]) -> str:
    """`source` with the named top-level functions replaced by the given definitions."""
    lines = source.splitlines(keepends=True)
    spans = {node.name: (node.lineno - 1 - len(node.decorator_list), node.end_lineno)
             for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    for name in sorted(replacements, key=lambda n: -spans[n][0]):
        start, end = spans[name]
        lines[start:end] = [textwrap.dedent(replacements[name]).strip() + "\n"]
    return "".join(lines)


def make_submission(folder: Path, assignment: str = HW1, **files: dict[str, str]) -> Path:
    """A copy of the reference solution in which, for each file (vae=..., answers=...), the
    given functions are replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    solutions = ROOT / "solutions" / assignment
    for name in engine.load_suite(solutions).files:
        source = (solutions / name).read_text()
        (folder / name).write_text(with_functions(source, files.get(Path(name).stem, {})))
    return folder


def grade_functions(folder: Path, functions: set[str], assignment: str = HW1, root: Path = ROOT):
    """Grade only the checks of `functions`; returns {check name: CheckResult}."""
    report = engine.grade(root, assignment, folder, device="cpu", only=functions)
    return {r.name: r for r in report.results}


def causes(results: dict, function: str) -> list[str]:
    """The likely causes (checks/diagnoses.py) named in the messages of `function`'s failed checks."""
    return [line.split(CAUSE, 1)[1] for r in results.values() if r.name.startswith(f"{function}: ") and not r.passed
            for line in r.message.splitlines() if CAUSE in line]


def assert_cause(results: dict, function: str, fragment: str | tuple | None) -> None:
    """Every likely cause given for `function` names `fragment` (or one of a tuple of them: two
    cases may show one mistake two ways); with None, none is given: a mutant whose mistake the
    catalogue does not know must not get a wrong one."""
    found = causes(results, function)
    fragments = fragment if isinstance(fragment, tuple) else (fragment,)
    if fragment is None:
        assert not found, f"{function}: a likely cause where none was expected: {found}"
    else:
        assert found and all(any(f in c for f in fragments) for c in found), \
            f"{function}: {found} should each name one of {fragments!r}"


def assert_caught(results: dict, function: str, check: str, fragment: str, cause) -> None:
    """A mutant of `function`: its check `check` fails with `fragment` in the message, the function
    loses points, and the likely causes given are `cause`'s (assert_cause)."""
    name = f"{function}: {check}"
    assert name in results, f"no check named {name!r}"
    assert not results[name].passed, f"{name} passed a wrong implementation"
    assert fragment in results[name].message, results[name].message
    assert sum(r.score for r in results.values()) < sum(r.max_score for r in results.values())
    assert_cause(results, function, cause)


def assert_full_marks(results: dict) -> None:
    """A correct variant: its function has checks, and every one passes."""
    assert results and all(r.passed for r in results.values()), {n: r.message for n, r in results.items() if not r.passed}


def quality_cell(notebook):
    """A practical notebook's graded cell: its last code cell."""
    return [c for c in notebook.cells if c.cell_type == "code"][-1]


def assert_saved_clean(notebook, graded: dict):
    """A practical notebook as released: valid, on the python3 kernel, without outputs, its first
    code cell tagged `parameters` (the device defaulting to CUDA where there is one), and one
    graded cell, the last code cell, with the nbgrader metadata `graded`. Returns that cell."""
    import nbformat

    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert notebook.cells[1] is code[0] and "parameters" in code[0].metadata.get("tags", [])
    assert "DEVICE = \"cuda\" if torch.cuda.is_available() else \"cpu\"" in code[0].source
    assert code[-1].metadata.nbgrader == graded
    assert [c.metadata.get("nbgrader") for c in code].count(None) == len(code) - 1   # the only graded cell
    return code[-1]


@pytest.fixture
def course_copy(tmp_path):
    """A copy of the course folder (course.yml, solutions, assignments, the pins) that a test may edit."""
    target = tmp_path / "course"
    target.mkdir()
    for part in ("course.yml", "solutions", "assignments", "constraints.txt"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, target / part)
    return target


class VariantRounds:
    """Correct variants graded in rounds. `entries` are (file stem, function, definition); the k-th
    variant of a function goes into round k, so a round's submission holds at most one variant per
    function (the reference elsewhere) and N variants cost as many gradings as the function with
    the most variants has, not N. Each round is graded once, when first asked for."""

    def __init__(self, assignment: str, entries, make_folder):
        self.assignment, self.entries, self.make_folder = assignment, list(entries), make_folder
        counts: dict[str, int] = {}
        self.round_of = []
        for _, function, _ in self.entries:
            self.round_of.append(counts.get(function, 0))
            counts[function] = self.round_of[-1] + 1
        self._graded: dict[int, dict] = {}

    def results(self, index: int) -> dict:
        """{check name: CheckResult} of the checks of entry `index`'s function, from its round."""
        number, function = self.round_of[index], self.entries[index][1]
        if number not in self._graded:
            chosen = [e for e, k in zip(self.entries, self.round_of) if k == number]
            files: dict[str, dict[str, str]] = {}
            for stem, name, definition in chosen:
                files.setdefault(stem, {})[name] = definition
            folder = make_submission(self.make_folder(f"round{number}"), self.assignment, **files)
            self._graded[number] = grade_functions(folder, {name for _, name, _ in chosen}, self.assignment)
        return {name: r for name, r in self._graded[number].items() if name.startswith(f"{function}:")}
