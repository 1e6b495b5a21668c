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
    ### BEGIN SOLUTION the inverse undoes the shift first, then the scale
    kept = x * mask
    s = s_net(kept) * (1 - mask)
    t = t_net(kept) * (1 - mask)
    if reverse:
        return kept + (1 - mask) * ((x - t) * torch.exp(-s)), -s.sum(-1)
    return kept + (1 - mask) * (x * torch.exp(s) + t), s.sum(-1)
    ### END SOLUTION


def planar_flow(z, w, u, b):
    """The planar flow f(z) = z + u * tanh(z . w + b) and log|det df/dz| = log|1 + u . psi(z)|,
    where psi(z) = tanh'(z . w + b) * w."""
    ### BEGIN SOLUTION tanh' = 1 - tanh^2; the determinant may be negative: take its absolute value
    activation = torch.tanh(z @ w + b)
    y = z + u * activation.unsqueeze(-1)
    psi = (1 - activation**2).unsqueeze(-1) * w
    return y, torch.log(torch.abs(1 + psi @ u))
    ### END SOLUTION


def radial_flow(z, z0, alpha, beta):
    """The radial flow f(z) = z + beta * h * (z - z0) with h = 1 / (alpha + r), r = ||z - z0||,
    and log|det| = (D - 1) log(1 + beta h) + log(1 + beta h - beta h^2 r), for alpha > 0 and
    every beta for which the flow is invertible (Question 8)."""
    ### BEGIN SOLUTION D - 1 directions are scaled by 1 + beta h, the radial one by the derivative
    diff = z - z0
    r = diff.norm(dim=-1)
    h = 1 / (alpha + r)
    y = z + (beta * h).unsqueeze(-1) * diff
    d = z.shape[-1]
    log_det = (d - 1) * torch.log1p(beta * h) + torch.log1p(beta * h - beta * h**2 * r)
    return y, log_det
    ### END SOLUTION


def radial_flow_inverse(y, z0, alpha, beta):
    """The z with radial_flow(z, z0, alpha, beta)[0] == y, for alpha > 0 and a beta for which the
    flow is invertible: find r = ||z - z0|| from rho = ||y - z0|| (Question 8), then z - z0 from
    y - z0."""
    ### BEGIN SOLUTION the r of radial_r, then z from r and y (Question 15)
    diff = y - z0
    rho = diff.norm(dim=-1)
    p = alpha + beta - rho
    root = torch.sqrt(p * p + 4 * alpha * rho)
    # (root - p) / 2 without cancellation when p > 0
    r = torch.where(p > 0, 2 * alpha * rho / (p + root), (root - p) / 2)
    return z0 + diff / (1 + beta / (alpha + r)).unsqueeze(-1)
    ### END SOLUTION


def sigmoidal_flow(z, a, b, w_logits):
    """The flow g(z) = logit(sum_i w_i sigmoid(a_i z + b_i)) of a batch z [B], with a, b and
    w_logits of shape [N], a > 0 and weights w = softmax(w_logits); returns (g(z), log g'(z)),
    both of shape [B], finite in float32 for |z| up to 40 (a logit of the mixture computed as a
    probability first is not: it rounds to 1)."""
    ### BEGIN SOLUTION work with logs: log p and log(1 - p) as logsumexps of logsigmoids
    t = z.unsqueeze(-1) * a + b
    log_w = torch.log_softmax(w_logits, -1)
    log_p = torch.logsumexp(log_w + F.logsigmoid(t), -1)
    log_q = torch.logsumexp(log_w + F.logsigmoid(-t), -1)   # log(1 - p)
    log_dp = torch.logsumexp(log_w + torch.log(a) + F.logsigmoid(t) + F.logsigmoid(-t), -1)
    return log_p - log_q, log_dp - log_p - log_q
    ### END SOLUTION


def standard_normal_log_prob(u):
    """log N(u; 0, I) per example: a helper for the next two functions (not graded)."""
    return -0.5 * (u**2).sum(-1) - 0.5 * u.shape[-1] * math.log(2 * math.pi)


def flow_log_prob(x, inverse_layers):
    """log p(x) per example [B] of a flow with a standard normal base: x is mapped through the
    inverse layers in order (each x -> (u, log|det du/dx|)) and the change of variables adds
    their log-determinants to the base's log-density of the final u."""
    ### BEGIN SOLUTION log p(x) = log N(u) + sum of the inverse layers' log-determinants
    u, total = x, 0
    for layer in inverse_layers:
        u, log_det = layer(u)
        total = total + log_det
    return standard_normal_log_prob(u) + total
    ### END SOLUTION


def reverse_kl_loss(u, forward_layers, log_target):
    """The Monte-Carlo estimate of the reverse KL divergence KL(p_F || p_target), up to the
    target's normalizing constant, from base samples u [B, D] ~ N(0, I): with x = F(u) through
    the forward layers, mean over the batch of log N(u) - sum of log-determinants - log_target(x).
    A scalar."""
    ### BEGIN SOLUTION log p_F(x) = log N(u) - sum of the forward log-determinants
    x, total = u, 0
    for layer in forward_layers:
        x, log_det = layer(x)
        total = total + log_det
    return (standard_normal_log_prob(u) - total - log_target(x)).mean()
    ### END SOLUTION
