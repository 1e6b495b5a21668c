"""Differently written correct answers get full marks: other algebra, other torch calls, other
sampling calls, other sympy forms, floats like 0.5, other answer formats; defensive clamping that
changes nothing on valid inputs, float64 intermediates cast back, in-place ops on copies, loops,
a branch that skips a term whose weight is 0.

Grading a submission starts a worker (seconds), so variants are graded in rounds (conftest's
VariantRounds): round k holds the k-th variant of every function. A variant of negative_elbo
that calls gaussian_kl calls the round's gaussian_kl, which is a correct variant too."""
from __future__ import annotations

import pytest

from conftest import VariantRounds

# another CPU's kernels compute other last bits: CI runs these again under another kernel set
pytestmark = pytest.mark.float_sensitive

HW1 = "hw1_vae"

VARIANTS = {
    ("vae", "reparameterize"): [
        # another random call, with the inputs' device and dtype
        """def reparameterize(mu, logvar):
            eps = torch.randn(mu.shape, device=mu.device, dtype=mu.dtype)
            return mu + eps * (0.5 * logvar).exp()""",
        # torch.distributions
        """def reparameterize(mu, logvar):
            return torch.distributions.Normal(mu, torch.exp(logvar / 2)).rsample()""",
        # in-place ops on fresh tensors, addcmul
        """def reparameterize(mu, logvar):
            std = logvar.mul(0.5).exp_()
            return torch.addcmul(mu, std, torch.empty_like(std).normal_())""",
        # other algebra
        """def reparameterize(mu, logvar):
            return mu + torch.sqrt(torch.exp(logvar)) * torch.randn_like(logvar)""",
        # float64 intermediates, cast back to the inputs' dtype
        """def reparameterize(mu, logvar):
            std = torch.exp(0.5 * logvar.double())
            z = mu.double() + std * torch.randn_like(std)
            return z.to(mu.dtype)""",
        # defensive clamp of logvar (changes nothing for |logvar| < 30)
        """def reparameterize(mu, logvar):
            std = logvar.clamp(-30.0, 30.0).mul(0.5).exp()
            return mu + std * torch.randn_like(mu)""",
    ],
    ("vae", "gaussian_kl"): [
        # other algebra
        """def gaussian_kl(mu, logvar):
            return -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar), dim=-1)""",
        # torch.distributions
        """def gaussian_kl(mu, logvar):
            q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
            p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
            return torch.distributions.kl_divergence(q, p).sum(-1)""",
        """def gaussian_kl(mu, logvar):
            var = logvar.exp()
            return (0.5 * mu * mu + 0.5 * var - 0.5 - 0.5 * logvar).sum(mu.dim() - 1)""",
        # float64 intermediates, cast back
        """def gaussian_kl(mu, logvar):
            m, lv = mu.double(), logvar.double()
            return (0.5 * (m ** 2 + lv.exp() - 1 - lv)).sum(-1).to(mu.dtype)""",
        # defensive clamp of logvar
        """def gaussian_kl(mu, logvar):
            lv = logvar.clamp(-30, 30)
            return 0.5 * (mu ** 2 + lv.exp() - 1 - lv).sum(-1)""",
        # in-place ops on a copy
        """def gaussian_kl(mu, logvar):
            kl = mu.clone()
            kl.pow_(2)
            kl.add_(logvar.exp()).sub_(logvar).sub_(1.0)
            return kl.sum(-1).mul_(0.5)""",
        # a loop over the latent dimensions (Python's sum), einsum
        """def gaussian_kl(mu, logvar):
            return sum(0.5 * (torch.einsum('...,...->...', mu[..., k], mu[..., k]) + logvar[..., k].exp() - 1 - logvar[..., k])
                       for k in range(mu.shape[-1]))""",
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
        # the KL term skipped when beta = 0: no gradient path to mu and logvar, whose gradient is 0
        """def negative_elbo(x, x_logits, mu, logvar, beta=1.0):
            rec = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").reshape(len(x), -1).sum(1).mean()
            if beta == 0:
                return rec
            return rec + beta * gaussian_kl(mu, logvar).mean()""",
        # float64 intermediates cast back, logvar clamped defensively
        """def negative_elbo(x, x_logits, mu, logvar, beta=1.0):
            lv = logvar.double().clamp(-30.0, 30.0)
            rec = F.binary_cross_entropy_with_logits(x_logits.double(), x.double(), reduction="sum") / len(x)
            kl = 0.5 * (mu.double() ** 2 + lv.exp() - 1 - lv).sum(-1).mean()
            return (rec + beta * kl).to(x_logits.dtype)""",
        # a loop over the batch (Python's sum)
        """def negative_elbo(x, x_logits, mu, logvar, beta=1.0):
            total = sum(F.binary_cross_entropy_with_logits(x_logits[i], x[i], reduction="sum")
                        + beta * gaussian_kl(mu[i], logvar[i]) for i in range(x.shape[0]))
            return total / x.shape[0]""",
        # torch.distributions (a Bernoulli's log-density at x in [0, 1]), in-place ops on its output
        """def negative_elbo(x, x_logits, mu, logvar, beta=1.0):
            nll = torch.distributions.Bernoulli(logits=x_logits, validate_args=False).log_prob(x).neg_()
            per_example = nll.flatten(1).sum(1)
            per_example.add_(beta * gaussian_kl(mu, logvar))
            return per_example.mean()""",
    ],
    ("vae", "iwae_bound"): [
        # log-sum-exp by hand (max trick)
        """def iwae_bound(log_weights):
            m = log_weights.max(dim=0, keepdim=True).values
            return (m + torch.log(torch.mean(torch.exp(log_weights - m), dim=0, keepdim=True))).squeeze(0)""",
        """def iwae_bound(log_weights):
            k = torch.tensor(log_weights.shape[0], dtype=log_weights.dtype)
            return torch.logsumexp(log_weights, 0) - torch.log(k)""",
        """def iwae_bound(log_weights):
            m = log_weights.amax(0)
            return m + (log_weights - m).exp().sum(0).log() - math.log(len(log_weights))""",
        # float64 intermediates, cast back
        """def iwae_bound(log_weights):
            return (torch.logsumexp(log_weights.double(), 0) - math.log(log_weights.shape[0])).to(log_weights.dtype)""",
        # a loop of logaddexp (empty for K = 1)
        """def iwae_bound(log_weights):
            total = log_weights[0]
            for k in range(1, log_weights.shape[0]):
                total = torch.logaddexp(total, log_weights[k])
            return total - math.log(log_weights.shape[0])""",
        # torch.where guarding the max against infinities (changes nothing on finite inputs)
        """def iwae_bound(log_weights):
            m = log_weights.amax(0).detach()
            m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
            return m + torch.log(torch.exp(log_weights - m).mean(0))""",
        # in-place ops on a copy
        """def iwae_bound(log_weights):
            w = log_weights.clone()
            m = w.amax(0).detach()
            w.sub_(m).exp_()
            return w.mean(0).log_().add_(m)""",
        # the 1/K inside the log-sum-exp
        """def iwae_bound(log_weights):
            return torch.logsumexp(log_weights - math.log(len(log_weights)), dim=0)""",
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
        # Python's 1 / 2 (a float), ratios
        """def kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p):
            return (mu_q - mu_p)**2 / (2 * sigma_p**2) + (sigma_q / sigma_p)**2 / 2 - sympy.log(sigma_q / sigma_p) - 1 / 2""",
        # derived in sympy: E_q of a quadratic in x from the first two moments of q
        """def kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p):
            x = sympy.Symbol("x", real=True)
            log_ratio = sympy.expand(sympy.log(sigma_p) - sympy.log(sigma_q)
                                     - (x - mu_q)**2 / (2 * sigma_q**2) + (x - mu_p)**2 / (2 * sigma_p**2))
            c2, c1, c0 = sympy.Poly(log_ratio, x).all_coeffs()
            return c2 * (sigma_q**2 + mu_q**2) + c1 * mu_q + c0""",
    ],
    ("answers", "mc_marginal_likelihood"): [
        'def mc_marginal_likelihood():\n    return "b"',
        'def mc_marginal_likelihood():\n    return ["B"]',
        'def mc_marginal_likelihood():\n    return ("b",)',
    ],
    ("answers", "mc_elbo_significance"): [
        'def mc_elbo_significance():\n    return "a, b, d"',
        'def mc_elbo_significance():\n    return ("d", "b", "a")',
        'def mc_elbo_significance():\n    return "ABD"',
    ],
    ("answers", "mc_amortization_gap"): [
        'def mc_amortization_gap():\n    return "a"',
        'def mc_amortization_gap():\n    return frozenset({"A"})',
        'def mc_amortization_gap():\n    return [" a "]',
    ],
}

ENTRIES = [(module, function, source) for (module, function), sources in VARIANTS.items() for source in sources]


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    return VariantRounds(HW1, ENTRIES, tmp_path_factory.mktemp)


@pytest.mark.parametrize("index", range(len(ENTRIES)),
                         ids=[f"{function}-{i}" for i, (_, function, _) in enumerate(ENTRIES)])
def test_correct_variant_gets_full_marks(rounds, index):
    results = rounds.results(index)
    assert results
    failed = {name: r.message for name, r in results.items() if not r.passed}
    assert not failed, failed
