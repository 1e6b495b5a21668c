"""Check kinds. A check grades one function or answer of a submission.

Each check is plain data (`spec()`: kind, name, target and JSON-able parameters) plus code that
lives here, in the package. Each kind declares its parameters (`Params`, checks/params.py), and a
check built with an unknown, mistyped or missing one is an AuthoringError. Grading a check has two
halves:

- `prepare(reference, device)` runs in the judge, may call the hidden reference, and returns
  JSON-able data (inputs and expected outputs). Public checks are prepared once, when the stubs
  are generated, and that data is frozen next to the stubs; hidden checks are prepared at grading.
- `run(student, prepared, device)` calls the student's code through the worker and returns a
  `Verdict` whose message tells the student what is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass

from .params import AuthoringError, Params, validate


@dataclass
class Verdict:
    passed: bool
    message: str
    credit: float | None = None   # the fraction of the points earned: by default all or nothing
    evidence: bool | None = None  # values right somewhere (a case, a row); by default credit > 0
    cause: str | None = None      # the likely cause the message names (a diagnoses.Cause), if any
    # a stability check's (message, cause) for wrong values, given where the function's other
    # value checks pass (engine.stability_causes)
    unstable: tuple | None = None

    def __post_init__(self):
        if self.credit is None:
            self.credit = float(self.passed)
        if self.evidence is None:
            self.evidence = self.credit > 0


class Check:
    kind = "check"
    Params = Params          # its parameters, declared (checks/params.py)
    reveals_answer = False   # prepared data is the answer itself: such a check can never be public
    # Compares values with the reference or a key, which a constant, the input or unrelated noise
    # cannot match. The function's other checks count only once one of these finds its values
    # right somewhere (engine.gate).
    proves_values = False
    computes_sympy = False   # the graded function may build its answer with sympy: a longer floor

    @property
    def floor_seconds(self) -> float:
        """The least time a call of this check may take (runner.time_limit)."""
        from ..runner import FLOOR_SECONDS, SYMPY_FLOOR_SECONDS

        return SYMPY_FLOOR_SECONDS if self.computes_sympy else FLOOR_SECONDS

    # names of calls the assignment forbids in this function (forbidden_calls checks): hints never
    # recommend them
    avoid: frozenset = frozenset()

    def __init__(self, name: str, module: str, function: str, **params):
        if not name.startswith(f"{function}: "):
            raise AuthoringError(f"check {name!r} must be named after what it grades: '{function}: ...'")
        self.settings = validate(type(self), params, function, name.split(": ", 1)[1])
        self.name, self.module, self.function, self.params = name, module, function, params
        self.line = _line_in_checks_py()   # where checks.py defines it, for authoring errors found later

    def located(self, where: str) -> str:
        """`where` (checks.py's path) with this check's line, its function and name: the start of an
        authoring error about it."""
        return f'{where}{f":{self.line}" if self.line else ""}: {self.function} "{self.name.split(": ", 1)[1]}"'

    def spec(self) -> dict:
        return {"kind": self.kind, "name": self.name, "module": self.module,
                "function": self.function, "params": self.params}

    def why_not_public(self) -> str | None:
        """Why course.yml may not make this check public (None: it may)."""
        return "what it compares against is the answer itself" if self.reveals_answer else None

    def prepare(self, reference, device: str):
        return None

    def run(self, student, prepared, device: str) -> Verdict:
        raise NotImplementedError

    def normalized_answer(self, runner, normalize, separator=" "):
        """(value, None) with the answer of a function without arguments after normalize(answer),
        which returns (value, problem); or (None, a sentence for the student) when the call fails or
        the answer is malformed."""
        from ..runner import StudentError

        try:
            answer = self.call(runner).value
        except StudentError as error:
            return None, str(error)
        value, problem = normalize(answer)
        return value, problem and f"{self.function}(){separator}{problem}"

    def call(self, runner, *args, **options):
        """Call the graded function through `runner` (a Submission or a Reference)."""
        return runner.call(self.module, self.function, args, options.pop("kwargs", None), **options)


def _line_in_checks_py() -> int | None:
    """The line of an assignment's checks.py that is building a check, if one is."""
    import sys

    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.rsplit("/", 1)[-1] != "checks.py":
        frame = frame.f_back
    return frame.f_lineno if frame is not None else None


def registry() -> dict[str, type[Check]]:
    from . import choice, forbidden, grids, numeric, properties, raises, sampling, symbolic

    kinds = {}
    for module in (numeric, sampling, properties, symbolic, choice, grids, raises, forbidden):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Check) and value is not Check and "kind" in vars(value):
                kinds[value.kind] = value
    return kinds


def from_spec(spec: dict) -> Check:
    kind = registry().get(spec.get("kind"))
    if kind is None:
        raise AuthoringError(f"unknown check kind {spec.get('kind')!r}")
    return kind(spec["name"], spec["module"], spec["function"], **spec.get("params", {}))
