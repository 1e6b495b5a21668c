"""The student folder: what `course release ASSIGNMENT OUT_DIR` writes.

    OUT_DIR/
      README.md, stubs, support code, notebooks   assignments/ASSIGNMENT/ as committed
      public_checks.json                          inputs and expected values of the public checks
      check.py                                    `python check.py`: the public checks, locally
      check_engine/autograder/                    the grading engine check.py runs (nothing hidden)
      requirements.txt                            the pinned packages for the notebooks and check.py

Nothing in it comes from solutions/: the stubs are generated from the references with the solution
regions cut out, the engine is generic code, and the frozen data covers the public checks only. An
audit (leaks.py) proves it before anything is written: no solution code, rubric text, hidden check
data, answer key or unreviewed hint in any file.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

from . import config, leaks, stubs
from .runner import ENGINE_FOLDER
# The instructors' side of the package: commands, and the makers of stubs and course folders.
# The student folder gets the rest: what grading one folder needs, and nothing from solutions/.
INSTRUCTOR_MODULES = {"__main__.py", "cli.py", "stubs.py", "frozen.py", "release.py", "leaks.py", "gradescope.py",
                      "nbgrader.py", "batch.py", "cells.py", "report.py", "scaffold.py", "docs.py"}
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "data", ".hypothesis")
# What check.py needs whatever the assignment (the grading engine), and what a notebook needs to
# run and show progress bars; the rest of requirements.txt is what the folder's files import.
ENGINE_REQUIREMENTS = ["torch", "numpy", "sympy", "hypothesis", "pydantic", "PyYAML"]
NOTEBOOK_REQUIREMENTS = ["ipykernel", "ipywidgets"]

CHECK_SCRIPT = '''"""The public checks of {assignment}, on the files in this folder: python check.py [FUNCTION ...]

Exit status 0 when every public check passes. The hidden checks run only when your submission is
graded. Needs the packages in requirements.txt (pip install -r requirements.txt).
"""
import hashlib
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:
    from autograder import engine, results   # the course package, where it is installed
except ImportError:
    sys.path.insert(0, str(HERE / "{engine_folder}"))
    from autograder import engine, results


def report(functions=None):
    """Run the public checks (of `functions` only, if given) and return the report."""
    return engine.check_public(HERE / "public_checks.json", HERE, HERE / "properties.py", only=functions)


def points(function):
    """For a notebook's test cell: print the public checks of one function, return the points
    they earned. (When nbgrader autogrades, the cell's hidden part grades every check instead.)"""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        return 0.0
    outcome = _report_of_these_files().of(function)
    print(results.text(outcome))
    return outcome.score


_reports = {{}}


def _report_of_these_files():
    """Every public check, run once per version of the graded files (not once per test cell)."""
    names = json.loads((HERE / "public_checks.json").read_text())["files"]
    key = tuple(hashlib.sha256((HERE / n).read_bytes()).hexdigest() if (HERE / n).is_file() else None
                for n in names)
    if key not in _reports:
        _reports[key] = report()
    return _reports[key]


def main(argv):
    try:
        outcome = report(set(argv) or None)
    except engine.UnknownFunction as error:
        print(f"error: {{error}}", file=sys.stderr)
        return 2
    print(results.text(outcome))
    return 0 if results.all_passed(outcome) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''


class ReleaseError(ValueError):
    """The student folder cannot be written (stale stubs, a target that is not empty)."""


def release(root: Path, assignment_id: str, out_dir: Path, extra: dict[str, str] | None = None) -> list[Path]:
    """Write the student folder of the assignment into out_dir (new or empty); return its files.
    `extra`: more files (name: text) that the audit must pass too (the nbgrader notebook, as
    students will get it). Nothing is written where the audit finds what students must not see."""
    root, out_dir = Path(root), Path(out_dir)
    config.load(root / "course.yml").assignment(assignment_id)   # a clear error for unknown ids
    stale = stubs.drift(root, assignment_id)
    if stale:
        shown = "; ".join(stale[:5]) + (f"; and {len(stale) - 5} more" if len(stale) > 5 else "")
        raise ReleaseError(f"assignments/{assignment_id}/ is out of date ({shown}): "
                           f"run `course stubs {assignment_id}` and commit, then release")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ReleaseError(f"{out_dir} is not empty: release into a new folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".release-", dir=out_dir.parent))
    try:
        shutil.copytree(root / "assignments" / assignment_id, staging, ignore=SKIPPED, dirs_exist_ok=True)
        vendor_engine(staging / ENGINE_FOLDER)
        (staging / "check.py").write_text(CHECK_SCRIPT.format(assignment=assignment_id, engine_folder=ENGINE_FOLDER))
        (staging / "requirements.txt").write_text(requirements(root, staging))
        audit(root, assignment_id, {**leaks.text_files(staging), **(extra or {})})
        out_dir.mkdir(exist_ok=True)
        for item in staging.iterdir():
            item.rename(out_dir / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(p for p in out_dir.rglob("*") if p.is_file())


def audit(root: Path, assignment_id: str, files: dict[str, str]) -> None:
    """Raise ReleaseError, naming each file and what it holds, where a file of the student folder
    holds solution code, rubric text, hidden check data, an answer key or an unreviewed hint."""
    problems = leaks.scan(files, leaks.secrets(root, assignment_id))
    if problems:
        raise ReleaseError(f"nothing written: the student folder of {assignment_id} would hold what students "
                           "must not see (move it to solutions/, or reword it):\n  " + "\n  ".join(problems))


def vendor_engine(target: Path) -> None:
    """Copy the grading engine (not the instructors' modules) into target/autograder."""
    package = Path(__file__).resolve().parent
    shutil.copytree(package, target / "autograder",
                    ignore=lambda folder, names: list(SKIPPED(folder, names)) +
                    ([n for n in names if n in INSTRUCTOR_MODULES] if Path(folder) == package else []))


def requirements(root: Path, folder: Path) -> str:
    """requirements.txt of a student folder: what check.py needs, what its files import (stubs,
    support code, notebooks, properties) and a notebook's kernel, at the versions the course pins
    (constraints.txt)."""
    import importlib.metadata

    pins = {}
    for line in (Path(root) / "constraints.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match[1].lower()] = match[0]
    wanted = list(ENGINE_REQUIREMENTS) + (NOTEBOOK_REQUIREMENTS if any(Path(folder).glob("*.ipynb")) else [])
    providers = importlib.metadata.packages_distributions()
    for module, where in sorted(imports(folder).items()):
        names = providers.get(module)
        if not names:
            raise ReleaseError(f"{where} imports {module}, which no installed package provides")
        wanted += [name for name in names if name not in wanted]
    missing = [name for name in wanted if name.lower() not in pins]
    if missing:
        raise ReleaseError(f"constraints.txt pins no version of {', '.join(missing)}")
    return ("# pip install -r requirements.txt   (the versions the course is tested with)\n" +
            "".join(pins[name.lower()] + "\n" for name in wanted))


def imports(folder: Path) -> dict[str, str]:
    """{top-level module: a file that imports it} for the folder's Python files and notebooks,
    the standard library, the folder's own modules and the vendored engine aside. A module looked
    up by name (importlib's find_spec("mlxtend"), import_module) counts too."""
    folder = Path(folder)
    own = {p.stem for p in folder.glob("*.py")} | {"autograder", ENGINE_FOLDER}
    found: dict[str, str] = {}
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".ipynb") and ENGINE_FOLDER not in p.parts):
        text = path.read_text()
        if path.suffix == ".ipynb":   # code cells, their magics and shell lines aside
            text = "\n".join(line for cell in json.loads(text)["cells"] if cell["cell_type"] == "code"
                             for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(text)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                    "find_spec", "import_module") and node.args and isinstance(node.args[0], ast.Constant):
                names = [str(node.args[0].value)]
            for name in names:
                top = name.split(".")[0]
                if top not in own and top not in sys.stdlib_module_names and top != "__future__":
                    found.setdefault(top, path.name)
    return found
