"""Three augmentation sets, each defining positive pairs (two augmentations of one image), built
with torchvision.transforms.v2. Every image gets its own random draw.

  A  random hue: the shape keeps its form and place; its colour turns anywhere on the hue circle
  B  random placement: the shape moves to a uniformly random place where it fits in the frame
  C  both: random hue, then random placement
"""
from __future__ import annotations

from typing import Any

import torch
from torchvision.transforms import v2


class RandomPlacement(v2.Transform):
    """Move the (non-black) object of an image to a random place where it fits whole.

    A plain random crop or affine shift would push shapes near the border out of the frame, so
    that some positive pairs would not even show the same shape."""

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        rows, cols = (flat_inputs[0].abs().sum(0) > 0).nonzero(as_tuple=True)
        if len(rows) == 0:
            return {"shift": (0, 0)}
        height, width = flat_inputs[0].shape[-2:]
        dy = torch.randint(-int(rows.min()), height - int(rows.max()), ()).item()
        dx = torch.randint(-int(cols.min()), width - int(cols.max()), ()).item()
        return {"shift": (dy, dx)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        # The object stays inside the frame, so rolling never wraps it around an edge.
        return torch.roll(inpt, shifts=params["shift"], dims=(-2, -1))


AUGMENTATIONS = {
    # hue=0.5 turns by up to half a turn either way: every hue is reachable from every other.
    "A": v2.ColorJitter(hue=0.5),
    "B": RandomPlacement(),
    "C": v2.Compose([v2.ColorJitter(hue=0.5), RandomPlacement()]),
}


def augment(images: torch.Tensor, name: str) -> torch.Tensor:
    """Each image of a (n, 3, 64, 64) batch augmented independently with set `name`."""
    transform, threads = AUGMENTATIONS[name], torch.get_num_threads()
    # One small image at a time: starting threads would cost more than the work (20x, measured).
    torch.set_num_threads(1)
    try:
        return torch.stack([transform(image) for image in images])
    finally:
        torch.set_num_threads(threads)


def augmentation_rows(images: torch.Tensor, name: str, per_row: int = 14) -> torch.Tensor:
    """(n, per_row, 3, 64, 64): row i holds `per_row` augmentations of images[i]."""
    return torch.stack([augment(image.expand(per_row, -1, -1, -1), name) for image in images])
