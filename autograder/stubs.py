"""Student stubs from the reference solutions, the single source of both.

A solution region

        ### BEGIN SOLUTION draw eps with the shape, dtype and device of mu
        ...reference code...
        ### END SOLUTION

becomes, at the same indentation,

        # FIXME: draw eps with the shape, dtype and device of mu
        raise NotImplementedError

Generating also freezes the data of the public checks next to the stubs (engine.freeze_public) and
writes the checks table of the assignment's README.md from course.yml (between TABLE_BEGIN and
TABLE_END).
The stubs must match the solutions exactly; the frozen data only within each check's tolerance
(`frozen.differences`), because the reference's floats differ in their last bits from one CPU to
another and every instructor's machine is another machine.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from . import config, engine, frozen

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*(?P<hint>.*)$")
END = re.compile(r"^[ \t]*### END SOLUTION\s*$")
README = "README.md"
TABLE_BEGIN = "<!-- the checks: written by `course stubs` from course.yml, do not edit -->"
TABLE_END = "<!-- end of the checks -->"


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
    data = engine.freeze_public(root, assignment_id)
    # keys in the order the checks give them: a symbolic check's symbols are its arguments, in order
    files[engine.PUBLIC_CHECKS_FILE] = json.dumps(data, indent=1) + "\n"
    readme = Path(root) / "assignments" / assignment_id / README
    if readme.is_file():
        assignment = config.load(Path(root) / "course.yml").assignment(assignment_id)
        files[README] = with_checks_table(readme.read_text(), assignment)
    return files


def checks_table(assignment: config.Assignment) -> str:
    """The README's table of the assignment's checks: name, points and visibility, from course.yml."""
    settings = assignment.settings()
    rows = [f"| {name.replace('|', chr(92) + '|')} | {setting.points:g} | {setting.visibility} |"
            for name, setting in settings.items()]
    public = sum(s.points for s in settings.values() if s.visibility == "public")
    total = (f"| **Autograded total** | **{assignment.max_points:g}** | {public:g} public, "
             f"{assignment.max_points - public:g} hidden |")
    held = ("In `python check.py`, a public check of an answer that a hidden key judges (a derivation's form, "
            "a well-formed choice) shows its points as held back: grading counts them once the answer is right.")
    return "\n".join([TABLE_BEGIN, held, "", "| Check | Points | Visibility |", "|---|---|---|", *rows, total, TABLE_END])


def with_checks_table(readme: str, assignment: config.Assignment) -> str:
    """`readme` with its checks table written anew: between the markers, else in place of a table
    headed | Check | Points | Visibility |, else in a section of its own at the end."""
    table = checks_table(assignment)
    if TABLE_BEGIN in readme and TABLE_END in readme:
        head, rest = readme.split(TABLE_BEGIN, 1)
        return head + table + rest.split(TABLE_END, 1)[1]
    found = re.search(r"^\| Check \| Points \| Visibility \|\n(?:\|.*\n?)*", readme, re.M)
    if found:
        return readme[:found.start()] + table + "\n" + readme[found.end():]
    return readme.rstrip("\n") + "\n\n## Autograded checks\n\n" + table + "\n"


def generate(root: Path, assignment_id: str) -> list[str]:
    """Write the stubs and frozen public checks into assignments/; return what changed. Frozen data
    that matches within tolerance (time limits exactly) is left as it is, so that regenerating on
    another machine does not churn the committed file."""
    target = Path(root) / "assignments" / assignment_id
    target.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, content in expected_files(root, assignment_id).items():
        if _differences(target / name, name, content, time_limits=True):
            (target / name).write_text(content)
            changed.append(name)
    return changed


def drift(root: Path, assignment_id: str) -> list[str]:
    """What of the committed student folder differs from what the solutions produce now, one line
    each: a stub's file name, or `public_checks.json: 'CHECK' differs (...)` per drifted check."""
    target = Path(root) / "assignments" / assignment_id
    return [line for name, content in expected_files(root, assignment_id).items()
            for line in _differences(target / name, name, content)]


def _differences(path: Path, name: str, content: str, time_limits: bool = False) -> list[str]:
    if not path.exists():
        return [f"{name} (missing)"]
    committed = path.read_text()
    if committed == content:
        return []
    if name != engine.PUBLIC_CHECKS_FILE:
        return [name]
    try:
        old = json.loads(committed)
    except ValueError:
        return [f"{name}: not valid JSON"]
    return [f"{name}: {d}" for d in frozen.differences(old, json.loads(content), time_limits)]
