"""Known mistakes of hw1_vae, for the feedback (checks/diagnoses.py): each function computes what
the mistaken code returns, and MISTAKES gives the hint a student reads when their result equals
it on a failing case. Hidden, like the references."""

import math

import sympy
import torch
import torch.nn.functional as F

from autograder.checks.diagnoses import PUBLIC_SAFE


def _kl(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def kl_logvar_as_log_std(mu, logvar):
    return 0.5 * (mu.pow(2) + (2 * logvar).exp() - 1.0 - 2 * logvar).sum(-1)


def kl_reversed(mu, logvar):
    return 0.5 * ((1 + mu.pow(2)) / logvar.exp() - 1.0 + logvar).sum(-1)


def kl_summed_over_the_batch(mu, logvar):
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(0)


def elbo_mean_over_pixels(x, x_logits, mu, logvar, beta=1.0):
    reconstruction = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").flatten(1).mean(1)
    return (reconstruction + beta * _kl(mu, logvar)).mean()


def elbo_swapped_arguments(x, x_logits, mu, logvar, beta=1.0):
    reconstruction = F.binary_cross_entropy_with_logits(x, x_logits, reduction="none").flatten(1).sum(1)
    return (reconstruction + beta * _kl(mu, logvar)).mean()


def elbo_beta_ignored(x, x_logits, mu, logvar, beta=1.0):
    reconstruction = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").flatten(1).sum(1)
    return (reconstruction + _kl(mu, logvar)).mean()


def elbo_kl_subtracted(x, x_logits, mu, logvar, beta=1.0):
    reconstruction = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").flatten(1).sum(1)
    return (reconstruction - beta * _kl(mu, logvar)).mean()


def elbo_last_dimension_only(x, x_logits, mu, logvar, beta=1.0):
    reconstruction = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(-1)
    return reconstruction + beta * _kl(mu, logvar).mean()


def iwae_over_the_batch(log_weights):
    return torch.logsumexp(log_weights, 1) - math.log(log_weights.shape[1])


def iwae_as_elbo(log_weights):
    return log_weights.mean(0)


def iwae_log10(log_weights):
    m = log_weights.max(0).values
    return m + torch.log10(torch.exp(log_weights - m).mean(0))


def iwae_max(log_weights):
    return log_weights.max(0).values


def iwae_first_sample(log_weights):
    return log_weights[0]


def kl_univariate_reversed(mu_q, sigma_q, mu_p, sigma_p):
    return sympy.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_q - mu_p)**2) / (2 * sigma_q**2) - sympy.S.Half


def kl_univariate_without_half(mu_q, sigma_q, mu_p, sigma_p):
    return sympy.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2) / sigma_p**2 - sympy.S.Half


def kl_univariate_log10(mu_q, sigma_q, mu_p, sigma_p):
    return sympy.log(sigma_p / sigma_q, 10) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 * sigma_p**2) - sympy.S.Half


def kl_univariate_variances_in_log(mu_q, sigma_q, mu_p, sigma_p):
    return sympy.log(sigma_p**2 / sigma_q**2) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 * sigma_p**2) - sympy.S.Half


MISTAKES = {
    "gaussian_kl": [
        ("logvar read as the log standard deviation: the variance is exp(logvar), not exp(2·logvar)",
         kl_logvar_as_log_std, PUBLIC_SAFE),
        ("KL(N(0, I) ‖ q) instead of KL(q ‖ N(0, I)): the divergence is not symmetric", kl_reversed, PUBLIC_SAFE),
        ("summed over dimension 0, the batch: the KL of each example sums over its latent "
         "dimensions, the last one", kl_summed_over_the_batch, PUBLIC_SAFE)],
    "negative_elbo": [
        ("the reconstruction term averaged over the pixels (as binary_cross_entropy_with_logits's "
         "default reduction='mean' does): it is the log-likelihood of the whole example, summed over "
         "every non-batch dimension, then averaged over the batch", elbo_mean_over_pixels, PUBLIC_SAFE),
        ("the arguments of binary_cross_entropy_with_logits swapped: it takes (logits, targets)",
         elbo_swapped_arguments, PUBLIC_SAFE),
        ("beta ignored: the KL term is weighted by beta", elbo_beta_ignored, PUBLIC_SAFE),
        ("the KL term subtracted: the negative ELBO is the reconstruction loss plus beta·KL",
         elbo_kl_subtracted, PUBLIC_SAFE),
        ("the reconstruction term summed over the last dimension only, and not averaged over the "
         "batch: sum every non-batch dimension (flatten(1).sum(1)), then average over the batch",
         elbo_last_dimension_only, PUBLIC_SAFE)],
    "iwae_bound": [
        ("the mean of the log-weights, which is the ELBO: the IWAE bound is the log of the mean of "
         "the weights (a log-mean-exp)", iwae_as_elbo, PUBLIC_SAFE),
        ("a logarithm in base 10 (after the max trick): the bound uses the natural logarithm", iwae_log10, PUBLIC_SAFE),
        ("the largest log-weight: average the weights (log-mean-exp) rather than taking their maximum",
         iwae_max, PUBLIC_SAFE),
        ("the first of the K samples only: the bound averages the weights of all K", iwae_first_sample, PUBLIC_SAFE),
        ("the log-mean-exp over dimension 1, the batch: the K samples are along dimension 0",
         iwae_over_the_batch, PUBLIC_SAFE)],
    "kl_univariate_gaussians": [
        ("KL(p ‖ q) instead of KL(q ‖ p): the divergence is not symmetric", kl_univariate_reversed),
        ("the quadratic term without its ½: (σ_q² + (μ_q − μ_p)²) / (2σ_p²)", kl_univariate_without_half),
        ("a logarithm in base 10: the KL in nats uses the natural logarithm", kl_univariate_log10),
        ("log(σ_p² / σ_q²) without its factor ½: log(σ_p / σ_q) = ½ log(σ_p² / σ_q²)",
         kl_univariate_variances_in_log)],
}
