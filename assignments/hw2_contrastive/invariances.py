"""Measure an encoder's invariances by intervention, and compare them with a predicted table.

For each factor, render pairs of images that differ in that factor only (same shape, place,
colour and size otherwise) and compare the embedding distance within a pair with the distance
between unrelated images:
    sensitivity = mean ‖f(x) − f(x')‖ over the pairs / mean ‖f(x) − f(y)‖ over random pairs.
It is 0 for an encoder invariant to the factor (f constant as the factor varies) and about 1 when
changing the factor moves the embedding as far as changing the whole image.

How this measure relates to the agreement of nearest neighbours (neighbours.factor_agreement),
and why the two can disagree, is Question 8(d).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from neighbours import embed
from shapes import FACTORS, changed, factors_of, render

SENSITIVE_ABOVE = 0.3   # in the gap between invariant (≤ 0.24) and sensitive (≥ 0.51) encoders we measured


def factor_sensitivity(encoder, n: int = 300, seed: int = 1234) -> dict[str, float]:
    """Per factor, the sensitivity defined above, on n rendered pairs (deterministic in seed)."""
    generator = torch.Generator().manual_seed(seed)
    base = [factors_of(i, seed) for i in range(n)]
    z = embed(encoder, torch.stack([render(f) for f in base]))
    unrelated = (z - z[torch.randperm(n, generator=generator)]).norm(dim=1).mean()
    out = {}
    for factor, values in FACTORS.items():
        # another value of the factor: shift by 1 .. len(values) - 1, so never the same value
        shifts = torch.randint(1, len(values), (n,), generator=generator).tolist()
        moved = [render(changed(f, factor, (f[factor] + s) % len(values))) for f, s in zip(base, shifts)]
        out[factor] = ((z - embed(encoder, torch.stack(moved))).norm(dim=1).mean() / unrelated).item()
    return out


def measured_invariances(sensitivity: dict[str, float]) -> dict[str, str]:
    """"sensitive" where the sensitivity is above SENSITIVE_ABOVE, else "invariant"."""
    return {factor: "sensitive" if s > SENSITIVE_ABOVE else "invariant" for factor, s in sensitivity.items()}


def plot_invariances(sensitivities: dict[str, dict[str, float]], predicted: dict | None = None):
    """A heat map of sensitivities (rows: encoders, columns: factors), each cell labelled with the
    measured verdict and, when a predicted table is given, the prediction if it differs."""
    rows, factors = list(sensitivities), list(FACTORS)
    values = torch.tensor([[sensitivities[r][f] for f in factors] for r in rows])
    figure, ax = plt.subplots(figsize=(1.6 * len(factors) + 1.5, 0.7 * len(rows) + 1))
    ax.imshow(values, cmap="viridis", vmin=0, vmax=1.2)
    for i, row in enumerate(rows):
        for j, factor in enumerate(factors):
            verdict = "sensitive" if values[i, j] > SENSITIVE_ABOVE else "invariant"
            label = f"{values[i, j]:.2f}\n{verdict}"
            expected = (predicted or {}).get(row, {}).get(factor)
            if expected and expected.lower() != verdict:
                label += f"\n(predicted {expected})"
            ax.text(j, i, label, ha="center", va="center", fontsize=8,
                    color="black" if values[i, j] > 0.7 else "white")
    ax.set_xticks(range(len(factors)), factors)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_title("sensitivity to each factor (0: invariant)")
    figure.tight_layout()
    return figure
