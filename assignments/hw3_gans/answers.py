"""hw3_gans: derivations (sympy) and multiple-choice answers (see README.md for the questions).

Matrices may be returned as a sympy Matrix or as nested lists; eigenvalues as a list in any
order (or the dict that sympy's eigenvals() returns). Multiple-choice answers are a set of
option letters, e.g. {"b"}.
"""
import sympy


def gda_matrix(alpha):
    """The matrix A of simultaneous gradient ascent (d) / descent (g) on V(d, g) = d * g with
    step alpha: [d_{k+1}, g_{k+1}]^T = A [d_k, g_k]^T."""
    # FIXME: d_{k+1} = d_k + alpha * dV/dd and g_{k+1} = g_k - alpha * dV/dg
    raise NotImplementedError


def gda_eigenvalues(alpha):
    """The eigenvalues of A, as a list in any order."""
    # FIXME: your code here
    raise NotImplementedError


def gda_stationary_point():
    """The stationary point of the map, as a list [d*, g*]."""
    # FIXME: your code here
    raise NotImplementedError


def gda_long_run():
    """Multiple choice: what do the iterates do as k grows?"""
    # FIXME: your code here
    raise NotImplementedError


def dirac_gan_jacobian(gamma):
    """The 3x3 Jacobian of the Dirac-GAN's velocity field in the order (psi0, psi1, theta), at
    its stationary point, with R1 weight gamma (gamma = 0: no penalty)."""
    # FIXME: differentiate the velocity field, then evaluate it at the stationary point
    raise NotImplementedError


def dirac_gan_eigenvalues(gamma):
    """The three eigenvalues of the Jacobian, in any order."""
    # FIXME: your code here
    raise NotImplementedError


def dirac_gan_stability_without_r1():
    """Multiple choice: local stability of the unregularized Dirac-GAN."""
    # FIXME: your code here
    raise NotImplementedError


def dirac_gan_stability_with_r1():
    """Multiple choice: local stability with the R1 penalty."""
    # FIXME: your code here
    raise NotImplementedError


def optimal_discriminator(p0, p1):
    """D*(x) from the densities' values p0 = p0(x) and p1 = p1(x), for a discriminator that
    maximizes E_p1[log D] + E_p0[log(1 - D)] (it outputs 1 on p1)."""
    # FIXME: maximize p1 log D + p0 log(1 - D) pointwise in D
    raise NotImplementedError


def density_from_discriminator(f0, d):
    """f1(x) from f0 = f0(x) and d = D*(x)."""
    # FIXME: solve the optimal discriminator's formula for f1
    raise NotImplementedError


def mc_false_proposition():
    """Multiple choice: which proposition about the apple GAN is false?"""
    # FIXME: your code here
    raise NotImplementedError


def mc_non_saturating_loss():
    """Multiple choice: which cost is the non-saturating generator cost?"""
    # FIXME: your code here
    raise NotImplementedError


def mc_train_test_gap():
    """Multiple choice: which method is commonly used to reduce a train/test accuracy gap?"""
    # FIXME: your code here
    raise NotImplementedError
