"""The VAE of the practical notebook: model, training loop (with your `vae.reparameterize` and
`vae.negative_elbo`), evaluation on the test set, and the three plots of Questions 19 to 22."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
import torchvision
from torch import nn
from torch.distributions import Bernoulli, Independent, Normal
from tqdm.auto import tqdm

import vae

PIXELS = 28 * 28


class VAE(nn.Module):
    """An MLP encoder and decoder, as in PyTorch's examples/vae/main.py:
    encoder 784 -> hidden (ReLU) -> (mu, logvar), each of size latent_dim;
    decoder latent_dim -> hidden (ReLU) -> 784 logits of the Bernoulli pixels."""

    def __init__(self, latent_dim: int = 2, hidden: int = 400):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(PIXELS, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent_dim)
        self.logvar = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, PIXELS))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Logits of shape (..., 1, 28, 28)."""
        return self.decoder(z).unflatten(-1, (1, 28, 28))

    def forward(self, x: torch.Tensor):
        mu, logvar = self.encode(x)
        return self.decode(vae.reparameterize(mu, logvar)), mu, logvar


def train_vae(images: torch.Tensor, steps: int = 600, batch_size: int = 128, latent_dim: int = 2,
              hidden: int = 400, lr: float = 1e-3, seed: int = 0, device: str = "cpu"):
    """Adam on vae.negative_elbo (beta = 1) over random batches (a new random order every epoch).
    Returns the model in eval mode and the loss of every step."""
    torch.manual_seed(seed)
    model = VAE(latent_dim, hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    per_epoch = max(1, len(images) // batch_size)
    losses = []
    model.train()
    with tqdm(total=steps, desc="training the VAE") as bar:
        while len(losses) < steps:
            order = torch.randperm(len(images), generator=generator)
            for i in range(min(per_epoch, steps - len(losses))):
                x = images[order[i * batch_size:(i + 1) * batch_size]].to(device)
                try:
                    x_logits, mu, logvar = model(x)
                    loss = vae.negative_elbo(x, x_logits, mu, logvar)
                except NotImplementedError as error:
                    raise NotImplementedError(
                        "vae.reparameterize, vae.negative_elbo or vae.gaussian_kl is not implemented "
                        "yet: fill them in in vae.py, check them with `course check hw1_vae`, then "
                        "restart the kernel and run the notebook again.") from error
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.1f}")
    return model.eval(), losses


@torch.no_grad()
def log_weights(model: VAE, images: torch.Tensor, samples: int = 10, seed: int = 0,
                device: str = "cpu", batch_size: int = 500) -> torch.Tensor:
    """log p(x, z) - log q(z | x) for `samples` draws z ~ q(z | x) per image; shape (samples, N).
    Computed with torch.distributions (not with your vae.py), so that the numbers measure the
    trained model whatever the loss it was trained with. Draws on the CPU, seeded: the same
    model gets the same number on any device."""
    columns = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for start in range(0, len(images), batch_size):
            x = images[start:start + batch_size]
            mu, logvar = (t.cpu() for t in model.encode(x.to(device)))
            posterior = Independent(Normal(mu, (logvar / 2).exp()), 1)
            prior = Independent(Normal(torch.zeros_like(mu), torch.ones_like(mu)), 1)
            z = posterior.sample((samples,))                                   # (samples, B, D)
            # gray values in [0, 1] under a Bernoulli: the cross-entropy, as in training
            likelihood = Independent(Bernoulli(logits=model.decode(z.to(device)).cpu(), validate_args=False), 3)
            columns.append(likelihood.log_prob(x.expand(samples, *x.shape)) + prior.log_prob(z)
                           - posterior.log_prob(z))
    return torch.cat(columns, dim=1)


def plot_losses(losses: list[float]):
    plt.figure(figsize=(6, 3))
    plt.plot(losses, lw=0.8)
    finite = [loss for loss in losses if math.isfinite(loss)]
    if finite:
        plt.ylim(top=min(max(finite), 2 * PIXELS * math.log(2)))
    plt.xlabel("step")
    plt.ylabel("negative ELBO (nats / image)")
    plt.title("training loss (one batch per step)")
    plt.show()


def _show(ax, images: torch.Tensor, nrow: int):
    grid = torchvision.utils.make_grid(images.cpu(), nrow=nrow, pad_value=0.0)   # white lines in gray_r
    ax.imshow(grid[0], cmap="gray_r", vmin=0, vmax=1)
    ax.axis("off")


@torch.no_grad()
def plot_reconstructions(model: VAE, images: torch.Tensor, device: str = "cpu"):
    """Test images (top) and the decoder's mean image sigmoid(logits) at z = mu (bottom)."""
    mu, _ = model.encode(images.to(device))
    reconstructions = torch.sigmoid(model.decode(mu))
    fig, ax = plt.subplots(figsize=(1.2 * len(images), 2.8))
    _show(ax, torch.cat([images, reconstructions.cpu()]), nrow=len(images))
    ax.set_title("test images (top) and their reconstructions (bottom)")
    plt.show()


@torch.no_grad()
def plot_latent_means(model: VAE, images: torch.Tensor, labels: torch.Tensor, device: str = "cpu"):
    """The encoder means mu(x) of the test images (first two latent dimensions), coloured by digit."""
    mu = torch.cat([model.encode(images[i:i + 1000].to(device))[0].cpu() for i in range(0, len(images), 1000)])
    fig, ax = plt.subplots(figsize=(7, 6))
    points = ax.scatter(mu[:, 0], mu[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=4, alpha=0.7)
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("$\\mu_1$")
    ax.set_ylabel("$\\mu_2$")
    ax.set_title("encoder means of the test images")
    ax.set_aspect("equal", adjustable="datalim")
    plt.show()


@torch.no_grad()
def plot_latent_grid(model: VAE, n: int = 15, limit: float = 3.0, device: str = "cpu"):
    """The decoder's mean image at each point of an n x n grid on [-limit, limit]^2 (z_2 grows
    upwards, z_1 to the right, as in the scatter plot; further latent dimensions, if any, are 0)."""
    values = torch.linspace(-limit, limit, n)
    z2, z1 = torch.meshgrid(values.flip(0), values, indexing="ij")
    z = torch.stack([z1, z2], dim=-1).reshape(-1, 2)
    z = torch.cat([z, z.new_zeros(len(z), model.mu.out_features - 2)], dim=1).to(device)  # other dims 0
    images = torch.sigmoid(model.decode(z))
    fig, ax = plt.subplots(figsize=(8, 8))
    _show(ax, images, nrow=n)
    ax.set_title(f"decoded grid on $[-{limit:g}, {limit:g}]^2$ ($z_1$ to the right, $z_2$ upwards)")
    plt.show()
