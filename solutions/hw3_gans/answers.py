"""hw3_gans: derivations (sympy) and multiple-choice answers (see README.md for the questions).

Matrices may be returned as a sympy Matrix or as nested lists; eigenvalues as a list in any
order (or the dict that sympy's eigenvals() returns). Multiple-choice answers are a set of
option letters, e.g. {"b"}.
"""
import sympy


def gda_matrix(alpha):
    """The matrix A of simultaneous gradient ascent (d) / descent (g) on V(d, g) = d * g with
    step alpha: [d_{k+1}, g_{k+1}]^T = A [d_k, g_k]^T."""
    ### BEGIN SOLUTION d_{k+1} = d_k + alpha * dV/dd and g_{k+1} = g_k - alpha * dV/dg
    return sympy.Matrix([[1, alpha], [-alpha, 1]])
    ### END SOLUTION


def gda_eigenvalues(alpha):
    """The eigenvalues of A, as a list in any order."""
    ### BEGIN SOLUTION
    return [1 + sympy.I * alpha, 1 - sympy.I * alpha]
    ### END SOLUTION


def gda_stationary_point():
    """The stationary point of the map, as a list [d*, g*]."""
    ### BEGIN SOLUTION
    return [0, 0]
    ### END SOLUTION


def gda_long_run():
    """Multiple choice: what do the iterates do as k grows?"""
    ### BEGIN SOLUTION
    return {"c"}
    ### END SOLUTION


def dirac_gan_jacobian(gamma):
    """The 3x3 Jacobian of the Dirac-GAN's velocity field in the order (psi0, psi1, theta), at
    its stationary point, with R1 weight gamma (gamma = 0: no penalty)."""
    ### BEGIN SOLUTION differentiate the velocity field, then evaluate it at the stationary point
    psi0, psi1, theta = sympy.symbols("psi0 psi1 theta", real=True)
    log_sigmoid = lambda t: -sympy.log(1 + sympy.exp(-t))  # noqa: E731
    critic = lambda x: psi0 * x + psi1  # noqa: E731
    value = log_sigmoid(critic(0)) + log_sigmoid(-critic(theta))
    r1 = sympy.diff(critic(sympy.Symbol("x")), sympy.Symbol("x")) ** 2
    velocity = sympy.Matrix([sympy.diff(value, psi0) - gamma / 2 * sympy.diff(r1, psi0),
                             sympy.diff(value, psi1) - gamma / 2 * sympy.diff(r1, psi1),
                             -sympy.diff(value, theta)])
    jacobian = velocity.jacobian([psi0, psi1, theta])
    return sympy.simplify(jacobian.subs({psi0: 0, psi1: 0, theta: 0}))
    ### END SOLUTION


def dirac_gan_eigenvalues(gamma):
    """The three eigenvalues of the Jacobian, in any order."""
    ### BEGIN SOLUTION
    root = sympy.sqrt(gamma**2 - 1)
    return [-sympy.Rational(1, 2), (-gamma + root) / 2, (-gamma - root) / 2]
    ### END SOLUTION


def dirac_gan_stability_without_r1():
    """Multiple choice: local stability of the unregularized Dirac-GAN."""
    ### BEGIN SOLUTION
    return {"b"}
    ### END SOLUTION


def dirac_gan_stability_with_r1():
    """Multiple choice: local stability with the R1 penalty."""
    ### BEGIN SOLUTION
    return {"a"}
    ### END SOLUTION


def optimal_discriminator(p0, p1):
    """D*(x) from the densities' values p0 = p0(x) and p1 = p1(x), for a discriminator that
    maximizes E_p1[log D] + E_p0[log(1 - D)] (it outputs 1 on p1)."""
    ### BEGIN SOLUTION maximize p1 log D + p0 log(1 - D) pointwise in D
    return p1 / (p0 + p1)
    ### END SOLUTION


def density_from_discriminator(f0, d):
    """f1(x) from f0 = f0(x) and d = D*(x)."""
    ### BEGIN SOLUTION solve the optimal discriminator's formula for f1
    return f0 * d / (1 - d)
    ### END SOLUTION


def mc_false_proposition():
    """Multiple choice: which proposition about the apple GAN is false?"""
    ### BEGIN SOLUTION
    return {"c"}
    ### END SOLUTION


def mc_non_saturating_loss():
    """Multiple choice: which cost is the non-saturating generator cost?"""
    ### BEGIN SOLUTION
    return {"b"}
    ### END SOLUTION


def mc_train_test_gap():
    """Multiple choice: which method is commonly used to reduce a train/test accuracy gap?"""
    ### BEGIN SOLUTION
    return {"b"}
    ### END SOLUTION
