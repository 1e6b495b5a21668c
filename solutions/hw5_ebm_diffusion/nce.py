"""hw5_ebm_diffusion: noise-contrastive estimation of an energy-based model (Question 1).

A classifier tells data from noise: with its logit G(x), sigma(G(x)) is the probability it gives
to "x is data". How an energy-based model makes such a logit: see README.md.
"""
import torch
import torch.nn.functional as F


def nce_loss(logit_data, logit_noise):
    """The NCE loss, -(mean of log sigma(G) over the data + mean of log(1 - sigma(G)) over the
    noise), for the logits of n data samples [n] and of m noise samples [m] (n and m may differ).
    A scalar, finite for logits of any size."""
    ### BEGIN SOLUTION log(1 - sigma(g)) = log sigma(-g); one mean per sample set
    return -(torch.mean(F.logsigmoid(logit_data)) + torch.mean(F.logsigmoid(-logit_noise)))
    ### END SOLUTION
