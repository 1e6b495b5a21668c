"""Generic mistakes, computed with the reference on altered inputs when a check is prepared: an
integer input off by one (a 1-based timestep), two arguments of one shape and dtype exchanged, a
number argument left out or applied to the result instead of where the formula puts it, a network
fed another input than the contract's. The diagnoses name one where the student's result is its
value (checks/diagnoses.py); like the known mistakes, they are tried on the same inputs only."""
from __future__ import annotations

import math

from .. import modules, wire

MAX_VARIANTS = 16   # per case: the catalogue stays small, and so does the frozen data


def of_case(reference, module: str, function: str, names: list[str], args: list, kwargs: dict, seed: int) -> list[dict]:
    """{"id", "sentence", "value" (encoded)} of each variant that the reference can compute on
    this case's inputs (one that raises there, a t + 1 beyond the last step, is left out)."""
    found = []
    for cause_id, sentence, altered_args, altered_kwargs, then in _candidates(names, args, kwargs)[:MAX_VARIANTS]:
        try:
            value = reference.encoded_value(module, function, altered_args, altered_kwargs, seed=seed, then=then)
        except Exception:  # noqa: BLE001 - inputs the reference does not accept name no mistake
            continue
        found.append({"id": cause_id, "sentence": sentence, "value": value})
    return found


def _candidates(names, args, kwargs):
    import torch

    named = [(name, ("arg", i), value) for i, (name, value) in enumerate(zip(names, args))]
    named += [(name, ("kwarg", name), value) for name, value in kwargs.items()]

    def altered(*changes):
        new_args, new_kwargs = list(args), dict(kwargs)
        for (where, key), value in changes:
            if where == "arg":
                new_args[key] = value
            else:
                new_kwargs[key] = value
        return new_args, new_kwargs

    out = []
    for name, slot, value in named:
        if _is_integer(value):
            for step, why in ((-1, f"is {name} counted from 1 where the contract counts from 0"),
                              (1, f"{name} off by one (one step too far)")):
                out.append(("off-by-one", f"those of the expected result at {name} {'+' if step > 0 else '-'} 1: "
                            f"{why}?", *altered((slot, value + step)), None))
    tensors = [(name, slot, value) for name, slot, value in named
               if isinstance(value, torch.Tensor) and value.dim() > 0]
    for k, (name1, slot1, first) in enumerate(tensors):
        for name2, slot2, second in tensors[k + 1:]:
            if first.shape == second.shape and first.dtype == second.dtype:
                out.append(("arguments-swapped", f"those of the expected result with {name1} and {name2} exchanged: "
                            "are two arguments swapped?", *altered((slot1, second), (slot2, first)), None))
    for name, slot, value in named:
        if type(value) is float and value not in (0.0, 1.0, -1.0):
            base = altered((slot, 1.0))
            out.append(("argument-left-out", f"those of the expected result with {name} = 1: is {name} left out?",
                        *base, None))
            for then, how in _misplaced(value, name):
                out.append(("argument-misplaced", f"those of the expected result with {name} = 1, then {how}: is "
                            f"{name} applied to the result (after an exp, a log or a sum) rather than where the "
                            "formula puts it?", *base, then))
    for name, slot, value in named:
        if modules.is_described(value) and value.kind.role in ("network", "oracle"):
            for other, _, replacement in tensors:
                out.append(("network-input", f"those of the expected result with {name} fed {other}: is {name} "
                            f"given {other} where the contract passes another input?",
                            *altered((slot, FedAnother(value, replacement))), None))
    return out


def _is_integer(value) -> bool:
    import torch

    if isinstance(value, torch.Tensor):
        return value.dim() > 0 and not value.is_floating_point() and not value.is_complex() and value.dtype != torch.bool
    return type(value) is int


def _misplaced(p: float, name: str):
    """The result of the argument left out, then applied to it: divided or multiplied by it, or its
    log added or subtracted (a factor inside a log)."""
    out = [(lambda v: v / p, f"divided by {name}"), (lambda v: v * p, f"multiplied by {name}")]
    if p > 0:
        log = math.log(p)
        out += [(lambda v: v - log, f"minus log {name}"), (lambda v: v + log, f"plus log {name}")]
    return out


class FedAnother:
    """A network that, called on an input of `replacement`'s shape, computes with `replacement`
    instead (every other call is passed on as it is)."""

    def __init__(self, network, replacement):
        self.network, self.replacement = network, replacement

    def __call__(self, x, *rest, **options):
        if getattr(x, "shape", None) == self.replacement.shape and x is not self.replacement:
            x = self.replacement.to(dtype=x.dtype, device=x.device)
        return self.network(x, *rest, **options)

    def __getattr__(self, name):
        return getattr(self.network, name)


def decoded(prepared_variants: list) -> list[tuple]:
    """(id, sentence, value: decoded) of the variants prepared or frozen with a case."""
    return [(v["id"], v["sentence"], wire.decode(v["value"])) for v in prepared_variants]
