"""Symbolic checks: the student's function is called with sympy symbols (with the assumptions
of their domain) and must return an expression equal to the reference's. Equality is decided by
simplification, or else by evaluation at seeded random points inside the domain, so that
log(a) - log(b) and log(a/b), 0.5 and 1/2 all pass; a wrong answer is shown a point where it
differs. Expressions travel as whitelisted trees: nothing is eval'd or sympified from text."""
from __future__ import annotations

import random

from .. import wire
from ..runner import StudentError
from . import Check, Verdict

POINTS = 24
SIMPLIFY_MAX_NODES = 300
DOMAINS = {"positive": (0.2, 4.0), "nonnegative": (0.0, 4.0), "real": (-4.0, 4.0)}


def make_symbols(spec: dict) -> dict:
    """{"sigma": "positive", "mu": "real"} -> sympy symbols with those assumptions."""
    import sympy

    return {name: sympy.Symbol(name, **{domain: True}) for name, domain in spec.items()}


def differing_point(answer, expected, symbols: dict, domains: dict, seed: int):
    """A point (dict of floats) where the two expressions differ, or None if they agree."""
    rng = random.Random(seed)
    for _ in range(POINTS):
        point = {s: round(rng.uniform(*DOMAINS[domains[n]]), 3) for n, s in symbols.items()}
        want = _number(expected, point)
        if want is None:
            continue  # outside the reference's domain of definition (e.g. a pole)
        got = _number(answer, point)
        if got is None or abs(got - want) > 1e-9 * max(1.0, abs(want)):
            return point, got, want
    return None


def _number(expression, point):
    try:
        value = complex(expression.evalf(30, subs=point))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if value != value or abs(value) == float("inf"):
        return None
    return value if value.imag else value.real


def equal(answer, expected, symbols, domains, seed):
    """(True, how) or (False, point, got, want)."""
    import sympy

    if sympy.count_ops(answer) + sympy.count_ops(expected) <= SIMPLIFY_MAX_NODES:
        if sympy.simplify(answer - expected) == 0:
            return (True, "simplifies to the reference")
    found = differing_point(answer, expected, symbols, domains, seed)
    if found is None:
        return (True, f"equal at {POINTS} random points of the domain")
    return (False, *found)


def render_point(point) -> str:
    return ", ".join(f"{s} = {v:g}" for s, v in point.items())


def render_number(value) -> str:
    return "undefined (not a finite number)" if value is None else f"{value:.6g}"


class _SymbolicCheck(Check):
    def answer(self, student, symbols):
        """The student's expression for the judge's symbols, or a failing Verdict."""
        import sympy

        try:
            answer = self.call(student, *symbols.values(), symbols=symbols).value
        except StudentError as error:
            return Verdict(False, str(error))
        if not isinstance(answer, sympy.Basic):
            return Verdict(False, f"{self.function}() must return a sympy expression built from its "
                                  f"arguments, got a {type(answer).__name__}")
        return answer


class SymbolicEquals(_SymbolicCheck):
    kind = "symbolic_equals"
    reveals_answer = True

    def prepare(self, reference, device):
        symbols = make_symbols(self.params["symbols"])
        result = self.call(reference, *symbols.values(), symbols=symbols)
        return wire.encode(result.value)

    def run(self, student, prepared, device):
        symbols = make_symbols(self.params["symbols"])
        expected = wire.decode(prepared, symbols)
        answer = self.answer(student, symbols)
        if isinstance(answer, Verdict):
            return answer
        outcome = equal(answer, expected, symbols, self.params["symbols"], self.params.get("seed", 0))
        if outcome[0]:
            return Verdict(True, outcome[1])
        _, point, got, want = outcome
        return Verdict(False, f"your expression differs from the correct one: at "
                              f"{render_point(point)} it gives {render_number(got)}, but the correct "
                              f"value is {render_number(want)}")


class SymbolicForm(_SymbolicCheck):
    """Public sanity check: a sympy expression in the given arguments, defined inside the domain.
    It reveals nothing about the answer."""

    kind = "symbolic_form"

    def run(self, student, prepared, device):
        symbols = make_symbols(self.params["symbols"])
        answer = self.answer(student, symbols)
        if isinstance(answer, Verdict):
            return answer
        point = {s: 1.0 for s in symbols.values()}
        if _number(answer, point) is None:
            return Verdict(False, f"the expression is undefined at {render_point(point)}")
        return Verdict(True, "a sympy expression of the arguments")
