"""Hidden properties of hw1_vae (graded, never in the students' folder; their checks can only be hidden)."""
from __future__ import annotations

from hypothesis import strategies as st

from autograder.checks.properties import expect, tensor


def iwae_permutation_invariant(call, data):
    import torch

    k, b = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 4))
    lw = tensor(data, (k, b), -30.0, 30.0)
    order = data.draw(st.permutations(range(lw.shape[0])))
    a, b = call(lw), call(lw[torch.tensor(order)])
    expect(a.shape == b.shape and ((a - b).abs() <= 1e-9 * (1 + a.abs())).all(),
           f"the bound must not depend on the order of the K samples: {a.tolist()} vs {b.tolist()} "
           f"after reordering them as {order}", lw)


PROPERTIES = {f.__name__: f for f in (iwae_permutation_invariant,)}
