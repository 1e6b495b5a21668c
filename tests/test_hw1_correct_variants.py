"""Differently written correct answers get full marks: other algebra, other torch calls, other
sampling calls, other sympy forms, floats like 0.5, other answer formats."""
from __future__ import annotations

import pytest

from conftest import grade_functions, make_submission

VARIANTS = {
    ("vae", "reparameterize"): [
        """def reparameterize(mu, logvar):
            eps = torch.randn(mu.shape, device=mu.device, dtype=mu.dtype)
            return mu + eps * (0.5 * logvar).exp()""",
        """def reparameterize(mu, logvar):
            return torch.distributions.Normal(mu, torch.exp(logvar / 2)).rsample()""",
        """def reparameterize(mu, logvar):
            std = logvar.mul(0.5).exp_()
            return torch.addcmul(mu, std, torch.empty_like(std).normal_())""",
        """def reparameterize(mu, logvar):
            return mu + torch.sqrt(torch.exp(logvar)) * torch.randn_like(logvar)""",
    ],
    ("vae", "gaussian_kl"): [
        """def gaussian_kl(mu, logvar):
            return -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=-1)""",
        """def gaussian_kl(mu, logvar):
            q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
            p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
            return torch.distributions.kl_divergence(q, p).sum(-1)""",
        """def gaussian_kl(mu, logvar):
            var = logvar.exp()
            return (0.5 * mu * mu + 0.5 * var - 0.5 - 0.5 * logvar).sum(mu.dim() - 1)""",
    ],
    ("vae", "negative_elbo"): [
        """def negative_elbo(x, x_logits, mu, logvar, beta=1.0):
            b = x.shape[0]
            rec = F.binary_cross_entropy_with_logits(x_logits.reshape(b, -1), x.reshape(b, -1), reduction="sum") / b
            return rec + beta * gaussian_kl(mu, logvar).mean()""",
        """def negative_elbo(x, x_logits, mu, logvar, beta=1.0):
            log_p = x * F.logsigmoid(x_logits) + (1 - x) * F.logsigmoid(-x_logits)
            per_example = -log_p.sum(dim=tuple(range(1, x.dim())))
            return torch.mean(per_example + beta * gaussian_kl(mu, logvar))""",
        """def negative_elbo(x, x_logits, mu, logvar, beta=1.0):
            rec = (F.softplus(x_logits) - x * x_logits).flatten(1).sum(-1)
            kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(-1)
            return (rec + beta * kl).sum() / x.shape[0]""",
    ],
    ("vae", "iwae_bound"): [
        """def iwae_bound(log_weights):
            m = log_weights.max(dim=0, keepdim=True).values
            return (m + torch.log(torch.mean(torch.exp(log_weights - m), dim=0, keepdim=True))).squeeze(0)""",
        """def iwae_bound(log_weights):
            k = torch.tensor(log_weights.shape[0], dtype=log_weights.dtype)
            return torch.logsumexp(log_weights, 0) - torch.log(k)""",
        """def iwae_bound(log_weights):
            m = log_weights.amax(0)
            return m + (log_weights - m).exp().sum(0).log() - math.log(len(log_weights))""",
    ],
    ("answers", "kl_univariate_gaussians"): [
        """def kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p):
            return sympy.log(sigma_p) - sympy.log(sigma_q) + (sigma_q**2 + (mu_q - mu_p)**2) / (2 * sigma_p**2) - 0.5""",
        """def kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p):
            return (sympy.log(sigma_p**2 / sigma_q**2) + sigma_q**2 / sigma_p**2
                    + (mu_q**2 - 2 * mu_q * mu_p + mu_p**2) / sigma_p**2 - 1) / 2""",
        """def kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p):
            s_q, s_p = sympy.symbols("sigma_q sigma_p")   # own symbols, no assumptions
            m_q, m_p = sympy.symbols("mu_q mu_p")
            return 0.5 * sympy.log(s_p**2) - 0.5 * sympy.log(s_q**2) + sympy.Rational(1, 2) * (s_q**2 + (m_p - m_q)**2) / s_p**2 - sympy.S.Half""",
    ],
    ("answers", "mc_marginal_likelihood"): [
        'def mc_marginal_likelihood():\n    return "b"',
        'def mc_marginal_likelihood():\n    return ["B"]',
    ],
    ("answers", "mc_elbo_significance"): [
        'def mc_elbo_significance():\n    return "a, b, d"',
        'def mc_elbo_significance():\n    return ("d", "b", "a")',
    ],
    ("answers", "mc_amortization_gap"): [
        'def mc_amortization_gap():\n    return "a"',
        'def mc_amortization_gap():\n    return frozenset({"A"})',
    ],
}

CASES = [(module, function, source) for (module, function), sources in VARIANTS.items() for source in sources]


@pytest.mark.parametrize("module,function,source", CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_correct_variant_gets_full_marks(tmp_path, module, function, source):
    folder = make_submission(tmp_path / "s", **{module: {function: source}})
    results = grade_functions(folder, {function})
    assert results
    failed = {name: r.message for name, r in results.items() if not r.passed}
    assert not failed, failed
