"""The student folder: what `course release ASSIGNMENT OUT_DIR` writes.

    OUT_DIR/
      README.md, stubs, support code, notebooks   assignments/ASSIGNMENT/ as committed
      public_checks.json                          inputs and expected values of the public checks
      check.py                                    `python check.py`: the public checks, locally
      check_engine/autograder/                    the grading engine check.py runs (nothing hidden)
      requirements.txt                            the pinned packages for the notebooks and check.py

Nothing in it comes from solutions/: the stubs are generated from the references with the solution
regions cut out, the engine is generic code, and the frozen data covers the public checks only.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from . import config, stubs
from .runner import ENGINE_FOLDER
# The instructors' side of the package: commands, and the makers of stubs and course folders.
# The student folder gets the rest: what grading one folder needs, and nothing from solutions/.
INSTRUCTOR_MODULES = {"__main__.py", "cli.py", "stubs.py", "frozen.py", "release.py", "gradescope.py",
                      "nbgrader.py", "batch.py", "cells.py"}
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "data", ".hypothesis")
# What students install: grading needs the first group, the notebooks the second.
REQUIREMENTS = ["torch", "numpy", "sympy", "hypothesis", "pydantic", "PyYAML",
                "torchvision", "matplotlib", "tqdm", "ipykernel", "ipywidgets", "mlxtend"]

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
    outcome = report(set(argv) or None)
    print(results.text(outcome))
    return 0 if all(r.passed for r in outcome.results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''


class ReleaseError(ValueError):
    """The student folder cannot be written (stale stubs, a target that is not empty)."""


def release(root: Path, assignment_id: str, out_dir: Path) -> list[Path]:
    """Write the student folder of the assignment into out_dir (new or empty); return its files."""
    root, out_dir = Path(root), Path(out_dir)
    config.load(root / "course.yml").assignment(assignment_id)   # a clear error for unknown ids
    stale = stubs.drift(root, assignment_id)
    if stale:
        shown = "; ".join(stale[:5]) + (f"; and {len(stale) - 5} more" if len(stale) > 5 else "")
        raise ReleaseError(f"assignments/{assignment_id}/ is out of date ({shown}): "
                           f"run `course stubs {assignment_id}` and commit, then release")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ReleaseError(f"{out_dir} is not empty: release into a new folder")
    shutil.copytree(root / "assignments" / assignment_id, out_dir, ignore=SKIPPED, dirs_exist_ok=True)
    vendor_engine(out_dir / ENGINE_FOLDER)
    (out_dir / "check.py").write_text(CHECK_SCRIPT.format(assignment=assignment_id, engine_folder=ENGINE_FOLDER))
    (out_dir / "requirements.txt").write_text(requirements(root))
    return sorted(p for p in out_dir.rglob("*") if p.is_file())


def vendor_engine(target: Path) -> None:
    """Copy the grading engine (not the instructors' modules) into target/autograder."""
    package = Path(__file__).resolve().parent
    shutil.copytree(package, target / "autograder",
                    ignore=lambda folder, names: list(SKIPPED(folder, names)) +
                    ([n for n in names if n in INSTRUCTOR_MODULES] if Path(folder) == package else []))


def requirements(root: Path) -> str:
    """requirements.txt: the packages students need, at the versions the course is tested with."""
    pins = {}
    for line in (Path(root) / "constraints.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line.strip())
        if match:
            pins[match[1].lower()] = match[0]
    missing = [name for name in REQUIREMENTS if name.lower() not in pins]
    if missing:
        raise ReleaseError(f"constraints.txt pins no version of {', '.join(missing)}")
    return ("# pip install -r requirements.txt   (the versions the course was tested with)\n" +
            "".join(pins[name.lower()] + "\n" for name in REQUIREMENTS))
