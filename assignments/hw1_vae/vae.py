"""hw1_vae: the building blocks of a variational autoencoder and of the IWAE bound.

Every function works on tensors of any device and floating dtype: create new tensors from the
inputs (torch.randn_like(x), x.new_zeros(...)) rather than on the CPU.
"""
import math

import torch
import torch.nn.functional as F


def reparameterize(mu, logvar):
    """A sample z ~ N(mu, diag(exp(logvar))) written as z = mu + exp(logvar / 2) * eps with
    eps ~ N(0, I), so that z is differentiable with respect to mu and logvar.
    Same shape, dtype and device as mu."""
    # FIXME: draw eps ~ N(0, I) shaped like mu, then scale and shift it
    raise NotImplementedError


def gaussian_kl(mu, logvar):
    """KL(N(mu, diag(exp(logvar))) || N(0, I)), summed over the last dimension.
    Shape mu.shape[:-1]."""
    # FIXME: the closed form, one term per latent dimension, then sum
    raise NotImplementedError


def negative_elbo(x, x_logits, mu, logvar, beta=1.0):
    """The (beta-)VAE loss: per example, the Bernoulli negative log-likelihood of x (values in
    [0, 1]) under logits x_logits, summed over all non-batch dimensions, plus
    beta * gaussian_kl(mu, logvar); then the mean over the batch. A scalar."""
    # FIXME: reconstruction term per example + beta * KL per example, then the batch mean
    raise NotImplementedError


def iwae_bound(log_weights):
    """log (1/K) sum_k exp(log_weights[k, b]) for log_weights of shape (K, B); shape (B,).
    Must stay finite and accurate in float32 for |log_weights| up to 1e4."""
    # FIXME: a numerically stable log-mean-exp over the K samples
    raise NotImplementedError
