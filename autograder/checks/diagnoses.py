"""Likely causes of a wrong numeric result. The student's result is tried against a catalogue of
transformations of the expected one, computed on the same inputs, most specific first: a known
mistake of the assignment (solutions/<assignment>/mistakes.py), the transpose, a reduction added
or missing, a sign, a constant factor (a dimension size, the batch size, 2 or ½, a simple
fraction), an additive constant (log K, D/2·log 2π), zero, and right values in some rows only
(large inputs, a mask or a timestep). A transformation must fit every element within the
tolerance of the check itself, and fit better than the expected result does; the first that fits
is said as a question, never as a certainty."""
from __future__ import annotations

import math
from fractions import Fraction

PREFIX = "\n  likely cause: "


def explain(actual, expected, dtype: str, inputs: dict, mistakes=(), what: str = "values") -> str:
    """The likely cause as a message line (PREFIX, a sentence), or "" when nothing fits.
    actual, expected: tensors (any shapes); inputs: the call's arguments by name; mistakes:
    (hint, value tensor) pairs of the assignment's known mistakes on the same inputs."""
    import torch

    if not isinstance(actual, torch.Tensor) or not isinstance(expected, torch.Tensor):
        return ""
    a, b = actual.detach().cpu().double(), expected.detach().cpu().double()
    close = _closeness(dtype)
    if a.shape == b.shape and close(a, b):   # right values (another dtype, say): no mistake to name
        return ""
    sizes = _sizes(inputs)
    for hint, value in mistakes:
        if value is not None and value.shape == a.shape and _fits(a, value.double(), b, close):
            return f"{PREFIX}your {what} are those of a known mistake: {hint}"
    if dtype == "float64" and a.shape == b.shape and _closeness("float32")(a, b):
        return (f"{PREFIX}your {what} agree with the expected ones only to float32's precision: is something "
                "computed in float32 (a tensor made without dtype=torch.float64, an integer tensor divided by a "
                "number)?")
    sentence = _reshaped(a, b, close, sizes) if a.shape != b.shape else _same_shape(a, b, close, sizes, inputs, what)
    return f"{PREFIX}{sentence}" if sentence else ""


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


def _reshaped(a, b, close, sizes) -> str | None:
    """A result of another shape whose values are the expected ones, reduced or not."""
    if a.numel() == b.numel() and close(a.reshape(b.shape), b):
        if a.squeeze().shape == b.squeeze().shape:
            return (f"your values are right but shaped {tuple(a.shape)} instead of {tuple(b.shape)}: "
                    "an extra or missing dimension of size 1 (keepdim=True, unsqueeze)?")
        return (f"your values are right, in the right order, but shaped {tuple(a.shape)} instead of "
                f"{tuple(b.shape)}: a reshape or view to the wrong shape?")
    if a.dim() == 2 and b.dim() == 1 and a.shape[0] == a.shape[1] == b.shape[0] and close(a.diagonal(), b):
        return "the diagonal of your result is the expected result: is a reduction or selection missing?"
    if a.dim() == 1 and b.dim() == 2 and b.shape[0] == b.shape[1] == a.shape[0] and close(a, b.diagonal()):
        return ("your result is the diagonal of the expected matrix: the expected result holds every "
                "pair, not only the matching ones")
    if a.dim() == b.dim() >= 1 and a.shape[1:] == b.shape[1:] and a.shape[0] == b.shape[0] - 1:
        for rows, which in ((b[1:], "first"), (b[:-1], "last")):
            if close(a, rows):
                return f"your result is the expected one without its {which} row: is a row (a starting point?) left out?"
    for axis in range(a.dim()):
        for reduction, verb in (("sum", "summed"), ("mean", "averaged")):
            if a.dim() == b.dim() + 1 and close(getattr(a, reduction)(axis), b):
                return (f"your result {verb} over dimension {axis} (of size {a.shape[axis]}) is the "
                        f"expected one: is that {reduction} missing?")
    for axis in range(b.dim()):
        for reduction, verb in (("sum", "summed"), ("mean", "averaged")):
            if b.dim() == a.dim() + 1 and close(a, getattr(b, reduction)(axis)):
                return (f"your result is the expected one {verb} over dimension {axis} (of size "
                        f"{b.shape[axis]}): the result keeps that dimension, reduce only over the others")
    return None


def explain_numbers(actual: list[float], expected: list[float], what: str = "expression's values") -> str:
    """The likely cause for the values of an expression at test points (checks/symbolic.py): a
    sign, a constant factor or an additive constant; "" when none fits."""
    import torch

    a, b = torch.tensor(actual, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64)
    close = _closeness("float64")
    if close(a, b):   # the same numbers here: the difference lies elsewhere
        return ""
    if bool((b == b[0]).all()):   # a constant (a range's end, a matrix entry): only a sign says anything
        sentence = _factor_sentence(-1.0, [], what, True) if close(a, -b) and b[0] != 0 else None
    else:
        sentence = _scaled_or_shifted(a, b, close, [], what)
    return f"{PREFIX}{sentence}" if sentence else ""


def _same_shape(a, b, close, sizes, inputs, what) -> str | None:
    if a.dim() == 2 and a.shape[0] == a.shape[1] > 1 and _fits(a, b.T, b, close):
        return f"your {what} are the transpose of the expected ones: rows and columns swapped?"
    if bool((a == 0).all()) and bool((b != 0).any()):
        return f"your {what} are 0 everywhere: is the computation unfinished, or detached?"
    return _scaled_or_shifted(a, b, close, sizes, what) or _some_rows(a, b, close, inputs, what)


def _scaled_or_shifted(a, b, close, sizes, what) -> str | None:
    """A constant factor or offset that fits every element. With a single distinct expected value
    (a scalar) any wrong number is "a factor": then only a named constant counts."""
    import torch

    finite = torch.isfinite(b) & (b != 0)
    if not finite.any():
        return None
    distinct = b[finite].unique().numel() > 1
    anchor = b.abs().where(finite, torch.zeros_like(b)).argmax()
    factor = (a.reshape(-1)[anchor] / b.reshape(-1)[anchor]).item()
    sentence = None
    if math.isfinite(factor) and factor != 0 and _fits(a, factor * b, b, close):
        sentence = _factor_sentence(factor, sizes, what, named_only=not distinct)
    offset = (a.reshape(-1)[anchor] - b.reshape(-1)[anchor]).item()
    if sentence is None and math.isfinite(offset) and _fits(a, b + offset, b, close):   # a scalar fits both
        sentence = _offset_sentence(offset, sizes, what, named_only=not distinct)
    return sentence


def _near(x: float, target: float) -> bool:
    return abs(x - target) <= 1e-4 * abs(target)


def _factor_sentence(c: float, sizes, what: str, named_only: bool) -> str | None:
    sign = "with the opposite sign, " if c < 0 else ""
    m = abs(c)
    if _near(m, 1.0):
        if c > 0:   # close to the expected values, but not within tolerance: no factor to name
            return None
        return (f"your {what} have the opposite sign of the expected ones: a maximised objective "
                "where its negative (a loss) is asked for, or a subtraction the wrong way round?")
    for n, phrase in sizes:
        if "=" in phrase and (_near(m, n) or _near(m, 1 / n)):   # a number passed as an argument
            times = (f"{n:g} times" if _near(m, n) else f"1/{n:g} of" if n > 1
                     else f"1/{n:g} = {1 / n:.4g} times")
            return f"your {what} are {sign}{times} the expected ones, and {phrase}: is it applied twice, or missing?"
        if _near(m, 1 / n):
            return (f"your {what} are {sign}1/{n} of the expected ones, and {phrase}: did you "
                    "average where a sum is asked for?")
        if _near(m, n):
            return (f"your {what} are {sign}{n} times the expected ones, and {phrase}: did you sum "
                    "where a mean is asked for?")
    if _near(m, 2.0) or _near(m, 0.5):
        return f"your {what} are {sign}{'twice' if m > 1 else 'half'} the expected ones: a missing or extra factor ½?"
    if named_only:
        return None
    fraction = Fraction(m).limit_denominator(12)
    if fraction.numerator <= 12 and _near(m, float(fraction)):
        return f"your {what} are {sign}{fraction} times the expected ones: a wrong constant factor?"
    return f"your {what} are {c:.4g} times the expected ones everywhere: a wrong constant factor?"


def _offset_sentence(d: float, sizes, what: str, named_only: bool) -> str | None:
    direction = "above" if d > 0 else "below"
    magnitude = abs(d)
    for n, phrase in (size for size in sizes if "=" not in size[1]):   # dimensions, not arguments
        if _near(magnitude, math.log(n)):
            return (f"your {what} are log {n} = {magnitude:.4g} {direction} the expected ones, and "
                    f"{phrase}: a missing or extra 1/{n} inside a log (a sum where a mean is asked for)?")
        if _near(magnitude, n / 2 * math.log(2 * math.pi)):
            return (f"your {what} are {n}/2·log 2π {direction} the expected ones, and {phrase}: a "
                    "dropped or extra constant term of the Gaussian log-density?")
    for value, name in ((0.5 * math.log(2 * math.pi), "½·log 2π"), (math.log(2), "log 2"), (0.5, "½"), (1.0, "1")):
        if _near(magnitude, value):
            return f"your {what} are {name} {direction} the expected ones: a dropped or extra constant term?"
    if named_only:
        return None
    return f"your {what} are {magnitude:.4g} {direction} the expected ones everywhere: a dropped or extra constant term?"


def _some_rows(a, b, close, inputs, what) -> str | None:
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
                    return f"your {what} are right except where {name} = {value.item():g}: is that case handled?"
        if t.is_floating_point():
            size = flat.abs().max(1).values.double()
            if size[wrong].min() > 2 * size[~wrong].max():   # a clear gap, not a ranking by chance
                return (f"your {what} are right except in the rows with the largest |{name}| (from "
                        f"{size[wrong].min().item():.3g}): an overflow or a loss of precision? prefer "
                        "stable forms (logsumexp, softplus, logsigmoid)")
    listed = ", ".join(str(i) for i in torch.nonzero(wrong).reshape(-1).tolist()[:6])
    return f"your {what} are right in {int((~wrong).sum())} of {rows} rows, wrong in rows {listed}"
