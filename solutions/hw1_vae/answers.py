"""hw1_vae: derivations and multiple-choice answers (see README.md for the questions).

Multiple-choice answers are returned as a set of option letters, e.g. {"b"} or {"a", "c"}.
"""
import sympy


def kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p):
    """KL(q || p) for q = N(mu_q, sigma_q**2) and p = N(mu_p, sigma_p**2), as a sympy
    expression of the four arguments (sympy symbols: sigmas positive, means real)."""
    ### BEGIN SOLUTION derive E_q[log q(x) - log p(x)] in closed form
    return (sympy.log(sigma_p / sigma_q)
            + (sigma_q**2 + (mu_q - mu_p) ** 2) / (2 * sigma_p**2)
            - sympy.Rational(1, 2))
    ### END SOLUTION


def mc_marginal_likelihood():
    """Question 4: why is the marginal likelihood p(x) hard to compute? One letter."""
    ### BEGIN SOLUTION
    return {"b"}
    ### END SOLUTION


def mc_elbo_significance():
    """Question 5: what does the ELBO decomposition tell us? Every letter that applies."""
    ### BEGIN SOLUTION
    return {"a", "b", "d"}
    ### END SOLUTION


def mc_amortization_gap():
    """Question 6: which posterior approximation has the larger KL to the true posterior?"""
    ### BEGIN SOLUTION
    return {"a"}
    ### END SOLUTION
