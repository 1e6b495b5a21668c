"""Multiple-choice answers: a set of option letters, compared with the key exactly; and tables of
choices (a dict of dicts, e.g. which factors an augmentation makes a representation invariant to)."""
from __future__ import annotations

from pydantic import Field

from .. import wire
from . import Check, Verdict, params


def normalize(answer, options: str):
    """The set of chosen letters, or an error sentence. Accepts "b", "B", "a, c", {"a", "c"}."""
    if isinstance(answer, str):
        letters = [c for c in answer.lower() if c.isalpha()]
    elif isinstance(answer, (list, tuple, set, frozenset)) and all(isinstance(a, str) for a in answer):
        letters = [a.strip().lower() for a in answer]
    else:
        return None, f"must return option letters such as {{'b'}} or {{'a', 'c'}}, got {wire.kind_name(answer)}"
    wrong = sorted({a for a in letters if a not in options})
    if wrong or not letters:
        return None, (f"options are single letters among {', '.join(options)}; got "
                      f"{', '.join(map(repr, wrong)) or 'no option'}")
    return set(letters), None


class _ChoiceCheck(Check):
    class Params(params.Params):
        options: str = Field(pattern=r"^[a-z]+$", description='the option letters, e.g. "abcd"')

    def chosen(self, student):
        return self.normalized_answer(student, lambda answer: normalize(answer, self.settings.options))


class MultipleChoice(_ChoiceCheck):
    kind = "multiple_choice"
    reveals_answer = True
    proves_values = True

    def prepare(self, reference, device):
        key, problem = self.chosen(reference)
        if problem:
            raise ValueError(f"the reference answer of {self.function} is malformed: {problem}")
        return sorted(key)

    def run(self, student, prepared, device):
        letters, problem = self.chosen(student)
        if problem:
            return Verdict(False, problem)
        key = set(prepared)
        if letters == key:
            return Verdict(True, "matches the key")
        wrong, missing = len(letters - key), len(key - letters)
        parts = [f"{n} selected option{'s' * (n > 1)} {'are' if n > 1 else 'is'} wrong" for n in [wrong] if n]
        parts += [f"{n} correct option{'s are' if n > 1 else ' is'} missing" for n in [missing] if n]
        return Verdict(False, f"not the key: {' and '.join(parts)}")


class ChoiceFormat(_ChoiceCheck):
    """Public sanity check: the answer is well-formed option letters (reveals nothing)."""

    kind = "choice_format"

    def run(self, student, prepared, device):
        letters, problem = self.chosen(student)
        return Verdict(problem is None, problem or f"answered {', '.join(sorted(letters))}")


def normalize_table(answer, rows, columns, values):
    """{(row, column): value} from a dict of dicts whose keys and values may differ from the
    expected words in case and surrounding spaces; or a sentence saying what is wrong (never what
    is right)."""
    example = f"{{{', '.join(f'{c!r}: ...' for c in columns)}}}"
    by_row, problem = _entries(answer, rows, "", "row", f"a dict of dicts such as {{{rows[0]!r}: {example}, ...}}")
    if problem:
        return None, problem
    table = {}
    for row in rows:
        cells, problem = _entries(by_row[row], columns, f"row {row!r}: ", "column", f"a dict such as {example}")
        if problem:
            return None, problem
        for column in columns:
            table[row, column] = _spelled(cells[column], values)
            if table[row, column] is None:
                return None, (f"{row}/{column} is {str(cells[column])[:40]!r}; every value must be one of "
                              f"{', '.join(map(repr, values))}")
    return table, None


def _spelled(text, words):
    """The word among `words` that `text` spells, ignoring case and surrounding spaces, or None."""
    return next((w for w in words if w.lower() == text.strip().lower()), None) if isinstance(text, str) else None


def _entries(pairs, names, where, what, form):
    """{name: value} from a decoded dict whose keys spell `names`; or (None, a sentence)."""
    if not isinstance(pairs, wire.Pairs):
        return None, f"{where}must be {form}, got {wire.kind_name(pairs)}"
    found = {}
    for key, value in pairs:
        name = _spelled(key, names)
        if name is None or name in found:
            return None, (f"{where}unknown {what} {str(key)[:40]!r} (the {what}s are {', '.join(names)})"
                          if name is None else f"{where}{what} {name!r} is given twice")
        found[name] = value
    missing = [name for name in names if name not in found]
    return (None, f"{where}{what} {missing[0]!r} is missing") if missing else (found, None)


class _TableCheck(Check):
    """params: "rows", "columns" and the allowed "values" of a table answered as a dict of dicts."""

    class Params(params.Params):
        rows: list[str] = Field(min_length=1, description="the table's row names")
        columns: list[str] = Field(min_length=1, description="its column names")
        values: list[str] = Field(min_length=2, description="the words a cell may hold")

    def table(self, runner):
        return self.normalized_answer(runner, lambda answer: normalize_table(
            answer, self.settings.rows, self.settings.columns, self.settings.values), separator=": ")


class ChoiceTable(_TableCheck):
    """Every cell against the key; a wrong answer names the wrong cells. Credit per row without a
    mistake: a row is one question (in hw2: what does this augmentation set make the encoder
    invariant to?), so one misunderstanding costs its share. Per-cell credit would pay half the
    points for a table of coin flips; all-or-nothing would take them all for one slip. With
    "all_or_nothing": true, for a table where the same word in every row earns a row for sure
    (hw4's two scenarios, one "forward" and one "reverse"), only the whole key earns."""

    kind = "choice_table"
    reveals_answer = True
    proves_values = True

    class Params(_TableCheck.Params):
        all_or_nothing: bool = Field(False, description="only the whole key earns (for a table where one word in "
                                     "every row would earn a row for sure)")

    def prepare(self, reference, device):
        table, problem = self.table(reference)
        if problem:
            raise ValueError(f"the reference answer of {self.function} is malformed: {problem}")
        return [[row, column, value] for (row, column), value in table.items()]

    def run(self, student, prepared, device):
        table, problem = self.table(student)
        if problem:
            return Verdict(False, problem)
        wrong = [(row, column, table[row, column]) for row, column, value in prepared if table[row, column] != value]
        if not wrong:
            return Verdict(True, "matches the key")
        rows = self.settings.rows
        cells = "; ".join(f"{row}/{column} should not be {value!r}" for row, column, value in wrong)
        if self.settings.all_or_nothing:
            return Verdict(False, cells)
        right = len(rows) - len({row for row, _, _ in wrong})
        return Verdict(False, f"{cells} (credit for the {right} of {len(rows)} rows without a mistake)",
                       right / len(rows))


class ChoiceTableFormat(_TableCheck):
    """Public sanity check: every row and column present, every value allowed (reveals nothing)."""

    kind = "choice_table_format"

    def run(self, student, prepared, device):
        table, problem = self.table(student)
        return Verdict(problem is None, problem or "well-formed")
