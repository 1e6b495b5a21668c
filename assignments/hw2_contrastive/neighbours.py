"""Look at an encoder through nearest neighbours: pictures of them, and a per-factor score.

The agreement of a factor is the fraction of query images whose nearest training neighbour (in
embedding distance) has the same value of that factor. A random neighbour agrees with probability
`chance` (the sum over values of the squared training frequencies), so the score
    (agreement − chance) / (1 − chance)
is about 0 when the neighbourhood says nothing about the factor, and about 1 when it always
tells the factor's value. (It reports any trace of a factor; invariances.py measures how much.)
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from shapes import FACTORS

@torch.no_grad()
def embed(encoder, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    device = next(encoder.parameters()).device
    return torch.cat([encoder(images[i:i + batch_size].to(device)).cpu()
                      for i in range(0, len(images), batch_size)])


def nearest(encoder, queries: torch.Tensor, pool: torch.Tensor, k: int = 1,
            exclude_self: bool = False) -> torch.Tensor:
    """(n_queries, k) indices into `pool` of each query's k nearest neighbours."""
    distances = torch.cdist(embed(encoder, queries), embed(encoder, pool))
    if exclude_self:   # queries are the pool itself: an image is not its own neighbour
        distances.fill_diagonal_(float("inf"))
    return distances.topk(k, largest=False).indices


def nn_visualize(encoder, train, queries=None, n: int = 8, k: int = 8, title: str = ""):
    """A figure: each row is a query image (left, boxed) then its k nearest training images.
    Without `queries`, the first n training images are the queries (themselves excluded)."""
    own = queries is None
    query_images = (train if own else queries).images[:n]
    index = nearest(encoder, query_images, train.images, k, exclude_self=own)
    figure, axes = plt.subplots(n, k + 1, figsize=(k + 1, n), squeeze=False)
    for row in range(n):
        shown = [query_images[row], *train.images[index[row]]]
        for col, image in enumerate(shown):
            axes[row, col].imshow(image.permute(1, 2, 0).clamp(0, 1))
            axes[row, col].set_xticks([]), axes[row, col].set_yticks([])
        axes[row, 0].spines[:].set(color="orange", linewidth=3)
    axes[0, 0].set_title("query", fontsize=9)
    figure.suptitle(title or ("training" if own else "validation") + " images and their nearest neighbours")
    figure.tight_layout()
    return figure


def factor_agreement(encoder, train, queries) -> dict[str, dict[str, float]]:
    """Per factor: agreement of each query with its nearest training neighbour, chance, score."""
    neighbour = nearest(encoder, queries.images, train.images)[:, 0]
    out = {}
    for factor, values in FACTORS.items():
        agreement = (train.labels[factor][neighbour] == queries.labels[factor]).float().mean().item()
        frequencies = train.labels[factor].bincount(minlength=len(values)).float() / len(train)
        chance = (frequencies**2).sum().item()
        out[factor] = {"agreement": agreement, "chance": chance, "score": (agreement - chance) / (1 - chance)}
    return out
