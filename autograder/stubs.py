"""Student stubs from the reference solutions, the single source of both.

A solution region

        ### BEGIN SOLUTION draw eps with the shape, dtype and device of mu
        ...reference code...
        ### END SOLUTION

becomes, at the same indentation,

        # FIXME: draw eps with the shape, dtype and device of mu
        raise NotImplementedError

Generating also freezes the data of the public checks next to the stubs (engine.freeze_public).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from . import engine

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*(?P<hint>.*)$")
END = re.compile(r"^[ \t]*### END SOLUTION\s*$")


DEFAULT_HINT = "your code here"


class StubError(ValueError):
    """Unbalanced solution markers."""


def make_stub(source: str, filename: str = "<source>") -> str:
    out, inside = [], None
    for number, line in enumerate(source.splitlines(keepends=True), 1):
        begin = BEGIN.match(line.rstrip("\n"))
        if begin:
            if inside:
                raise StubError(f"{filename}:{number}: BEGIN SOLUTION inside another region")
            inside = number
            indent, hint = begin["indent"], begin["hint"].strip() or DEFAULT_HINT
            out.append(f"{indent}# FIXME: {hint}\n{indent}raise NotImplementedError\n")
        elif END.match(line.rstrip("\n")):
            if not inside:
                raise StubError(f"{filename}:{number}: END SOLUTION without BEGIN")
            inside = None
        elif not inside:
            out.append(line)
    if inside:
        raise StubError(f"{filename}:{inside}: BEGIN SOLUTION is never closed")
    return "".join(out)


def expected_files(root: Path, assignment_id: str) -> dict[str, str]:
    """Every generated file of the assignment's student folder, by name, with its content."""
    solutions = Path(root) / "solutions" / assignment_id
    suite = engine.load_suite(solutions)
    files = {name: make_stub((solutions / name).read_text(), name) for name in suite.files}
    frozen = engine.freeze_public(root, assignment_id)
    files[engine.PUBLIC_CHECKS_FILE] = json.dumps(frozen, indent=1, sort_keys=True) + "\n"
    return files


def generate(root: Path, assignment_id: str) -> list[str]:
    """Write the stubs and frozen public checks into assignments/; return what changed."""
    target = Path(root) / "assignments" / assignment_id
    target.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, content in expected_files(root, assignment_id).items():
        path = target / name
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            changed.append(name)
    return changed


def drift(root: Path, assignment_id: str) -> list[str]:
    """Generated files whose committed copy differs from what the solutions produce now."""
    target = Path(root) / "assignments" / assignment_id
    return [name for name, content in expected_files(root, assignment_id).items()
            if not (target / name).exists() or (target / name).read_text() != content]
