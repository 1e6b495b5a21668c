"""Likely causes of a wrong numeric result. The student's result is tried against a catalogue of
transformations of the expected one, computed on the same inputs, most specific first: a known
mistake of the assignment (solutions/<assignment>/mistakes.py), the reference on altered inputs
(checks/variants.py: an integer input off by one, two arguments exchanged, a number argument left
out or applied to the result, a network fed another input), the transpose, a reduction added or
missing, a shape that only broadcasts, a sign, a constant factor (a dimension size, the batch
size, 2 or ½, a simple fraction), an additive constant (log K, D/2·log 2π), a square or a square
root, zero, and right values in some rows only (large inputs, a mask or a timestep). A
transformation must fit every element within the tolerance of the check itself, and fit better
than the expected result does; the first that fits is said as a question, never as a certainty.

Each cause carries a stable id and a short label (`Cause`), which results.json passes on
(extra_data) so that a class report counts causes without reading the sentences."""
from __future__ import annotations

import math
from fractions import Fraction

PREFIX = "\n  likely cause: "
# The mark of a known mistake whose hint was reviewed as stating no hidden answer (mistakes.py:
# (hint, function, PUBLIC_SAFE)): only such hints reach checks that students see before the due date.
PUBLIC_SAFE = "public-safe"

# A short label per generic cause, for class reports; a known mistake's label is its hint's first part.
LABELS = {
    "float32-precision": "computed in float32 where float64 is asked",
    "extra-dimension": "an extra or missing dimension of size 1",
    "wrong-reshape": "reshaped to the wrong shape",
    "broadcast-shape": "a shape that only broadcasts to the asked one",
    "selection-missing": "a reduction or selection missing (the diagonal is right)",
    "diagonal-only": "only the matching pairs, not every pair",
    "row-left-out": "a row left out",
    "reduction-missing": "a sum or mean missing",
    "reduction-extra": "reduced over a dimension that must be kept",
    "transpose": "rows and columns swapped",
    "zeros": "zeros everywhere (unfinished or detached)",
    "opposite-sign": "the opposite sign",
    "argument-twice-or-missing": "a number argument applied twice or missing",
    "mean-for-sum": "averaged where a sum is asked",
    "sum-for-mean": "summed where a mean is asked",
    "factor-half": "a missing or extra factor ½",
    "constant-factor": "a wrong constant factor",
    "log-of-count": "a missing or extra 1/n inside a log",
    "gaussian-constant": "the Gaussian log-density's constant dropped or extra",
    "constant-term": "a dropped or extra constant term",
    "log-factor": "a constant factor inside a log",
    "square-root": "a square root too many (RMSE for MSE)",
    "square": "a square root missing (a variance for a standard deviation)",
    "special-case": "a special case (such as t = 0) not handled",
    "large-inputs": "an overflow or loss of precision at large inputs",
    "some-rows": "right in some rows only",
    "off-by-one": "an integer input off by one (1-based where 0-based is asked)",
    "arguments-swapped": "two arguments exchanged",
    "argument-left-out": "a number argument left out",
    "argument-misplaced": "a number argument applied to the result, not where the formula puts it",
    "network-input": "a network fed another input than the contract's",
    "unstable": "not stable at large inputs (overflow, underflow or lost precision)",
    "symbol-power": "a symbol squared where it should not be, or not squared where it should",
    "forbidden-call": "uses a call the assignment forbids",
}


class Cause(str):
    """A likely cause as the line a message shows (PREFIX and a sentence), carrying a stable id and
    a short label for class reports. It is a str: tests and messages read it as text."""

    id: str
    label: str

    def __new__(cls, cause_id: str, sentence: str, label: str | None = None):
        line = super().__new__(cls, PREFIX + sentence)
        line.id, line.label = cause_id, label or LABELS[cause_id]
        return line


def known(hint: str, sentence: str) -> Cause:
    """A known mistake's cause: its id and label are the hint's first part (before a colon)."""
    label = hint.split(":", 1)[0].strip()
    return Cause(f"known: {label}", sentence, label)


def explain(actual, expected, dtype: str, inputs: dict, mistakes=(), what: str = "values", variants=(),
            avoid=frozenset()) -> str:
    """The likely cause as a `Cause` (a message line), or "" when nothing fits.
    actual, expected: tensors (any shapes); inputs: the call's arguments by name; mistakes:
    (hint, value tensor) pairs of the assignment's known mistakes on the same inputs; variants:
    (id, sentence, value tensor) of the reference on altered inputs (checks/variants.py); avoid:
    calls the assignment forbids, which no sentence recommends."""
    import torch

    if not isinstance(actual, torch.Tensor) or not isinstance(expected, torch.Tensor):
        return ""
    a, b = actual.detach().cpu().double(), expected.detach().cpu().double()
    close = _closeness(dtype)
    if a.shape == b.shape and close(a, b):   # right values (another dtype, say): no mistake to name
        return ""
    sizes = _sizes(inputs)
    # Known mistakes and variants are compared at float32's precision or looser: computed in float32
    # somewhere (or prepared on another CPU), their last bits are not this machine's.
    near = _closeness("float32") if dtype == "float64" else close
    for hint, value in mistakes:
        if value is not None and value.shape == a.shape and _fits(a, value.double(), b, near):
            return known(hint, f"your {what} are those of a known mistake: {hint}")
    if dtype == "float64" and a.shape == b.shape and _closeness("float32")(a, b):
        return Cause("float32-precision", f"your {what} agree with the expected ones only to float32's precision: "
                     "is something computed in float32 (a tensor made without dtype=torch.float64, an integer "
                     "tensor divided by a number)?")
    if a.shape != b.shape:
        return _reshaped(a, b, close, sizes, inputs) or _variant(a, b, near, variants, what) or ""
    return _same_shape(a, b, close, sizes, inputs, what, lambda: _variant(a, b, near, variants, what), avoid) or ""


def _variant(a, b, near, variants, what) -> Cause | None:
    """The first variant (the reference on altered inputs) whose value the result is."""
    for cause_id, sentence, value in variants:
        if value is not None and value.shape == a.shape and _fits(a, value.double(), b, near):
            return Cause(cause_id, f"your {what} are {sentence}")
    return None


def _closeness(dtype: str):
    """Whether two tensors agree within the tolerance that value_mismatch applies."""
    import torch

    from .tensors import TOLERANCES

    rtol, atol = TOLERANCES.get(dtype, TOLERANCES["float32"])

    def close(x, y) -> bool:
        if x.shape != y.shape or not bool((torch.isfinite(x) == torch.isfinite(y)).all()):
            return False
        finite = torch.isfinite(y)
        if not finite.any():
            return bool((x == y).all())
        scale = max(1.0, y[finite].abs().max().item())
        return bool(((x - y).abs()[finite] <= atol * scale + rtol * y[finite].abs()).all())
    return close


def _fits(a, candidate, b, close) -> bool:
    """Whether `a` is `candidate` within tolerance and nearer to it than to the expected `b`: a
    loose tolerance (bfloat16) must not name a mistake that differs from the answer as much as the
    expected result does."""
    import torch

    if not close(a, candidate):
        return False
    if a.shape != b.shape:   # a result of another shape cannot be near the expected one
        return True
    if not bool((torch.isfinite(a) == torch.isfinite(b)).all()):   # a's infinities are the candidate's, not b's
        return True
    finite = torch.isfinite(b) & torch.isfinite(candidate)
    return not finite.any() or bool((a - candidate)[finite].abs().max() < (a - b)[finite].abs().max())


def _sizes(inputs: dict) -> list[tuple[float, str]]:
    """What the inputs offer as factors, with a phrase for each, most telling first: the sizes of
    their dimensions, the number of elements per example and in all, and numbers passed as
    arguments (a temperature, beta)."""
    import torch

    sizes = []
    for name, t in inputs.items():
        if type(t) in (int, float) and t not in (0, 1, -1):
            sizes.append((abs(t), f"{name} = {t:g}"))
        if not isinstance(t, torch.Tensor) or t.dim() == 0:
            continue
        for axis in reversed(range(t.dim())):
            where = "the last dimension" if axis == t.dim() - 1 else f"dimension {axis}"
            sizes.append((t.shape[axis], f"{t.shape[axis]} is the size of {where} of {name}"))
        if t.dim() > 2:
            sizes.append((math.prod(t.shape[1:]), f"{math.prod(t.shape[1:])} is the number of elements per example of {name}"))
        if t.dim() > 1:
            sizes.append((t.numel(), f"{t.numel()} is the number of elements of {name}"))
    return [(n, phrase) for n, phrase in sizes if n >= 2 or "=" in phrase]


def shape_owner(shape: tuple, inputs: dict) -> str:
    """The name of an input of exactly this shape, for messages ("x's shape"), or ""."""
    return next((name for name, t in inputs.items() if tuple(getattr(t, "shape", ())) == tuple(shape)
                 and len(shape) > 0 and hasattr(t, "dim")), "")


def broadcast_sentence(actual_shape: tuple, expected_shape: tuple, inputs: dict) -> str | None:
    """"shaped (4, 1); the result has x's shape (4, 3): expand it" for a shape that broadcasts to
    the expected one (as many dimensions, each equal or 1), else None."""
    actual_shape, expected_shape = tuple(actual_shape), tuple(expected_shape)
    if len(actual_shape) != len(expected_shape) or actual_shape == expected_shape or not all(
            a in (e, 1) for a, e in zip(actual_shape, expected_shape)):
        return None
    owner = shape_owner(expected_shape, inputs)
    whose = f"{owner}'s shape {expected_shape}" if owner else f"the full shape {expected_shape}"
    example = f".expand_as({owner})" if owner else f".expand{expected_shape}"
    return (f"shaped {actual_shape}, which broadcasts to the expected shape; the result must have {whose}: "
            f"expand it ({example}) or compute it at full shape")


def _reshaped(a, b, close, sizes, inputs) -> Cause | None:
    """A result of another shape whose values are the expected ones, reduced or not."""
    if a.numel() == b.numel() and close(a.reshape(b.shape), b):
        if a.squeeze().shape == b.squeeze().shape:
            return Cause("extra-dimension", f"your values are right but shaped {tuple(a.shape)} instead of "
                         f"{tuple(b.shape)}: an extra or missing dimension of size 1 (keepdim=True, unsqueeze)?")
        return Cause("wrong-reshape", f"your values are right, in the right order, but shaped {tuple(a.shape)} "
                     f"instead of {tuple(b.shape)}: a reshape or view to the wrong shape?")
    broadcast = broadcast_sentence(tuple(a.shape), tuple(b.shape), inputs)
    if broadcast and close(a.expand(b.shape), b):
        return Cause("broadcast-shape", f"your values are right but {broadcast}")
    if a.dim() == 2 and b.dim() == 1 and a.shape[0] == a.shape[1] == b.shape[0] and close(a.diagonal(), b):
        return Cause("selection-missing",
                     "the diagonal of your result is the expected result: is a reduction or selection missing?")
    if a.dim() == 1 and b.dim() == 2 and b.shape[0] == b.shape[1] == a.shape[0] and close(a, b.diagonal()):
        return Cause("diagonal-only", "your result is the diagonal of the expected matrix: the expected result "
                     "holds every pair, not only the matching ones")
    if a.dim() == b.dim() >= 1 and a.shape[1:] == b.shape[1:] and a.shape[0] == b.shape[0] - 1:
        for rows, which in ((b[1:], "first"), (b[:-1], "last")):
            if close(a, rows):
                return Cause("row-left-out", f"your result is the expected one without its {which} row: is a "
                             "row (a starting point?) left out?")
    for axis in range(a.dim()):
        for reduction, verb in (("sum", "summed"), ("mean", "averaged")):
            if a.dim() == b.dim() + 1 and close(getattr(a, reduction)(axis), b):
                return Cause("reduction-missing", f"your result {verb} over dimension {axis} (of size "
                             f"{a.shape[axis]}) is the expected one: is that {reduction} missing?")
    for axis in range(b.dim()):
        for reduction, verb in (("sum", "summed"), ("mean", "averaged")):
            if b.dim() == a.dim() + 1 and close(a, getattr(b, reduction)(axis)):
                return Cause("reduction-extra", f"your result is the expected one {verb} over dimension {axis} "
                             f"(of size {b.shape[axis]}): the result keeps that dimension, reduce only over the others")
    return None


def explain_numbers(actual: list[float], expected: list[float], what: str = "expression's values",
                    variants=(), logs: bool = False) -> str:
    """The likely cause for the values of an expression at test points (checks/symbolic.py): one
    of `variants` ((id, sentence, values) of the expected expression transformed: a symbol squared
    or not), a sign, a constant factor or an additive constant (with `logs`, where the expected
    expression has a log, an offset of log c is a factor c inside it); "" when none fits."""
    import torch

    a, b = torch.tensor(actual, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64)
    close = _closeness("float64")
    if close(a, b):   # the same numbers here: the difference lies elsewhere
        return ""
    for cause_id, sentence, values in variants:
        candidate = torch.tensor(values, dtype=torch.float64)
        if candidate.shape == a.shape and _fits(a, candidate, b, close):
            return Cause(cause_id, f"your {what} are {sentence}")
    if bool((b == b[0]).all()):   # a constant (a range's end, a matrix entry): only a sign says anything
        return _factor(-1.0, [], what, True) if close(a, -b) and b[0] != 0 else ""
    return _scaled_or_shifted(a, b, close, [], what, logs) or ""


def _same_shape(a, b, close, sizes, inputs, what, variant, avoid) -> Cause | None:
    if a.dim() == 2 and a.shape[0] == a.shape[1] > 1 and _fits(a, b.T, b, close):
        return Cause("transpose", f"your {what} are the transpose of the expected ones: rows and columns swapped?")
    if bool((a == 0).all()) and bool((b != 0).any()):
        return Cause("zeros", f"your {what} are 0 everywhere: is the computation unfinished, or detached?")
    return (variant() or _scaled_or_shifted(a, b, close, sizes, what) or _power(a, b, close, what)
            or _some_rows(a, b, close, inputs, what, avoid))


def _scaled_or_shifted(a, b, close, sizes, what, logs: bool = False) -> Cause | None:
    """A constant factor or offset that fits every element. With a single distinct expected value
    (a scalar) any wrong number is "a factor": then only a named constant counts."""
    import torch

    finite = torch.isfinite(b) & (b != 0)
    if not finite.any():
        return None
    distinct = b[finite].unique().numel() > 1
    anchor = b.abs().where(finite, torch.zeros_like(b)).argmax()
    factor = (a.reshape(-1)[anchor] / b.reshape(-1)[anchor]).item()
    cause = None
    if math.isfinite(factor) and factor != 0 and _fits(a, factor * b, b, close):
        cause = _factor(factor, sizes, what, named_only=not distinct)
    offset = (a.reshape(-1)[anchor] - b.reshape(-1)[anchor]).item()
    if cause is None and math.isfinite(offset) and _fits(a, b + offset, b, close):   # a scalar fits both
        cause = _offset(offset, sizes, what, named_only=not distinct, logs=logs)
    return cause


def _power(a, b, close, what) -> Cause | None:
    """The square root or the square of the expected values (an RMSE for an MSE, a variance for a
    standard deviation); not where they nearly equal their own square (0 and 1)."""
    import torch

    finite = torch.isfinite(b)
    if not finite.any() or bool(((b[finite].abs() - 1).abs() < 0.05).all()) or bool((b[finite] == 0).all()):
        return None
    if bool((b[finite] >= 0).all()) and _fits(a, b.clamp(min=0).sqrt(), b, close):
        return Cause("square-root", f"your {what} are the square roots of the expected ones: a square root too "
                     "many (a root mean square for a mean square, a standard deviation for a variance)?")
    if _fits(a, b * b, b, close):
        return Cause("square", f"your {what} are the squares of the expected ones: a square root missing (a "
                     "variance for a standard deviation), or a square too many?")
    return None


def _near(x: float, target: float) -> bool:
    return abs(x - target) <= 1e-4 * abs(target)


def _factor(c: float, sizes, what: str, named_only: bool) -> Cause | None:
    sign = "with the opposite sign, " if c < 0 else ""
    m = abs(c)
    if _near(m, 1.0):
        if c > 0:   # close to the expected values, but not within tolerance: no factor to name
            return None
        return Cause("opposite-sign", f"your {what} have the opposite sign of the expected ones: a maximised "
                     "objective where its negative (a loss) is asked for, or a subtraction the wrong way round?")
    for n, phrase in sizes:
        if "=" in phrase and (_near(m, n) or _near(m, 1 / n)):   # a number passed as an argument
            times = (f"{n:g} times" if _near(m, n) else f"1/{n:g} of" if n > 1
                     else f"1/{n:g} = {1 / n:.4g} times")
            return Cause("argument-twice-or-missing", f"your {what} are {sign}{times} the expected ones, and "
                         f"{phrase}: is it applied twice, or missing?")
        if _near(m, 1 / n):
            return Cause("mean-for-sum", f"your {what} are {sign}1/{n} of the expected ones, and {phrase}: did "
                         "you average where a sum is asked for?")
        if _near(m, n):
            return Cause("sum-for-mean", f"your {what} are {sign}{n} times the expected ones, and {phrase}: did "
                         "you sum where a mean is asked for?")
    if _near(m, 2.0) or _near(m, 0.5):
        return Cause("factor-half", f"your {what} are {sign}{'twice' if m > 1 else 'half'} the expected ones: a "
                     "missing or extra factor ½?")
    if named_only:
        return None
    fraction = Fraction(m).limit_denominator(12)
    if fraction.numerator <= 12 and _near(m, float(fraction)):
        return Cause("constant-factor", f"your {what} are {sign}{fraction} times the expected ones: a wrong "
                     "constant factor?")
    return Cause("constant-factor", f"your {what} are {c:.4g} times the expected ones everywhere: a wrong constant factor?")


# constants whose log is a likely offset: a factor inside a log (log 2x for log x); log 2 is a
# constant term of its own too (of the JSD, of a binary entropy), a factor only inside an expression's log
LOG_FACTORS = ((2.0, "2"), (3.0, "3"), (4.0, "4"), (math.pi, "π"), (2 * math.pi, "2π"), (10.0, "10"))


def _offset(d: float, sizes, what: str, named_only: bool, logs: bool = False) -> Cause | None:
    direction = "above" if d > 0 else "below"
    magnitude = abs(d)
    if logs and (factor := _log_factor(magnitude, what, direction)):
        return factor
    for n, phrase in (size for size in sizes if "=" not in size[1]):   # dimensions, not arguments
        if _near(magnitude, math.log(n)):
            return Cause("log-of-count", f"your {what} are log {n} = {magnitude:.4g} {direction} the expected ones, "
                         f"and {phrase}: a missing or extra 1/{n} inside a log (a sum where a mean is asked for)?")
        if _near(magnitude, n / 2 * math.log(2 * math.pi)):
            return Cause("gaussian-constant", f"your {what} are {n}/2·log 2π {direction} the expected ones, and "
                         f"{phrase}: a dropped or extra constant term of the Gaussian log-density?")
    for value, name in ((0.5 * math.log(2 * math.pi), "½·log 2π"), (math.log(2), "log 2"), (0.5, "½"), (1.0, "1")):
        if _near(magnitude, value):
            return Cause("constant-term", f"your {what} are {name} {direction} the expected ones: a dropped or "
                         "extra constant term?")
    factor = _log_factor(magnitude, what, direction, skip=("2",))
    if factor:
        return factor
    if named_only:
        return None
    return Cause("constant-term", f"your {what} are {magnitude:.4g} {direction} the expected ones everywhere: a "
                 "dropped or extra constant term?")


def _log_factor(magnitude: float, what: str, direction: str, skip=()) -> Cause | None:
    for value, name in LOG_FACTORS:
        if name not in skip and _near(magnitude, math.log(value)):
            return Cause("log-factor", f"your {what} are log {name} = {magnitude:.4g} {direction} the expected ones: "
                         f"a factor {name} (or 1/{name}) inside a log, or a constant term too many or too few?")
    return None


def stable_forms(forms: tuple, avoid=frozenset()) -> str:
    """The stable forms a hint recommends, those the assignment forbids (`avoid`) left out."""
    allowed = [form for form in forms if form not in avoid]
    return ", ".join(allowed) if allowed else "a form that never takes the exp of a large number"


def _some_rows(a, b, close, inputs, what, avoid=frozenset()) -> Cause | None:
    """Right in some rows (along dimension 0) only: say which rows, and what sets them apart."""
    import torch

    if a.dim() == 0 or a.shape[0] < 4:   # in fewer rows, which ones agree is a coincidence
        return None
    rows = a.shape[0]
    wrong = torch.tensor([not close(a[i], b[i]) for i in range(rows)])
    if not wrong.any() or 2 * int(wrong.sum()) >= rows:   # half or more wrong: rows that agree say little
        return None
    for name, t in inputs.items():
        if not isinstance(t, torch.Tensor) or t.dim() == 0 or t.shape[0] != rows:
            continue
        flat = t.detach().cpu().reshape(rows, -1)
        if flat.shape[1] == 0:
            continue
        if flat.shape[1] == 1 and (not t.is_floating_point() or bool(((flat == 0) | (flat == 1)).all())):
            for value in flat[wrong, 0].unique():
                if torch.equal(wrong, flat[:, 0] == value):
                    return Cause("special-case", f"your {what} are right except where {name} = {value.item():g}: "
                                 "is that case handled?")
        if t.is_floating_point():
            size = flat.abs().max(1).values.double()
            if size[wrong].min() > 2 * size[~wrong].max():   # a clear gap, not a ranking by chance
                return Cause("large-inputs", f"your {what} are right except in the rows with the largest |{name}| "
                             f"(from {size[wrong].min().item():.3g}): an overflow or a loss of precision? prefer "
                             f"stable forms ({stable_forms(('logsumexp', 'softplus', 'logsigmoid'), avoid)})")
    listed = ", ".join(str(i) for i in torch.nonzero(wrong).reshape(-1).tolist()[:6])
    return Cause("some-rows", f"your {what} are right in {int((~wrong).sum())} of {rows} rows, wrong in rows {listed}")


def unstable(dtype: str, inputs: dict, advice: str) -> Cause:
    """A stability check's cause, the same on every CPU: the function's values are right at moderate
    inputs (its other checks say so), wrong at this case's large ones, whether this machine's
    kernels gave inf, NaN or only lost digits there."""
    import torch

    largest = [(t.detach().abs().max().item(), name) for name, t in inputs.items()
               if isinstance(t, torch.Tensor) and t.is_floating_point() and t.numel()]
    size, name = max(largest, key=lambda pair: pair[0], default=(0.0, ""))   # the first input on a tie
    where = f" at |{name}| up to {size:g}" if name else ""
    return Cause("unstable", f"not stable in {dtype}{where}: your values are right at moderate inputs, but here "
                 f"an overflow, an underflow or a loss of precision (inf, NaN or lost digits, depending on the "
                 f"machine) makes them wrong where the stable form is exact: {advice}")
