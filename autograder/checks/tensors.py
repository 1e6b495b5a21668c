"""Tensor helpers shared by the checks: seeded inputs from recipes, and comparisons whose
failure messages say what is wrong (shape, dtype, device, gradient, value at an index)."""
from __future__ import annotations

import math

from .. import wire

# (rtol, atol relative to the expected values' magnitude): float32 leaves room for other
# algebra and summation orders; float64 does not need it.
TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-12), "bfloat16": (2e-2, 1e-2),
              "float16": (2e-3, 1e-3)}
# A float64 value computed through float32 somewhere differs from the exact one by about float32's
# epsilon (1.2e-7) relative to each element: such a difference is rounding, not a mistake of its own.
FLOAT32_ROUNDING = "float32 rounding"
TOLERANCES[FLOAT32_ROUNDING] = (2e-6, 1e-12)


def make_input(recipe, dtype: str, seed: int, device: str):
    """A recipe is {"normal": shape, "scale": s, "shift": m}, {"uniform": shape, "low": a,
    "high": b}, {"value": literal}, {"function": name, **parameters} (a wire.Elementwise),
    {"module": kind, **settings} (a network, flow layer or density: autograder.modules),
    {"list": [recipe, ...]}, {"tensor": nested list} (exactly these values), {"permutation": n}
    (1..n in a random order, int64) or {"integers": shape, "low": a, "high": b} (int64 in [a, b]);
    "unit_rows": true scales a drawn tensor's rows (along the last dimension) to unit norm.
    Floating tensors are drawn in float64 on the CPU, then cast to dtype (or the recipe's "dtype")."""
    import torch

    if "value" in recipe:
        return recipe["value"]
    if "function" in recipe:
        return wire.Elementwise(recipe["function"], {k: v for k, v in recipe.items() if k != "function"})
    if "module" in recipe:
        from .. import modules

        return modules.draw(recipe, dtype, seed, device)
    if "list" in recipe:
        return [make_input(r, dtype, seed + 1000 * (i + 1), device) for i, r in enumerate(recipe["list"])]
    if "tensor" in recipe:
        return torch.tensor(recipe["tensor"], dtype=getattr(torch, recipe.get("dtype", dtype)), device=device)
    generator = torch.Generator().manual_seed(seed)
    if "permutation" in recipe:
        return (torch.randperm(recipe["permutation"], generator=generator) + 1).to(device)
    if "integers" in recipe:
        return torch.randint(recipe["low"], recipe["high"] + 1, recipe["integers"], generator=generator).to(device)
    if "normal" in recipe:
        t = torch.randn(recipe["normal"], generator=generator, dtype=torch.float64)
        t = t * recipe.get("scale", 1.0) + recipe.get("shift", 0.0)
    else:
        t = torch.rand(recipe["uniform"], generator=generator, dtype=torch.float64)
        t = recipe.get("low", 0.0) + (recipe.get("high", 1.0) - recipe.get("low", 0.0)) * t
    if recipe.get("unit_rows"):
        t = t / t.norm(dim=-1, keepdim=True)
    return t.to(dtype=getattr(torch, recipe.get("dtype", dtype)), device=device)


def make_inputs(case: dict, device: str):
    args = [make_input(r, case["dtype"], case["seed"] + i, device) for i, r in enumerate(case["args"])]
    kwargs = {k: make_input(r, case["dtype"], case["seed"] + 100 + i, device)
              for i, (k, r) in enumerate(case.get("kwargs", {}).items())}
    return args, kwargs


def project_to_constraint(recipe: dict, gradient: wire.TensorInfo, point) -> wire.TensorInfo:
    """The part of `gradient` tangent to the surface the input was drawn on (see the recipe):
    for "unit_rows", g - (g . x) x row by row. Inputs without a constraint are returned as they are."""
    if not isinstance(recipe, dict) or not recipe.get("unit_rows"):
        return gradient
    g, x = gradient.tensor.double(), point.detach().to("cpu").double()
    tangent = g - (g * x).sum(-1, keepdim=True) * x
    return wire.TensorInfo(tangent.to(gradient.tensor.dtype), gradient.dtype, gradient.shape, gradient.device)


def describe_case(case: dict, arg_names: list[str], args) -> str:
    parts = [f"{n} of shape {tuple(a.shape)}" if hasattr(a, "shape") and not callable(a) else f"{n} = {a!r}"
             for n, a in zip(arg_names, args)]
    parts += [f"{k} = {v['value']!r}" for k, v in case.get("kwargs", {}).items() if "value" in v]
    return f"{case['dtype']} inputs: {', '.join(parts)}"


def mismatch(actual, expected: wire.TensorInfo, what: str, values: bool = True,
             any_dtype: bool = False, shape_hint: bool = True, inputs: dict | None = None,
             finite_hint: bool = True, avoid=frozenset()) -> str | None:
    """None when `actual` matches `expected`, else a sentence about the first difference.
    With any_dtype, any floating dtype is accepted and compared at float32's tolerance; with
    shape_hint, a wrong shape comes with a guess at its cause (naming the input of the expected
    shape, from `inputs`); with finite_hint, a value that is wrongly inf or NaN with what commonly
    makes it so (never recommending a call in `avoid`)."""
    if type(actual) in (int, float) and expected.shape == () and expected.dtype.startswith(("float", "bfloat")):
        # a plain Python number for a 0-d result: its value counts (a gradient cannot reach it)
        if not values or expected.tensor is None:
            return None
        import torch

        return value_mismatch(torch.tensor(float(actual), dtype=torch.float64), expected.tensor, expected.dtype,
                              what, finite_hint, avoid)
    if not isinstance(actual, wire.TensorInfo):
        return f"{what} is {wire.kind_name(actual)}, expected a tensor of shape {expected.shape}"
    if actual.shape != expected.shape:
        guess = guess_from_shapes(actual.shape, expected.shape, inputs or {}) if shape_hint else ""
        return f"{what} has shape {actual.shape}, expected {expected.shape}{guess}"
    if any_dtype and actual.dtype.startswith(("float", "bfloat")):
        return None if not values else value_mismatch(actual.tensor, expected.tensor, "float32", what, finite_hint, avoid)
    if actual.dtype != expected.dtype:
        return (f"{what} has dtype {actual.dtype} but should be {expected.dtype}, like the inputs "
                "(do not hard-code a dtype)")
    if actual.device.split(":")[0] != expected.device.split(":")[0]:
        return (f"{what} is on device {actual.device} but should be on {expected.device}, like "
                "the inputs (create new tensors with the inputs' device, e.g. torch.randn_like)")
    if not values or expected.tensor is None:
        return None
    return value_mismatch(actual.tensor, expected.tensor, expected.dtype, what, finite_hint, avoid)


def value_mismatch(actual, expected, dtype: str, what: str, finite_hint: bool = True,
                   avoid=frozenset()) -> str | None:
    import torch

    a, b = actual.double(), expected.double()
    bad_finite = torch.isfinite(a) != torch.isfinite(b)
    if bad_finite.any():
        index = _index(bad_finite)
        hint = f" ({_non_finite_hint(a[index].item(), b[index].item(), avoid)})" if finite_hint else ""
        return f"{what} is {a[index].item()} at index {index}, expected {b[index].item():.6g}{hint}"
    rtol, atol = TOLERANCES.get(dtype, TOLERANCES["float32"])
    finite = torch.isfinite(b)
    scale = max(1.0, b[finite].abs().max().item()) if finite.any() else 1.0
    error = torch.where(finite, (a - b).abs(), torch.zeros_like(a))
    too_far = error > atol * scale + rtol * b.abs().where(finite, torch.zeros_like(b))
    if not too_far.any():
        return None
    index = _index(too_far)
    where = f" at index {index}" if a.dim() else ""
    got, want = f"{a[index].item():.6g}", f"{b[index].item():.6g}"
    if got == want:   # they differ beyond 6 digits (a float64 tolerance): show every digit
        got, want = repr(a[index].item()), repr(b[index].item())
    return f"{what} is {got}{where}, expected {want}"


def _non_finite_hint(got: float, want: float, avoid=frozenset()) -> str:
    """What commonly makes a value NaN or infinite where a finite one (or another) is expected (never
    recommending a call in `avoid`, what the assignment forbids)."""
    from .diagnoses import stable_forms

    if math.isnan(got) and not math.isnan(want):
        return ("a log or square root of a negative number, inf - inf after an overflow, or log 0 in a branch "
                "of torch.where that is not selected (both branches are differentiated)?")
    if got == -math.inf:
        return ("a log of 0 (an underflow)? clamp what goes into the log, or use a stable form: "
                + stable_forms(("logsigmoid", "log_softmax", "logsumexp"), avoid))
    return "an overflow? prefer stable forms: " + stable_forms(("softplus", "logsigmoid", "logsumexp"), avoid)


def guess_from_shapes(actual: tuple, expected: tuple, inputs: dict | None = None) -> str:
    from .diagnoses import broadcast_sentence

    broadcast = broadcast_sentence(actual, expected, inputs or {})
    if broadcast:
        return f" ({broadcast})"
    if len(actual) == len(expected) == 2 and tuple(actual) == tuple(expected)[::-1]:
        return " (rows and columns swapped: a transpose, or [in, out] where [out, in] is asked?)"
    if len(actual) == len(expected) + 1:
        return " (one dimension too many: is a sum or mean missing?)"
    if len(actual) < len(expected):
        return " (a dimension too few: did you reduce over the wrong dimension, or too many?)"
    return " (did you reduce over the wrong dimension?)"


def _index(mask):
    import torch

    flat = int(torch.nonzero(mask.reshape(-1))[0])
    return tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), mask.shape)) if mask.dim() else ()
