"""Properties of hw2_contrastive's losses (mse_loss, contrastive_loss, nt_xent,
unified_contrastive_loss) that every correct answer has: part of the specification, run by the
public checks (python check.py) and by grading. Inputs are float64 unless a property is about float32."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from autograder import wire
from autograder.checks.properties import close, expect, scalar, tensor


def embeddings(data, b, d):
    """(b, d) rows of norm at least 0.5, drawn in [-3, 3]."""
    z = tensor(data, (b, d), -3, 3)
    small = z.norm(dim=1) < 0.5
    z[small, 0] = 1.0
    return z


def unit_rows(data, b, d):
    z = embeddings(data, b, d)
    return z / z.norm(dim=1, keepdim=True)


def mse_zero_iff_equal(call, data):
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    x = tensor(data, shape, -10, 10)
    same = scalar(call(x.clone(), x), "mse_loss", x, x)
    expect(same == 0, f"mse_loss(x, x) must be exactly 0, got {float(same):.6g}", x, x)
    x_hat = x.clone().reshape(-1)
    x_hat[data.draw(st.integers(0, x_hat.numel() - 1))] += data.draw(st.sampled_from([-1, 1])) * data.draw(st.floats(1e-3, 10))
    x_hat = x_hat.reshape(shape)
    differ = scalar(call(x_hat, x), "mse_loss", x_hat, x)
    expect(differ > 0, f"mse_loss must be positive when x_hat != x, got {float(differ):.6g}", x_hat, x)


def _logits(data, magnitude=20.0):
    b = data.draw(st.integers(1, 6))
    return tensor(data, (b, b), -magnitude, magnitude)


def _infonce(logits):
    import torch

    logits = logits.double()
    return (torch.logsumexp(logits, 1) - logits.diagonal()).mean()


def contrastive_equal_logits(call, data):
    import torch

    b, value = data.draw(st.integers(1, 8)), data.draw(st.floats(-50, 50))
    logits = torch.full((b, b), value, dtype=torch.float64)
    loss = scalar(call(logits), "contrastive_loss", logits)
    expect(close(loss, math.log(b)), f"with all logits equal every softmax is uniform, so the loss must be "
           f"log b = {math.log(b):.6g}, got {float(loss):.6g} (a mean over the rows, not a sum?)", logits)


def contrastive_stable(call, data):
    import torch

    logits = _logits(data, magnitude=1e4)
    logits = (logits * (1e4 / max(1.0, float(logits.abs().max())))).float()   # reach |logit| = 1e4
    loss = scalar(call(logits), "contrastive_loss", logits)
    expected = _infonce(logits)
    expect(torch.isfinite(loss), f"float32 result {float(loss)} is not finite: exp() overflows at such "
           "magnitudes; use torch.logsumexp, log_softmax or cross_entropy", logits)
    expect(abs(float(loss) - float(expected)) <= 1e-6 * 1e4 + 1e-3,
           f"float32 result {float(loss):.8g} is inaccurate; expected {float(expected):.8g}", logits)


def _views(data):
    b, d = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 4))
    return embeddings(data, b, d), embeddings(data, b, d)


def nt_xent_scale_invariant(call, data):
    z1, z2 = _views(data)
    s1, s2 = (tensor(data, (z1.shape[0], 1), 0.01, 100) for _ in range(2))
    a = scalar(call(z1, z2), "nt_xent", z1, z2)
    b = scalar(call(z1 * s1, z2 * s2), "nt_xent", z1 * s1, z2 * s2)
    expect(close(a, b), f"scaling rows by positive numbers must not change the loss (it uses cosine "
           f"similarities): {float(a):.6g} before, {float(b):.6g} after scaling the rows by "
           f"{s1.flatten().tolist()} and {s2.flatten().tolist()} (are the rows normalized?)", z1, z2)


def nt_xent_symmetric(call, data):
    z1, z2 = _views(data)
    a, b = scalar(call(z1, z2), "nt_xent", z1, z2), scalar(call(z2, z1), "nt_xent", z2, z1)
    expect(close(a, b), f"nt_xent(z1, z2) = {float(a):.6g} but nt_xent(z2, z1) = {float(b):.6g}: every "
           "embedding of both views is an anchor once", z1, z2)


def unified_is_nt_xent(call, data):
    import torch

    b, d, tau = data.draw(st.integers(2, 6)), data.draw(st.integers(2, 5)), data.draw(st.floats(0.05, 2.0))
    z, z_aug = unit_rows(data, b, d), unit_rows(data, b, d)
    loss = scalar(call(z, z_aug, wire.Elementwise("log", {}), wire.Elementwise("exp_over", {"tau": tau})),
                  "unified_contrastive_loss", z, z_aug)
    others = (z @ z.T / tau).masked_fill(torch.eye(b, dtype=torch.bool), -math.inf)
    expected = -((z * z_aug).sum(1) / tau - torch.logsumexp(others, 1)).sum()
    expect(close(loss, expected), f"with phi = log and psi(x) = exp(x / {tau:.6g}) on unit vectors the loss "
           f"must equal NT-Xent -sum_i log(exp(z_i·z_aug_i / tau) / sum_(j != i) exp(z_i·z_j / tau)) = "
           f"{float(expected):.6g}, got {float(loss):.6g}", z, z_aug)


PROPERTIES = {f.__name__: f for f in (mse_zero_iff_equal, contrastive_equal_logits, contrastive_stable, nt_xent_scale_invariant, nt_xent_symmetric, unified_is_nt_xent)}
