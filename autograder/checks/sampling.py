"""Checks of a reparameterized Gaussian sampler z = mu + exp(logvar / 2) * eps, eps ~ N(0, I).

They never assume which random call the student used (randn_like, randn with a device,
Normal(...).rsample() all pass): they look only at z. Statistical tests use fixed seeds, so a
submission always gets the same verdict; each test's level is ALPHA, and the three tests
together wrongly fail a correct sampler for at most 3e-7 of all seeds (below 1e-6).
"""
from __future__ import annotations

import math

from .. import wire
from ..runner import StudentError
from . import Check, Verdict

ALPHA = 1e-7
SHAPE = (2001, 32)


def _inputs(seed: int, shape=SHAPE, dtype="float64"):
    import torch

    g = torch.Generator().manual_seed(seed)
    mu = 1.5 * torch.randn(shape, generator=g, dtype=torch.float64)
    logvar = -3.0 + 5.0 * torch.rand(shape, generator=g, dtype=torch.float64)
    return mu.to(getattr(torch, dtype)), logvar.to(getattr(torch, dtype))


class _SamplerCheck(Check):
    def sample(self, student, mu, logvar, seed):
        """z as a float64 tensor, or a Verdict explaining why there is none."""
        try:
            result = self.call(student, mu, logvar, seed=seed)
        except StudentError as error:
            return Verdict(False, str(error))
        z = result.value
        if not isinstance(z, wire.TensorInfo) or z.shape != tuple(mu.shape) or z.tensor is None:
            got = z.shape if isinstance(z, wire.TensorInfo) else type(z).__name__
            return Verdict(False, f"expected a tensor of shape {tuple(mu.shape)} like mu, got {got}")
        return z.tensor.double()

    def noise(self, student, seed):
        """(eps, z - mu, logvar) with eps = (z - mu) / exp(logvar / 2), or a failing Verdict."""
        mu, logvar = _inputs(seed)
        z = self.sample(student, mu, logvar, seed)
        if isinstance(z, Verdict):
            return z
        return (z - mu) * (-logvar / 2).exp(), z - mu, logvar


class NoiseIsStandardNormal(_SamplerCheck):
    """(z - mu) / exp(logvar / 2) must be N(0, 1): Kolmogorov-Smirnov test on 64,032 values."""

    kind = "noise_is_standard_normal"
    proves_values = True   # a constant, mu itself or noise not scaled by exp(logvar / 2) fails

    def run(self, student, prepared, device):
        drawn = self.noise(student, seed=11)
        if isinstance(drawn, Verdict):
            return drawn
        eps, deviation, logvar = drawn
        p = ks_normal_pvalue(eps.reshape(-1))
        if p >= ALPHA:
            return Verdict(True, f"(z - mu) / std looks standard normal (KS p-value {p:.2g})")
        return Verdict(False, f"(z - mu) / exp(logvar / 2) should be N(0, 1) but has mean "
                              f"{eps.mean():.3g} and standard deviation {eps.std():.3g} "
                              f"(Kolmogorov-Smirnov p-value {p:.1e}). {scale_diagnosis(deviation, logvar)}")


class NoiseIsIndependent(_SamplerCheck):
    """No noise value may be shared across the batch or across latent dimensions: sums along each
    axis of independent N(0, 1) noise, scaled by 1/sqrt(n), are N(0, 1) (chi-square test)."""

    kind = "noise_is_independent"

    def run(self, student, prepared, device):
        drawn = self.noise(student, seed=12)
        if isinstance(drawn, Verdict):
            return drawn
        eps = drawn[0]
        if eps.std() < 0.1:  # one shared value: only rounding is left, which would look independent
            return Verdict(False, "every element got the same noise value (or almost no noise): "
                                  "draw a separate eps for each element, with the full shape of mu")
        eps = (eps - eps.mean()) / eps.std()
        for axis, across in ((0, "the batch (dimension 0)"), (1, "the latent dimensions (last dimension)")):
            sums = eps.sum(axis) / math.sqrt(eps.shape[axis])
            p = chi2_upper_pvalue(float((sums ** 2).sum()), sums.numel())
            if p < ALPHA / 2:
                return Verdict(False, f"the noise is shared across {across}: draw a separate "
                                      f"eps for every element, with the full shape of mu (chi-square "
                                      f"p-value {p:.1e})")
        return Verdict(True, "noise values are independent across elements")


class FreshNoise(_SamplerCheck):
    """Two calls must give two different samples (no reseeding inside the function)."""

    kind = "fresh_noise"

    def run(self, student, prepared, device):
        mu, logvar = _inputs(13, shape=(5, 4))
        first = self.sample(student, mu, logvar, seed=1)
        second = self.sample(student, mu, logvar, seed=2)
        for z in (first, second):
            if isinstance(z, Verdict):
                return z
        if (first == mu).all():
            return Verdict(False, "z equals mu: no noise was added")
        if (first == second).all():
            return Verdict(False, "two calls returned exactly the same z: draw new noise on every "
                                  "call, and do not reseed (torch.manual_seed) inside the function")
        return Verdict(True, "each call draws new noise")


class ReparameterizationGradient(_SamplerCheck):
    """dz/dmu = 1 and dz/dlogvar = (z - mu) / 2, elementwise, through autograd."""

    kind = "reparameterization_gradient"
    proves_values = True

    def run(self, student, prepared, device):
        from ..calls import cotangent_like
        from .tensors import value_mismatch

        mu, logvar = _inputs(14, shape=(7, 5))
        try:
            result = self.call(student, mu, logvar, seed=3, grad_wrt=[0, 1], cotangent_seed=4)
        except StudentError as error:
            return Verdict(False, str(error))
        z = result.value
        if not isinstance(z, wire.TensorInfo) or z.shape != tuple(mu.shape) or z.tensor is None:
            return Verdict(False, f"expected a tensor of shape {tuple(mu.shape)} like mu")
        grads = result.grads or [None, None]
        if grads[0] is None or grads[1] is None:
            missing = " and ".join(n for n, g in zip(("mu", "logvar"), grads) if g is None)
            return Verdict(False, f"no gradient flows from z back to {missing}: z must be computed "
                                  "as mu + std * eps with torch operations; .sample(), torch.normal "
                                  "and .detach() cut the reparameterization path")
        v = cotangent_like(z.tensor, 4).double()
        for name, grad, expected, formula in (
                ("mu", grads[0], v, "1"),
                ("logvar", grads[1], v * (z.tensor.double() - mu) / 2, "(z - mu) / 2")):
            if grad.shape != tuple(mu.shape) or grad.tensor is None:
                return Verdict(False, f"the gradient with respect to {name} has the wrong shape")
            problem = value_mismatch(grad.tensor, expected, "float64", f"v · dz/d{name}")
            if problem:
                return Verdict(False, f"dz/d{name} should be {formula} elementwise: {problem}. "
                                      f"{'Is the noise scaled by exp(logvar / 2)?' if name == 'logvar' else ''}")
        return Verdict(True, "dz/dmu = 1 and dz/dlogvar = (z - mu) / 2")


def scale_diagnosis(deviation, logvar) -> str:
    """Name the standard deviation the student seems to have used, when it is a common mistake."""
    import torch

    if deviation.abs().max() == 0:
        return "z equals mu: no noise was added."
    candidates = {"exp(logvar), the variance,": logvar.exp(), "logvar itself": logvar.abs(),
                  "1 (ignoring logvar)": torch.ones_like(logvar)}
    for name, std in candidates.items():
        ratio = deviation / std
        if abs(ratio.mean()) < 0.05 and 0.9 < ratio.std() < 1.1:
            return f"The spread of z - mu matches {name} used as the standard deviation; it should be exp(logvar / 2)."
    return "Is the noise really standard normal (torch.randn_like, not torch.rand_like)?"


def ks_normal_pvalue(x) -> float:
    """Two-sided Kolmogorov-Smirnov test of x against N(0, 1), asymptotic p-value (n is large)."""
    import torch

    n = x.numel()
    cdf = torch.special.ndtr(x.sort().values)
    steps = torch.arange(1, n + 1, dtype=torch.float64) / n
    d = max((steps - cdf).max().item(), (cdf - (steps - 1 / n)).max().item())
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    p = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return min(1.0, max(0.0, p))


def chi2_upper_pvalue(q: float, dof: int) -> float:
    import torch

    return float(torch.special.gammaincc(torch.tensor(dof / 2, dtype=torch.float64),
                                         torch.tensor(q / 2, dtype=torch.float64)))
