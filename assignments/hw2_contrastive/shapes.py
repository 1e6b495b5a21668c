"""The colored-shapes dataset: 64×64 RGB images of one shape on a black background.

Three independent factors, each with a label:
  shape     circle, square, triangle, cross
  location  a cell of a 3×3 grid (the shape's centre is the cell centre, jittered by ±2 pixels)
  color     six saturated hues (red, yellow, green, cyan, blue, magenta)
and one nuisance without a label, the size (radius 8 to 12 pixels), so that two images with the
same three factors still differ. Images are a pure function of (seed, index): the same seed
always gives the same dataset, and a bigger dataset extends a smaller one.
"""
from __future__ import annotations

import torch
from torch.utils.data import Dataset

SIZE = 64
SHAPES = ("circle", "square", "triangle", "cross")
COLORS = ("red", "yellow", "green", "cyan", "blue", "magenta")
LOCATIONS = tuple(f"{row}{col}" for row in ("top", "middle", "bottom") for col in ("-left", "-centre", "-right"))
FACTORS = {"shape": SHAPES, "location": LOCATIONS, "color": COLORS}
CELL_CENTRES = (14, 32, 50)


def hue_to_rgb(hue: float) -> torch.Tensor:
    """A fully saturated colour of the given hue (in turns), as RGB in [0, 1]."""
    k = (torch.tensor([5.0, 3.0, 1.0]) + hue * 6) % 6
    return 1 - torch.clamp(torch.minimum(k, 4 - k), 0, 1)


PALETTE = torch.stack([hue_to_rgb(i / len(COLORS)) for i in range(len(COLORS))])


def shape_mask(shape: int, cy: float, cx: float, radius: float) -> torch.Tensor:
    """A (SIZE, SIZE) float mask of the shape centred at (cy, cx)."""
    y, x = torch.meshgrid(torch.arange(SIZE, dtype=torch.float32), torch.arange(SIZE, dtype=torch.float32),
                          indexing="ij")
    dy, dx = y - cy, x - cx
    name = SHAPES[shape]
    if name == "circle":
        inside = dy**2 + dx**2 <= radius**2
    elif name == "square":
        half = radius * 0.85
        inside = (dy.abs() <= half) & (dx.abs() <= half)
    elif name == "triangle":   # pointing up, as wide at the base as it is tall
        top, base = cy - radius, cy + 0.8 * radius
        half_width = (y - top) / (base - top) * 0.9 * radius
        inside = (y >= top) & (y <= base) & (dx.abs() <= half_width)
    else:                      # cross: two bars of a third of the width
        bar = radius / 3
        inside = ((dy.abs() <= bar) & (dx.abs() <= radius)) | ((dx.abs() <= bar) & (dy.abs() <= radius))
    return inside.float()


def factors_of(index: int, seed: int) -> dict[str, float | int]:
    """The factors of image `index`, drawn from a generator seeded by (seed, index)."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + index)
    shape, location, color = (int(torch.randint(len(v), (), generator=g)) for v in FACTORS.values())
    jitter = torch.randint(-2, 3, (2,), generator=g)
    radius = 8 + 4 * float(torch.rand((), generator=g))
    return {"shape": shape, "location": location, "color": color, "radius": radius,
            "cy": CELL_CENTRES[location // 3] + int(jitter[0]), "cx": CELL_CENTRES[location % 3] + int(jitter[1])}


def changed(f: dict, factor: str, value: int) -> dict:
    """The factors `f` with one factor set to `value`; a new location keeps the same jitter."""
    g = dict(f, **{factor: value})
    if factor == "location":
        g["cy"] = f["cy"] + CELL_CENTRES[value // 3] - CELL_CENTRES[f["location"] // 3]
        g["cx"] = f["cx"] + CELL_CENTRES[value % 3] - CELL_CENTRES[f["location"] % 3]
    return g


def render(f: dict) -> torch.Tensor:
    """The (3, SIZE, SIZE) image of the given factors, values in [0, 1]."""
    return PALETTE[f["color"]][:, None, None] * shape_mask(f["shape"], f["cy"], f["cx"], f["radius"])


class ColoredShapes(Dataset):
    """`n` images and their factor labels; item i is (image, {"shape", "location", "color"}).

    The images are rendered once, at construction (about 2,000 images per second on one core).
    """

    def __init__(self, n: int, seed: int = 0):
        drawn = [factors_of(i, seed) for i in range(n)]
        self.images = torch.stack([render(f) for f in drawn])
        self.labels = {name: torch.tensor([f[name] for f in drawn]) for name in FACTORS}

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i], {name: int(values[i]) for name, values in self.labels.items()}


def train_val(n_train: int, n_val: int, seed: int = 0) -> tuple[ColoredShapes, ColoredShapes]:
    """A training and a validation set drawn with different seeds (no shared images)."""
    return ColoredShapes(n_train, seed=seed), ColoredShapes(n_val, seed=seed + 1)
