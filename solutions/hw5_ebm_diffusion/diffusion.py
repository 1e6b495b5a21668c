"""hw5_ebm_diffusion: the DDPM of Ho et al. (2020): its forward process, the posterior of one
step, the reverse step from a noise prediction, the simple loss and the terms of the bound.

Conventions (the contract):
- `betas` is a float64 tensor [T], the only schedule input; alpha_t = 1 - beta_t and
  alpha_bar_t = alpha_0 * ... * alpha_t are derived from it.
- Timesteps `t` are a 0-based LongTensor [B]: code step t is the paper's step t + 1, so t = 0 is
  the last step of sampling, whose "previous" alpha_bar is 1. A batch mixes timesteps.
- x0, xt, noise, eps: [B, ...] with any trailing shape ([B, D] or [B, C, H, W]).
- Per-example coefficients are gathered from the schedule in float64, then cast to x's dtype and
  moved to x's device (betas may stay on the CPU while x is on a GPU), shaped [B, 1, ..., 1].
- Randomness is passed in (`noise=`): these functions draw nothing.
"""
import math

import torch


def gather(coefficients, t, x):
    """coefficients[t], one per example, as x's dtype on x's device, shaped [B, 1, ..., 1] to
    broadcast against x. Not graded by itself: the functions below may use it."""
    ### BEGIN SOLUTION index on the schedule's device, then cast and move; one value per row of x
    values = coefficients[t.to(coefficients.device)]
    return values.to(dtype=x.dtype, device=x.device).reshape(-1, *([1] * (x.dim() - 1)))
    ### END SOLUTION


def linear_beta_schedule(T, beta_start=1e-4, beta_end=0.02):
    """T betas evenly spaced from beta_start to beta_end (both included), float64. Not rescaled:
    the values are the same for every T."""
    ### BEGIN SOLUTION float64 from the start, not a float32 linspace cast afterwards
    return torch.linspace(beta_start, beta_end, T, dtype=torch.float64)
    ### END SOLUTION


def cosine_beta_schedule(T, s=0.008, max_beta=0.999):
    """The cosine schedule of Nichol & Dhariwal (2021), float64 [T]: with
    f(u) = cos((u / T + s) / (1 + s) * pi / 2)^2 and alpha_bar(u) = f(u) / f(0),
    beta_t = min(1 - alpha_bar(t + 1) / alpha_bar(t), max_beta) for t = 0, ..., T - 1."""
    ### BEGIN SOLUTION the square of the cosine; clip the last betas, which approach 1
    u = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((u / T + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=max_beta)
    ### END SOLUTION


def q_sample(x0, t, noise, betas):
    """A draw of x_t ~ q(x_t | x_0): sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise."""
    ### BEGIN SOLUTION alpha_bar is the cumulative product of 1 - beta, taken at each row's own t
    alpha_bar = torch.cumprod(1 - betas, 0)
    return gather(alpha_bar.sqrt(), t, x0) * x0 + gather((1 - alpha_bar).sqrt(), t, x0) * noise
    ### END SOLUTION


def q_posterior_mean_variance(x0, xt, t, betas):
    """The Gaussian q(x_{t-1} | x_t, x_0): (mean, variance, log_variance_clipped), each of x's
    shape. At t = 0 the variance is 0; its log is clipped to the log-variance at t = 1 (as in
    Ho et al.'s code), so that it stays finite."""
    ### BEGIN SOLUTION alpha_bar_{t-1} is 1 at t = 0
    alphas = 1 - betas
    alpha_bar = torch.cumprod(alphas, 0)
    alpha_bar_prev = torch.cat([alpha_bar.new_ones(1), alpha_bar[:-1]])
    variance = betas * (1 - alpha_bar_prev) / (1 - alpha_bar)
    log_variance = torch.log(torch.cat([variance[1:2], variance[1:]]))
    coef_x0 = betas * alpha_bar_prev.sqrt() / (1 - alpha_bar)
    coef_xt = (1 - alpha_bar_prev) * alphas.sqrt() / (1 - alpha_bar)
    mean = gather(coef_x0, t, xt) * x0 + gather(coef_xt, t, xt) * xt
    ones = torch.ones_like(xt)
    return mean, gather(variance, t, xt) * ones, gather(log_variance, t, xt) * ones
    ### END SOLUTION


def predict_x0_from_eps(xt, t, eps, betas):
    """The x0 for which q_sample(x0, t, eps, betas) == xt."""
    ### BEGIN SOLUTION invert q_sample for x0
    alpha_bar = torch.cumprod(1 - betas, 0)
    return gather((1 / alpha_bar).sqrt(), t, xt) * xt - gather((1 / alpha_bar - 1).sqrt(), t, xt) * eps
    ### END SOLUTION


def p_mean_from_eps(xt, t, eps, betas):
    """The mean of p(x_{t-1} | x_t) when the network predicts the noise eps:
    (xt - beta_t / sqrt(1 - alpha_bar_t) * eps) / sqrt(alpha_t)."""
    ### BEGIN SOLUTION
    alpha_bar = torch.cumprod(1 - betas, 0)
    coef_eps = betas / (1 - alpha_bar).sqrt()
    return (xt - gather(coef_eps, t, xt) * eps) / gather((1 - betas).sqrt(), t, xt)
    ### END SOLUTION


def p_sample(xt, t, eps, noise, betas):
    """One ancestral step x_{t-1} = mean + sigma_t * noise with the mean of p_mean_from_eps and
    sigma_t^2 = beta_t; no noise at t = 0 (row by row: a batch mixes t = 0 with other steps)."""
    ### BEGIN SOLUTION sigma_t is the square root of beta_t; mask the noise of the rows with t = 0
    mean = p_mean_from_eps(xt, t, eps, betas)
    nonzero = (t != 0).to(dtype=xt.dtype, device=xt.device).reshape(-1, *([1] * (xt.dim() - 1)))
    return mean + nonzero * gather(betas.sqrt(), t, xt) * noise
    ### END SOLUTION


def ddpm_simple_loss(model, x0, t, noise, betas):
    """Ho et al.'s L_simple: the mean over every element of (noise - model(x_t, t))^2, where
    x_t = q_sample(x0, t, noise, betas). A scalar."""
    ### BEGIN SOLUTION the network predicts the noise, not x0
    xt = q_sample(x0, t, noise, betas)
    return ((noise - model(xt, t)) ** 2).mean()
    ### END SOLUTION


def normal_kl(mean1, logvar1, mean2, logvar2):
    """KL(N(mean1, exp(logvar1)) || N(mean2, exp(logvar2))) elementwise, in nats (the arguments
    broadcast against each other)."""
    ### BEGIN SOLUTION
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(logvar1 - logvar2)
                  + (mean1 - mean2) ** 2 * torch.exp(-logvar2))
    ### END SOLUTION


def vlb_term(x0, xt, t, model_mean, model_logvar, betas):
    """The term of the variational bound at step t, in nats summed over all but the batch
    dimension, shape [B]: KL(q(x_{t-1} | x_t, x_0) || N(model_mean, exp(model_logvar))) for t > 0,
    and at t = 0 the negative log-likelihood of x0 under the discretised Gaussian decoder: x0 lies
    on the 256-level grid of [-1, 1] (bins of width 2/255 around each level, the bins of the outer
    levels -1 and 1 reaching to -inf and +inf), and its probability is the mass of its bin under
    N(model_mean, exp(model_logvar)), from the exact normal CDF. Finite, with finite gradients,
    for every row."""
    ### BEGIN SOLUTION log-probabilities clamped away from log 0: torch.where differentiates both branches
    true_mean, _, true_logvar = q_posterior_mean_variance(x0, xt, t, betas)
    kl = normal_kl(true_mean, true_logvar, model_mean, model_logvar)
    inv_std = torch.exp(-0.5 * model_logvar)
    centred = x0 - model_mean
    cdf_plus = torch.special.ndtr(inv_std * (centred + 1 / 255))
    cdf_min = torch.special.ndtr(inv_std * (centred - 1 / 255))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_one_minus_cdf_min = torch.log((1 - cdf_min).clamp(min=1e-12))
    log_delta = torch.log((cdf_plus - cdf_min).clamp(min=1e-12))
    log_probs = torch.where(x0 < -0.999, log_cdf_plus, torch.where(x0 > 0.999, log_one_minus_cdf_min, log_delta))
    dims = list(range(1, x0.dim()))
    nll = -log_probs.sum(dims) if dims else -log_probs
    kl = kl.sum(dims) if dims else kl
    return torch.where(t.to(x0.device) == 0, nll, kl)
    ### END SOLUTION
