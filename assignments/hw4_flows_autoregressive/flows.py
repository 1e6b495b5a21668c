"""hw4_flows_autoregressive: normalizing flows. Each layer returns (output, log|det J|), the
log-determinant per example, of shape [B].

Batch first: x, z, y of shape [B, D]; mask, w, u, z0 of shape [D]; b, alpha, beta are Python
floats or 0-d tensors. Networks (s_net, t_net), layers and densities are callables: a network
maps [B, D] to [B, D], a layer maps [B, D] to ([B, D], [B]), a log-density maps [B, D] to [B].
Results follow the inputs' dtype and device.
"""
import math

import torch
import torch.nn.functional as F


def affine_coupling(x, mask, s_net, t_net, reverse=False):
    """RealNVP's affine coupling layer. With s = s_net(x * mask) * (1 - mask) and
    t = t_net(x * mask) * (1 - mask), the forward map is
        y = x * mask + (1 - mask) * (x * exp(s) + t),   log|det| = sum of s over the dimensions;
    with reverse=True, the inverse map of y = x (the masked part passes unchanged, so s and t are
    the same) and its log-determinant, minus the sum of s."""
    # FIXME: the inverse undoes the shift first, then the scale
    raise NotImplementedError


def planar_flow(z, w, u, b):
    """The planar flow f(z) = z + u * tanh(z . w + b) and log|det df/dz| = log|1 + u . psi(z)|,
    where psi(z) = tanh'(z . w + b) * w."""
    # FIXME: tanh' = 1 - tanh^2; the determinant may be negative: take its absolute value
    raise NotImplementedError


def radial_flow(z, z0, alpha, beta):
    """The radial flow f(z) = z + beta * h * (z - z0) with h = 1 / (alpha + r), r = ||z - z0||,
    and log|det| = (D - 1) log(1 + beta h) + log(1 + beta h - beta h^2 r), for alpha > 0 and
    every beta for which the flow is invertible (Question 8)."""
    # FIXME: D - 1 directions are scaled by 1 + beta h, the radial one by the derivative
    raise NotImplementedError


def radial_flow_inverse(y, z0, alpha, beta):
    """The z with radial_flow(z, z0, alpha, beta)[0] == y, for alpha > 0 and a beta for which the
    flow is invertible: find r = ||z - z0|| from rho = ||y - z0|| (Question 8), then z - z0 from
    y - z0."""
    # FIXME: the r of radial_r, then z from r and y (Question 15)
    raise NotImplementedError


def sigmoidal_flow(z, a, b, w_logits):
    """The flow g(z) = logit(sum_i w_i sigmoid(a_i z + b_i)) of a batch z [B], with a, b and
    w_logits of shape [N], a > 0 and weights w = softmax(w_logits); returns (g(z), log g'(z)),
    both of shape [B], finite in float32 for |z| up to 40 (a logit of the mixture computed as a
    probability first is not: it rounds to 1)."""
    # FIXME: work with logs: log p and log(1 - p) as logsumexps of logsigmoids
    raise NotImplementedError


def standard_normal_log_prob(u):
    """log N(u; 0, I) per example: a helper for the next two functions (not graded)."""
    return -0.5 * (u**2).sum(-1) - 0.5 * u.shape[-1] * math.log(2 * math.pi)


def flow_log_prob(x, inverse_layers):
    """log p(x) per example [B] of a flow with a standard normal base: x is mapped through the
    inverse layers in order (each x -> (u, log|det du/dx|)) and the change of variables adds
    their log-determinants to the base's log-density of the final u."""
    # FIXME: log p(x) = log N(u) + sum of the inverse layers' log-determinants
    raise NotImplementedError


def reverse_kl_loss(u, forward_layers, log_target):
    """The Monte-Carlo estimate of the reverse KL divergence KL(p_F || p_target), up to the
    target's normalizing constant, from base samples u [B, D] ~ N(0, I): with x = F(u) through
    the forward layers, mean over the batch of log N(u) - sum of log-determinants - log_target(x).
    A scalar."""
    # FIXME: log p_F(x) = log N(u) - sum of the forward log-determinants
    raise NotImplementedError
