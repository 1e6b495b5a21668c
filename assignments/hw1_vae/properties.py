"""Properties of hw1_vae's functions (gaussian_kl, negative_elbo, iwae_bound) that every correct
answer has: part of the specification, run by the public checks (python check.py) and by grading."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from autograder.checks.properties import expect, tensor


def kl_nonnegative_zero_at_prior(call, data):
    b, d = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 4))
    mu, logvar = tensor(data, (b, d), -4, 4), tensor(data, (b, d), -4, 4)
    mu[0], logvar[0] = 0.0, 0.0          # row 0 is the prior itself
    kl = call(mu, logvar)
    expect(tuple(kl.shape) == (b,), f"gaussian_kl returned shape {tuple(kl.shape)}, expected ({b},)", mu, logvar)
    expect(kl[0].abs() <= 1e-12, f"KL(N(0, I) ‖ N(0, I)) must be exactly 0, got {kl[0]:.6g}", mu[:1], logvar[:1])
    expect((kl >= -1e-9).all(), f"a KL divergence is never negative, got {kl.min():.6g}", mu, logvar)
    away = (mu.abs().amax(-1) > 0.1) | (logvar.abs().amax(-1) > 0.1)
    expect((kl[away] > 0).all(), "the KL must be positive away from the prior, got 0", mu, logvar)


def elbo_affine_in_beta(call, data):
    b = data.draw(st.integers(1, 4))
    x = tensor(data, (b, 1, 2, 3), 0, 1)
    logits, mu, logvar = tensor(data, (b, 1, 2, 3), -5, 5), tensor(data, (b, 2), -3, 3), tensor(data, (b, 2), -3, 3)
    mu[:, 0] += 0.5                      # keep q away from the prior: the KL term is positive
    f0, f1, f3 = (call(x, logits, mu, logvar, beta=beta) for beta in (0.0, 1.0, 3.0))
    for value in (f0, f1, f3):
        expect(value.dim() == 0, f"negative_elbo must return a scalar, got shape {tuple(value.shape)}", x, logits, mu, logvar)
    slope = f1 - f0
    expect(abs((f3 - f0) - 3 * slope) <= 1e-8 * max(1.0, abs(float(f3))),
           f"negative_elbo must be affine in beta: values {f0:.6g}, {f1:.6g}, {f3:.6g} at beta = 0, 1, 3",
           x, logits, mu, logvar)
    expect(slope > 0, f"negative_elbo must grow with beta (beta multiplies a positive KL), "
                      f"slope {slope:.6g}", x, logits, mu, logvar)


def _log_weights(data, k_max=6, magnitude=30.0):
    k, b = data.draw(st.integers(1, k_max)), data.draw(st.integers(1, 4))
    return tensor(data, (k, b), -magnitude, magnitude)


def _iwae_math(log_weights):
    import torch

    return torch.logsumexp(log_weights.double(), 0) - math.log(log_weights.shape[0])


def iwae_k1(call, data):
    lw = _log_weights(data, k_max=1)
    out = call(lw)
    expect(tuple(out.shape) == (lw.shape[1],), f"iwae_bound returned shape {tuple(out.shape)}, expected ({lw.shape[1]},)", lw)
    expect(((out - lw[0]).abs() <= 1e-9 * (1 + lw[0].abs())).all(),
           f"with K = 1 the bound is the log-weight itself, got {out.tolist()}", lw)


def iwae_between_mean_and_max(call, data):
    lw = _log_weights(data)
    out = call(lw)
    expect(tuple(out.shape) == (lw.shape[1],), f"iwae_bound returned shape {tuple(out.shape)}, expected ({lw.shape[1]},)", lw)
    slack = 1e-9 * (1 + lw.abs().amax(0))
    expect((out >= lw.mean(0) - slack).all(),
           f"the bound must be at least the mean log-weight (the ELBO estimate), got {out.tolist()} "
           f"< {lw.mean(0).tolist()}", lw)
    expect((out <= lw.amax(0) + slack).all(),
           f"the bound must be at most the largest log-weight, got {out.tolist()} > {lw.amax(0).tolist()} "
           "(is the 1/K missing?)", lw)


def iwae_stable(call, data):
    import torch

    lw = _log_weights(data, magnitude=1e4)
    lw = lw * (1e4 / max(1.0, float(lw.abs().max())))   # reach |log-weight| = 1e4
    out = call(lw.float())
    expected = _iwae_math(lw.float())
    expect(tuple(out.shape) == (lw.shape[1],), f"iwae_bound returned shape {tuple(out.shape)}, expected ({lw.shape[1]},)", lw)
    expect(torch.isfinite(out).all(), f"float32 result {out.tolist()} is not finite: exp() overflows at "
           "such magnitudes; subtract the maximum first (log-sum-exp trick) or use torch.logsumexp", lw.float())
    expect(((out.double() - expected).abs() <= 1e-6 * expected.abs() + 1e-3).all(),
           f"float32 result {out.tolist()} is inaccurate; expected {expected.tolist()}", lw.float())


PROPERTIES = {f.__name__: f for f in (kl_nonnegative_zero_at_prior, elbo_affine_in_beta, iwae_k1, iwae_between_mean_and_max, iwae_stable)}
