"""Known mistakes of hw5_ebm_diffusion, for the feedback (checks/diagnoses.py): each function
computes what the mistaken code returns, and MISTAKES gives the hint a student reads when their
result equals it on a failing case. Hidden, like the references."""
import importlib.util
import math
from pathlib import Path

import sympy
import torch
import torch.nn.functional as F

from autograder.checks.diagnoses import PUBLIC_SAFE


def _reference(name):
    """A reference module next to this file (the judge loads files by path, not by import)."""
    spec = importlib.util.spec_from_file_location(f"_hw5_mistakes_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_diffusion = _reference("diffusion")
gather, q_sample, q_posterior_mean_variance = _diffusion.gather, _diffusion.q_sample, _diffusion.q_posterior_mean_variance
p_mean_from_eps, normal_kl, vlb_term = _diffusion.p_mean_from_eps, _diffusion.normal_kl, _diffusion.vlb_term


def _alpha_bar(betas):
    return torch.cumprod(1 - betas, 0)


def _previous(alpha_bar):
    return torch.cat([alpha_bar.new_ones(1), alpha_bar[:-1]])


# ---------------------------------------------------------------- schedules

def linear_rescaled(T, beta_start=1e-4, beta_end=0.02):
    scale = 1000 / T
    return torch.linspace(scale * beta_start, scale * beta_end, T, dtype=torch.float64)


def linear_float32(T, beta_start=1e-4, beta_end=0.02):
    return torch.linspace(beta_start, beta_end, T).double()


def cosine_schedule(T, s, max_beta, power, clip=True):
    u = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((u / T + s) / (1 + s) * math.pi / 2) ** power
    alpha_bar = f / f[0]
    betas = 1 - alpha_bar[1:] / alpha_bar[:-1]
    return betas.clamp(max=max_beta) if clip else betas


def cosine_not_squared(T, s=0.008, max_beta=0.999):
    return cosine_schedule(T, s, max_beta, 1)


def cosine_not_clipped(T, s=0.008, max_beta=0.999):
    return cosine_schedule(T, s, max_beta, 2, clip=False)


# ---------------------------------------------------------------- the forward process

def q_sample_one_step(x0, t, noise, betas):
    return gather((1 - betas).sqrt(), t, x0) * x0 + gather(betas.sqrt(), t, x0) * noise


def q_sample_previous(x0, t, noise, betas):
    previous = _previous(_alpha_bar(betas))
    return gather(previous.sqrt(), t, x0) * x0 + gather((1 - previous).sqrt(), t, x0) * noise


def q_sample_first_t(x0, t, noise, betas):
    return q_sample(x0, t[:1].expand(len(t)), noise, betas)


def q_sample_variance(x0, t, noise, betas):
    alpha_bar = _alpha_bar(betas)
    return gather(alpha_bar.sqrt(), t, x0) * x0 + gather(1 - alpha_bar, t, x0) * noise


def posterior_swapped(x0, xt, t, betas):
    return q_posterior_mean_variance(xt, x0, t, betas)


def posterior_alpha_bar_t_in_x0(x0, xt, t, betas):
    alpha_bar = _alpha_bar(betas)
    coef_xt = (1 - _previous(alpha_bar)) * (1 - betas).sqrt() / (1 - alpha_bar)
    _, variance, log_variance = q_posterior_mean_variance(x0, xt, t, betas)
    mean = gather(betas * alpha_bar.sqrt() / (1 - alpha_bar), t, xt) * x0 + gather(coef_xt, t, xt) * xt
    return mean, variance, log_variance


def posterior_variance_beta(x0, xt, t, betas):
    mean, _, _ = q_posterior_mean_variance(x0, xt, t, betas)
    ones = torch.ones_like(xt)
    return mean, gather(betas, t, xt) * ones, gather(betas.log(), t, xt) * ones


def posterior_unclipped(x0, xt, t, betas):
    mean, variance, _ = q_posterior_mean_variance(x0, xt, t, betas)
    return mean, variance, variance.log()


# ---------------------------------------------------------------- the reverse step

def p_sample_noise_at_zero(xt, t, eps, noise, betas):
    return p_mean_from_eps(xt, t, eps, betas) + gather(betas.sqrt(), t, xt) * noise


def p_sample_variance_as_std(xt, t, eps, noise, betas):
    nonzero = (t != 0).to(dtype=xt.dtype, device=xt.device).reshape(-1, *([1] * (xt.dim() - 1)))
    return p_mean_from_eps(xt, t, eps, betas) + nonzero * gather(betas, t, xt) * noise


def p_sample_posterior_sigma(xt, t, eps, noise, betas):
    nonzero = (t != 0).to(dtype=xt.dtype, device=xt.device).reshape(-1, *([1] * (xt.dim() - 1)))
    alpha_bar = _alpha_bar(betas)
    variance = betas * (1 - _previous(alpha_bar)) / (1 - alpha_bar)
    return p_mean_from_eps(xt, t, eps, betas) + nonzero * gather(variance.sqrt(), t, xt) * noise


def p_mean_alpha_bar_denominator(xt, t, eps, betas):
    alpha_bar = _alpha_bar(betas)
    return (xt - gather(betas / (1 - alpha_bar).sqrt(), t, xt) * eps) / gather(alpha_bar.sqrt(), t, xt)


# ---------------------------------------------------------------- losses

def loss_target_x0(model, x0, t, noise, betas):
    return ((x0 - model(q_sample(x0, t, noise, betas), t)) ** 2).mean()


def loss_sum(model, x0, t, noise, betas):
    return ((noise - model(q_sample(x0, t, noise, betas), t)) ** 2).sum()


def loss_l1(model, x0, t, noise, betas):
    return (noise - model(q_sample(x0, t, noise, betas), t)).abs().mean()


def loss_per_example_sum(model, x0, t, noise, betas):
    return ((noise - model(q_sample(x0, t, noise, betas), t)) ** 2).flatten(1).sum(1).mean()


def kl_swapped(mean1, logvar1, mean2, logvar2):
    return normal_kl(mean2, logvar2, mean1, logvar1)


def kl_std_for_variance(mean1, logvar1, mean2, logvar2):
    return 0.5 * (-1.0 + logvar2 - logvar1 + torch.exp(0.5 * (logvar1 - logvar2))
                  + (mean1 - mean2) ** 2 * torch.exp(-logvar2))


def vlb_swapped(x0, xt, t, model_mean, model_logvar, betas):
    mean, _, logvar = q_posterior_mean_variance(x0, xt, t, betas)
    kl = normal_kl(model_mean, model_logvar, mean, logvar).flatten(1).sum(1)
    return torch.where(t == 0, vlb_term(x0, xt, t, model_mean, model_logvar, betas), kl)


def vlb_bits(x0, xt, t, model_mean, model_logvar, betas):
    return vlb_term(x0, xt, t, model_mean, model_logvar, betas) / math.log(2)


def vlb_bits_per_dim(x0, xt, t, model_mean, model_logvar, betas):
    return vlb_term(x0, xt, t, model_mean, model_logvar, betas) / math.log(2) / x0[0].numel()


def vlb_tanh_cdf(x0, xt, t, model_mean, model_logvar, betas):
    def cdf(x):
        return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))

    inv_std = torch.exp(-0.5 * model_logvar)
    centred = x0 - model_mean
    plus, minus = cdf(inv_std * (centred + 1 / 255)), cdf(inv_std * (centred - 1 / 255))
    log_probs = torch.where(x0 < -0.999, torch.log(plus.clamp(min=1e-12)),
                            torch.where(x0 > 0.999, torch.log((1 - minus).clamp(min=1e-12)),
                                        torch.log((plus - minus).clamp(min=1e-12))))
    return torch.where(t == 0, -log_probs.flatten(1).sum(1), vlb_term(x0, xt, t, model_mean, model_logvar, betas))


def vlb_decoder_density(x0, xt, t, model_mean, model_logvar, betas):
    nll = 0.5 * (math.log(2 * math.pi) + model_logvar + (x0 - model_mean) ** 2 * torch.exp(-model_logvar))
    return torch.where(t == 0, nll.flatten(1).sum(1), vlb_term(x0, xt, t, model_mean, model_logvar, betas))


def vlb_decoder_everywhere(x0, xt, t, model_mean, model_logvar, betas):
    return vlb_term(x0, xt, torch.zeros_like(t), model_mean, model_logvar, betas)


# ---------------------------------------------------------------- NCE

def nce_one_mean(logit_data, logit_noise):
    return -torch.cat([F.logsigmoid(logit_data), F.logsigmoid(-logit_noise)]).mean()


def nce_signs_swapped(logit_data, logit_noise):
    return -(F.logsigmoid(-logit_data).mean() + F.logsigmoid(logit_noise).mean())


def nce_not_negated(logit_data, logit_noise):
    return F.logsigmoid(logit_data).mean() + F.logsigmoid(-logit_noise).mean()


# ---------------------------------------------------------------- answers

def optimal_logit_inverted(p_d, p_n):
    return sympy.log(p_n) - sympy.log(p_d)


def optimal_logit_ratio(p_d, p_n):
    return p_d / (p_d + p_n)


def marginal_sum(beta_1, beta_2):
    return beta_1 + beta_2


def coef_x0_alpha_bar_t(alpha_t, alpha_bar_prev):
    return sympy.sqrt(alpha_t * alpha_bar_prev) * (1 - alpha_t) / (1 - alpha_t * alpha_bar_prev)


def coef_x0_swapped(alpha_t, alpha_bar_prev):
    return sympy.sqrt(alpha_t) * (1 - alpha_bar_prev) / (1 - alpha_t * alpha_bar_prev)


def coef_xt_swapped(alpha_t, alpha_bar_prev):
    return sympy.sqrt(alpha_bar_prev) * (1 - alpha_t) / (1 - alpha_t * alpha_bar_prev)


def variance_beta(alpha_t, alpha_bar_prev):
    return 1 - alpha_t


def weight_sigma(alpha_t, alpha_bar_t, sigma_t):
    return (1 - alpha_t) ** 2 / (2 * sigma_t * alpha_t * (1 - alpha_bar_t))


def weight_without_half(alpha_t, alpha_bar_t, sigma_t):
    return (1 - alpha_t) ** 2 / (sigma_t**2 * alpha_t * (1 - alpha_bar_t))


def score_variance(eps, alpha_bar_t):
    return -eps / (1 - alpha_bar_t)


def score_sign(eps, alpha_bar_t):
    return eps / sympy.sqrt(1 - alpha_bar_t)


MISTAKES = {
    "linear_beta_schedule": [
        ("the betas rescaled by 1000 / T (improved-diffusion's convention): this schedule's betas are the same for "
         "every T", linear_rescaled, PUBLIC_SAFE),
        ("a float32 linspace cast to float64: make it float64 from the start (dtype=torch.float64)",
         linear_float32, PUBLIC_SAFE)],
    "cosine_beta_schedule": [
        ("cos instead of cos^2: f(u) is the square of the cosine", cosine_not_squared, PUBLIC_SAFE),
        ("no clipping: the last betas approach 1 and must be clipped at max_beta", cosine_not_clipped, PUBLIC_SAFE)],
    "q_sample": [
        ("one step's coefficients sqrt(1 - beta_t) and sqrt(beta_t): q(x_t | x_0) uses alpha_bar_t, the product "
         "of (1 - beta_s) over s <= t", q_sample_one_step, PUBLIC_SAFE),
        ("alpha_bar_{t-1} for alpha_bar_t: with 0-based t, alpha_bar_t = (1 - beta_0) ... (1 - beta_t) includes "
         "step t", q_sample_previous, PUBLIC_SAFE),
        ("t[0] for the whole batch: every row has its own timestep", q_sample_first_t, PUBLIC_SAFE),
        ("the variance 1 - alpha_bar_t multiplies the noise: its square root is the standard deviation",
         q_sample_variance, PUBLIC_SAFE)],
    "q_posterior_mean_variance": [
        ("the coefficients of x0 and x_t swapped", posterior_swapped, PUBLIC_SAFE),
        ("the wrong alpha_bar in the coefficient of x0: check which step's alpha_bar it involves when you "
         "complete the square",
         posterior_alpha_bar_t_in_x0, PUBLIC_SAFE),
        ("the variance beta_t: that is the forward step's variance, of q(x_t | x_{t-1}), not that of the "
         "posterior q(x_{t-1} | x_t, x_0)",
         posterior_variance_beta, PUBLIC_SAFE),
        ("the log-variance not clipped: at t = 0 the variance is 0 and its log -inf; use the value at t = 1",
         posterior_unclipped, PUBLIC_SAFE)],
    "p_mean_from_eps": [
        ("divided by sqrt(alpha_bar_t): the mean is divided by sqrt(alpha_t), one step's factor",
         p_mean_alpha_bar_denominator, PUBLIC_SAFE)],
    "p_sample": [
        ("noise added at t = 0: the last step returns the mean", p_sample_noise_at_zero, PUBLIC_SAFE),
        ("beta_t multiplies the noise: sigma_t = sqrt(beta_t) is a standard deviation, beta_t a variance",
         p_sample_variance_as_std, PUBLIC_SAFE),
        ("the posterior's variance for sigma_t^2: this step uses sigma_t^2 = beta_t",
         p_sample_posterior_sigma, PUBLIC_SAFE)],
    "ddpm_simple_loss": [
        ("the target x0: the network predicts the noise, so the target is `noise`", loss_target_x0, PUBLIC_SAFE),
        ("a sum instead of a mean: L_simple is the mean over every element", loss_sum, PUBLIC_SAFE),
        ("the mean absolute error: L_simple is a mean of squares", loss_l1, PUBLIC_SAFE),
        ("summed over each example's elements: L_simple is the mean over every element",
         loss_per_example_sum, PUBLIC_SAFE)],
    "normal_kl": [
        ("the arguments swapped: KL(N1 || N2) has exp(logvar1 - logvar2) and divides the squared difference "
         "by var2", kl_swapped, PUBLIC_SAFE),
        ("the standard deviations' ratio where the variances' is due: exp(logvar1 - logvar2) is var1 / var2",
         kl_std_for_variance, PUBLIC_SAFE)],
    "vlb_term": [
        ("the KL's arguments swapped: it is KL(q(x_(t-1) | x_t, x_0) || p_theta)", vlb_swapped, PUBLIC_SAFE),
        ("bits instead of nats: the term is in nats (no division by log 2)", vlb_bits, PUBLIC_SAFE),
        ("bits per dimension instead of nats summed over the dimensions", vlb_bits_per_dim, PUBLIC_SAFE),
        ("the tanh approximation of the normal CDF: use the exact CDF (torch.special.ndtr, or erf)",
         vlb_tanh_cdf, PUBLIC_SAFE),
        ("the decoder's density at x0 in place of its bin's probability: the data are discrete",
         vlb_decoder_density, PUBLIC_SAFE),
        ("the decoder's NLL for every row: it is the term of t = 0 only; other rows get the KL",
         vlb_decoder_everywhere, PUBLIC_SAFE)],
    "nce_loss": [
        ("one mean over data and noise together: each set has its own mean, and they may differ in size",
         nce_one_mean, PUBLIC_SAFE),
        ("the signs swapped: data should get log sigma(G), noise log sigma(-G)", nce_signs_swapped, PUBLIC_SAFE),
        ("not negated: the loss is minus the log-likelihood", nce_not_negated, PUBLIC_SAFE)],
    "nce_optimal_logit": [
        ("the ratio inverted: sigma(G) is the probability of data, so G* = log p_d - log p_n", optimal_logit_inverted),
        ("the probability sigma(G*) = p_d / (p_d + p_n), not the logit G*", optimal_logit_ratio)],
    "marginal_variance": [
        ("the betas added: the first step's noise is scaled by sqrt(1 - beta_2) in the second", marginal_sum)],
    "posterior_coef_x0": [
        ("sqrt(alpha_bar_t) for sqrt(alpha_bar_(t-1))", coef_x0_alpha_bar_t),
        ("the coefficient of x_t: the two coefficients swapped", coef_x0_swapped)],
    "posterior_coef_xt": [("the coefficient of x0: the two coefficients swapped", coef_xt_swapped)],
    "posterior_variance": [("beta_t: the variance of the forward step q(x_t | x_(t-1)), not of the posterior", variance_beta)],
    "loss_weight": [
        ("sigma_t for sigma_t^2", weight_sigma),
        ("the 1/2 left out", weight_without_half)],
    "score_from_eps": [
        ("divided by the variance 1 - alpha_bar_t: x_t - sqrt(alpha_bar_t) x0 is sqrt(1 - alpha_bar_t) eps, "
         "one standard deviation", score_variance),
        ("the sign: the score points from x_t back towards the mean", score_sign)],
}
