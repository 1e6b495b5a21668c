"""The models of the practical notebook: a DDPM on two moons, trained with your
`diffusion.ddpm_simple_loss` on your `diffusion.linear_beta_schedule` and sampled with your
`diffusion.p_sample`, and an energy-based model trained by noise-contrastive estimation with your
`nce.nce_loss`; their networks, training loops, sampling, the energy distance and the plots."""
from __future__ import annotations

import contextlib
import math

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm.auto import tqdm

import diffusion
import nce


class NotImplementedYet(NotImplementedError):
    """One of your functions is still a stub: the message names it."""


def _missing(function: str) -> str:
    return (f"{function} is not implemented yet: fill it in in the .py file, check it with `python check.py` "
            "(or `course check hw5_ebm_diffusion`), then restart the kernel and run the notebook again.")


def _call(name: str, function, *args):
    """Your function `name` (e.g. "diffusion.p_sample") applied to args; a stub's NotImplementedError
    becomes a message that names it."""
    try:
        return function(*args)
    except NotImplementedYet:
        raise
    except NotImplementedError as error:
        raise NotImplementedYet(_missing(name)) from error


@contextlib.contextmanager
def _one_thread_on_the_cpu(device: str):
    """The networks are tiny: on the CPU, one thread runs them faster than several (which spend
    their time waiting for each other), more so on a busy machine."""
    threads = torch.get_num_threads()
    if torch.device(device).type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# ------------------------------------------------------------------ data


def two_moons(n: int, noise: float = 0.05, seed: int = 0) -> torch.Tensor:
    """n points [n, 2] of scikit-learn's two moons (two interleaved half circles of radius 1, half
    of the points on each, in random order, plus Gaussian noise of standard deviation `noise`),
    shifted and scaled to mean 0 and standard deviation 1 in each coordinate (by the constants of
    the noise-free moons, so that every sample is transformed alike)."""
    generator = torch.Generator().manual_seed(seed)
    angle = math.pi * torch.rand(n, generator=generator)
    upper = torch.stack([torch.cos(angle), torch.sin(angle)], 1)
    lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], 1)
    on_upper = torch.randperm(n, generator=generator) < n // 2   # half of the points, in random order
    points = torch.where(on_upper[:, None], upper, lower)
    points = points + noise * torch.randn(n, 2, generator=generator)
    # the noise-free moons have mean (1/2, 1/4) and standard deviations sqrt(3/4) and sqrt(9/16 - 1/pi)
    mean = torch.tensor([0.5, 0.25])
    std = torch.tensor([math.sqrt(0.75), math.sqrt(9 / 16 - 1 / math.pi)])
    return (points - mean) / std


def gaussian_fit(points: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """n points [n, 2] of the Gaussian with the mean and covariance of `points`: the baseline that
    the DDPM must beat."""
    mean = points.double().mean(0)
    covariance = torch.cov(points.double().T)
    z = torch.randn(n, points.shape[1], generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (mean + z @ torch.linalg.cholesky(covariance).T).float()


@torch.no_grad()
def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """The energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| (Euclidean norms) between the samples
    x [n, d] and y [m, d], in float64 on the CPU: E|X - Y| is the mean over all n m pairs, E|X - X'|
    and E|Y - Y'| the means over the pairs of two different points (so that the estimate is
    unbiased: about 0 for two samples of the same distribution, possibly slightly below 0)."""
    x, y = x.detach().cpu().double(), y.detach().cpu().double()
    n, m = len(x), len(y)
    xy = torch.cdist(x, y).mean()
    xx = torch.cdist(x, x).sum() / (n * (n - 1))
    yy = torch.cdist(y, y).sum() / (m * (m - 1))
    return (2 * xy - xx - yy).item()


# ------------------------------------------------------------------ DDPM


def linear_schedule(T: int) -> torch.Tensor:
    """Your diffusion.linear_beta_schedule(T) with its default ends (1e-4 to 0.02), checked: a
    floating-point tensor [T] of values in (0, 1), returned as float64 (the contract's dtype)."""
    betas = _call("diffusion.linear_beta_schedule", diffusion.linear_beta_schedule, T)
    if not (isinstance(betas, torch.Tensor) and betas.is_floating_point() and betas.shape == (T,)
            and ((betas > 0) & (betas < 1)).all()):
        raise ValueError(f"diffusion.linear_beta_schedule({T}) must return a float64 tensor of shape ({T},) "
                         f"with values in (0, 1); it returned {_describe(betas)}: check it with `python check.py`.")
    return betas.double()


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return (f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}, from "
                f"{value.min().item():.3g} to {value.max().item():.3g}" if value.numel() else
                f"an empty tensor of shape {tuple(value.shape)}")
    return f"a {type(value).__name__}"


@torch.no_grad()
def forward_states(x0: torch.Tensor, betas: torch.Tensor, keep: tuple[int, ...] = (0, 100, 250, 500, 750, 1000),
                   seed: int = 0) -> dict[int, torch.Tensor]:
    """{k: x_k} for k in `keep` (the paper's numbering; x_0 is the data): x_k drawn from q(x_k | x_0)
    with your diffusion.q_sample at code step t = k - 1, one noise N(0, I) per k (seeded)."""
    generator = torch.Generator().manual_seed(seed)
    states = {}
    for k in keep:
        if k == 0:
            states[k] = x0
            continue
        t = torch.full((len(x0),), k - 1, dtype=torch.long)
        noise = torch.randn(x0.shape, generator=generator)
        states[k] = _call("diffusion.q_sample (or gather, which it may call)", diffusion.q_sample,
                          x0, t, noise, betas)
    return states


class SinusoidalEmbedding(nn.Module):
    """The timestep embedding of the Transformer and of Ho et al.'s DDPM: for a step t (0-based),
    [sin(t w_1), ..., sin(t w_k), cos(t w_1), ..., cos(t w_k)] with k = dim / 2 frequencies
    w_i = 10000^(-(i - 1) / k), from 1 down to about 1 / 10000."""

    def __init__(self, dim: int = 32):
        super().__init__()
        half = dim // 2
        self.register_buffer("frequencies", torch.exp(-math.log(10_000) * torch.arange(half) / half))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        angles = t.to(self.frequencies.dtype)[:, None] * self.frequencies[None]
        return torch.cat([angles.sin(), angles.cos()], dim=-1)


class NoisePredictor(nn.Module):
    """eps_theta(x_t, t): an MLP on [x_t, embedding(t)] (2 + embedding inputs), three hidden
    layers of `hidden` units with SiLU, and 2 outputs: the noise that it predicts."""

    def __init__(self, hidden: int = 128, embedding: int = 32, dim: int = 2):
        super().__init__()
        self.embedding = SinusoidalEmbedding(embedding)
        self.net = nn.Sequential(nn.Linear(dim + embedding, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, dim))

    def forward(self, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """xt [B, 2], t a 0-based LongTensor [B] -> the predicted noise [B, 2]."""
        return self.net(torch.cat([xt, self.embedding(t.to(xt.device))], dim=-1))


def _train(model: nn.Module, loss, steps: int, lr: float, seed: int, device: str, description: str):
    """Adam, its learning rate decaying linearly to 0 over the steps, on `loss(generator)`, which
    draws a batch with a seeded generator on the CPU and returns its loss. Returns the model in
    eval mode and the loss of every step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    with _one_thread_on_the_cpu(device), tqdm(total=steps, desc=description) as bar:
        for _ in range(steps):
            value = loss(generator)
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            schedule.step()
            losses.append(value.item())
            bar.update()
            bar.set_postfix(loss=f"{value.item():.3f}")
    return model.eval(), losses


def train_ddpm(points: torch.Tensor, betas: torch.Tensor, steps: int = 6000, batch_size: int = 1024,
               hidden: int = 128, embedding: int = 32, lr: float = 3e-3, seed: int = 0, device: str = "cpu"):
    """Adam on your diffusion.ddpm_simple_loss over random batches of `points` (drawn with
    replacement): for each point a step t uniform in {0, ..., T - 1} and a noise N(0, I), drawn
    here (with a seeded generator on the CPU) and passed in. The learning rate decays linearly to
    0 over the steps. Returns the model in eval mode and the loss of every step."""
    torch.manual_seed(seed)
    model = NoisePredictor(hidden, embedding, points.shape[1]).to(device)
    T = len(betas)

    def loss(generator):
        x0 = points[torch.randint(len(points), (batch_size,), generator=generator)].to(device)
        t = torch.randint(T, (batch_size,), generator=generator).to(device)
        noise = torch.randn(batch_size, points.shape[1], generator=generator).to(device)
        return _call("diffusion.ddpm_simple_loss (or q_sample or gather, which it may call)",
                     diffusion.ddpm_simple_loss, model, x0, t, noise, betas)

    return _train(model, loss, steps, lr, seed, device, "training the DDPM")


@torch.no_grad()
def sample_ddpm(model: NoisePredictor, betas: torch.Tensor, n: int = 2000, seed: int = 0,
                keep: tuple[int, ...] = (1000, 750, 500, 250, 100, 0), dim: int = 2):
    """Ancestral sampling: x_T ~ N(0, I), then T steps of your diffusion.p_sample, from code step
    t = T - 1 (the paper's step T) down to t = 0, each with the model's noise prediction and a fresh
    N(0, I) noise (both draws seeded, on the CPU, whatever the device). Returns the samples x_0
    [n, 2] and a dict {k: x_k} of the intermediate states in the paper's numbering (x_k is left
    after the step at code t = k, the state with k steps to go; x_T is the starting noise), for k
    in `keep`."""
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    T = len(betas)
    x = torch.randn(n, dim, generator=generator).to(device)
    states = {T: x.cpu()} if T in keep else {}
    with _one_thread_on_the_cpu(str(device)):
        for step in tqdm(range(T - 1, -1, -1), desc="sampling the DDPM"):
            t = torch.full((n,), step, dtype=torch.long, device=device)
            noise = torch.randn(n, dim, generator=generator).to(device)
            x = _call("diffusion.p_sample (or p_mean_from_eps or gather, which it may call)", diffusion.p_sample,
                      x, t, model(x, t), noise, betas)
            if step in keep:
                states[step] = x.cpu()
    return x.cpu(), states


def plot_losses(losses: list[float], ylabel: str, title: str, smooth: int = 50):
    """The loss of every step (light) and its running mean over `smooth` steps."""
    plt.figure(figsize=(6, 3))
    plt.plot(losses, lw=0.5, alpha=0.4)
    values = torch.tensor(losses, dtype=torch.float64)
    if len(values) >= smooth:
        running = values.unfold(0, smooth, 1).mean(1)
        plt.plot(range(smooth - 1, len(values)), running, lw=1.2, color="C0",
                 label=f"running mean over {smooth} steps")
        plt.legend()
    plt.xlabel("step")
    plt.ylabel(ylabel)
    plt.title(title)
    plt.show()


def plot_process(states: dict[int, torch.Tensor], points: torch.Tensor, reverse: bool = True,
                 limit: float = 3.0):
    """A strip of scatter plots of the states x_k, k in decreasing order (the reverse process, from
    k = T, noise, down to k = 0, the samples, then the data) or increasing (the forward process,
    from the data x_0 up to x_T)."""
    steps = sorted(states, reverse=reverse)
    T = max(steps)
    panels = len(steps) + reverse
    fig, axes = plt.subplots(1, panels, figsize=(2.6 * panels, 2.9))
    for ax, k in zip(axes, steps):
        ax.scatter(states[k][:, 0], states[k][:, 1], s=1, alpha=0.4, color="C1" if reverse else "C0")
        note = {T: " (noise)" if reverse else "", 0: " (samples)" if reverse else " (data)"}.get(k, "")
        ax.set_title(f"$x_{{{k}}}$" + note)
    if reverse:
        shown = points[:len(states[0])] if 0 in states else points
        axes[-1].scatter(shown[:, 0], shown[:, 1], s=1, alpha=0.4, color="C0")
        axes[-1].set_title("data")
    for ax in axes:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("the reverse process, sampled with your p_sample" if reverse else
                 "the forward process q(x_k | x_0), with your q_sample", y=1.02)
    plt.tight_layout()
    plt.show()


def plot_samples(panels: dict[str, torch.Tensor], limit: float = 3.0):
    """Scatter plots side by side, one per (title, points [n, 2])."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.2))
    for i, (ax, (title, points)) in enumerate(zip(axes, panels.items())):
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, color=f"C{i}")
        ax.set_title(title)
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
    plt.tight_layout()
    plt.show()


# ------------------------------------------------------------------ NCE


class GaussianNoise:
    """The noise distribution of NCE: N(0, std^2 I) in `dim` dimensions, which we can sample and
    whose log-density we know."""

    def __init__(self, std: float = 1.5, dim: int = 2):
        self.std, self.dim = std, dim

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.std * torch.randn(n, self.dim, generator=generator)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log N(x; 0, std^2 I), one per row: [B]."""
        return (-0.5 * (x / self.std).pow(2).sum(-1) - self.dim * math.log(self.std)
                - 0.5 * self.dim * math.log(2 * math.pi))


class EnergyModel(nn.Module):
    """The model exp(-E_theta(x) - c) of NCE's logit: E_theta an MLP 2 -> hidden -> hidden -> 1
    (SiLU), and c a learned scalar."""

    def __init__(self, hidden: int = 128, dim: int = 2):
        super().__init__()
        self.energy = nn.Sequential(nn.Linear(dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                    nn.Linear(hidden, 1))
        self.c = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """E_theta(x), one per row: [B]."""
        return self.energy(x).squeeze(-1)

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """-E_theta(x) - c: the model's log-density, if NCE normalised it."""
        return -self(x) - self.c

    def logit(self, x: torch.Tensor, noise: GaussianNoise) -> torch.Tensor:
        """The classifier's logit G(x) = -E_theta(x) - c - log p_n(x): [B]."""
        return self.log_density(x) - noise.log_prob(x)


def train_nce(points: torch.Tensor, noise: GaussianNoise, steps: int = 5000, batch_size: int = 256,
              hidden: int = 128, lr: float = 3e-3, seed: int = 0, device: str = "cpu"):
    """Adam on your nce.nce_loss: each step, a batch of `points` (drawn with replacement) and as
    many draws of the noise, both scored with the classifier's logit G. The learning rate decays
    linearly to 0 over the steps. Returns the model in eval mode and the loss of every step."""
    torch.manual_seed(seed)
    model = EnergyModel(hidden, points.shape[1]).to(device)

    def loss(generator):
        data = points[torch.randint(len(points), (batch_size,), generator=generator)].to(device)
        fake = noise.sample(batch_size, generator).to(device)
        return _call("nce.nce_loss", nce.nce_loss, model.logit(data, noise), model.logit(fake, noise))

    return _train(model, loss, steps, lr, seed, device, "training the EBM by NCE")


@torch.no_grad()
def density_on_grid(model: EnergyModel, limit: float = 3.0, resolution: int = 200):
    """exp(-E_theta(x) - c) at the centres of a resolution x resolution grid of cells on
    [-limit, limit]^2 ([resolution, resolution], rows along the second coordinate), and the area
    of a cell."""
    device = model.c.device
    width = 2 * limit / resolution
    values = -limit + width * (torch.arange(resolution) + 0.5)
    y, x = torch.meshgrid(values, values, indexing="ij")
    grid = torch.stack([x, y], -1).reshape(-1, 2)
    density = torch.cat([model.log_density(chunk.to(device)).exp().cpu() for chunk in grid.split(10_000)])
    return density.reshape(resolution, resolution), width ** 2


def plot_density(density: torch.Tensor, points: torch.Tensor, limit: float = 3.0, title: str = ""):
    """Two panels on [-limit, limit]^2: the data, and a density on a grid (density_on_grid's)."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.3))
    axes[0].scatter(points[:2000, 0], points[:2000, 1], s=2, alpha=0.4)
    axes[0].set_title(f"{min(len(points), 2000)} training points")
    image = axes[1].imshow(density, origin="lower", cmap="viridis", extent=(-limit, limit, -limit, limit))
    fig.colorbar(image, ax=axes[1], fraction=0.046)
    axes[1].set_title(title)
    for ax in axes:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
    plt.tight_layout()
    plt.show()
