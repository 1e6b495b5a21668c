"""Hidden properties of hw5_ebm_diffusion (graded, never in the students' folder; their checks can
only be hidden): they compute what the derivations ask for (the posterior's mean and variance,
the optimal NCE logit)."""
from __future__ import annotations

from hypothesis import strategies as st

from autograder.checks.properties import expect


def example(data):
    """(betas [T], t [B] in [1, T - 1], a function drawing normal tensors [B, D])."""
    import torch

    rng = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31 - 1)))
    steps, batch, dim = data.draw(st.integers(2, 30)), data.draw(st.integers(1, 5)), data.draw(st.integers(1, 4))
    betas = (1e-4 + 0.3 * torch.rand(steps, generator=rng, dtype=torch.float64)).sort().values
    t = torch.randint(1, steps, (batch,), generator=rng)
    return betas, t, lambda: torch.randn(batch, dim, generator=rng, dtype=torch.float64)


def posterior(betas, t, x0, xt):
    """The mean and variance of q(x_{t-1} | x_t, x_0) as a product of Gaussians in x_{t-1}:
    q(x_t | x_{t-1}) q(x_{t-1} | x_0), precisions added and means weighted by them."""
    import torch

    alpha_bar = torch.cumprod(1 - betas, 0)
    previous = torch.cat([torch.ones(1, dtype=betas.dtype), alpha_bar[:-1]])[t].unsqueeze(-1)
    beta = betas[t].unsqueeze(-1)
    precision = (1 - beta) / beta + 1 / (1 - previous)
    mean = ((1 - beta).sqrt() * xt / beta + previous.sqrt() * x0 / (1 - previous)) / precision
    return mean, (1 / precision).expand_as(x0)


def p_mean_from_true_eps_is_posterior_mean(call, data):
    """With the eps that made x_t from x0, the reverse step's mean is the posterior's mean."""
    import torch

    betas, t, normal = example(data)
    x0, eps = normal(), normal()
    alpha_bar = torch.cumprod(1 - betas, 0)[t].unsqueeze(-1)
    xt = alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
    mean = call(xt, t, eps, betas)
    want, _ = posterior(betas, t, x0, xt)
    expect(tuple(mean.shape) == tuple(xt.shape) and torch.allclose(mean, want, rtol=1e-7, atol=1e-9),
           f"with the true noise the mean must be that of q(x_(t-1) | x_t, x_0): {mean.flatten()[:4].tolist()} where "
           f"it is {want.flatten()[:4].tolist()} (beta_t / sqrt(1 - alpha_bar_t) is the noise's coefficient, "
           "and the whole is divided by sqrt(alpha_t))", xt, t, eps, betas)


def vlb_zero_at_true_posterior(call, data):
    """For t >= 1 the term is KL(q || p_theta): 0 when p_theta is the posterior itself."""
    import torch

    betas, t, normal = example(data)
    x0, xt = normal(), normal()
    mean, variance = posterior(betas, t, x0, xt)
    term = call(x0, xt, t, mean, variance.log(), betas)
    expect(tuple(term.shape) == (len(t),), f"the term has shape {tuple(term.shape)}, expected ({len(t)},): one "
           "per example, summed over the other dimensions", x0, xt, t, mean, variance.log(), betas)
    expect(torch.allclose(term, torch.zeros_like(term), atol=1e-9),
           f"for t >= 1 with the model equal to q(x_(t-1) | x_t, x_0) the term must be 0, got {term.tolist()} "
           "(the KL's arguments swapped? the posterior computed otherwise?)", x0, xt, t, mean, variance.log(), betas)


def nce_minimised_at_log_ratio(call, data):
    """On K points with data counts c_k (n in all) and noise counts m_k (m in all), the loss as a
    function of the K logits is least at G_k = log(c_k / n) - log(m_k / m): it grows both ways."""
    import torch

    k = data.draw(st.integers(1, 4))
    data_counts = data.draw(st.lists(st.integers(1, 5), min_size=k, max_size=k))
    noise_counts = data.draw(st.lists(st.integers(1, 5), min_size=k, max_size=k))
    n, m = sum(data_counts), sum(noise_counts)
    best = torch.tensor([torch.log(torch.tensor(c / n / (d / m))).item() for c, d in zip(data_counts, noise_counts)],
                        dtype=torch.float64)
    step = 0.05 * torch.tensor(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=k, max_size=k)),
                               dtype=torch.float64)

    def loss(logits):
        return call(logits.repeat_interleave(torch.tensor(data_counts)), logits.repeat_interleave(torch.tensor(noise_counts)))

    at_best, above, below = loss(best), loss(best + step), loss(best - step)
    expect(at_best.dim() == 0, f"the loss must be a scalar, got shape {tuple(at_best.shape)}")
    expect(bool(at_best < above) and bool(at_best < below),
           f"with data counts {data_counts} and noise counts {noise_counts} the loss must be least at the logits "
           f"log p_d - log p_n = {[round(v, 4) for v in best.tolist()]}: it is {at_best.item():.6g} there, "
           f"{above.item():.6g} and {below.item():.6g} a step of 0.05 away (one mean over data and noise together? "
           "the signs of the logits?)")


PROPERTIES = {f.__name__: f for f in (p_mean_from_true_eps_is_posterior_mean, vlb_zero_at_true_posterior,
                                      nce_minimised_at_log_ratio)}
