"""Unit tests of the decision procedures behind the symbolic and statistical checks."""
from __future__ import annotations

import math

import pytest
import sympy
import torch

from autograder.checks import sampling, symbolic

A, B = sympy.Symbol("a", positive=True), sympy.Symbol("b", positive=True)
M = sympy.Symbol("m", real=True)
SYMBOLS, DOMAINS = {"a": A, "b": B, "m": M}, {"a": "positive", "b": "positive", "m": "real"}


@pytest.mark.parametrize("answer", [
    sympy.log(A) - sympy.log(B), sympy.log(A / B), 0.5 * sympy.log(A**2 / B**2), -sympy.log(B / A),
])
def test_equivalent_forms_are_equal(answer):
    assert symbolic.equal(answer, sympy.log(A / B), SYMBOLS, DOMAINS, seed=0)[0]


def test_floats_and_rationals_are_equal():
    assert symbolic.equal(0.5 * M**2, sympy.Rational(1, 2) * M**2, SYMBOLS, DOMAINS, seed=0)[0]


def test_a_wrong_answer_comes_with_a_point_inside_the_domain():
    outcome = symbolic.equal(sympy.log(A / B, 10), sympy.log(A / B), SYMBOLS, DOMAINS, seed=0)
    assert outcome[0] is False
    point = outcome[1]
    assert point[A] > 0 and point[B] > 0
    assert math.isclose(outcome[3], math.log(point[A] / point[B]), rel_tol=1e-9)


def test_equal_only_on_the_domain():
    """sqrt(a**2) = a holds for positive a: no counterexample may come from outside the domain."""
    assert symbolic.equal(sympy.sqrt(A**2), A, SYMBOLS, DOMAINS, seed=0)[0]
    assert not symbolic.equal(sympy.sqrt(M**2), M, SYMBOLS, DOMAINS, seed=0)[0]


def test_ks_pvalue_separates_normal_from_other_noise():
    g = torch.Generator().manual_seed(0)
    normal = torch.randn(64032, generator=g, dtype=torch.float64)
    assert sampling.ks_normal_pvalue(normal) > 1e-3
    assert sampling.ks_normal_pvalue(normal * 1.05) < sampling.ALPHA
    assert sampling.ks_normal_pvalue(torch.rand(64032, generator=g, dtype=torch.float64)) < sampling.ALPHA


def test_chi2_pvalue_matches_known_quantiles():
    # chi-square with 2 degrees of freedom: P(X > q) = exp(-q / 2)
    assert math.isclose(sampling.chi2_upper_pvalue(5.0, 2), math.exp(-2.5), rel_tol=1e-9)


def test_correct_sampler_false_failure_rate_is_small():
    """Over 200 seeds, a correct sampler's p-values look uniform and none falls under ALPHA."""
    pvalues = []
    for seed in range(200):
        g = torch.Generator().manual_seed(seed)
        eps = torch.randn(sampling.SHAPE, generator=g, dtype=torch.float64)
        pvalues.append(sampling.ks_normal_pvalue(eps.reshape(-1)))
        eps = (eps - eps.mean()) / eps.std()
        for axis in (0, 1):
            sums = eps.sum(axis) / math.sqrt(eps.shape[axis])
            pvalues.append(sampling.chi2_upper_pvalue(float((sums ** 2).sum()), sums.numel()))
    assert min(pvalues) > sampling.ALPHA
    assert 0.05 < sum(p < 0.1 for p in pvalues) / len(pvalues) < 0.16   # roughly uniform
