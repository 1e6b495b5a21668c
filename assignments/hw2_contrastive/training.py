"""Training loops for the autoencoder and the contrastive encoder, with progress bars. Both call
the losses of your `losses.py`."""
from __future__ import annotations

import torch
from tqdm.auto import tqdm

import losses
from augmentations import augment
from networks import Decoder, Encoder


def batches(images: torch.Tensor, batch_size: int, generator: torch.Generator):
    """The images in a random order, in batches (the last, smaller batch is dropped)."""
    order = torch.randperm(len(images), generator=generator)
    for start in range(0, len(images) - batch_size + 1, batch_size):
        yield images[order[start:start + batch_size]]


def train_autoencoder(images: torch.Tensor, dim: int = 32, epochs: int = 10, batch_size: int = 64,
                      lr: float = 1e-3, seed: int = 0, device: str = "cpu") -> tuple[Encoder, Decoder]:
    """Train an encoder and a decoder to minimise mse_loss(decoder(encoder(x)), x)."""
    torch.manual_seed(seed)
    encoder, decoder = Encoder(dim).to(device), Decoder(dim).to(device)
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=lr)
    generator = torch.Generator().manual_seed(seed)
    steps = epochs * (len(images) // batch_size)
    with tqdm(total=steps, desc="autoencoder") as bar:
        for _ in range(epochs):
            for x in batches(images, batch_size, generator):
                x = x.to(device)
                loss = losses.mse_loss(decoder(encoder(x)), x)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.update()
                bar.set_postfix(mse=f"{loss.item():.4f}")
    return encoder.eval(), decoder.eval()


def train_contrastive(images: torch.Tensor, augmentation: str, dim: int = 32, epochs: int = 10,
                      batch_size: int = 128, tau: float = 0.07, lr: float = 1e-3, seed: int = 0,
                      device: str = "cpu") -> Encoder:
    """Train a normalized encoder with contrastive_loss on pairs of augmentations of each image:
    x[i] and x_pos[i] are two draws of `augmentation` on the same image, x_pos[j] (j ≠ i) its
    negatives."""
    torch.manual_seed(seed)
    encoder = Encoder(dim, normalize=True).to(device)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    steps = epochs * (len(images) // batch_size)
    with tqdm(total=steps, desc=f"contrastive {augmentation}") as bar:
        for _ in range(epochs):
            for x in batches(images, batch_size, generator):
                x, x_pos = augment(x, augmentation).to(device), augment(x, augmentation).to(device)
                logits = losses.contrastive_logits(encoder(x), encoder(x_pos), tau)
                loss = losses.contrastive_loss(logits)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.3f}")
    return encoder.eval()
