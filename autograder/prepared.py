"""Prepared checks on disk: every check's hidden inputs, expected values and time limit, computed
once with the reference and kept in `solutions/.prepared/ASSIGNMENT-DEVICE.json`, so that a grading
in a fresh process (Gradescope grades each submission in a new container) neither imports the
references nor runs them. Gradescope's setup.sh writes the file (`course prepare`); elsewhere the
first grading that prepared every check does.

The file is JSON, never code or pickles, and is used only where student code cannot change it:
under bubblewrap, whose file system is read-only for the worker and hides solutions/ altogether.
It holds its key (`engine.preparation_key`: course.yml, the solution folder, the public properties,
the grader's code, Python's and the packages' versions, the device); a file of another key is ignored
and replaced. A grading prepared afresh uses the same JSON form, so both paths grade alike. The
examples of a property are those hypothesis drew when the file was written (checks/properties.py).
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from .sandbox import Sandbox

FOLDER = ".prepared"


def location(root: Path, assignment_id: str, device: str) -> Path | None:
    """Where the assignment's prepared checks are kept, or None where student code could write
    there (no bubblewrap: the worker shares the grader's file system)."""
    solutions = Path(root) / "solutions"
    if not Sandbox(hidden=[solutions]).bubblewrap:
        return None
    return solutions / FOLDER / f"{assignment_id}-{device}.json"


def load(path: Path | None, key: str) -> dict[str, tuple] | None:
    """{check name: (prepared data, seconds per call)} from `path` if it was written under `key`."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
        if data.get("key") != key:
            return None
        return {name: (entry["prepared"], entry["time_limit"]) for name, entry in data["checks"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):   # none yet, or not ours
        return None


def save(path: Path | None, key: str, prepared: dict[str, tuple]) -> None:
    """Write the prepared checks atomically; where the folder cannot be written, keep them in memory only."""
    if path is None:
        return
    checks = {name: {"prepared": data, "time_limit": limit} for name, (data, limit) in prepared.items()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as out:
            json.dump({"key": key, "checks": checks}, out)
        os.replace(out.name, path)   # concurrent judges: the last complete file wins, none is torn
    except OSError:
        with contextlib.suppress(OSError, NameError):   # NameError: no temporary file was made
            os.unlink(out.name)


def as_stored(prepared):
    """The prepared data as the file gives it back (tuples become lists, keys strings)."""
    return json.loads(json.dumps(prepared))
