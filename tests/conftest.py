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

from autograder import engine

ROOT = Path(__file__).resolve().parent.parent
HW1 = "hw1_vae"
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


@pytest.fixture
def course_copy(tmp_path):
    """A copy of the course folder (course.yml, solutions, assignments) that a test may edit."""
    target = tmp_path / "course"
    target.mkdir()
    for part in ("course.yml", "solutions", "assignments"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, target / part)
    return target
