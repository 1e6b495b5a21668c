"""Symbolic checks: the student's function is called with sympy symbols (with the assumptions
of their domain) and must return an expression (or a matrix, or a list of eigenvalues) equal to
the reference's. Equality is decided by simplification, or else by evaluation at seeded points
inside the domain, so that log(a) - log(b) and log(a/b), 0.5 and 1/2, 1 + sqrt(-alpha**2) and
1 + I*alpha all pass; a wrong answer is shown a point where it differs. Expressions travel as
whitelisted trees: nothing is eval'd or sympified from text."""
from __future__ import annotations

import random

from pydantic import Field

from .. import wire
from ..runner import StudentError
from . import Check, Verdict, diagnoses, params

POINTS = 24
SIMPLIFY_MAX_NODES = 300
# domain -> (sympy assumptions, range the test points are drawn from, the first test point)
DOMAINS = {
    "positive": ({"positive": True}, (0.2, 4.0), 1.0),
    "nonnegative": ({"nonnegative": True, "real": True}, (0.0, 4.0), 0.0),
    "real": ({"real": True}, (-4.0, 4.0), 0.5),
    "probability": ({"positive": True}, (0.02, 0.98), 0.5),
    "cosine": ({"real": True}, (-0.98, 0.98), 0.0),   # u^T v of unit vectors u != ±v
}


def make_symbols(spec: dict) -> dict:
    """{"sigma": "positive", "mu": "real"} -> sympy symbols with those assumptions."""
    import sympy

    return {name: sympy.Symbol(name, **DOMAINS[domain][0]) for name, domain in spec.items()}


def test_points(symbols: dict, domains: dict, seed: int):
    """The first point sits on each domain's anchor (gamma = 0, say), the rest are random."""
    rng = random.Random(seed)
    yield {s: float(DOMAINS[domains[n]][2]) for n, s in symbols.items()}
    for _ in range(POINTS - 1):
        yield {s: round(rng.uniform(*DOMAINS[domains[n]][1]), 3) for n, s in symbols.items()}


def number(expression, point):
    """The value at `point` (a complex only when it has an imaginary part), or None if undefined."""
    try:
        value = complex(expression.evalf(30, subs=point, chop=True))   # chop: 1 - 1.0**2 is 0, not 1e-165
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None
    if value != value or abs(value) == float("inf"):
        return None
    return value if value.imag else value.real


def close(got, want) -> bool:
    return got is not None and abs(got - want) <= 1e-9 * max(1.0, abs(want))


def equal(answer, expected, symbols, domains, seed):
    """(True, how) or (False, point, got, want)."""
    import sympy

    if sympy.count_ops(answer) + sympy.count_ops(expected) <= SIMPLIFY_MAX_NODES:
        if sympy.simplify(answer - expected) == 0:
            return (True, "simplifies to the reference")
    for point in test_points(symbols, domains, seed):
        want = number(expected, point)
        if want is None:
            continue  # outside the reference's domain of definition (e.g. a pole)
        got = number(answer, point)
        if not close(got, want):
            return (False, point, got, want)
    return (True, f"equal at {POINTS} points of the domain")


def render_point(point) -> str:
    return ", ".join(f"{s} = {v:g}" for s, v in point.items()) or "(no arguments)"


def render_number(value) -> str:
    if value is None:
        return "undefined (not a finite number)"
    if isinstance(value, complex):
        return f"{value.real:.6g}{value.imag:+.6g}i"
    return f"{value:.6g}"


def as_sympy(value):
    """A sympy scalar from a decoded value (sympy object or plain number), or None."""
    import sympy

    if isinstance(value, sympy.Basic):
        return value
    if type(value) is int:
        return sympy.Integer(value)
    if type(value) is float:
        return sympy.Float(value)
    return None


def as_matrix(value, shape):
    """A sympy Matrix of `shape` ([rows, cols], or [n] for a vector given as a list, a tuple or
    a row or column matrix) from a decoded value, or a sentence saying what is wrong."""
    import sympy

    rows, cols = (shape[0], 1) if len(shape) == 1 else shape
    if isinstance(value, sympy.MatrixBase):
        entries = list(value) if len(shape) == 1 or value.shape == (rows, cols) else None
        got = "x".join(map(str, value.shape))
    elif isinstance(value, list) and len(shape) == 1:
        entries, got = value, f"a list of {len(value)}"
    elif isinstance(value, list) and all(isinstance(r, list) for r in value):
        entries = [e for r in value for e in r] if all(len(r) == cols for r in value) else None
        got = f"{len(value)} rows of lengths {[len(r) for r in value]}"
    else:
        return f"expected a {'x'.join(map(str, shape))} matrix (a sympy Matrix or nested lists), got {wire.kind_name(value)}"
    if entries is None or len(entries) != rows * cols:
        return f"expected {'x'.join(map(str, shape))} entries, got {got}"
    scalars = [as_sympy(e) for e in entries]
    if any(s is None for s in scalars):
        return "every entry must be a sympy expression or a number"
    return sympy.Matrix(rows, cols, scalars)


def as_multiset(value):
    """A list of sympy scalars from a list, tuple, set, or {value: multiplicity} dict."""
    if isinstance(value, wire.Pairs):
        items = []
        for key, multiplicity in value:
            if type(multiplicity) is not int or not 0 < multiplicity <= 100:
                return "multiplicities must be positive integers"
            items += [key] * multiplicity
        value = items
    if not isinstance(value, list):
        return f"expected a list of eigenvalues, got {wire.kind_name(value)}"
    scalars = [as_sympy(v) for v in value]
    if any(s is None for s in scalars):
        return "every eigenvalue must be a sympy expression or a number"
    return scalars


def evaluate(value, point):
    """Numbers from an answer at `point`: a number, a list of numbers (for lists, sets and
    {value: multiplicity} dicts) or a list of rows (for matrices); or a sentence if malformed."""
    import sympy

    if isinstance(value, sympy.MatrixBase):
        return [[number(e, point) for e in value.row(i)] for i in range(value.rows)]
    if isinstance(value, list):  # wire.Pairs and wire.Unordered are lists too
        scalars = as_multiset(value)
        return scalars if isinstance(scalars, str) else [number(s, point) for s in scalars]
    scalar = as_sympy(value)
    return "expected a sympy expression" if scalar is None else number(scalar, point)


class _SymbolicCheck(Check):
    computes_sympy = True

    class Params(params.Params):
        symbols: dict[str, params.DOMAINS] = Field({}, description="the function's arguments, in order, and "
                                                   "each one's domain (its sympy assumptions and test points)")
        shape: list[int] | None = Field(None, description="the answer is a matrix of this shape ([n] for a vector), "
                                        "compared entry by entry")
        count: int | None = Field(None, ge=1, description="the answer is this many eigenvalues, compared as a multiset")
        seed: int = Field(0, description="seeds the test points")

    def symbols(self):
        return make_symbols(self.settings.symbols)

    def answer(self, student, symbols):
        """The student's decoded answer for the judge's symbols, or a failing Verdict."""
        try:
            return self.call(student, *symbols.values(), symbols=symbols).value
        except StudentError as error:
            return Verdict(False, str(error))

    def shaped(self, value):
        """The answer in the form this check expects (expression, matrix or multiset), or a
        failing Verdict that says what the form should be."""
        shape, count = self.settings.shape, self.settings.count
        if shape:
            result = as_matrix(value, shape)
        elif count:
            result = as_multiset(value)
            if not isinstance(result, str) and len(result) != count:
                result = (f"expected {count} eigenvalues (repeat an eigenvalue once per multiplicity), "
                          f"got {len(result)}")
        else:
            result = value if as_sympy(value) is not None else (
                f"expected a sympy expression built from the arguments, got {wire.kind_name(value)}")
        return Verdict(False, f"{self.function}(): {result}") if isinstance(result, str) else result


class SymbolicEquals(_SymbolicCheck):
    """Equal to the reference: an expression, a matrix entry by entry (params "shape"), or a
    list of eigenvalues as a multiset (params "count")."""

    kind = "symbolic_equals"
    reveals_answer = True
    proves_values = True

    def prepare(self, reference, device):
        symbols = self.symbols()
        return {"expected": wire.encode(self.call(reference, *symbols.values(), symbols=symbols).value),
                "mistakes": reference.mistaken_values(self.function, list(symbols.values()))}

    def run(self, student, prepared, device):
        symbols = self.symbols()
        expected = self.shaped(wire.decode(prepared["expected"], symbols))
        answer = self.answer(student, symbols)
        if not isinstance(answer, Verdict):
            answer = self.shaped(answer)
        if isinstance(answer, Verdict):
            return answer
        verdict, cause = self.compare(answer, expected)
        if verdict.passed:
            return verdict
        cause = self.known_mistake(answer, prepared["mistakes"], symbols) or cause
        return Verdict(False, verdict.message + cause, cause=cause or None)

    def compare(self, answer, expected) -> tuple[Verdict, str]:
        """The verdict, and for a wrong answer a generic likely cause ("" when none fits)."""
        symbols = self.symbols()
        domains, seed = self.settings.symbols, self.settings.seed
        if self.settings.count:
            return _compare_multisets(answer, expected, symbols, domains, seed), ""
        if self.settings.shape:
            return _compare_matrices(answer, expected, symbols, domains, seed)
        outcome = equal(answer, expected, symbols, domains, seed)
        if outcome[0]:
            return Verdict(True, outcome[1]), ""
        _, point, got, want = outcome
        return (Verdict(False, f"your expression differs from the correct one: at {render_point(point)} "
                               f"it gives {render_number(got)}, but the correct value is {render_number(want)}"),
                _numbers_cause(answer, expected, symbols, domains, seed, point))

    def known_mistake(self, answer, mistakes, symbols) -> str:
        """The hint of a known mistake (solutions/<assignment>/mistakes.py) that the answer
        equals, compared as the key is (entry by entry, as a multiset), or ""."""
        for mistake in mistakes:
            value = self.shaped(wire.decode(mistake["value"], symbols))
            if not isinstance(value, Verdict) and self.compare(answer, value)[0].passed:
                return diagnoses.known(mistake["hint"], f"your answer is that of a known mistake: {mistake['hint']}")
        return ""


def _numbers_cause(answer, expected, symbols, domains, seed, failing) -> str:
    """A symbol squared or not (σ for σ²), a constant factor or term (a factor inside a log) that
    the answer and the key differ by at every test point where all are numbers; "" unless the point
    where they were found to differ is one of them (an answer undefined there differs otherwise)."""
    import sympy

    if not all(isinstance(x, float) for x in (number(answer, failing), number(expected, failing))):
        return ""
    altered = _symbol_powers(expected, symbols, domains)
    rows = []
    for point in test_points(symbols, domains, seed):
        row = [number(answer, point), number(expected, point), *(number(e, point) for _, _, e in altered)]
        if all(isinstance(x, float) for x in row):
            rows.append(row)
    if len(rows) < 3:
        return ""
    columns = list(zip(*rows))
    variants = [(cause_id, sentence, list(values)) for (cause_id, sentence, _), values in zip(altered, columns[2:])]
    return diagnoses.explain_numbers(list(columns[0]), list(columns[1]), variants=variants,
                                     logs=expected.has(sympy.log))


def _symbol_powers(expected, symbols, domains) -> list[tuple]:
    """The key with one positive symbol replaced by its square or its square root: the answer of a
    student who wrote σ where σ² belongs (a standard deviation for a variance), or the reverse."""
    import sympy

    chosen = {name: symbol for name, symbol in symbols.items()
              if domains.get(name) in ("positive", "probability") and expected.has(symbol)}
    groups = [[name] for name in chosen] + ([list(chosen)] if len(chosen) > 1 else [])
    out = []
    for names in groups:
        listed = ", ".join(names)
        out.append(("symbol-power", f"those of the correct expression with {listed} replaced by the square root: "
                    f"is {listed} used where its square belongs (a standard deviation for a variance)?",
                    expected.subs({chosen[n]: sympy.sqrt(chosen[n]) for n in names}, simultaneous=True)))
        out.append(("symbol-power", f"those of the correct expression with {listed} replaced by the square: "
                    f"is the square of {listed} used where {listed} belongs (a variance for a standard deviation)?",
                    expected.subs({chosen[n]: chosen[n] ** 2 for n in names}, simultaneous=True)))
    return out


def _compare_matrices(answer, expected, symbols, domains, seed) -> tuple[Verdict, str]:
    for i in range(expected.rows):
        for j in range(expected.cols):
            outcome = equal(answer[i, j], expected[i, j], symbols, domains, seed)
            if not outcome[0]:
                _, point, got, want = outcome
                return (Verdict(False, f"entry [{i}, {j}] (row {i + 1}, column {j + 1}) differs: at "
                                       f"{render_point(point)} it is {render_number(got)}, but should be "
                                       f"{render_number(want)}"),
                        _numbers_cause(answer[i, j], expected[i, j], symbols, domains, seed, point))
    return Verdict(True, "every entry equals the reference"), ""


def _compare_multisets(answer, expected, symbols, domains, seed) -> Verdict:
    for point in test_points(symbols, domains, seed):
        wants = [number(e, point) for e in expected]
        if any(w is None for w in wants):
            continue
        gots = [number(a, point) for a in answer]
        unmatched = list(gots)
        for want in wants:
            match = next((g for g in unmatched if close(g, want)), "none")
            if match == "none":
                return Verdict(False, f"at {render_point(point)} your eigenvalues are "
                                      f"{', '.join(map(render_number, gots))} but should be "
                                      f"{', '.join(map(render_number, wants))}")
            unmatched.remove(match)
    return Verdict(True, f"the same multiset at {POINTS} points of the domain")


class SymbolicForm(_SymbolicCheck):
    """Public sanity check: an expression (or a matrix of the right shape, or the right number of
    eigenvalues) built from the arguments and defined at the domain's anchor point. It reveals
    nothing about the answer."""

    kind = "symbolic_form"

    def run(self, student, prepared, device):
        symbols = self.symbols()
        answer = self.answer(student, symbols)
        if not isinstance(answer, Verdict):
            answer = self.shaped(answer)
        if isinstance(answer, Verdict):
            return answer
        point = next(test_points(symbols, self.settings.symbols, 0))
        scalars = [as_sympy(s) for s in (list(answer) if hasattr(answer, "shape") or isinstance(answer, list)
                                         else [answer])]
        if any(s is None or number(s, point) is None for s in scalars):
            return Verdict(False, f"{self.function}(): not a finite number at {render_point(point)}")
        return Verdict(True, "well-formed")
