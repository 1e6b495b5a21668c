"""hw3_gans: GAN losses, gradient descent-ascent dynamics and a JSD estimate.

Every function works on tensors of any device and floating dtype, and stays finite for logits
of any size (no log(sigmoid(x)): use softplus or logsigmoid).
"""
import math

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss: mean softplus(-real_logits) + mean softplus(fake_logits), i.e.
    minus E_data[log D] minus E_generated[log(1 - D)], with D = sigmoid(logits). A scalar."""
    ### BEGIN SOLUTION -log sigmoid(t) = softplus(-t) and -log(1 - sigmoid(t)) = softplus(t)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    ### END SOLUTION


def generator_loss(fake_logits):
    """The generator loss asked for: mean of -log D(G(z)) = mean softplus(-fake_logits)."""
    ### BEGIN SOLUTION
    return F.softplus(-fake_logits).mean()
    ### END SOLUTION


def gda_trajectory(d0, g0, alpha, steps):
    """The iterates of simultaneous gradient ascent (d) / descent (g) on V(d, g) = d * g, from
    (d0, g0) with step alpha: a tensor of shape (steps + 1, 2) whose row k is (d_k, g_k)."""
    ### BEGIN SOLUTION both updates use the previous iterate
    points = [(float(d0), float(g0))]
    for _ in range(steps):
        d, g = points[-1]
        points.append((d + alpha * g, g - alpha * d))
    return torch.tensor(points, dtype=torch.float64)
    ### END SOLUTION


def jsd_estimate(d_on_p1, d_on_p0):
    """The estimate of JSD(p0, p1) from a discriminator's probabilities on samples of p1
    (d_on_p1) and on samples of p0 (d_on_p0). A scalar."""
    ### BEGIN SOLUTION write the JSD through the means of log D* on p1 and of log(1 - D*) on p0
    return math.log(2) + 0.5 * torch.log(d_on_p1).mean() + 0.5 * torch.log1p(-d_on_p0).mean()
    ### END SOLUTION
