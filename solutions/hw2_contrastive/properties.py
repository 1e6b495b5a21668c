"""Hidden properties of hw2_contrastive (graded, never in the students' folder; their checks can only be hidden)."""
from __future__ import annotations

import torch
from hypothesis import strategies as st

from autograder.checks.properties import close, expect, scalar, tensor


def contrastive_permutation_invariant(call, data):
    size = data.draw(st.integers(1, 6))
    logits = tensor(data, (size, size), -20.0, 20.0)
    order = torch.tensor(data.draw(st.permutations(range(logits.shape[0]))))
    a = scalar(call(logits), "contrastive_loss", logits)
    b = scalar(call(logits[order][:, order]), "contrastive_loss", logits)
    expect(close(a, b), f"relabelling the pairs (rows and columns by the same permutation {order.tolist()}) "
           f"must not change the loss: {float(a):.6g} vs {float(b):.6g} (are the positives on the diagonal?)", logits)


PROPERTIES = {f.__name__: f for f in (contrastive_permutation_invariant,)}
