"""The models of the practical notebook: a small PixelCNN on binarized MNIST, built on your
`autoregressive.masked_conv2d`, and a RealNVP on two moons, built on your `flows.affine_coupling`
(its density through your `flows.flow_log_prob`); their training loops, evaluation, sampling and
plots."""
from __future__ import annotations

import contextlib
import copy
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from tqdm.auto import tqdm

import autoregressive
import flows

SIDE = 28


class NotImplementedYet(NotImplementedError):
    """One of your functions is still a stub: the message names it."""


def _missing(function: str) -> str:
    return (f"{function} is not implemented yet: fill it in in the .py file, check it with `python check.py` "
            "(or `course check hw4_flows_autoregressive`), then restart the kernel and run the notebook again.")


# ------------------------------------------------------------------ PixelCNN


def binarize(images: torch.Tensor) -> torch.Tensor:
    """Gray values in [0, 1] -> pixels in {0., 1.}: 1 where the gray value is above 1/2."""
    return (images > 0.5).float()


class MaskedConv2d(nn.Module):
    """A convolution whose forward pass is your autoregressive.masked_conv2d: it holds the weight
    [out, in, k, k] and the bias [out], initialized as nn.Conv2d's, and the mask type."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, mask_type: str):
        super().__init__()
        reference = nn.Conv2d(in_channels, out_channels, kernel_size)   # for its initialization
        self.weight = nn.Parameter(reference.weight.detach().clone())
        self.bias = nn.Parameter(reference.bias.detach().clone())
        self.mask_type = mask_type

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return autoregressive.masked_conv2d(x, self.weight, self.bias, self.mask_type)
        except NotImplementedError as error:
            raise NotImplementedYet(
                _missing("autoregressive.masked_conv2d (or causal_conv_mask, which it uses)")) from error

    def extra_repr(self) -> str:
        out, inp, k, _ = self.weight.shape
        return f"{inp}, {out}, kernel_size={k}, mask_type={self.mask_type!r}"


class PixelCNN(nn.Module):
    """A masked convolution of type "A" (first_kernel x first_kernel, 1 -> channels), ReLU, then
    `layers` masked convolutions of type "B" (kernel x kernel, channels -> channels) each followed
    by ReLU, then a 1 x 1 convolution to one logit per pixel: logit (i, j) is that of
    p(x_ij = 1 | the pixels before (i, j) in raster order)."""

    def __init__(self, channels: int = 32, layers: int = 4, first_kernel: int = 7, kernel: int = 3):
        super().__init__()
        body = [MaskedConv2d(1, channels, first_kernel, "A"), nn.ReLU()]
        for _ in range(layers):
            body += [MaskedConv2d(channels, channels, kernel, "B"), nn.ReLU()]
        self.net = nn.Sequential(*body, nn.Conv2d(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: binary images [N, 1, 28, 28] -> logits [N, 1, 28, 28]."""
        return self.net(x)


def nll_per_image(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x) in nats, one per image: the Bernoulli cross-entropy summed over the pixels."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def train_pixelcnn(images: torch.Tensor, steps: int = 1000, batch_size: int = 32, channels: int = 32,
                   layers: int = 4, lr: float = 2e-3, seed: int = 0, device: str = "cpu"):
    """Adam on the mean over the batch of nll_per_image, over random batches of the binary
    `images` (a new random order every epoch). Returns the model in eval mode and the loss of
    every step."""
    torch.manual_seed(seed)
    model = PixelCNN(channels, layers).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    per_epoch = max(1, len(images) // batch_size)
    losses = []
    model.train()
    with tqdm(total=steps, desc="training the PixelCNN") as bar:
        while len(losses) < steps:
            order = torch.randperm(len(images), generator=generator)
            for i in range(min(per_epoch, steps - len(losses))):
                x = images[order[i * batch_size:(i + 1) * batch_size]].to(device)
                loss = nll_per_image(model(x), x).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
                bar.update()
                bar.set_postfix(nll=f"{loss.item():.1f}")
    return model.eval(), losses


@torch.no_grad()
def evaluate_nll(model: PixelCNN, images: torch.Tensor, device: str = "cpu", batch_size: int = 250) -> float:
    """The mean of -log p(x) over `images`, in nats per image (exact: one forward pass per batch)."""
    total = 0.0
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].to(device)
        total += nll_per_image(model(x), x).sum().item()
    return total / len(images)


@torch.no_grad()
def sample_pixelcnn(model: PixelCNN, n: int = 16, seed: int = 0, device: str = "cpu") -> torch.Tensor:
    """n images [n, 1, 28, 28] drawn pixel by pixel in raster order: 784 forward passes, each
    giving p(x_ij = 1 | the pixels drawn so far), from which pixel (i, j) is drawn (with a seeded
    generator on the CPU, whatever the device)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, SIDE, SIDE, device=device)
    for i in tqdm(range(SIDE), desc="sampling, row by row"):
        for j in range(SIDE):
            # Row i depends on rows 0..i only: the rows below can be left out of the pass.
            probabilities = torch.sigmoid(model(x[:, :, :i + 1])[:, 0, i, j]).float().cpu()
            x[:, 0, i, j] = torch.bernoulli(probabilities, generator=generator).to(device)
    return x.cpu()


def _grid(ax, images: torch.Tensor, nrow: int, cmap: str = "gray_r"):
    grid = torchvision.utils.make_grid(images.float().cpu(), nrow=nrow, pad_value=0.25, padding=2)   # light gray lines
    ax.imshow(grid[0], cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")


def plot_images(images: torch.Tensor, title: str, nrow: int = 8):
    rows = math.ceil(len(images) / nrow)
    fig, ax = plt.subplots(figsize=(0.9 * nrow, 0.9 * rows + 0.6))
    _grid(ax, images, nrow)
    ax.set_title(title)
    plt.show()


def plot_losses(losses: list[float], ylabel: str, title: str, top: float | None = None):
    plt.figure(figsize=(6, 3))
    plt.plot(losses, lw=0.8)
    finite = [loss for loss in losses if math.isfinite(loss)]
    if finite and top is not None:
        plt.ylim(top=min(max(finite), top))
    plt.xlabel("step")
    plt.ylabel(ylabel)
    plt.title(title)
    plt.show()


@torch.no_grad()
def plot_pixel_probabilities(model: PixelCNN, images: torch.Tensor, device: str = "cpu"):
    """Test images (top) and the model's p(x_ij = 1 | the pixels before (i, j)), computed from the
    true pixels before each one (bottom)."""
    probabilities = torch.sigmoid(model(images.to(device))).cpu()
    fig, ax = plt.subplots(figsize=(1.2 * len(images), 2.8))
    _grid(ax, torch.cat([images, probabilities]), nrow=len(images))
    ax.set_title("test images (top) and $p(x_{ij} = 1 \\mid x_{<ij})$ at each pixel (bottom)")
    plt.show()


def plot_dependence(model: PixelCNN, image: torch.Tensor, pixel: tuple[int, int] = (14, 14)):
    """The input pixels on which the logit at `pixel` depends, for one input image: those where
    its gradient with respect to the input is nonzero (blue; the image's ink in gray). Computed on
    a float64 copy of the model on the CPU, where masked weights give exact zeros. A causal model
    shows nothing at `pixel` (red) and after it in raster order."""
    probe = copy.deepcopy(model).cpu().double()
    x = image.reshape(1, 1, SIDE, SIDE).cpu().double().requires_grad_()
    probe(x)[0, 0, pixel[0], pixel[1]].backward()
    depends = (x.grad[0, 0] != 0).float()[..., None]
    ink = image.reshape(SIDE, SIDE).cpu().float()[..., None]
    white, gray, blue = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.7, 0.7, 0.7]), torch.tensor([0.3, 0.55, 0.85])
    colours = (1 - depends) * ((1 - ink) * white + ink * gray) + depends * ((1 - ink) * blue + ink * 0.6 * blue)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.imshow(colours.numpy(), interpolation="nearest")
    ax.plot(pixel[1], pixel[0], "rs", markersize=6)
    ax.set_xticks(range(0, SIDE, 7))
    ax.set_yticks(range(0, SIDE, 7))
    ax.set_title(f"{int(depends.sum())} input pixels with a nonzero gradient\nof the logit at pixel {pixel} (red)")
    plt.show()


# ------------------------------------------------------------------ RealNVP


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


class Coupling(nn.Module):
    """One affine coupling layer: your flows.affine_coupling with a fixed mask and two MLPs
    2 -> hidden -> hidden -> 2 (ReLU); s_net ends with tanh, so that each layer scales a coordinate
    by a factor between 1/e and e, which keeps the training stable."""

    def __init__(self, mask: torch.Tensor, hidden: int = 64):
        super().__init__()
        self.register_buffer("mask", mask)

        def mlp(*end):
            return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2), *end)

        self.s_net, self.t_net = mlp(nn.Tanh()), mlp()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._coupling(x, reverse=False)

    def inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._coupling(y, reverse=True)

    def _coupling(self, x, reverse):
        try:
            return flows.affine_coupling(x, self.mask, self.s_net, self.t_net, reverse=reverse)
        except NotImplementedError as error:
            raise NotImplementedYet(_missing("flows.affine_coupling")) from error


class RealNVP(nn.Module):
    """`layers` coupling layers whose masks alternate [1, 0] (the first coordinate passes, the
    second is transformed) and [0, 1], on a standard normal base: x = f_L(...f_1(u)), u ~ N(0, I)."""

    def __init__(self, layers: int = 8, hidden: int = 64):
        super().__init__()
        masks = [torch.tensor([1.0, 0.0]) if k % 2 == 0 else torch.tensor([0.0, 1.0]) for k in range(layers)]
        self.layers = nn.ModuleList(Coupling(mask, hidden) for mask in masks)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) [B] by the change of variables: your flows.flow_log_prob with the inverse
        layers in the inverse order (x -> f_L^-1 -> ... -> f_1^-1 -> u)."""
        try:
            return flows.flow_log_prob(x, [layer.inverse for layer in reversed(self.layers)])
        except NotImplementedYet:   # from a coupling layer: it names the function
            raise
        except NotImplementedError as error:
            raise NotImplementedYet(_missing("flows.flow_log_prob")) from error

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """n points [n, 2]: base noise u ~ N(0, I) (seeded, drawn on the CPU) through the forward layers."""
        x = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed)).to(self.layers[0].mask.device)
        for layer in self.layers:
            x, _ = layer(x)
        return x.cpu()


@contextlib.contextmanager
def _one_thread_on_the_cpu(device: str):
    """The RealNVP's matrices are tiny: on the CPU, one thread runs it faster than several (which
    spend their time waiting for each other), more so on a busy machine."""
    threads = torch.get_num_threads()
    if torch.device(device).type == "cpu":
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_realnvp(points: torch.Tensor, steps: int = 1500, batch_size: int = 256, layers: int = 8,
                  hidden: int = 64, lr: float = 2e-3, seed: int = 0, device: str = "cpu"):
    """Adam on the mean of -log p(x) (maximum likelihood) over random batches of `points` (drawn
    with replacement). Returns the model in eval mode and the loss of every step."""
    torch.manual_seed(seed)
    model = RealNVP(layers, hidden).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    with _one_thread_on_the_cpu(device), tqdm(total=steps, desc="training the RealNVP") as bar:
        for _ in range(steps):
            x = points[torch.randint(len(points), (batch_size,), generator=generator)].to(device)
            loss = -model.log_prob(x).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            bar.update()
            bar.set_postfix(nll=f"{loss.item():.3f}")
    return model.eval(), losses


@torch.no_grad()
def plot_flow(model: RealNVP, points: torch.Tensor, limit: float = 2.5, resolution: int = 200,
              samples: int = 2000, seed: int = 0):
    """Three panels on [-limit, limit]^2: the data, the learned density exp(log p(x)) on a grid,
    and samples of the flow (base noise through the forward layers)."""
    device = model.layers[0].mask.device
    values = torch.linspace(-limit, limit, resolution)
    y, x = torch.meshgrid(values, values, indexing="ij")
    grid = torch.stack([x, y], -1).reshape(-1, 2)
    density = torch.cat([model.log_prob(chunk.to(device)).exp().cpu() for chunk in grid.split(10_000)])
    drawn = model.sample(samples, seed=seed)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.3))
    shown = points[:samples]
    axes[0].scatter(shown[:, 0], shown[:, 1], s=2, alpha=0.5)
    axes[0].set_title(f"{len(shown)} training points")
    image = axes[1].imshow(density.reshape(resolution, resolution), origin="lower", cmap="viridis",
                           extent=(-limit, limit, -limit, limit))
    fig.colorbar(image, ax=axes[1], fraction=0.046)
    axes[1].set_title("learned density $p(x)$")
    axes[2].scatter(drawn[:, 0], drawn[:, 1], s=2, alpha=0.5, color="C1")
    axes[2].set_title(f"{samples} samples of the flow")
    for ax in axes:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
    plt.tight_layout()
    plt.show()
