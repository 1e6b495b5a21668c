"""What a student folder must not hold, and the audit that `course release` and `course nbgrader`
run before they write one: the references' solution code, the hand-graded questions' rubrics
(solutions/ID/rubric.md), the hidden checks' data (expected values, answer keys) and the hints of
known mistakes not reviewed as public-safe (mistakes.py). Each is searched for as text in every
file, whitespace aside, in the strings of JSON files and in the cells of notebooks."""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import stubs

RUBRIC_FILE = "rubric.md"
MIN_CODE = 16       # characters of a solution line worth looking for (`return x` occurs anywhere)
MIN_SENTENCE = 40   # characters of a rubric sentence worth looking for
MIN_DATA = 16       # characters of an encoded value worth looking for
MIN_KEY = 10        # characters of an answer key written out (sympy's str of it)


@dataclass(frozen=True)
class Secret:
    text: str    # what must not appear, whitespace-normalised
    what: str    # what it is, for the message: "solution code of vae.py", "rubric text"
    # "text": anywhere in the text (markdown aside); "line": as a whole line (code); "formula":
    # anywhere once all whitespace is gone (an answer key written out)
    how: str = "text"


def secrets(root: Path, assignment_id: str) -> list[Secret]:
    """Everything of the assignment's hidden side that a student folder must not hold."""
    folder = Path(root) / "solutions" / assignment_id
    return [*solution_code(folder), *rubric(folder), *hidden_data(root, assignment_id)]


def solution_code(folder: Path) -> list[Secret]:
    """Every line of code inside the solution regions of the references, short ones aside, and
    those that the reference also has outside its regions (a contract in a docstring)."""
    found = []
    for path in sorted(Path(folder).glob("*.py")):
        inside, hidden, shown = False, set(), set()
        for line in path.read_text().splitlines():
            if stubs.BEGIN.match(line):
                inside = True
            elif stubs.END.match(line):
                inside = False
            elif len(line.strip()) >= MIN_CODE and not line.strip().startswith("#"):
                (hidden if inside else shown).add(normal(line))
        found += [Secret(line, f"solution code of {path.name}", "line") for line in sorted(hidden - shown)]
    return found


def rubric(folder: Path) -> list[Secret]:
    """The sentences of rubric.md (its headings aside: they name the questions, as the README does)."""
    path = Path(folder) / RUBRIC_FILE
    if not path.is_file():
        return []
    body = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
    # every sentence and every line on its own (a bullet, a line of a paragraph), so that a bullet
    # or a sentence copied alone is found as surely as a whole paragraph
    units = re.split(r"(?<=[.!?;:])\s+|\n", prose(body))
    return [Secret(normal(u), f"rubric text of {path.name}") for u in dict.fromkeys(units) if len(normal(u)) >= MIN_SENTENCE]


def hidden_data(root: Path, assignment_id: str) -> list[Secret]:
    """The hidden checks' prepared data (encoded expected values, answer keys, written out as sympy
    would print them) and the hints of known mistakes not reviewed as public-safe."""
    from . import engine, wire
    from .checks import symbolic

    judge = engine.judge_for(root, assignment_id, "cpu")
    settings = judge.assignment.settings()
    found = []
    for check in judge.suite.checks:
        if settings[check.name].visibility != "hidden":
            continue
        data, _ = judge.prepare(check)
        found += [Secret(s, f"hidden data of {check.name!r}") for s in _strings(data, skip=("hint", "sentence", "id", "args", "kwargs"))
                  if len(s) >= MIN_DATA and len(set(s)) > 4]   # not a run of zeros ("AAAA...")
        if isinstance(check, symbolic.SymbolicEquals):
            written = [str(wire.decode(data["expected"], check.symbols())),
                       *returned(Path(root) / "solutions" / assignment_id / f"{check.module}.py", check.function)]
            found += [Secret(formula(key), f"the answer key of {check.name!r}", "formula")
                      for key in written if len(formula(key)) >= MIN_KEY]
    for function, entries in judge.reference.mistakes.items():
        found += [Secret(normal(hint), f"a hint of {function} not reviewed as public-safe (mistakes.py)")
                  for hint, _, public_safe in entries if not public_safe]
    return found


def returned(path: Path, function: str) -> list[str]:
    """The source of each expression the reference's `function` returns (its answer, as written)."""
    text = path.read_text()
    definition = next((node for node in ast.parse(text).body
                       if isinstance(node, ast.FunctionDef) and node.name == function), None)
    if definition is None:
        return []
    return [ast.get_source_segment(text, node.value) or "" for node in ast.walk(definition)
            if isinstance(node, ast.Return) and node.value is not None]


def formula(text: str) -> str:
    """An expression without whitespace and module prefixes: `sympy.sqrt(a) * b` -> `sqrt(a)*b`."""
    return re.sub(r"\b(?:sympy|sp|math|torch)\.", "", "".join(text.split()))


def _strings(node, skip=()) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() if k not in skip for s in _strings(v, skip)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v, skip)]
    return []


def normal(text: str) -> str:
    return " ".join(text.split())


def prose(text: str) -> str:
    """Text without markdown's emphasis, code marks and list or quote markers, which a copy may
    add or drop."""
    return re.sub(r"^\s*(?:[-*>]|\d+\.)\s+|[*`]", " ", text, flags=re.M)


def readable(path: Path, content: str) -> str:
    """A file's text as people read it: a notebook's cells, a JSON file's strings, else the text."""
    try:
        if path.suffix == ".ipynb":
            return "\n".join("".join(c.get("source", "")) for c in json.loads(content).get("cells", []))
        if path.suffix == ".json":
            return "\n".join(_strings(json.loads(content)))
    except (ValueError, AttributeError):
        pass
    return content


def scan(files: dict[str, str], found: list[Secret]) -> list[str]:
    """A line per file that holds a secret: `name: what ('its start...')`."""
    problems = []
    for name, content in sorted(files.items()):
        readable_text = readable(Path(name), content)
        views = {"text": normal(prose(readable_text)), "formula": formula(readable_text),
                 "line": {normal(line) for line in readable_text.splitlines()}}
        for secret in found:
            wanted = normal(prose(secret.text)) if secret.how == "text" else secret.text
            if secret.text and wanted in views[secret.how]:
                shown = secret.text if len(secret.text) <= 60 else secret.text[:57] + "..."
                problems.append(f"{name}: {secret.what} ({shown!r})")
                break
    return problems


def text_files(folder: Path) -> dict[str, str]:
    """Every file under `folder` that is text, by its path relative to `folder`."""
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            try:
                out[str(path.relative_to(folder))] = path.read_text()
            except UnicodeDecodeError:
                continue
    return out
