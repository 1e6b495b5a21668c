"""Answers that are grids of 0 and 1 (which pixels a receptive field covers), one per named case,
compared cell by cell with the key; feedback names the missing and extra cells the way the
question numbers them (pixel 33: row 3, column 3)."""
from __future__ import annotations

from pydantic import Field

from .. import wire
from . import Check, Verdict, params


def label(row: int, column: int) -> str:
    """A cell's name in the questions' figures: row and column from 1, as digits (3, 3 -> "33")."""
    return f"{row + 1}{column + 1}"


def normalize(answer, keys: list, size: int):
    """{key: set of (row, column) cells that are 1} from a dict keyed by tuples of strings (each
    a key, in any case) whose values are size x size grids of 0/1 (lists of lists, booleans or a
    tensor); or (None, a sentence saying what is wrong, never what is right)."""
    example = f"{{{tuple(keys[0])!r}: [[0, 1, ...], ...], ...}}"
    if not isinstance(answer, wire.Pairs):
        return None, f"must return a dict such as {example}, got {wire.kind_name(answer)}"
    wanted = {tuple(k): k for k in map(tuple, keys)}
    grids = {}
    for key, grid in answer:
        name = tuple(k.strip().upper() for k in key) if isinstance(key, list) and all(
            isinstance(k, str) for k in key) else None
        if name not in wanted:
            return None, f"unknown key {str(key)[:40]}; the keys are {', '.join(map(str, wanted))}"
        if name in grids:
            return None, f"the key {name} is given twice"
        cells, problem = _cells(grid, size)
        if problem:
            return None, f"the grid of {name} {problem}"
        grids[name] = cells
    missing = [k for k in wanted if k not in grids]
    return (None, f"the key {missing[0]} is missing") if missing else (grids, None)


def _cells(grid, size: int):
    if isinstance(grid, wire.TensorInfo):
        if grid.tensor is None or grid.shape != (size, size):
            return None, f"must be a {size} x {size} tensor, got shape {grid.shape}"
        grid = grid.tensor.tolist()
    if not isinstance(grid, list) or len(grid) != size or not all(isinstance(r, list) and len(r) == size for r in grid):
        return None, f"must be {size} rows of {size} values"
    cells = set()
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if v not in (0, 1) or type(v) not in (int, float, bool):
                return None, f"must hold only 0 and 1 (at row {i + 1}, column {j + 1}: {str(v)[:20]})"
            if v:
                cells.add((i, j))
    return cells, None


class _GridCheck(Check):
    """params: "keys" (lists of strings, e.g. ["A", "B"]) and "size" of the square grids."""

    class Params(params.Params):
        keys: list[list[str]] = Field(min_length=1, description='the cases the answer is keyed by, e.g. [["A", "B"]]')
        size: int = Field(ge=1, description="the side of the square grids")

    def grids(self, runner):
        return self.normalized_answer(runner, lambda answer: normalize(answer, self.settings.keys, self.settings.size))


class GridKey(_GridCheck):
    """Every grid against the key, naming the missing and extra cells; credit per grid right."""

    kind = "grid_key"
    reveals_answer = True
    proves_values = True

    def prepare(self, reference, device):
        grids, problem = self.grids(reference)
        if problem:
            raise ValueError(f"the reference answer of {self.function} is malformed: {problem}")
        return [[list(key), sorted(map(list, grids[key]))] for key in map(tuple, self.settings.keys)]

    def run(self, student, prepared, device):
        grids, problem = self.grids(student)
        if problem:
            return Verdict(False, problem)
        lines = []
        for key, cells in prepared:
            key, cells = tuple(key), {tuple(c) for c in cells}
            missing, extra = sorted(cells - grids[key]), sorted(grids[key] - cells)
            parts = [f"{what} {', '.join(label(*c) for c in which)}"
                     for what, which in (("missing", missing), ("should not be there", extra)) if which]
            if parts:
                lines.append(f"{key}: pixels {'; pixels '.join(parts)}")
        if not lines:
            return Verdict(True, "matches the key")
        right = len(prepared) - len(lines)
        return Verdict(False, "\n".join(lines) + f"\n(credit for the {right} of {len(prepared)} grids without a mistake)",
                       right / len(prepared))


class GridFormat(_GridCheck):
    """Public sanity check: every key present, every grid of the right size and of 0/1 only."""

    kind = "grid_format"

    def run(self, student, prepared, device):
        grids, problem = self.grids(student)
        return Verdict(problem is None, problem or "well-formed")
