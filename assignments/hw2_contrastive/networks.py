"""Small convolutional encoder and decoder for 64×64 RGB images (about 0.3 M parameters each)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Encoder(nn.Module):
    """(n, 3, 64, 64) → (n, dim); with `normalize=True` the rows are unit vectors (contrastive)."""

    def __init__(self, dim: int = 32, normalize: bool = False, width: int = 32):
        super().__init__()
        self.normalize = normalize
        self.features = nn.Sequential(                                        # 64 → 4 pixels
            nn.Conv2d(3, width, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
        )
        # Flattening (not pooling) keeps where things are: location can be encoded, or not.
        self.head = nn.Linear(2 * width * 16, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.head(self.features(x).flatten(1))
        return F.normalize(z, dim=1) if self.normalize else z


class Decoder(nn.Module):
    """(n, dim) → (n, 3, 64, 64) images in [0, 1]."""

    def __init__(self, dim: int = 32, width: int = 32):
        super().__init__()
        self.width = width
        self.head = nn.Linear(dim, 2 * width * 16)
        self.pixels = nn.Sequential(                                          # 4 → 64 pixels
            nn.ReLU(),
            nn.ConvTranspose2d(2 * width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(width, 3, 4, stride=2, padding=1), nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.pixels(self.head(z).view(-1, 2 * self.width, 4, 4))
