"""hw5_ebm_diffusion: derivations and multiple-choice answers (see README.md for the questions).

Formulas are sympy expressions of the function's arguments, which are sympy symbols with their
domain's assumptions: probabilities (alpha_t, alpha_bar_prev, alpha_bar_t, beta_1, beta_2) lie in
(0, 1), densities and sigma are positive, eps is real. Multiple-choice answers are a set of option
letters, e.g. {"b"}.
"""
import sympy


def nce_optimal_logit(p_d, p_n):
    """Question 1.1: the logit G*(x) that maximises L_NCE, given the data density p_d(x) and the
    noise density p_n(x) at the same x."""
    # FIXME: maximise p_d log sigma(G) + p_n log sigma(-G) pointwise in G
    raise NotImplementedError


def marginal_variance(beta_1, beta_2):
    """Question 2.1: Var[x_2 | x_0] (per coordinate) after two steps of the forward process
    q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I)."""
    # FIXME: compose the two Gaussian steps
    raise NotImplementedError


def posterior_coef_x0(alpha_t, alpha_bar_prev):
    """Question 2.2: the coefficient of x_0 in the mean of q(x_{t-1} | x_t, x_0), in terms of
    alpha_t = 1 - beta_t and alpha_bar_prev = alpha_bar_{t-1} (so alpha_bar_t = alpha_t alpha_bar_prev)."""
    # FIXME: your code here
    raise NotImplementedError


def posterior_coef_xt(alpha_t, alpha_bar_prev):
    """Question 2.2: the coefficient of x_t in the mean of q(x_{t-1} | x_t, x_0)."""
    # FIXME: your code here
    raise NotImplementedError


def posterior_variance(alpha_t, alpha_bar_prev):
    """Question 2.2: the variance of q(x_{t-1} | x_t, x_0) (per coordinate)."""
    # FIXME: your code here
    raise NotImplementedError


def loss_weight(alpha_t, alpha_bar_t, sigma_t):
    """Question 2.3: the lambda_t with ||mu_tilde - mu_theta||^2 / (2 sigma_t^2) =
    lambda_t ||eps - eps_theta||^2, when both means are written with a noise (mu_tilde with the
    true eps, mu_theta with the prediction eps_theta), at a step with alpha_t, alpha_bar_t and the
    reverse step's standard deviation sigma_t."""
    # FIXME: write both means through their noise: all but the noise terms cancel
    raise NotImplementedError


def score_from_eps(eps, alpha_bar_t):
    """Question 2.4: the score grad_{x_t} log q(x_t | x_0) at x_t = sqrt(alpha_bar_t) x_0 +
    sqrt(1 - alpha_bar_t) eps, per coordinate, in terms of eps."""
    # FIXME: differentiate the Gaussian's log-density, then substitute x_t
    raise NotImplementedError


def mc_joint_posterior():
    """Question 3.2: which factorisation of q(x_{1:T}, z | c, x_0) has the VAE's encoder give z
    and the forward process give x_{1:T} given z? One letter."""
    # FIXME: your code here
    raise NotImplementedError


def mc_vae_ddpm_decomposition():
    """Question 3.3: which expression is the bound of 3.1 split into a VAE part and a DDPM part?
    One letter."""
    # FIXME: your code here
    raise NotImplementedError
