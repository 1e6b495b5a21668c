"""Builders of the recipes and cases that checks.py files write (checks.tensors.make_input reads
them): shorthand for an assignment's checks, nothing more."""


def normal(*shape, scale=1.0):
    """A tensor drawn from N(0, scale^2)."""
    return {"normal": list(shape), "scale": scale}


def uniform(*shape, low, high):
    """A tensor drawn uniformly from [low, high]."""
    return {"uniform": list(shape), "low": low, "high": high}


def value(v):
    """A plain Python value, passed as it is."""
    return {"value": v}


def case(seed, dtype, *args, **kwargs):
    """One case of a matches_reference check: its seed, dtype and argument recipes."""
    return {"seed": seed, "dtype": dtype, "args": list(args), **({"kwargs": kwargs} if kwargs else {})}
