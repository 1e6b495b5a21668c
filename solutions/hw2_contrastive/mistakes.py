"""Known mistakes of hw2_contrastive, for the feedback (checks/diagnoses.py): each function computes
what the mistaken code returns, and MISTAKES gives the hint a student reads when their result
equals it on a failing case. Hidden, like the references."""
import torch
import torch.nn.functional as F

from autograder.checks.diagnoses import PUBLIC_SAFE


def mse_absolute(x_hat, x):
    return (x_hat - x).abs().mean()


def logits_without_temperature(z, z_pos, tau=0.07):
    return z @ z_pos.T


def logits_times_temperature(z, z_pos, tau=0.07):
    return z @ z_pos.T * tau


def loss_target_zero(logits):
    return F.cross_entropy(logits, logits.new_zeros(logits.shape[0], dtype=torch.long))


def loss_softmax_over_columns(logits):
    return -torch.log_softmax(logits, 0).diagonal().mean()


def _similarities(z1, z2, tau, normalize=True):
    b = z1.shape[0]
    e = torch.cat([z1, z2])
    e = F.normalize(e, dim=1) if normalize else e
    targets = torch.arange(2 * b, device=e.device).roll(b)
    return e @ e.T / tau, targets, torch.eye(2 * b, dtype=torch.bool, device=e.device)


def nt_xent_without_positive(z1, z2, tau=0.5):
    s, targets, self_pairs = _similarities(z1, z2, tau)
    positives = s[torch.arange(len(s), device=s.device), targets]
    others = self_pairs | F.one_hot(targets, len(s)).bool()
    return (torch.logsumexp(s.masked_fill(others, float("-inf")), 1) - positives).mean()


def nt_xent_with_self(z1, z2, tau=0.5):
    s, targets, _ = _similarities(z1, z2, tau)
    return F.cross_entropy(s, targets)


def nt_xent_tau_007(z1, z2, tau=0.5):
    s, targets, self_pairs = _similarities(z1, z2, 0.07)
    return F.cross_entropy(s.masked_fill(self_pairs, float("-inf")), targets)


def nt_xent_unnormalized(z1, z2, tau=0.5):
    s, targets, self_pairs = _similarities(z1, z2, tau, normalize=False)
    return F.cross_entropy(s.masked_fill(self_pairs, float("-inf")), targets)


def nt_xent_first_view_only(z1, z2, tau=0.5):
    s, targets, self_pairs = _similarities(z1, z2, tau)
    b = z1.shape[0]
    return F.cross_entropy(s.masked_fill(self_pairs, float("-inf"))[:b], targets[:b])


def _distances(z, z_aug, negatives, half=0.5):
    positive = half * (z - z_aug).pow(2).sum(1)
    negative = half * (z[:, None] - negatives[None]).pow(2).sum(2)
    eye = torch.eye(z.shape[0], dtype=torch.bool, device=z.device)
    return positive[:, None] - negative, eye


def unified_with_i(z, z_aug, phi, psi):
    difference, _ = _distances(z, z_aug, z)
    return phi(psi(difference).sum(1)).sum()


def unified_without_half(z, z_aug, phi, psi):
    difference, eye = _distances(z, z_aug, z, half=1.0)
    return phi(psi(difference).masked_fill(eye, 0).sum(1)).sum()


def unified_phi_inside(z, z_aug, phi, psi):
    difference, eye = _distances(z, z_aug, z)
    return phi(psi(difference)).masked_fill(eye, 0).sum()


def unified_negatives_from_z_aug(z, z_aug, phi, psi):
    difference, eye = _distances(z, z_aug, z_aug)
    return phi(psi(difference).masked_fill(eye, 0).sum(1)).sum()


def unified_phi_psi_swapped(z, z_aug, phi, psi):
    difference, eye = _distances(z, z_aug, z)
    return psi(phi(difference).masked_fill(eye, 0).sum(1)).sum()


def logit_range_of_a_probability():
    return [0, 1]


def logit_range_temperature_multiplied(tau):
    return [-tau, tau]


def decomposition_without_log_m(M):
    return [-1, 1, 0]


def squared_distance(dot):
    return 2 - 2 * dot


MISTAKES = {
    "mse_loss": [("the absolute error |x_hat - x|: the loss squares the differences", mse_absolute, PUBLIC_SAFE)],
    "contrastive_logits": [
        ("the dot products without the temperature: divide them by tau", logits_without_temperature, PUBLIC_SAFE),
        ("the dot products multiplied by tau: divide them by tau", logits_times_temperature, PUBLIC_SAFE)],
    "contrastive_loss": [
        ("target 0 for every row: row i's positive is on the diagonal, so its target is i",
         loss_target_zero, PUBLIC_SAFE),
        ("the softmax taken down the columns (dim=0): each row is one anchor's distribution over its "
         "candidates", loss_softmax_over_columns, PUBLIC_SAFE)],
    "nt_xent": [
        ("the positive left out of the denominator: it runs over the 2b - 1 other embeddings, the "
         "positive included", nt_xent_without_positive, PUBLIC_SAFE),
        ("each anchor's similarity with itself left in the denominator: mask the diagonal out",
         nt_xent_with_self, PUBLIC_SAFE),
        ("tau = 0.07 as the default: NT-Xent's default here is tau = 0.5", nt_xent_tau_007, PUBLIC_SAFE),
        ("dot products of the raw rows: NT-Xent compares cosine similarities, so scale each row to "
         "unit norm first", nt_xent_unnormalized, PUBLIC_SAFE),
        ("the anchors of the first view only: each of the 2b embeddings is an anchor once, the mean "
         "runs over all 2b", nt_xent_first_view_only, PUBLIC_SAFE)],
    "unified_contrastive_loss": [
        ("j running over every row, i included: the inner sum is over the j != i", unified_with_i, PUBLIC_SAFE),
        ("the distances without their factor 1/2: d^2 = ||.||^2 / 2", unified_without_half, PUBLIC_SAFE),
        ("phi applied to each term: phi takes the inner sum over j", unified_phi_inside, PUBLIC_SAFE),
        ("the negatives d_ij taken from z_aug: they compare z_i with the other rows of z",
         unified_negatives_from_z_aug, PUBLIC_SAFE),
        ("phi and psi swapped: psi applies to each difference d_i² - d_ij², phi to their sum over j",
         unified_phi_psi_swapped, PUBLIC_SAFE)],
    "unit_distance": [("the squared distance ||u - v||²: the distance is its square root", squared_distance)],
    "logit_range": [("[0, 1]: the dot product of two unit vectors is a cosine, which can be negative",
                     logit_range_of_a_probability)],
    "logit_range_with_temperature": [("the temperature multiplied: the logits are divided by tau",
                                      logit_range_temperature_multiplied)],
    "contrastive_decomposition": [("c = 0: L_unif averages over the M candidates, and that 1/M inside its "
                                   "log is made up by a constant log M", decomposition_without_log_m)],
}
