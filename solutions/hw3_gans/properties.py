"""Hidden properties of hw3_gans (graded, never in the students' folder; their checks can only be hidden).

Expectations under two unit Gaussians p0 = N(0, 1) and p1 = N(m, 1) are taken on quantile
samples (x_i = mean + Phi^-1((i + 1/2) / n)): deterministic, and accurate to about 1e-5, so the
properties need no statistical slack."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from autograder.checks.properties import expect

SAMPLES = 20001


def quantile_samples(mean: float):
    import torch

    u = (torch.arange(SAMPLES, dtype=torch.float64) + 0.5) / SAMPLES
    return mean + math.sqrt(2) * torch.special.erfinv(2 * u - 1)


def optimal_logits(x, m: float):
    """log p1(x) - log p0(x) for p0 = N(0, 1), p1 = N(m, 1): the logit of D*."""
    return m * x - m * m / 2


def gaussian_jsd(m: float) -> float:
    """JSD(N(0, 1), N(m, 1)) by numerical integration."""
    import torch

    x = torch.linspace(-12, 12 + m, 200001, dtype=torch.float64)
    p0 = torch.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    p1 = torch.exp(-(x - m) ** 2 / 2) / math.sqrt(2 * math.pi)
    mix = (p0 + p1) / 2
    integrand = 0.5 * p0 * torch.log(p0 / mix) + 0.5 * p1 * torch.log(p1 / mix)
    return float(torch.trapezoid(torch.nan_to_num(integrand), x))


def discriminator_loss_at_optimum(call, data):
    m = data.draw(st.floats(0.2, 4.0))
    real = optimal_logits(quantile_samples(m), m)      # data: p1
    fake = optimal_logits(quantile_samples(0.0), m)    # generated: p0
    loss = float(call(real, fake))
    expected = 2 * math.log(2) - 2 * gaussian_jsd(m)
    expect(abs(loss - expected) < 1e-3,
           f"with the optimal discriminator between N(0, 1) (generated) and N({m:.4g}, 1) (data) "
           f"the loss should be 2 log 2 - 2 JSD = {expected:.6f}, got {loss:.6f}")


def jsd_of_two_gaussians(call, data):
    import torch

    m = data.draw(st.floats(0.2, 4.0))
    d_on_p1 = torch.sigmoid(optimal_logits(quantile_samples(m), m))
    d_on_p0 = torch.sigmoid(optimal_logits(quantile_samples(0.0), m))
    estimate = float(call(d_on_p1, d_on_p0))
    expected = gaussian_jsd(m)
    expect(abs(estimate - expected) < 1e-3,
           f"with the optimal discriminator between N(0, 1) and N({m:.4g}, 1) the estimate should "
           f"be close to the JSD {expected:.6f} (numerical integration), got {estimate:.6f}")


PROPERTIES = {f.__name__: f for f in (discriminator_loss_at_optimum, jsd_of_two_gaussians)}
