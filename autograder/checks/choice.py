"""Multiple-choice answers: a set of option letters, compared with the key exactly."""
from __future__ import annotations

from ..runner import StudentError
from . import Check, Verdict


def normalize(answer, options: str):
    """The set of chosen letters, or an error sentence. Accepts "b", "B", "a, c", {"a", "c"}."""
    if isinstance(answer, str):
        letters = [c for c in answer.lower() if c.isalpha()]
    elif isinstance(answer, (list, tuple, set, frozenset)) and all(isinstance(a, str) for a in answer):
        letters = [a.strip().lower() for a in answer]
    else:
        return None, f"must return option letters such as {{'b'}} or {{'a', 'c'}}, got a {type(answer).__name__}"
    wrong = sorted({a for a in letters if a not in options})
    if wrong or not letters:
        return None, (f"options are single letters among {', '.join(options)}; got "
                      f"{', '.join(map(repr, wrong)) or 'no option'}")
    return set(letters), None


class _ChoiceCheck(Check):
    def chosen(self, student):
        try:
            answer = self.call(student).value
        except StudentError as error:
            return None, str(error)
        letters, problem = normalize(answer, self.params["options"])
        return letters, problem and f"{self.function}() {problem}"


class MultipleChoice(_ChoiceCheck):
    kind = "multiple_choice"
    reveals_answer = True

    def prepare(self, reference, device):
        key, problem = normalize(reference.call(self.module, self.function).value, self.params["options"])
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
