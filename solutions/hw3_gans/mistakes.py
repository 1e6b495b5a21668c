"""Known mistakes of hw3_gans, for the feedback (checks/diagnoses.py): each function computes what
the mistaken code returns, and MISTAKES gives the hint a student reads when their result equals
it on a failing case. Hidden, like the references."""
import math

import sympy
import torch
import torch.nn.functional as F

from autograder.checks.diagnoses import PUBLIC_SAFE


def discriminator_labels_swapped(real_logits, fake_logits):
    return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()


def discriminator_sums(real_logits, fake_logits):
    return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()


def generator_saturating(fake_logits):
    return -F.softplus(fake_logits).mean()


def generator_sign(fake_logits):
    return F.softplus(fake_logits).mean()


def _trajectory(d0, g0, alpha, steps, step):
    points = [(float(d0), float(g0))]
    for _ in range(steps):
        points.append(step(*points[-1], alpha))
    return torch.tensor(points, dtype=torch.float64)


def gda_alternating(d0, g0, alpha, steps):
    def step(d, g, alpha):
        d = d + alpha * g
        return d, g - alpha * d
    return _trajectory(d0, g0, alpha, steps, step)


def gda_both_ascend(d0, g0, alpha, steps):
    return _trajectory(d0, g0, alpha, steps, lambda d, g, alpha: (d + alpha * g, g + alpha * d))


def jsd_samples_swapped(d_on_p1, d_on_p0):
    return math.log(2) + 0.5 * torch.log(d_on_p0).mean() + 0.5 * torch.log1p(-d_on_p1).mean()


def jsd_log_d_on_both(d_on_p1, d_on_p0):
    return math.log(2) + 0.5 * torch.log(d_on_p1).mean() + 0.5 * torch.log(d_on_p0).mean()


def gda_matrix_alternating(alpha):
    return sympy.Matrix([[1, alpha], [-alpha, 1 - alpha**2]])


def gda_matrix_increment(alpha):
    return sympy.Matrix([[0, alpha], [-alpha, 0]])


def gda_eigenvalues_real(alpha):
    return [1 + alpha, 1 - alpha]


def gda_eigenvalues_unit_modulus(alpha):
    return [sympy.exp(sympy.I * alpha), sympy.exp(-sympy.I * alpha)]


def dirac_jacobian_without_r1(gamma):
    half = sympy.S.Half
    return sympy.Matrix([[0, 0, -half], [0, -half, 0], [half, 0, 0]])


def dirac_eigenvalues_without_r1(gamma):
    return [-sympy.S.Half, sympy.I / 2, -sympy.I / 2]


def dirac_eigenvalues_gamma_sign(gamma):
    root = sympy.sqrt(gamma**2 - 1)
    return [-sympy.S.Half, (gamma + root) / 2, (gamma - root) / 2]


def discriminator_for_the_other_class(p0, p1):
    return p0 / (p0 + p1)


def density_ratio(p0, p1):
    return p1 / p0


def density_inverted_ratio(f0, d):
    return f0 * (1 - d) / d


def density_odds_alone(f0, d):
    return d / (1 - d)


def density_times_d(f0, d):
    return f0 * d


MISTAKES = {
    "discriminator_loss": [
        ("the labels swapped: real samples should get D → 1 (softplus(-real_logits)) and generated "
         "ones D → 0 (softplus(fake_logits))", discriminator_labels_swapped, PUBLIC_SAFE),
        ("sums over the samples: each expectation is a mean", discriminator_sums, PUBLIC_SAFE)],
    "generator_loss": [
        ("the saturating loss: the generator loss asked for is mean softplus(-fake_logits); check both signs",
         generator_saturating, PUBLIC_SAFE),
        ("softplus(fake_logits), which is -log(1 - D): the sign inside softplus; the loss asked for is "
         "mean softplus(-fake_logits)",
         generator_sign, PUBLIC_SAFE)],
    "gda_trajectory": [
        ("alternating updates (g uses the new d): in simultaneous GDA both updates use the previous "
         "iterate", gda_alternating, PUBLIC_SAFE),
        ("g ascending too: g takes a gradient descent step on V(d, g) = d * g", gda_both_ascend, PUBLIC_SAFE)],
    "gda_matrix": [
        ("alternating updates (g_{k+1} uses d_{k+1}): in simultaneous GDA both updates use (d_k, g_k)",
         gda_matrix_alternating),
        ("the increment alone: the update adds alpha times the gradient to the iterate, A = I + alpha·[[0, 1], [-1, 0]]",
         gda_matrix_increment)],
    "gda_eigenvalues": [
        ("1 ± alpha, real: A is not symmetric, and its eigenvalues solve (1 - λ)² + alpha² = 0",
         gda_eigenvalues_real),
        ("e^(±i·alpha), the rotation of the continuous-time flow: one step of size alpha multiplies by "
         "1 ± i·alpha", gda_eigenvalues_unit_modulus)],
    "dirac_gan_jacobian": [
        ("the Jacobian without R1: the penalty adds -gamma to the entry of psi0 (row 1, column 1)",
         dirac_jacobian_without_r1)],
    "dirac_gan_eigenvalues": [
        ("the eigenvalues without R1 (gamma = 0): with the penalty they depend on gamma",
         dirac_eigenvalues_without_r1),
        ("the sign of gamma: the penalty damps, the real parts are -gamma/2 (for gamma ≥ 1)",
         dirac_eigenvalues_gamma_sign)],
    "jsd_estimate": [
        ("the samples swapped: log D is averaged over the samples of p1, log(1 - D) over those of p0",
         jsd_samples_swapped, PUBLIC_SAFE),
        ("log D on both sample sets: the samples of p0 enter through log(1 - D)", jsd_log_d_on_both, PUBLIC_SAFE)],
    "optimal_discriminator": [
        ("the optimum for the other class: D*(x) = p1 / (p0 + p1) is the probability of the data, p1",
         discriminator_for_the_other_class),
        ("the density ratio p1 / p0: D* is a probability, p1 / (p0 + p1)", density_ratio)],
    "density_from_discriminator": [
        ("the odds inverted: f1 / f0 = d / (1 - d)", density_inverted_ratio),
        ("the odds d / (1 - d) alone, which is f1 / f0: multiply by f0", density_odds_alone),
        ("f0 · d: solve d = f1 / (f0 + f1) for f1", density_times_d)],
}

