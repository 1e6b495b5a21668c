"""Properties of hw5_ebm_diffusion's functions that every correct answer has: the forward process
is affine in the noise, the posterior obeys Bayes' rule, predicting x0 inverts the forward
process, the reverse step adds sqrt(beta_t) noise except at t = 0, and the simple loss vanishes
for a network that knows the noise. Part of the specification, run by the public checks
(python check.py) and by grading.

Each example draws a schedule (T random betas), a batch that mixes timesteps, and float64 data
from one generator seeded by hypothesis, so it is cheap and replays exactly."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from autograder.checks.properties import expect


def example(data, first_step=0):
    """(betas [T], t [B], a function drawing normal tensors [B, ...]): a random schedule, timesteps
    in [first_step, T - 1], and a data shape [B, D] or [B, C, H, W]."""
    import torch

    rng = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31 - 1)))
    steps, batch = data.draw(st.integers(max(2, first_step + 1), 30)), data.draw(st.integers(1, 5))
    shape = data.draw(st.sampled_from([(batch, 3), (batch, 1), (batch, 2, 3, 3)]))
    betas = (1e-4 + 0.3 * torch.rand(steps, generator=rng, dtype=torch.float64)).sort().values
    t = torch.randint(first_step, steps, (batch,), generator=rng)

    def normal():
        return torch.randn(shape, generator=rng, dtype=torch.float64)

    return betas, t, normal


def per_row(values, x):
    """[B] values shaped to broadcast against x [B, ...]."""
    return values.reshape(-1, *([1] * (x.dim() - 1)))


def alpha_bars(betas, t, x):
    """(alpha_bar_t, alpha_bar_{t-1}) per row, alpha_bar_{-1} = 1: the definition in diffusion.py's
    docstring, alpha_bar_t = alpha_0 * ... * alpha_t."""
    import torch

    alpha_bar = (1 - betas).cumprod(dim=0)
    previous = torch.cat([torch.ones(1, dtype=betas.dtype), alpha_bar[:-1]])
    return per_row(alpha_bar[t], x), per_row(previous[t], x)


def log_normal(x, mean, variance):
    import torch

    return -0.5 * torch.log(2 * math.pi * variance) - (x - mean) ** 2 / (2 * variance)


def same_shape(value, x, what, *args):
    expect(tuple(value.shape) == tuple(x.shape), f"{what} has shape {tuple(value.shape)}, expected x's shape "
           f"{tuple(x.shape)}", *args)


def q_sample_is_affine_in_noise(call, data):
    """q_sample(x0, t, 0) is the mean sqrt(alpha_bar_t) x0, and the noise enters scaled by
    sqrt(1 - alpha_bar_t), row by row at each row's own t."""
    import torch

    betas, t, normal = example(data)
    x0, noise = normal(), normal()
    mean = call(x0, t, torch.zeros_like(x0), betas)
    noisy = call(x0, t, noise, betas)
    same_shape(noisy, x0, "q_sample's result", x0, t, noise, betas)
    alpha_bar, _ = alpha_bars(betas, t, x0)
    expect(torch.allclose(mean, alpha_bar.sqrt() * x0, rtol=1e-9, atol=1e-12),
           "with noise = 0, x_t must be the mean sqrt(alpha_bar_t) x0, alpha_bar_t = (1 - beta_0) ... (1 - beta_t) "
           "at each row's own t (sqrt(1 - beta_t) in its place? alpha_bar_{t-1}? t[0] for every row?)",
           x0, t, torch.zeros_like(x0), betas)
    expect(torch.allclose(noisy - mean, (1 - alpha_bar).sqrt() * noise, rtol=1e-9, atol=1e-12),
           "the noise must enter as sqrt(1 - alpha_bar_t) * noise, the standard deviation of q(x_t | x_0) "
           "(the variance 1 - alpha_bar_t in its place?)", x0, t, noise, betas)


def posterior_satisfies_bayes_rule(call, data):
    """For t >= 1, log N(x_{t-1}; mean, variance) = log q(x_t | x_{t-1}) + log q(x_{t-1} | x_0) -
    log q(x_t | x_0) at any x_{t-1}, log_variance = log(variance); at t = 0 the mean is x0, the
    variance 0 and the log-variance that of t = 1."""
    import torch

    betas, t, normal = example(data, first_step=1)
    x0, xt, x_previous = normal(), normal(), normal()
    t = torch.cat([t, torch.tensor([0, 1])])
    x0, xt, x_previous = (torch.cat([v, v[:1], v[:1]]) for v in (x0, xt, x_previous))
    mean, variance, log_variance = call(x0, xt, t, betas)
    for value, what in ((mean, "the mean"), (variance, "the variance"), (log_variance, "the log-variance")):
        same_shape(value, x0, what, x0, xt, t, betas)
    alpha_bar, previous = alpha_bars(betas, t, x0)
    beta = per_row(betas[t], x0)
    rows = t > 0
    bayes = (log_normal(xt, (1 - beta).sqrt() * x_previous, beta) + log_normal(x_previous, previous.sqrt() * x0, 1 - previous)
             - log_normal(xt, alpha_bar.sqrt() * x0, 1 - alpha_bar))[rows]
    expect(bool((variance[rows] > 0).all()), f"the variance must be positive for t >= 1, got {variance[rows].min().item():.4g}",
           x0, xt, t, betas)
    yours = log_normal(x_previous, mean, variance)[rows]
    expect(torch.allclose(yours, bayes, rtol=1e-7, atol=1e-9),
           "your Gaussian is not q(x_t | x_{t-1}) q(x_{t-1} | x_0) / q(x_t | x_0) (Bayes' rule, by the forward "
           f"process's densities): log-densities {yours.flatten()[:4].tolist()} where Bayes gives "
           f"{bayes.flatten()[:4].tolist()} (coefficients of x0 and x_t swapped? alpha_bar_t where alpha_bar_(t-1) "
           "is due? beta_t as the variance?)", x0, xt, t, betas)
    expect(torch.allclose(log_variance[rows], variance[rows].log(), rtol=1e-9, atol=1e-12),
           "for t >= 1 the log-variance must be log(variance)", x0, xt, t, betas)
    first, second = -2, -1   # the rows appended above: t = 0 and t = 1 with the same x0 and x_t
    expect(torch.allclose(mean[first], x0[first], rtol=1e-9, atol=1e-12)
           and torch.allclose(variance[first], torch.zeros_like(variance[first]), atol=1e-12),
           "at t = 0 (the last step of sampling) the posterior is the point x0: mean x0, variance 0 (the alpha_bar "
           "before step 0 is 1)",
           x0, xt, t, betas)
    expect(torch.allclose(log_variance[first], log_variance[second], rtol=1e-9, atol=1e-12),
           "at t = 0 the log-variance is clipped to its value at t = 1 (log 0 is -inf): got "
           f"{log_variance[first].flatten()[0].item():.6g}, at t = 1 {log_variance[second].flatten()[0].item():.6g}",
           x0, xt, t, betas)


def predict_x0_inverts_q_sample(call, data):
    """predict_x0_from_eps(sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps, t, eps) == x0."""
    import torch

    betas, t, normal = example(data)
    x0, eps = normal(), normal()
    alpha_bar, _ = alpha_bars(betas, t, x0)
    xt = alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
    found = call(xt, t, eps, betas)
    same_shape(found, x0, "the result", xt, t, eps, betas)
    expect(torch.allclose(found, x0, rtol=1e-7, atol=1e-9),
           f"x_t made from x0 and eps by the forward process does not give x0 back: {found.flatten()[:4].tolist()} "
           f"where x0 is {x0.flatten()[:4].tolist()}", xt, t, eps, betas)


def p_sample_noise_is_sqrt_beta(call, data):
    """Two calls that differ in the noise only: rows with t = 0 agree, the others differ by
    sqrt(beta_t) (noise1 - noise2)."""
    import torch

    betas, t, normal = example(data)
    t[0] = 0
    xt, eps, noise1, noise2 = normal(), normal(), normal(), normal()
    one, two = call(xt, t, eps, noise1, betas), call(xt, t, eps, noise2, betas)
    same_shape(one, xt, "the result", xt, t, eps, noise1, betas)
    zero = t == 0
    expect(torch.allclose(one[zero], two[zero], rtol=1e-9, atol=1e-12),
           "rows with t = 0 must not depend on the noise: the last step returns the mean (noise added at t = 0?)",
           xt, t, eps, noise1, betas)
    want = (per_row(betas[t], xt).sqrt() * (noise1 - noise2))[~zero]
    got = (one - two)[~zero]
    if not torch.allclose(got, want, rtol=1e-7, atol=1e-10):
        ratio = (got.abs().sum() / want.abs().sum()).item() if want.abs().sum() > 0 else float("nan")
        expect(False, f"for t > 0 the noise must enter scaled by sigma_t = sqrt(beta_t); yours enters scaled by "
               f"{ratio:.4g} times that (beta_t in place of its square root? the noise of the wrong row?)",
               xt, t, eps, noise1, betas)


def simple_loss_zero_for_oracle(call, data):
    """With a network that returns exactly the noise in x_t (it knows the data, one point per
    timestep, and the schedule), the loss is 0."""
    import torch

    from autograder import modules

    betas, t, normal = example(data)
    noise, table = normal(), torch.cat([normal() for _ in range(len(betas) // len(t) + 1)])[:len(betas)]
    x0 = table[t]
    oracle = modules.build("noise_oracle", {"shape": list(x0.shape[1:]), "steps": len(betas)}, {"x0": table, "betas": betas})
    loss = call(oracle, x0, t, noise, betas)
    expect(loss.dim() == 0, f"the loss must be a scalar, got shape {tuple(loss.shape)}", oracle, x0, t, noise, betas)
    expect(abs(loss.item()) < 1e-12 and torch.isfinite(loss),
           f"a network that predicts the noise exactly gets loss {loss.item():.6g}, expected 0: the target is the "
           "noise, and x_t = q_sample(x0, t, noise) (x0 as the target? x_t made otherwise?)", oracle, x0, t, noise, betas)


PROPERTIES = {f.__name__: f for f in (q_sample_is_affine_in_noise, posterior_satisfies_bayes_rule,
                                      predict_x0_inverts_q_sample, p_sample_noise_is_sqrt_beta,
                                      simple_loss_zero_for_oracle)}
