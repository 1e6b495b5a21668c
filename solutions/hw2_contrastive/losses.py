"""hw2_contrastive: the losses of representation learning, reconstruction (mean squared error)
and contrastive (InfoNCE, SimCLR's NT-Xent), and a unified form of contrastive losses.

Every function works on tensors of any device and floating dtype: create new tensors from the
inputs (torch.arange(n, device=x.device), x.new_zeros(...)) rather than on the CPU. Gradients
must reach every tensor argument: use differentiable torch operations only (no .item(), numpy,
.detach() or loops over Python numbers). Every loss is a scalar (a tensor of shape ()).
"""
import torch
import torch.nn.functional as F


def mse_loss(x_hat, x):
    """The mean squared error between a reconstruction x_hat and its target x (same shape, e.g.
    images (b, c, h, w)): the mean over all elements of (x_hat - x)**2."""
    ### BEGIN SOLUTION square the differences, then average over every element
    return (x_hat - x).pow(2).mean()
    ### END SOLUTION


def contrastive_logits(z, z_pos, tau=0.07):
    """The (b, b) matrix of logits with entry [i, j] = z[i] · z_pos[j] / tau, for embeddings z and
    z_pos of shape (b, d) whose rows already have unit norm (so z[i] · z_pos[j] is a cosine
    similarity). Row i compares anchor i with every candidate j; its positive z_pos[i] is on the
    diagonal. One matrix multiplication, no loop."""
    ### BEGIN SOLUTION all dot products z[i] · z_pos[j] at once, then the temperature
    return z @ z_pos.T / tau
    ### END SOLUTION


def contrastive_loss(logits):
    """The InfoNCE (contrastive) loss of a (b, b) logit matrix whose positives are on the
    diagonal: the mean over the rows i of
        -log softmax(logits[i])[i] = -logits[i, i] + log sum_j exp(logits[i, j]).
    Must stay finite and accurate in float32 for |logits| up to 1e4, and finite in bfloat16:
    never exponentiate raw logits (torch.logsumexp, log_softmax and cross_entropy are stable)."""
    ### BEGIN SOLUTION a cross-entropy whose target for row i is class i
    labels = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, labels)
    ### END SOLUTION


def nt_xent(z1, z2, tau=0.5):
    """SimCLR's NT-Xent loss for two views z1 and z2, of shape (b, d), of the same b examples:
    row i of z1 and row i of z2 are a positive pair. Scale every row to unit norm, stack the
    2b embeddings e_1, ..., e_2b (z1's rows, then z2's) and let s_kl = e_k · e_l / tau. Anchor k
    has one positive p(k), its other view, and the loss
        l_k = -log( exp(s_{k, p(k)}) / sum_{l != k} exp(s_kl) ),
    whose denominator runs over the 2b - 1 other embeddings (the positive included, the anchor
    itself excluded). Return the mean of l_k over the 2b anchors."""
    ### BEGIN SOLUTION leave the self-similarities out of the softmax; anchor k's target is its other view
    b = z1.shape[0]
    e = F.normalize(torch.cat([z1, z2]), dim=1)
    self_pairs = torch.eye(2 * b, dtype=torch.bool, device=e.device)
    s = (e @ e.T / tau).masked_fill(self_pairs, float("-inf"))
    other_view = torch.arange(2 * b, device=e.device).roll(b)
    return F.cross_entropy(s, other_view)
    ### END SOLUTION


def unified_contrastive_loss(z, z_aug, phi, psi):
    """The unified form of contrastive losses, for embeddings z and z_aug of shape (b, d) (row i
    of z_aug is an augmented view of row i of z, its positive) and two elementwise functions phi
    and psi (they take a tensor and return one of the same shape):
        sum_i phi( sum_{j != i} psi(d_i^2 - d_ij^2) ),
    with d_i^2 = ||z_i - z_aug_i||^2 / 2 (anchor to positive) and d_ij^2 = ||z_i - z_j||^2 / 2
    (anchor to negative: j runs over the b - 1 other rows of z; for b = 1 the inner sum is 0).
    Summed, not averaged, over i; the rows are used as given (no normalization). Leave the j = i
    term out (mask or index it away) rather than subtracting it from a full sum: psi(d_i^2) can
    dwarf the other terms, and the subtraction then loses them.
    With phi = log and psi(x) = exp(x / tau) on unit vectors it is NT-Xent (see README.md)."""
    ### BEGIN SOLUTION a (b, b - 1) table of d_i^2 - d_ij^2 over the j != i, psi, sum over j, phi, sum over i
    b = z.shape[0]
    others = (torch.arange(b, device=z.device)[:, None] + torch.arange(1, b, device=z.device)) % b
    positive = 0.5 * (z - z_aug).pow(2).sum(-1)
    negative = 0.5 * (z[:, None, :] - z[others]).pow(2).sum(-1)
    return phi(psi(positive[:, None] - negative).sum(1)).sum()
    ### END SOLUTION
