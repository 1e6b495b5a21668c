"""Every hw1_vae check catches realistic student mistakes with a helpful message.

Each mutant is the reference with one function rewritten the way students get it wrong; it
must fail the named check (whose name starts with that function) with a message that points at
the mistake, and score below full marks on that function."""
from __future__ import annotations

import pytest

from conftest import assert_cause, grade_functions, make_submission

# another CPU's kernels compute other last bits: CI runs these again under another kernel set
pytestmark = pytest.mark.float_sensitive

REPARAMETERIZE = [
    ("logvar used as std", "return mu + logvar * torch.randn_like(mu)",
     "noise is standard normal", "matches logvar itself used as the standard deviation"),
    ("variance used as std", "return mu + torch.exp(logvar) * torch.randn_like(mu)",
     "noise is standard normal", "exp(logvar), the variance, used as the standard deviation"),
    ("no noise", "return mu + 0 * logvar",
     "noise is standard normal", "no noise was added"),
    ("uniform noise", "return mu + torch.exp(0.5 * logvar) * torch.rand_like(mu)",
     "noise is standard normal", "really standard normal"),
    ("detached sample", "return (mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)).detach()",
     "gradient path", "no gradient flows from z back to mu and logvar"),
    ("non-reparameterized sampling", "return torch.distributions.Normal(mu, torch.exp(0.5 * logvar)).sample()",
     "gradient path", "no gradient flows"),
    ("one noise value for all elements", "return mu + torch.exp(0.5 * logvar) * torch.randn(())",
     "noise is independent across elements", "every element got the same noise value"),
    ("noise shared across the batch", "return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu[:1])",
     "noise is independent across elements", "shared across the batch"),
    ("noise shared across latent dimensions", "return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu[..., :1])",
     "noise is independent across elements", "shared across the latent dimensions"),
    ("noise hard-wired to the CPU", "return mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, dtype=mu.dtype)",
     "device probe", "created on the CPU"),
    ("reseeding inside", "torch.manual_seed(0)\n    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)",
     "fresh noise on every call", "do not reseed"),
]

GAUSSIAN_KL = [
    ("KL sign", "return -0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)",
     "values and gradients", "expected"),
    ("KL sign, caught by the property", "return -0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)",
     "non-negative, zero exactly at the prior", "never negative"),
    ("missing 1/2", "return (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)",
     "values and gradients", "expected"),
    ("sum over the wrong dimension", "return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(0)",
     "values and gradients", "has shape (3,), expected (7,)"),
    ("mean instead of sum", "return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean(-1)",
     "values and gradients", "expected"),
    ("logvar read as log std", "return 0.5 * (mu.pow(2) + (2 * logvar).exp() - 1 - 2 * logvar).sum(-1)",
     "values and gradients", "expected"),
    ("KL(p || q) instead of KL(q || p)", "return 0.5 * ((1 + mu.pow(2)) / logvar.exp() - 1 + logvar).sum(-1)",
     "values and gradients", "expected"),
    ("zeros on the CPU", "out = torch.zeros(mu.shape[:-1])\n    return out + 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1)",
     "device probe", "created on the CPU"),
]

NEGATIVE_ELBO = [
    ("mean over pixels instead of sum",
     "r = F.binary_cross_entropy_with_logits(x_logits, x, reduction='none').flatten(1).mean(1)\n"
     "    return (r + beta * gaussian_kl(mu, logvar)).mean()",
     "values and gradients", "expected"),
    ("sum over the batch instead of mean",
     "r = F.binary_cross_entropy_with_logits(x_logits, x, reduction='none').flatten(1).sum(1)\n"
     "    return (r + beta * gaussian_kl(mu, logvar)).sum()",
     "values and gradients", "expected"),
    ("beta ignored",
     "r = F.binary_cross_entropy_with_logits(x_logits, x, reduction='none').flatten(1).sum(1)\n"
     "    return (r + gaussian_kl(mu, logvar)).mean()",
     "affine and increasing in beta", "must grow with beta"),
    ("KL subtracted",
     "r = F.binary_cross_entropy_with_logits(x_logits, x, reduction='none').flatten(1).sum(1)\n"
     "    return (r - beta * gaussian_kl(mu, logvar)).mean()",
     "affine and increasing in beta", "must grow with beta"),
    ("logits and targets swapped",
     "r = F.binary_cross_entropy_with_logits(x, x_logits, reduction='none').flatten(1).sum(1)\n"
     "    return (r + beta * gaussian_kl(mu, logvar)).mean()",
     "values and gradients", "expected"),
    ("default mean reduction of the loss",
     "return F.binary_cross_entropy_with_logits(x_logits, x) + beta * gaussian_kl(mu, logvar).mean()",
     "values and gradients", "expected"),
    ("summed over the last dimension only",
     "r = F.binary_cross_entropy_with_logits(x_logits, x, reduction='none').sum(-1)\n"
     "    return r + beta * gaussian_kl(mu, logvar).mean()",
     "values and gradients", "shape"),
]

IWAE_BOUND = [
    ("log-mean-exp without the max trick", "return torch.log(torch.exp(log_weights).mean(0))",
     "stable at |log-weights| up to 1e4 in float32", "log-sum-exp trick"),
    ("1/K missing", "return torch.logsumexp(log_weights, 0)",
     "between the mean and the max of the log-weights", "is the 1/K missing?"),
    ("reduction over the wrong dimension", "return torch.logsumexp(log_weights, 1) - math.log(log_weights.shape[1])",
     "values and gradients", "shape"),
    ("the ELBO instead of the IWAE bound", "return log_weights.mean(0)",
     "values and gradients", "expected"),
    ("log base 10",
     "m = log_weights.max(0).values\n    return m + torch.log10(torch.exp(log_weights - m).mean(0))",
     "values and gradients", "expected"),
    ("max instead of log-mean-exp", "return log_weights.max(0).values",
     "values and gradients", "expected"),
    ("only the first sample", "return log_weights[0]",
     "the order of the K samples does not matter", "must not depend on the order"),
]

KL_UNIVARIATE = [
    ("KL(p || q) instead of KL(q || p)",
     "return sympy.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_q - mu_p)**2) / (2 * sigma_q**2) - sympy.Rational(1, 2)"),
    ("missing 1/2 in the quadratic term",
     "return sympy.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2) / sigma_p**2 - sympy.Rational(1, 2)"),
    ("log base 10",
     "return sympy.log(sigma_p / sigma_q, 10) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 * sigma_p**2) - sympy.Rational(1, 2)"),
    ("missing -1/2",
     "return sympy.log(sigma_p / sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 * sigma_p**2)"),
    ("log of the variances without 1/2",
     "return sympy.log(sigma_p**2 / sigma_q**2) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 * sigma_p**2) - 0.5"),
    ("sigma read as a variance",
     "return sympy.log(sigma_p / sigma_q) / 2 + (sigma_q + (mu_q - mu_p)**2) / (2 * sigma_p) - sympy.Rational(1, 2)"),
]

CHOICES = [
    ("mc_marginal_likelihood", '{"a"}', "answer key", "1 selected option is wrong and 1 correct option is missing"),
    ("mc_marginal_likelihood", '{"c"}', "answer key", "not the key"),
    ("mc_marginal_likelihood", '{"b", "d"}', "answer key", "1 selected option is wrong"),
    ("mc_marginal_likelihood", '"e"', "well-formed", "single letters among a, b, c, d"),
    ("mc_elbo_significance", '{"a", "b"}', "answer key", "1 correct option is missing"),
    ("mc_elbo_significance", '{"a", "b", "c", "d"}', "answer key", "1 selected option is wrong"),
    ("mc_elbo_significance", '{"a", "d"}', "answer key", "1 correct option is missing"),
    ("mc_elbo_significance", "3", "well-formed", "must return option letters"),
    ("mc_amortization_gap", '{"b"}', "answer key", "not the key"),
    ("mc_amortization_gap", '{"c"}', "answer key", "not the key"),
    ("mc_amortization_gap", '{"d"}', "answer key", "not the key"),
]


# The likely cause (checks/diagnoses.py) each mutant must get, by (function, mistake); a mutant
# not listed must get none (its checks' own messages say what is wrong, or nothing fits).
CAUSES = {
    ("gaussian_kl", "KL sign"): "opposite sign",
    ("gaussian_kl", "KL sign, caught by the property"): "opposite sign",
    ("gaussian_kl", "missing 1/2"): "twice the expected ones: a missing or extra factor ½?",
    ("gaussian_kl", "mean instead of sum"): "is the size of the last dimension of mu: did you average where a sum is asked for?",
    ("gaussian_kl", "logvar read as log std"): "known mistake: logvar read as the log standard deviation",
    ("gaussian_kl", "KL(p || q) instead of KL(q || p)"): "known mistake: KL(N(0, I) ‖ q) instead of KL(q ‖ N(0, I))",
    ("negative_elbo", "mean over pixels instead of sum"): "known mistake: the reconstruction term averaged over the pixels",
    ("negative_elbo", "sum over the batch instead of mean"): "is the size of dimension 0 of x: did you sum where a mean is asked for?",
    ("negative_elbo", "beta ignored"): "known mistake: beta ignored",
    ("negative_elbo", "KL subtracted"): "known mistake: the KL term subtracted",
    ("negative_elbo", "logits and targets swapped"): "known mistake: the arguments of binary_cross_entropy_with_logits swapped",
    ("negative_elbo", "default mean reduction of the loss"): "known mistake: the reconstruction term averaged over the pixels",
    ("iwae_bound", "1/K missing"): "inside a log (a sum where a mean is asked for)?",
    ("iwae_bound", "the ELBO instead of the IWAE bound"): "known mistake: the mean of the log-weights, which is the ELBO",
    ("iwae_bound", "log base 10"): "known mistake: a logarithm in base 10",
    ("iwae_bound", "max instead of log-mean-exp"): "known mistake: the largest log-weight",
    ("iwae_bound", "only the first sample"): "known mistake: the first of the K samples only",
    ("iwae_bound", "reduction over the wrong dimension"): "known mistake: the log-mean-exp over dimension 1, the batch",
    ("gaussian_kl", "sum over the wrong dimension"): "known mistake: summed over dimension 0, the batch",
    ("negative_elbo", "summed over the last dimension only"):
        "known mistake: the reconstruction term summed over the last dimension only",
    ("kl_univariate_gaussians", "KL(p || q) instead of KL(q || p)"): "known mistake: KL(p ‖ q) instead of KL(q ‖ p)",
    ("kl_univariate_gaussians", "missing 1/2 in the quadratic term"): "known mistake: the quadratic term without its ½",
    ("kl_univariate_gaussians", "log base 10"): "known mistake: a logarithm in base 10",
    ("kl_univariate_gaussians", "missing -1/2"): "½ above the expected ones: a dropped or extra constant term?",
    ("kl_univariate_gaussians", "log of the variances without 1/2"): "known mistake: log(σ_p² / σ_q²) without its factor ½",
    ("kl_univariate_gaussians", "sigma read as a variance"): "with sigma_q, sigma_p replaced by the square root",
}

# Mutants without a likely cause whose failing check names the mistake itself (the table's
# fragment): the sampler's statistical checks, the device probe, the overflow checks.
NAMED_BY_THE_CHECK = {("reparameterize", m[0]) for m in REPARAMETERIZE} | {
    ("gaussian_kl", "zeros on the CPU"), ("iwae_bound", "log-mean-exp without the max trick")}


def body(function: str, signature: str, code: str) -> str:
    return f"def {function}({signature}):\n    {code}\n"


def assert_caught(results, function, check, fragment):
    name = f"{function}: {check}"
    assert name in results, f"no check named {name!r}"
    result = results[name]
    assert not result.passed, f"{name} passed a wrong implementation"
    assert fragment in result.message, f"{name}: message {result.message!r} lacks {fragment!r}"
    assert sum(r.score for r in results.values()) < sum(r.max_score for r in results.values())


SIGNATURES = {"reparameterize": "mu, logvar", "gaussian_kl": "mu, logvar",
              "negative_elbo": "x, x_logits, mu, logvar, beta=1.0", "iwae_bound": "log_weights"}
VAE_MUTANTS = [(function, *mutant) for function, mutants in (
    ("reparameterize", REPARAMETERIZE), ("gaussian_kl", GAUSSIAN_KL),
    ("negative_elbo", NEGATIVE_ELBO), ("iwae_bound", IWAE_BOUND)) for mutant in mutants]


@pytest.mark.parametrize("function,mistake,code,check,fragment", VAE_MUTANTS,
                         ids=[f"{m[0]}: {m[1]}" for m in VAE_MUTANTS])
def test_vae_mutants(tmp_path, function, mistake, code, check, fragment):
    folder = make_submission(tmp_path / "s", vae={function: body(function, SIGNATURES[function], code)})
    results = grade_functions(folder, {function})
    assert_caught(results, function, check, fragment)
    assert_cause(results, function, CAUSES.get((function, mistake)))


@pytest.mark.parametrize("mistake,code", KL_UNIVARIATE, ids=[m[0] for m in KL_UNIVARIATE])
def test_kl_univariate_gaussians_mutants(tmp_path, mistake, code):
    source = body("kl_univariate_gaussians", "mu_q, sigma_q, mu_p, sigma_p", code)
    folder = make_submission(tmp_path / "s", answers={"kl_univariate_gaussians": source})
    results = grade_functions(folder, {"kl_univariate_gaussians"})
    assert_caught(results, "kl_univariate_gaussians", "equals KL(q ‖ p)", "but the correct value is")
    assert "sigma_q = " in results["kl_univariate_gaussians: equals KL(q ‖ p)"].message  # shows the point
    assert_cause(results, "kl_univariate_gaussians", CAUSES.get(("kl_univariate_gaussians", mistake)))


@pytest.mark.parametrize("function,answer,check,fragment", CHOICES, ids=[f"{c[0]}={c[1]}" for c in CHOICES])
def test_multiple_choice_mutants(tmp_path, function, answer, check, fragment):
    folder = make_submission(tmp_path / "s", answers={function: body(function, "", f"return {answer}")})
    results = grade_functions(folder, {function})
    assert_caught(results, function, check, fragment)
    assert_cause(results, function, None)


# The mutants whose feedback tests/test_diagnoses.py counts (answer-key letters, cells and grids aside,
# which have no cause to name): (assignment, mutants, CAUSES, NAMED_BY_THE_CHECK).
DIAGNOSED = (
    "hw1_vae", [(f, m) for f, m, *_ in VAE_MUTANTS] + [("kl_univariate_gaussians", m) for m, _ in KL_UNIVARIATE],
    CAUSES, NAMED_BY_THE_CHECK)
