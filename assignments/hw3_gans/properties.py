"""Properties of hw3_gans's answers and functions that every correct answer has: part of the
specification, run by the public checks (python check.py) and by grading."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from autograder.checks.properties import expect


def gda_eigenvalue_modulus(call, data):
    alpha = data.draw(st.floats(0.01, 20.0))
    values = call(alpha)
    expect(values and all(v is not None for v in values), f"the eigenvalues are not finite at alpha = {alpha}")
    expect(all(abs(v) > 1 for v in values),
           f"at alpha = {alpha} the eigenvalues {values} do not all have modulus above 1, but the "
           f"simultaneous update expands every vector by sqrt(1 + alpha^2) = {math.sqrt(1 + alpha * alpha):.6g}")


def trajectory_norm_growth(call, data):
    import torch

    d0, g0 = data.draw(st.floats(-3, 3)), data.draw(st.floats(-3, 3))
    d0 = d0 if abs(d0) + abs(g0) > 0.1 else 1.0
    alpha, steps = data.draw(st.floats(0.01, 1.0)), data.draw(st.integers(1, 12))
    path = call(d0, g0, alpha, steps)
    where = f"for d0 = {d0}, g0 = {g0}, alpha = {alpha}, steps = {steps}"
    expect(tuple(path.shape) == (steps + 1, 2), f"expected shape ({steps + 1}, 2), got {tuple(path.shape)} {where}")
    norms = path.double().norm(dim=1)
    ratios = norms[1:] / norms[:-1]
    expected = math.sqrt(1 + alpha * alpha)
    expect(torch.allclose(ratios, torch.full_like(ratios, expected), rtol=1e-5),
           f"the norm of (d, g) must grow by exactly sqrt(1 + alpha^2) = {expected:.6g} per step; "
           f"got ratios {[round(r, 6) for r in ratios.tolist()]} {where} (are both updates simultaneous?)")


PROPERTIES = {f.__name__: f for f in (gda_eigenvalue_modulus, trajectory_norm_growth)}
